"""insert_unless_known: one INSERT that skips a known key, on SQLite and on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from interaction_platform.db import insert_unless_known
from orders.models import SandboxGatewayEntry

pytestmark = pytest.mark.django_db


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
