"""Concurrent workers on PostgreSQL: real threads, real transactions, forced races.

Every worker that looked a new person up before any of them wrote is made to wait at a barrier,
so that all of them try to create the same people at once. The unique identity constraint lets
one win; the others roll their batch back and run it again, attaching to the winner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

import customers.inbox
from customers.inbox import inbox_accept, inbox_process_batch
from customers.models import Customer, Identity, InboxEvent, Merge, TimelineEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")
PEOPLE = 20
CHANNELS = ("web", "app", "store", "call_centre", "email")


def _event_of(person: int, channel: str) -> dict[str, Any]:
    """Each channel knows the person by their user id plus identifiers of its own."""
    extra: dict[str, Any] = {
        "web": {"anonymousId": f"web-{person}"},
        "app": {
            "anonymousId": f"app-{person}",
            "context": {"traits": {"email": f"p{person}@x.nl"}},
        },
        "store": {"context": {"traits": {"loyalty_number": f"NW{person:08d}"}}},
        "call_centre": {"context": {"traits": {"phone": f"+3161{person:07d}"}}},
        "email": {"context": {"traits": {"email": f"p{person}@x.nl"}}},
    }[channel]
    return {
        "type": "track",
        "event": f"{channel} touchpoint",
        "messageId": f"{channel}-{person}",
        "timestamp": (T0 + timedelta(minutes=CHANNELS.index(channel))).isoformat(),
        "userId": f"u-{person}",
        **extra,
    }


def _run_together(workers: int, work: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return errors


def _race_after_the_lookup(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Make each thread's first batch wait, after looking its people up, for all the others."""
    barrier = threading.Barrier(parties)
    local = threading.local()
    real_read = customers.inbox.customers_read_live

    def read_then_wait(*, ids: Any) -> Any:
        result = real_read(ids=ids)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=60)
        return result

    monkeypatch.setattr(customers.inbox, "customers_read_live", read_then_wait)


def test_20_new_people_with_5_concurrent_events_each_become_20_customers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: for each channel one request with an event of each of the 20 new people
    monkeypatch.setattr("customers.inbox.inbox_wake", lambda shard=None: None)
    for channel in CHANNELS:
        inbox_accept(
            events=[_event_of(person, channel) for person in range(PEOPLE)],
            source=f"{channel}-source",
            channel=channel,
            is_shared_device=False,
            received_at=T0 + timedelta(hours=1),
        )
    _race_after_the_lookup(monkeypatch, parties=len(CHANNELS))

    # when: five workers at once, each claiming one channel's 20 events
    def work() -> None:
        while inbox_process_batch(batch_size=PEOPLE):
            pass

    with caplog.at_level(logging.INFO, logger="customers.inbox"):
        errors = _run_together(len(CHANNELS), work)

    # then: the races happened, and were all resolved into one customer per person
    assert errors == []
    assert "lost a race for a new identifier" in caplog.text
    assert Customer.objects.count() == PEOPLE
    assert Merge.objects.count() == 0
    for person in range(PEOPLE):
        customer = Identity.objects.get(kind="user_id", value=f"u-{person}").customer
        assert sorted(customer.identities.values_list("kind", "value")) == [
            ("anonymous_id", f"app-{person}"),
            ("anonymous_id", f"web-{person}"),
            ("email", f"p{person}@x.nl"),
            ("loyalty", f"NW{person:08d}"),
            ("phone", f"+3161{person:07d}"),
            ("user_id", f"u-{person}"),
        ]
        assert sorted(customer.events.values_list("channel", flat=True)) == sorted(CHANNELS)
        assert (customer.channels_used, customer.channel_count) == (sorted(CHANNELS), 5)
        assert (customer.first_seen_at, customer.last_seen_at) == (T0, T0 + timedelta(minutes=4))
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}


def test_events_for_a_profile_being_merged_all_reach_the_survivor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: an anonymous visitor and a known customer; then the sign-in that merges them and
    # 40 more page views of the visitor, waiting in the inbox
    monkeypatch.setattr("customers.inbox.inbox_wake", lambda shard=None: None)

    def accept(*events: dict[str, Any]) -> None:
        inbox_accept(
            events=list(events), source="web", channel="web", is_shared_device=False, received_at=T0
        )

    def page_view(number: int) -> dict[str, Any]:
        return {
            "type": "page",
            "messageId": f"view-{number}",
            "anonymousId": "a-1",
            "timestamp": (T0 + timedelta(seconds=number)).isoformat(),
            "context": {"consent": {"categoryPreferences": {"Analytics": True}}},
        }

    accept(page_view(0), {"type": "track", "event": "X", "messageId": "k", "userId": "u-1"})
    inbox_process_batch()
    accept({"type": "identify", "messageId": "sign-in", "anonymousId": "a-1", "userId": "u-1"})
    for first in range(1, 41, 10):
        accept(*(page_view(number) for number in range(first, first + 10)))
    start = threading.Barrier(5)

    # when: five workers at once, one of them with the sign-in in its batch
    def work() -> None:
        start.wait(timeout=60)
        while inbox_process_batch(batch_size=10):
            pass

    errors = _run_together(5, work)

    # then: every page view is on the survivor, before or after the merge moved the rest
    assert errors == []
    known = Identity.objects.get(value="u-1").customer
    assert Identity.objects.get(value="a-1").customer_id == known.pk
    visitor = Customer.objects.get(merged_into=known)
    assert Merge.objects.get().absorbed_id == visitor.pk
    assert TimelineEvent.objects.count() == 43
    assert set(TimelineEvent.objects.values_list("customer_id", flat=True)) == {known.pk}
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
