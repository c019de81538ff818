"""The hot path's fixed SQL names the tables and columns the models have."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from customers import bulk
from customers.models import Customer, Identity, InboxEvent, TimelineEvent
from tests.factories import CustomerFactory

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")


@pytest.mark.parametrize(
    ("statement", "model"),
    [
        (bulk._INBOX_INSERT, InboxEvent),
        (bulk._TIMELINE_INSERT, TimelineEvent),
        (bulk._IDENTITY_INSERT, Identity),
        (bulk._STATS_UPDATE, Customer),
    ],
)
def test_the_statements_match_the_models(statement: str, model: type) -> None:
    table = re.search(r"(?:INTO|UPDATE) (\w+)", statement)
    assert table is not None
    assert table.group(1) == model._meta.db_table
    columns = {field.column for field in model._meta.concrete_fields}
    named = re.search(r"\(([^()]*)\)\s*(?:SELECT|$)", statement.split("FROM unnest")[0], re.S)
    if named is not None:
        assert {name.strip() for name in named.group(1).split(",")} <= columns


def test_the_statistics_written_are_fields_of_the_customer() -> None:
    names = {field.name for field in Customer._meta.concrete_fields}
    assert set(bulk.STATS_FIELDS) <= names
    assert all(f"{name} = stats.{name}" in bulk._STATS_UPDATE for name in bulk.STATS_FIELDS)


@pytest.mark.parametrize(
    ("statement", "model"),
    [
        (bulk._INBOX_CLAIM, InboxEvent),
        (bulk._KNOWN_MESSAGE_IDS, TimelineEvent),
        (bulk._IDENTITY_OWNERS, Identity),
    ],
)
def test_the_reads_name_the_models_tables(statement: str, model: type) -> None:
    tables = set(re.findall(r"(?:FROM|UPDATE) (customers_\w+)", statement))
    assert tables == {model._meta.db_table}


@pytest.mark.django_db
class TestReads:
    """The same answers from the array statements (PostgreSQL) and the ORM (SQLite)."""

    def test_known_message_ids(self) -> None:
        customer = CustomerFactory()
        for message_id in ("a", "b"):
            TimelineEvent.objects.create(
                customer=customer,
                occurred_at=T0,
                received_at=T0,
                channel="web",
                type="Product Viewed",
                source="web",
                message_id=message_id,
            )
        assert bulk.timeline_known(["a", "c", "b", "a"]) == {"a", "b"}
        assert bulk.timeline_known([]) == set()

    def test_identity_owners_match_kind_and_value_together(self) -> None:
        ann, bob = CustomerFactory(), CustomerFactory()
        Identity.objects.create(customer=ann, kind="email", value="ann@example.com", source="t")
        Identity.objects.create(customer=bob, kind="user_id", value="ann@example.com", source="t")
        Identity.objects.create(customer=bob, kind="email", value="bob@example.com", source="t")
        found = bulk.identity_owners(
            [("email", "ann@example.com"), ("phone", "bob@example.com"), ("email", "x@y.nl")]
        )
        assert found == [("email", "ann@example.com", ann.pk)]
        assert bulk.identity_owners([]) == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_locks_and_saves_the_statistics_it_reads() -> None:
    from django.db import transaction

    ann = CustomerFactory(email="ann@example.com", channels_used=["web"], channel_count=1)
    merged = CustomerFactory(merged_into=ann)
    with transaction.atomic():
        locked = bulk.customers_lock_for_stats([merged.pk, ann.pk, 10**9])
        assert sorted(locked) == sorted([ann.pk, merged.pk])
        mine = locked[ann.pk]
        assert (mine.merged_into_id, mine.email, mine.channels_used, mine.channel_count) == (
            None,
            "ann@example.com",
            ["web"],
            1,
        )
        assert locked[merged.pk].merged_into_id == ann.pk
        mine.channels_used, mine.channel_count, mine.last_seen_at = ["store", "web"], 2, T0
        bulk.customers_stats_save([mine])
    ann.refresh_from_db()
    assert (ann.channels_used, ann.channel_count, ann.last_seen_at, ann.email) == (
        ["store", "web"],
        2,
        T0,
        "ann@example.com",
    )
    assert bulk.customers_lock_for_stats([]) == {}
