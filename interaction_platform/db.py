"""Database helpers shared by the apps' hot paths."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model


def insert_unless_known(
    instance: Model, *, unique: str, fields: Sequence[str] | None = None
) -> int | None:
    """Insert ``instance`` (its ``fields``, by default every column but the primary key, each
    prepared as the ORM would) in one statement that skips it when its ``unique`` column's
    value exists already: ``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id``. Returns
    the new primary key, or None when skipped.

    For idempotent writes on a hot path: ``Model.objects.create`` in a savepoint, caught on
    IntegrityError, costs two more round trips and the ORM's per-call compiling. Python-side
    defaults (``auto_now_add``, callables) are the caller's to set on ``instance``. A conflict
    on another unique column raises IntegrityError as usual."""
    meta = instance._meta
    quote = connection.ops.quote_name
    if fields is None:
        fields = [f.name for f in meta.concrete_fields if not f.primary_key]
    columns, values = [], []
    for name in fields:
        field = _concrete(instance, name)
        columns.append(quote(str(field.column)))
        values.append(field.get_db_prep_save(getattr(instance, field.attname), connection))
    # Only names from the model's own metadata are put into the text; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(values))}) "
        f"ON CONFLICT ({quote(str(_concrete(instance, unique).column))}) DO NOTHING "
        f"RETURNING {quote(str(meta.pk.column) if meta.pk else 'id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _concrete(instance: Model, name: str) -> Field:
    field = instance._meta.get_field(name)
    assert isinstance(field, Field), f"{name} is not a field"
    assert field.column, f"{name} is not a column"
    return field
