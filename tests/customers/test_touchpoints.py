"""Internal touchpoints: written to the inbox in the caller's transaction, placed on the
timeline exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from customers.inbox import inbox_process_batch
from customers.models import Customer, InboxEvent, InboxStatus, TimelineEvent
from customers.touchpoints import touchpoint_emit
from tests import factories


@pytest.mark.django_db
class TestEmit:
    def test_the_touchpoint_is_written_to_the_inbox(self) -> None:
        customer = factories.CustomerFactory()
        at = timezone.now() - timedelta(minutes=5)
        row = touchpoint_emit(
            customer=customer,
            event="Call Completed",
            channel="call_centre",
            source="console",
            properties={"outcome": "resolved"},
            occurred_at=at,
            message_id="call:1",
        )
        assert InboxEvent.objects.get() == row
        assert (row.message_id, row.channel, row.source, row.status) == (
            "call:1",
            "call_centre",
            "console",
            "pending",
        )
        assert row.payload == {
            "type": "track",
            "event": "Call Completed",
            "messageId": "call:1",
            "timestamp": at.isoformat(),
            "properties": {"outcome": "resolved"},
            "context": {
                "internal": {"customer_id": customer.pk, "store_id": None, "order_id": None}
            },
        }

    def test_a_rolled_back_transaction_leaves_no_touchpoint(self) -> None:
        customer = factories.CustomerFactory()

        def service_that_fails_after_emitting() -> None:
            with transaction.atomic():
                touchpoint_emit(customer=customer, event="Case Opened", channel="web", source="t")
                raise RuntimeError("the service failed after emitting")

        with pytest.raises(RuntimeError):
            service_that_fails_after_emitting()
        assert InboxEvent.objects.count() == 0

    def test_the_worker_is_woken_after_commit_and_places_it(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        customer = factories.CustomerFactory(channels_used=[], channel_count=0)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            touchpoint_emit(
                customer=customer,
                event="Store Visited",
                channel="store",
                source="pos",
                message_id="visit:1",
            )
        assert len(callbacks) == 1
        assert list(TimelineEvent.objects.values_list("customer_id", "type", "channel")) == [
            (customer.pk, "Store Visited", "store")
        ]
        assert InboxEvent.objects.get().status == InboxStatus.DONE


@pytest.mark.django_db
class TestProcessing:
    def test_events_reach_the_timeline_and_the_stats(self) -> None:
        # given
        customer = factories.CustomerFactory(
            first_seen_at=None, last_seen_at=None, channels_used=[], channel_count=0
        )
        earlier = timezone.now() - timedelta(days=2)
        later = timezone.now() - timedelta(hours=1)
        touchpoint_emit(
            customer=customer,
            event="Order Completed",
            channel="web",
            source="orders",
            occurred_at=later,
            message_id="m2",
        )
        touchpoint_emit(
            customer=customer,
            event="Store Visited",
            channel="store",
            source="pos",
            occurred_at=earlier,
            message_id="m1",
        )
        # when
        assert inbox_process_batch() == 2
        # then
        assert list(
            TimelineEvent.objects.order_by("-occurred_at").values_list("message_id", "type")
        ) == [("m2", "Order Completed"), ("m1", "Store Visited")]
        customer.refresh_from_db()
        assert (customer.first_seen_at, customer.last_seen_at) == (earlier, later)
        assert (customer.channels_used, customer.channel_count) == (["store", "web"], 2)
        assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}

    def test_processing_again_changes_nothing(self) -> None:
        customer = factories.CustomerFactory()
        touchpoint_emit(customer=customer, event="Case Opened", channel="web", source="t")
        inbox_process_batch()
        InboxEvent.objects.update(status=InboxStatus.PENDING)  # as if the commit was redelivered
        assert inbox_process_batch() == 1
        assert TimelineEvent.objects.count() == 1

    def test_the_same_fact_emitted_twice_is_on_the_timeline_once(self) -> None:
        customer = factories.CustomerFactory()
        for _ in range(2):
            touchpoint_emit(
                customer=customer,
                event="Order Completed",
                channel="web",
                source="orders",
                message_id="order-completed:NW1",
            )
        assert inbox_process_batch() == 2
        assert TimelineEvent.objects.filter(message_id="order-completed:NW1").count() == 1

    def test_an_event_for_a_merged_profile_lands_on_the_survivor(self) -> None:
        survivor = factories.CustomerFactory()
        absorbed = factories.CustomerFactory(merged_into=survivor)
        touchpoint_emit(customer=absorbed, event="QR Scanned", channel="print", source="qr")
        inbox_process_batch()
        assert TimelineEvent.objects.get().customer_id == survivor.pk

    def test_an_unplaceable_row_is_recorded_not_retried(self) -> None:
        customer = factories.CustomerFactory()
        touchpoint_emit(customer=customer, event="Case Opened", channel="web", source="t")
        Customer.objects.filter(pk=customer.pk).delete()
        assert inbox_process_batch() == 1
        row = InboxEvent.objects.get()
        assert (row.status, row.attempts, row.error) == ("failed", 1, f"no customer {customer.pk}")
        assert inbox_process_batch() == 0
        assert TimelineEvent.objects.count() == 0

    def test_batches_are_bounded(self) -> None:
        customer = factories.CustomerFactory()
        for number in range(5):
            touchpoint_emit(
                customer=customer,
                event="Page Viewed",
                channel="web",
                source="t",
                message_id=f"p{number}",
            )
        assert [inbox_process_batch(batch_size=2) for _ in range(4)] == [2, 2, 1, 0]
        assert TimelineEvent.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_place_each_touchpoint_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: 200 touchpoints for 10 customers, and no task woken: the threads are the workers
    monkeypatch.setattr("customers.touchpoints._wake_workers", lambda shard: None)
    customers = [factories.CustomerFactory() for _ in range(10)]
    for number in range(200):
        touchpoint_emit(
            customer=customers[number % 10],
            event="Page Viewed",
            channel="web",
            source="t",
            message_id=f"page:{number}",
        )
    barrier = threading.Barrier(4)
    claimed: list[int] = []
    errors: list[Exception] = []

    def work() -> None:
        try:
            barrier.wait()
            while (count := inbox_process_batch(batch_size=7)) > 0:
                claimed.append(count)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    # when: four workers drain the inbox at once
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then: every row claimed by exactly one of them, every event on the timeline once
    assert errors == []
    assert sum(claimed) == 200
    assert TimelineEvent.objects.count() == 200
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
