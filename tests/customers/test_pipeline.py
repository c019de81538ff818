"""Tracking events through the inbox onto the unified timeline: identity resolution, merges,
conflicts for review, duplicates and late arrivals, bad rows, the sweep."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

import customers.inbox as inbox
from customers.inbox import inbox_accept, inbox_process_batch
from customers.models import (
    Customer,
    Identity,
    InboxEvent,
    InboxStatus,
    Merge,
    MergeReview,
    TimelineEvent,
)
from customers.services import inbox_retry_failed
from customers.tasks import inbox_process, inbox_sweep
from orders.models import VoucherRedemption
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")
CONSENT = {"consent": {"categoryPreferences": {"Analytics": True}}}


def event(kind: str = "track", *, minute: int = 0, **fields: Any) -> dict[str, Any]:
    """A Segment event as the intake stores it (message id and timestamp set)."""
    payload: dict[str, Any] = {
        "type": kind,
        "messageId": fields.pop("messageId", str(uuid.uuid4())),
        "timestamp": (T0 + timedelta(minutes=minute)).isoformat(),
        "context": fields.pop("context", CONSENT),
    }
    if kind == "track":
        payload["event"] = fields.pop("name", "Product Viewed")
    payload.update(fields)
    return payload


def send(
    *events: dict[str, Any],
    source: str = "web-store",
    channel: str = "web",
    shared: bool = False,
) -> None:
    inbox_accept(
        events=list(events),
        source=source,
        channel=channel,
        is_shared_device=shared,
        received_at=T0 + timedelta(days=1),
    )


def process() -> None:
    while inbox_process_batch():
        pass


def customer_of(kind: str, value: str) -> Customer:
    found = Identity.objects.get(kind=kind, value=value).customer
    while found.merged_into_id is not None:
        found = Customer.objects.get(pk=found.merged_into_id)
    return found


def timeline(customer: Customer) -> list[tuple[str, str, str]]:
    return list(
        TimelineEvent.objects.filter(customer=customer)
        .order_by("occurred_at", "id")
        .values_list("type", "channel", "message_id")
    )


def identities(customer: Customer) -> list[tuple[str, str]]:
    return sorted(customer.identities.values_list("kind", "value"))


class TestOnePerson:
    def test_a_new_visitor_becomes_an_anonymous_customer(self) -> None:
        send(event("page", anonymousId="a-1", name="Home", messageId="m1"))
        process()
        visitor = customer_of("anonymous_id", "a-1")
        assert timeline(visitor) == [("Page Viewed", "web", "m1")]
        assert (visitor.is_identified, visitor.channels_used, visitor.first_seen_at) == (
            False,
            ["web"],
            T0,
        )
        assert TimelineEvent.objects.get().properties == {"name": "Home"}

    def test_identifying_attaches_the_new_identifiers_and_fills_the_profile(self) -> None:
        send(event("page", anonymousId="a-1", messageId="m1"))
        send(
            event(
                "identify",
                minute=5,
                anonymousId="a-1",
                userId="u-1",
                traits={"email": "Anna@Example.com", "firstName": "Anna", "phone": "0612345678"},
                messageId="m2",
            )
        )
        process()
        anna = customer_of("user_id", "u-1")
        assert Customer.objects.count() == 1
        assert Merge.objects.count() == 0
        assert identities(anna) == [
            ("anonymous_id", "a-1"),
            ("email", "anna@example.com"),
            ("phone", "+31612345678"),
            ("user_id", "u-1"),
        ]
        assert (anna.is_identified, anna.email, anna.first_name, anna.phone) == (
            True,
            "anna@example.com",
            "Anna",
            "+31612345678",
        )
        assert timeline(anna) == [("Page Viewed", "web", "m1"), ("Identified", "web", "m2")]
        assert TimelineEvent.objects.get(message_id="m2").properties == {
            "email": "Anna@Example.com",
            "firstName": "Anna",
            "phone": "0612345678",
        }

    def test_traits_never_overwrite_what_the_profile_has(self) -> None:
        anna = factories.CustomerFactory(first_name="Anna", last_name="", email="anna@example.com")
        Identity.objects.create(customer=anna, kind="user_id", value="u-1")
        send(event("identify", userId="u-1", traits={"firstName": "Changed", "lastName": "V"}))
        process()
        anna.refresh_from_db()
        assert (anna.first_name, anna.last_name) == ("Anna", "V")

    def test_anonymous_then_identified_elsewhere_then_merged_history(self) -> None:
        # given: an anonymous web visitor, and the same person known in the app
        send(
            event("page", minute=1, anonymousId="web-a", messageId="w1"),
            event(minute=2, anonymousId="web-a", name="Product Added", messageId="w2"),
        )
        send(event(minute=3, userId="u-9", name="Order Completed", messageId="p1"), channel="app")
        process()
        visitor, known = customer_of("anonymous_id", "web-a"), customer_of("user_id", "u-9")
        assert visitor.pk != known.pk
        # when: the visitor signs in on the web
        send(event("identify", minute=4, anonymousId="web-a", userId="u-9", messageId="w3"))
        process()
        # then: one customer with the whole history, the visitor's profile pointing at it
        visitor.refresh_from_db()
        known.refresh_from_db()
        assert visitor.merged_into_id == known.pk
        assert timeline(known) == [
            ("Page Viewed", "web", "w1"),
            ("Product Added", "web", "w2"),
            ("Order Completed", "app", "p1"),
            ("Identified", "web", "w3"),
        ]
        assert identities(known) == [("anonymous_id", "web-a"), ("user_id", "u-9")]
        assert (known.first_seen_at, known.last_seen_at) == (
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=4),
        )
        assert (known.channels_used, known.channel_count) == (["app", "web"], 2)
        merge = Merge.objects.get()
        assert (merge.absorbed_id, merge.survivor_id, merge.reason, merge.message_id) == (
            visitor.pk,
            known.pk,
            "event",
            "w3",
        )
        assert merge.moved == {
            "customers.identity": [Identity.objects.get(value="web-a").pk],
            "customers.timelineevent": sorted(
                TimelineEvent.objects.filter(message_id__in=["w1", "w2"]).values_list(
                    "pk", flat=True
                )
            ),
        }
        # and a late event of the anonymous id still reaches the survivor
        send(event("page", minute=9, anonymousId="web-a", messageId="w4"))
        process()
        assert timeline(known)[-1] == ("Page Viewed", "web", "w4")

    def test_an_anonymous_merge_inside_one_batch_is_recorded_too(self) -> None:
        send(
            event("page", minute=1, anonymousId="a-1", messageId="b1"),
            event(minute=2, userId="u-1", messageId="b2"),
            event("identify", minute=3, anonymousId="a-1", userId="u-1", messageId="b3"),
        )
        process()
        known = customer_of("user_id", "u-1")
        assert [m for _, _, m in timeline(known)] == ["b1", "b2", "b3"]
        merge = Merge.objects.get()
        assert merge.survivor_id == known.pk
        assert merge.moved["customers.timelineevent"] == [
            TimelineEvent.objects.get(message_id="b1").pk
        ]


class TestDeliveryOrder:
    def test_duplicates_and_shuffled_delivery_give_each_event_once_in_time_order(self) -> None:
        # given: 30 events of one person, delivered shuffled, a third of them twice
        events = [
            event(minute=minute, userId="u-1", name=f"Step {minute}", messageId=f"m{minute}")
            for minute in range(30)
        ]
        delivery = events + events[::3]
        random.Random(7).shuffle(delivery)
        # when: in three requests, processed in small batches
        for start in range(0, len(delivery), 15):
            send(*delivery[start : start + 15])
        while inbox_process_batch(batch_size=7):
            pass
        # then
        person = customer_of("user_id", "u-1")
        assert [m for _, _, m in timeline(person)] == [f"m{minute}" for minute in range(30)]
        assert TimelineEvent.objects.count() == 30
        assert (person.first_seen_at, person.last_seen_at) == (T0, T0 + timedelta(minutes=29))
        assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}

    def test_an_earlier_event_arriving_late_moves_first_seen_back(self) -> None:
        send(event(minute=10, userId="u-1", messageId="late-sent"))
        process()
        send(event(minute=1, userId="u-1", messageId="early-happened"))
        process()
        person = customer_of("user_id", "u-1")
        assert (person.first_seen_at, person.last_seen_at) == (
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=10),
        )

    def test_a_redelivered_row_changes_nothing(self) -> None:
        send(event(userId="u-1", messageId="once"))
        process()
        before = list(Customer.objects.values())
        InboxEvent.objects.update(status=InboxStatus.PENDING)  # as if the commit was redelivered
        process()
        assert TimelineEvent.objects.count() == 1
        assert list(Customer.objects.values()) == before


class TestSharedDevices:
    def test_a_pos_tablet_never_merges_the_people_it_serves(self) -> None:
        # given: a store tablet (one anonymous id for everyone) serves Anna, then Bob
        pos = {"source": "pos-amsterdam", "channel": "store", "shared": True}
        anna_event = event(
            minute=1,
            anonymousId="tablet-7",
            name="POS Order Completed",
            context={"traits": {"email": "anna@example.com"}},
        )
        bob_event = event(
            minute=2,
            anonymousId="tablet-7",
            name="POS Order Completed",
            context={"traits": {"email": "bob@example.com"}},
        )
        browse = event("screen", minute=3, anonymousId="tablet-7", name="Lookbook")
        send(anna_event, **pos)
        send(bob_event, browse, **pos)
        process()
        # then: two people, the tablet's id attached to neither, its browsing on its own profile
        anna, bob = (
            customer_of("email", "anna@example.com"),
            customer_of("email", "bob@example.com"),
        )
        tablet = customer_of("anonymous_id", "tablet-7")
        assert len({anna.pk, bob.pk, tablet.pk}) == 3
        assert identities(anna) == [("email", "anna@example.com")]
        assert identities(bob) == [("email", "bob@example.com")]
        assert [t for t, _, _ in timeline(tablet)] == ["Screen Viewed"]
        assert Merge.objects.count() == 0

    def test_a_shared_device_event_linking_an_anonymous_profile_does_not_merge_it(self) -> None:
        send(event("page", anonymousId="kiosk-1"), source="kiosk", channel="store", shared=True)
        send(event(userId="u-1"))
        process()
        send(
            event(anonymousId="kiosk-1", userId="u-1", messageId="k2"),
            source="kiosk",
            channel="store",
            shared=True,
        )
        process()
        assert Merge.objects.count() == 0
        assert customer_of("anonymous_id", "kiosk-1") != customer_of("user_id", "u-1")
        assert TimelineEvent.objects.get(message_id="k2").customer == customer_of("user_id", "u-1")


class TestConflicts:
    def test_two_known_people_meeting_go_to_review_not_to_merge(self) -> None:
        # given: Anna (user id) and Bob (e-mail) are both known
        send(
            event(userId="u-anna"), event("identify", userId="u-bob", traits={"email": "bob@x.nl"})
        )
        process()
        anna, bob = customer_of("user_id", "u-anna"), customer_of("email", "bob@x.nl")
        # when: an event carries Anna's user id and Bob's e-mail, twice
        odd = event("identify", userId="u-anna", traits={"email": "bob@x.nl"}, messageId="odd")
        send(odd, event("identify", userId="u-anna", traits={"email": "bob@x.nl"}))
        process()
        # then: no merge, the event on Anna (user id is stronger), one review seen twice
        assert Merge.objects.count() == 0
        assert TimelineEvent.objects.get(message_id="odd").customer_id == anna.pk
        assert identities(anna) == [("user_id", "u-anna")]
        review = MergeReview.objects.get()
        assert (
            review.first_customer_id,
            review.second_customer_id,
            review.status,
            review.occurrences,
            review.message_id,
            review.source,
        ) == (min(anna.pk, bob.pk), max(anna.pk, bob.pk), "open", 2, "odd", "web-store")
        assert review.identifiers == [
            {"kind": "user_id", "value": "u-anna"},
            {"kind": "email", "value": "bob@x.nl"},
        ]
        # and meeting again later only counts
        send(event(userId="u-anna", context={"traits": {"email": "bob@x.nl"}}))
        process()
        assert MergeReview.objects.get().occurrences == 3

    def test_a_merge_another_app_refuses_goes_to_review_and_the_batch_goes_on(self) -> None:
        # given: an anonymous visitor and a known customer who each used a voucher of "one per
        # customer" (the orders app's unique constraint refuses to give one person two uses),
        # and an unrelated event in the same batch
        send(event("page", anonymousId="a-1"), event(userId="u-1"))
        process()
        visitor, known = customer_of("anonymous_id", "a-1"), customer_of("user_id", "u-1")
        voucher = factories.VoucherFactory()
        for customer in (visitor, known):
            VoucherRedemption.objects.create(
                voucher=voucher,
                customer=customer,
                order=factories.OrderFactory(customer=customer),
                use_number=1,
            )
        # when
        send(
            event("identify", anonymousId="a-1", userId="u-1", messageId="link"),
            event(userId="u-2", messageId="other"),
        )
        process()
        # then
        assert Merge.objects.count() == 0
        assert TimelineEvent.objects.get(message_id="link").customer_id == known.pk
        assert TimelineEvent.objects.filter(message_id="other").exists()
        review = MergeReview.objects.get()
        assert {review.first_customer_id, review.second_customer_id} == {visitor.pk, known.pk}
        assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}


class TestStoresAndInternalEvents:
    def test_a_physical_touchpoint_names_its_store_by_code(self, store: Any) -> None:
        send(
            event(userId="u-1", name="Store Visited", properties={"store_code": store.code}),
            channel="store",
        )
        process()
        assert TimelineEvent.objects.get().store_id == store.pk


class TestBadRows:
    def test_a_row_that_fails_on_its_own_is_recorded_and_the_rest_placed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given: three events, one of which trips the worker
        send(event(userId="u-1", messageId="ok-1"), event(userId="u-1", messageId="poison"))
        send(event(userId="u-2", messageId="ok-2"))

        read_row = inbox._read_row

        def fragile(row: Any) -> Any:
            if row.message_id == "poison":
                raise ValueError("cannot read this one")
            return read_row(row)

        monkeypatch.setattr(inbox, "_read_row", fragile)
        # when
        assert inbox_process_batch() == 3
        # then
        rows = dict(InboxEvent.objects.values_list("message_id", "status"))
        assert rows == {"ok-1": "done", "poison": "failed", "ok-2": "done"}
        assert InboxEvent.objects.get(message_id="poison").error == (
            "ValueError: cannot read this one"
        )
        assert sorted(TimelineEvent.objects.values_list("message_id", flat=True)) == [
            "ok-1",
            "ok-2",
        ]
        assert inbox_process_batch() == 0  # not retried for ever

    def test_failed_rows_can_be_processed_again(self) -> None:

        send(event(userId="u-1"))
        InboxEvent.objects.update(status=InboxStatus.FAILED, error="was broken")
        assert inbox_retry_failed(ids=InboxEvent.objects.values_list("pk", flat=True)) == 1
        process()
        assert (InboxEvent.objects.get().status, TimelineEvent.objects.count()) == ("done", 1)


class TestContention:
    def test_a_deadlock_is_retried(self, monkeypatch: pytest.MonkeyPatch) -> None:

        send(event(userId="u-1"))
        real_process = inbox._process
        calls: list[int] = []

        class Deadlock(Exception):
            pgcode = "40P01"

        def deadlock_once(**options: Any) -> int:
            calls.append(1)
            if len(calls) == 1:
                raise OperationalError("deadlock detected") from Deadlock()
            return real_process(**options)

        monkeypatch.setattr(inbox, "_process", deadlock_once)
        assert inbox_process_batch() == 1
        assert (len(calls), TimelineEvent.objects.count()) == (2, 1)

    def test_a_batch_that_keeps_losing_races_is_left_for_later(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:

        send(event(userId="u-1"))

        def always_lose(**options: Any) -> int:
            raise inbox._RaceLost

        monkeypatch.setattr(inbox, "_process", always_lose)
        with pytest.raises(inbox.InboxContention, match="lost 5 races or deadlocks in a row"):
            inbox_process_batch()
        assert InboxEvent.objects.get().status == "pending"

    def test_a_database_error_that_is_not_transient_is_not_retried_blindly(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:

        send(event(userId="u-1"))
        calls: list[int] = []

        def database_gone(**options: Any) -> int:
            calls.append(1)
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(inbox, "_process", database_gone)
        with pytest.raises(OperationalError):
            inbox_process_batch()
        assert len(calls) == 1
        assert InboxEvent.objects.get().status == "pending"


class TestWakeUpsAndSweep:
    def test_an_unreachable_broker_does_not_fail_the_request(
        self,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        django_capture_on_commit_callbacks: Any,
    ) -> None:

        def broker_down(*args: Any, **kwargs: Any) -> None:
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        monkeypatch.setattr(inbox_process, "apply_async", broker_down)
        with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
            send(event(userId="u-1"))
        assert InboxEvent.objects.get().status == "pending"
        assert "could not wake an inbox worker" in caplog.text

    def test_the_sweep_drains_rows_whose_wake_up_was_lost(self, settings: Any) -> None:
        settings.INBOX_SWEEP_INTERVAL_S = 30
        send(event(userId="u-1"))
        InboxEvent.objects.update(received_at=timezone.now() - timedelta(seconds=31))
        assert inbox_sweep() == 1
        assert TimelineEvent.objects.count() == 1

    def test_the_sweep_leaves_fresh_rows_to_their_own_wake_up(self, settings: Any) -> None:
        settings.INBOX_SWEEP_INTERVAL_S = 30
        inbox_accept(
            events=[event(userId="u-1")],
            source="web",
            channel="web",
            is_shared_device=False,
            received_at=timezone.now(),
        )
        assert inbox_sweep() == 0
        assert InboxEvent.objects.get().status == "pending"
