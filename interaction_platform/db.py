"""Database helpers shared by the apps' hot paths. Both write every column of a model but its
primary key, each value prepared as the ORM would (``pre_save`` for ``auto_now_add`` and the
like, then ``get_db_prep_save``), in one statement whose text holds only names from the model's
own metadata; the values travel as parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def insert_unless_known(instance: Model, *, unique: str) -> int | None:
    """Insert ``instance`` in one statement that skips it when its ``unique`` column's value
    exists already: ``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id``. Returns the new
    primary key, or None when skipped.

    For idempotent writes on a hot path: ``Model.objects.create`` in a savepoint, caught on
    IntegrityError, costs two more round trips and the ORM's per-call compiling. A conflict on
    another unique column raises IntegrityError as usual."""
    fields = _columns(type(instance))
    quote = connection.ops.quote_name
    unique_field = instance._meta.get_field(unique)
    assert isinstance(unique_field, Field), f"{unique} is not a column"
    sql = (
        f"INSERT INTO {_table(type(instance))} ({_names(fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(str(unique_field.column))}) DO NOTHING "
        f"RETURNING {_pk_column(type(instance))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_prepared(field, instance) for field in fields])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def insert_all(instances: Sequence[Model]) -> None:
    """Insert new rows of one model and set their primary keys, in order. On PostgreSQL one
    statement over a column of values per field (``INSERT … SELECT * FROM unnest(…)``):
    ``bulk_create`` places a parameter per value and compiles each, which for a thousand rows
    of a wide model costs more than the insert. Elsewhere ``bulk_create``."""
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances)
        return
    fields = _columns(model)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    sql = (
        f"INSERT INTO {_table(model)} ({_names(fields)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING {_pk_column(model)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [[_prepared(field, instance) for instance in instances] for field in fields]
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias


def _columns(model: type[Model]) -> list[Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _names(fields: Sequence[Field]) -> str:
    return ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _pk_column(model: type[Model]) -> str:
    pk = model._meta.pk
    return connection.ops.quote_name(str(pk.column) if pk is not None else "id")


def _prepared(field: Field, instance: Model) -> Any:
    return field.get_db_prep_save(field.pre_save(instance, True), connection)
