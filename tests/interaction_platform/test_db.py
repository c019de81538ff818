"""insert_unless_known (one INSERT that skips a known key) and insert_all (new rows in one
statement), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer
from interaction_platform.db import insert_all, insert_unless_known
from orders.models import SandboxGatewayEntry

pytestmark = pytest.mark.django_db
T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")


def _entry(key: str, reference: str, amount: str = "49.95") -> SandboxGatewayEntry:
    return SandboxGatewayEntry(
        operation="authorize",
        idempotency_key=key,
        reference=reference,
        amount=Decimal(amount),
        currency="EUR",
        is_approved=True,
        created_at=timezone.now(),
    )


def test_a_new_row_is_inserted_with_every_column_and_its_key_returned() -> None:
    pk = insert_unless_known(_entry("k-1", "r-1"), unique="idempotency_key")
    stored = SandboxGatewayEntry.objects.get()
    assert pk == stored.pk
    assert (stored.idempotency_key, stored.reference, stored.amount, stored.token) == (
        "k-1",
        "r-1",
        Decimal("49.95"),
        "",
    )


def test_a_known_key_is_skipped_in_one_statement_and_the_first_row_kept(
    django_assert_num_queries: Any,
) -> None:
    insert_unless_known(_entry("k-1", "r-1"), unique="idempotency_key")
    with django_assert_num_queries(1):
        again = insert_unless_known(_entry("k-1", "r-2", "1.00"), unique="idempotency_key")
    assert again is None
    assert list(SandboxGatewayEntry.objects.values_list("reference", "amount")) == [
        ("r-1", Decimal("49.95"))
    ]


def test_a_conflict_on_another_unique_column_still_raises() -> None:
    insert_unless_known(_entry("k-1", "r-1"), unique="idempotency_key")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_known(_entry("k-2", "r-1"), unique="idempotency_key")
    assert SandboxGatewayEntry.objects.count() == 1


@pytest.mark.django_db
def test_new_customers_are_inserted_as_the_orm_would_insert_them() -> None:
    """Every column, defaults included, equal to a bulk_create of the same customers."""
    from django.forms.models import model_to_dict

    def fresh(number: int) -> Customer:
        return Customer(
            is_identified=number % 2 == 0,
            email=f"p{number}@example.com" if number % 2 == 0 else "",
            first_seen_at=T0,
            last_seen_at=T0,
            channels_used=["app", "web"],
            channel_count=2,
        )

    ours = [fresh(number) for number in range(3)]
    insert_all(ours)
    theirs = Customer.objects.bulk_create([fresh(number) for number in range(3)])
    assert [c.pk for c in ours] == sorted(c.pk for c in ours)
    ignored = {"id", "public_id", "created_at", "updated_at"}
    for mine, orm in zip(ours, theirs, strict=True):
        stored = Customer.objects.get(pk=mine.pk)
        assert stored.public_id == mine.public_id
        assert {k: v for k, v in model_to_dict(stored).items() if k not in ignored} == {
            k: v
            for k, v in model_to_dict(Customer.objects.get(pk=orm.pk)).items()
            if k not in ignored
        }
        assert stored.created_at is not None
        assert stored.updated_at is not None
