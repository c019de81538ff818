"""The inbox partitioned by person: which shard an event goes to, claims that stay in their
shard, one wake-up per shard, and (on PostgreSQL) one worker per shard draining at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from customers.inbox import inbox_accept, inbox_drain, inbox_process_batch, inbox_shard
from customers.models import Customer, Identity, InboxEvent, TimelineEvent
from customers.touchpoints import touchpoint_emit
from tests.factories import CustomerFactory

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")
CONSENT = {"consent": {"categoryPreferences": {"Analytics": True}}}


def _track(number: int, **ids: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Product Viewed",
        "messageId": f"m-{number}",
        "timestamp": (T0 + timedelta(seconds=number)).isoformat(),
        "context": CONSENT,
        **ids,
    }


def _accept(*events: dict[str, Any]) -> None:
    inbox_accept(
        events=list(events), source="web", channel="web", is_shared_device=False, received_at=T0
    )


class TestShardOfAnEvent:
    def test_one_person_is_one_shard_and_people_spread_over_all_of_them(
        self, settings: Any
    ) -> None:
        settings.INBOX_SHARDS = 4
        shards = [inbox_shard({"userId": f"user-{n}"}) for n in range(200)]
        assert set(shards) == {0, 1, 2, 3}
        assert all(60 > shards.count(s) > 40 for s in range(4))
        assert shards == [inbox_shard({"userId": f"user-{n}"}) for n in range(200)]

    def test_a_known_persons_events_and_their_sign_in_share_one_shard(self, settings: Any) -> None:
        settings.INBOX_SHARDS = 16
        signed_in = inbox_shard({"userId": "user-7"})
        assert inbox_shard({"anonymousId": "device-1", "userId": "user-7"}) == signed_in
        assert inbox_shard({"anonymousId": "device-2", "userId": "user-7"}) == signed_in
        # before signing in, a visitor's events go by the device
        assert inbox_shard({"anonymousId": "device-1"}) == inbox_shard(
            {"anonymousId": "device-1", "x": 1}
        )

    def test_an_internal_touchpoint_goes_by_its_customer(self, settings: Any) -> None:
        settings.INBOX_SHARDS = 16
        first = {"context": {"internal": {"customer_id": 41}}}
        assert inbox_shard(first) == inbox_shard({"context": {"internal": {"customer_id": 41}}})
        assert {inbox_shard({"context": {"internal": {"customer_id": n}}}) for n in range(64)} == (
            set(range(16))
        )

    def test_one_shard_turns_partitioning_off(self, settings: Any) -> None:
        settings.INBOX_SHARDS = 1
        assert {inbox_shard({"userId": f"u-{n}"}) for n in range(50)} == {0}


@pytest.mark.django_db
class TestClaimsAndWakeUps:
    def test_rows_are_stored_with_their_shard_and_each_shard_present_is_woken_once(
        self, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.INBOX_SHARDS = 2
        people = [f"user-{n}" for n in range(6)]
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _accept(*(_track(n, userId=person) for n, person in enumerate(people * 2)))
        stored = dict(InboxEvent.objects.values_list("message_id", "shard"))
        assert stored == {
            f"m-{n}": inbox_shard({"userId": person}) for n, person in enumerate(people * 2)
        }
        assert sorted(callback.args for callback in callbacks) == [(0,), (1,)]

    def test_a_worker_claims_only_its_shard_and_the_sweep_claims_any(
        self, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("customers.inbox.inbox_wake", lambda shard=None: None)
        settings.INBOX_SHARDS = 2
        people = [f"user-{n}" for n in range(8)]
        _accept(*(_track(n, userId=person) for n, person in enumerate(people)))
        in_shard_1 = set(InboxEvent.objects.filter(shard=1).values_list("message_id", flat=True))
        assert 0 < len(in_shard_1) < len(people)
        # when: the worker of shard 1 drains
        processed, is_empty = inbox_drain(max_batches=5, shard=1)
        # then: shard 1 is on the timeline, shard 0 still waits
        assert (processed, is_empty) == (len(in_shard_1), True)
        assert set(TimelineEvent.objects.values_list("message_id", flat=True)) == in_shard_1
        assert set(InboxEvent.objects.filter(status="pending").values_list("shard", flat=True)) == {
            0
        }
        # and a claim for any shard (the sweep's) takes the rest
        assert inbox_process_batch(shard=None) == len(people) - len(in_shard_1)
        assert TimelineEvent.objects.count() == len(people)

    def test_a_touchpoint_is_stored_in_its_customers_shard_and_wakes_it(
        self, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.INBOX_SHARDS = 8
        customer = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            row = touchpoint_emit(
                customer=customer, event="Store Visited", channel="store", source="pos"
            )
        expected = inbox_shard({"context": {"internal": {"customer_id": customer.pk}}})
        assert InboxEvent.objects.get(pk=row.pk).shard == expected
        assert [callback.args for callback in callbacks] == [(expected,)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_worker_per_shard_drains_at_once_and_every_person_ends_up_whole(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: 40 people, half of them browsing anonymously and then signing in, in 2 shards
    monkeypatch.setattr("customers.inbox.inbox_wake", lambda shard=None: None)
    settings.INBOX_SHARDS = 2
    events = []
    for person in range(40):
        device = f"device-{person}"
        if person % 2:
            events += [_track(person * 10 + n, anonymousId=device) for n in range(3)]
            events.append(
                {
                    **_track(person * 10 + 3, anonymousId=device, userId=f"u-{person}"),
                    "type": "identify",
                }
            )
        events += [_track(person * 10 + n, userId=f"u-{person}") for n in range(4, 8)]
    for first in range(0, len(events), 25):
        _accept(*events[first : first + 25])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    # when: a worker per shard, at the same moment, in small batches
    def work(shard: int) -> None:
        try:
            start.wait(timeout=60)
            while inbox_process_batch(batch_size=20, shard=shard):
                pass
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(shard,)) for shard in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then: all placed once, one live customer per person with their whole history
    assert errors == []
    assert InboxEvent.objects.filter(status="pending").count() == 0
    assert TimelineEvent.objects.count() == len(events)
    assert Customer.objects.filter(merged_into__isnull=True).count() == 40
    for person in range(40):
        customer = Identity.objects.get(kind="user_id", value=f"u-{person}").customer
        assert customer.merged_into_id is None
        assert customer.events.count() == (8 if person % 2 else 4)
