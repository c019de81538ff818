"""Outbound webhooks: the outbox, fan-out, signed delivery to a real local receiver, retries,
the sweep, replays and the refusal of private targets."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations import targets, webhooks
from integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.tasks import webhook_deliver
from interaction_platform.errors import InvalidInput
from tests.integrations.receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

STOCK_LOW = {"sku": "NW-1", "location": "ams", "on_hand": 2, "reserved": 0, "available": 2}


def _endpoint(receiver: Receiver, event_types: list[str] | None = None) -> WebhookEndpoint:
    endpoint, secret = webhooks.webhook_endpoint_create(
        name="ERP", url=receiver.url, event_types=event_types or ["stock.low"]
    )
    receiver.secret = secret
    return endpoint


def _emit(capture: Any, **kwargs: Any) -> WebhookEvent:
    with capture(execute=True), transaction.atomic():
        return webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW, **kwargs)


class TestOutbox:
    def test_the_event_is_written_in_the_callers_transaction(self) -> None:
        # when
        with transaction.atomic():
            event = webhooks.webhook_emit(
                event_type="order.created", payload={"number": "NW1", "total": "49.95"}
            )
        # then
        assert WebhookEvent.objects.get() == event
        assert event.event_id.startswith("msg_")
        assert (event.event_type, event.payload, event.fanned_out_at) == (
            "order.created",
            {"number": "NW1", "total": "49.95"},
            None,
        )

    def test_a_rolled_back_transaction_leaves_no_event(self) -> None:
        def service_that_fails_after_emitting() -> None:
            with transaction.atomic():
                webhooks.webhook_emit(event_type="order.created", payload={"number": "NW1"})
                raise RuntimeError("the service failed after emitting")

        with pytest.raises(RuntimeError):
            service_that_fails_after_emitting()
        assert WebhookEvent.objects.count() == 0

    def test_the_same_idempotency_key_emits_once(self) -> None:
        first = webhooks.webhook_emit(
            event_type="customer.erased", payload={"id": "a"}, idempotency_key="erased:a"
        )
        second = webhooks.webhook_emit(
            event_type="customer.erased", payload={"id": "a"}, idempotency_key="erased:a"
        )
        assert first == second
        assert WebhookEvent.objects.count() == 1

    def test_emitting_is_one_statement_and_a_known_key_keeps_the_first_payload(
        self, django_assert_num_queries: Any
    ) -> None:
        with transaction.atomic():
            with django_assert_num_queries(1):  # no read first, no savepoint
                first = webhooks.webhook_emit(
                    event_type="customer.erased", payload={"id": "a"}, idempotency_key="k:a"
                )
            with django_assert_num_queries(2):  # the skipped INSERT, then the first event
                again = webhooks.webhook_emit(
                    event_type="customer.erased", payload={"id": "changed"}, idempotency_key="k:a"
                )
        assert (again.pk, again.event_id, again.payload) == (first.pk, first.event_id, {"id": "a"})
        assert list(WebhookEvent.objects.values_list("payload", flat=True)) == [{"id": "a"}]

    def test_an_unknown_event_type_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match=r"order\.exploded"):
            webhooks.webhook_emit(event_type="order.exploded", payload={})
        assert WebhookEvent.objects.count() == 0


class TestFanOut:
    def test_one_delivery_per_active_subscribed_endpoint_even_when_run_twice(
        self, receiver: Receiver
    ) -> None:
        # given
        subscribed = _endpoint(receiver, ["stock.low", "order.created"])
        webhooks.webhook_endpoint_create(
            name="CRM", url=receiver.url, event_types=["order.created"]
        )
        inactive = _endpoint(receiver)
        webhooks.webhook_endpoint_update(endpoint=inactive, is_active=False)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        # when
        first = webhooks.webhook_event_fan_out(event_pk=event.pk)
        second = webhooks.webhook_event_fan_out(event_pk=event.pk)
        # then
        delivery = WebhookDelivery.objects.get()
        assert (delivery.endpoint, delivery.event, delivery.status) == (
            subscribed,
            event,
            "pending",
        )
        assert first == second == [delivery.pk]
        assert delivery.retry_until == delivery.next_attempt_at + timedelta(days=1)


class TestDelivery:
    def test_a_real_receiver_gets_a_verifiable_signed_request(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given
        endpoint = _endpoint(receiver)
        # when
        event = _emit(django_capture_on_commit_callbacks)
        # then
        assert len(receiver.arrivals) == 1
        arrival = receiver.arrivals[0]
        verified = Webhook(receiver.secret).verify(arrival.body, arrival.headers)
        assert verified == {
            "type": "stock.low",
            "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": STOCK_LOW,
        }
        assert arrival.webhook_id == event.event_id
        assert arrival.headers["content-type"] == "application/json"
        assert abs(int(arrival.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
        delivery = WebhookDelivery.objects.get()
        assert (delivery.endpoint, delivery.status, delivery.attempts) == (endpoint, "succeeded", 1)
        assert delivery.delivered_at is not None
        assert list(WebhookAttempt.objects.values_list("number", "status_code", "error")) == [
            (1, 200, "")
        ]

    def test_a_500_is_retried_and_the_retry_carries_the_same_webhook_id(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any, settings: Any
    ) -> None:
        # given: the first answer is a 500; the first retry is due at once (eager tasks)
        settings.WEBHOOK_RETRY_DELAYS_S = [0, 3600]
        _endpoint(receiver)
        receiver.statuses.extend([500])
        # when
        event = _emit(django_capture_on_commit_callbacks)
        # then
        assert [a.webhook_id for a in receiver.arrivals] == [event.event_id, event.event_id]
        for arrival in receiver.arrivals:
            Webhook(receiver.secret).verify(arrival.body, arrival.headers)
        assert list(receiver.processed) == [event.event_id]
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "succeeded",
            2,
            200,
        )
        log = WebhookAttempt.objects.order_by("number").values_list(
            "number", "status_code", "error"
        )
        assert list(log) == [(1, 500, "Answered HTTP 500."), (2, 200, "")]

    def test_failures_back_off_exponentially_and_stop_after_a_day(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given: a receiver that always fails
        _endpoint(receiver)
        receiver.statuses.extend([503] * 5)
        # when
        before = timezone.now()
        _emit(django_capture_on_commit_callbacks)
        # then: one attempt; the next one is 5 s later, not now
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, len(receiver.arrivals)) == ("pending", 1, 1)
        assert before + timedelta(seconds=5) <= delivery.next_attempt_at
        assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=5)
        assert [webhooks._retry_delay_s(n) for n in range(1, 12)] == [
            5, 60, 300, 1800, 3600, 7200, 14400, 28800, 28800, 28800, 28800,
        ]  # fmt: skip
        assert sum(webhooks._retry_delay_s(n) for n in range(1, 10)) < 24 * 3600
        # and when the day is over, the next failure gives up
        WebhookDelivery.objects.update(
            next_attempt_at=timezone.now(), retry_until=timezone.now() + timedelta(seconds=1)
        )
        assert webhook_deliver(delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, len(receiver.arrivals)) == ("failed", 2, 2)

    def test_a_delivery_not_yet_due_or_already_done_is_not_sent(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given
        _endpoint(receiver)
        _emit(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        # when: a redelivered task message arrives after the success
        outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)
        # then
        assert (outcome.was_sent, outcome.status) == (False, "succeeded")
        assert len(receiver.arrivals) == 1
        assert WebhookDelivery.objects.get().attempts == 1

    def test_a_redirect_is_not_followed(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any, settings: Any
    ) -> None:
        settings.WEBHOOK_RETRY_DELAYS_S = [3600]
        _endpoint(receiver)
        receiver.statuses.extend([302])
        _emit(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code, len(receiver.arrivals)) == (
            "pending",
            302,
            1,
        )


class TestFanOutPending:
    def test_one_wake_up_fans_out_every_event_waiting_oldest_first(
        self, receiver: Receiver
    ) -> None:
        # given: three events committed, whose wake-ups were coalesced into one
        endpoint = _endpoint(receiver)
        events = [
            webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW) for _ in range(3)
        ]
        # when
        waiting, more = webhooks.webhook_events_fan_out_pending()
        # then
        deliveries = list(WebhookDelivery.objects.order_by("event_id"))
        assert [(d.endpoint_id, d.event_id) for d in deliveries] == [
            (endpoint.pk, event.pk) for event in events
        ]
        assert (sorted(waiting), more) == ([d.pk for d in deliveries], False)
        assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 0
        # and a second run finds nothing left
        assert webhooks.webhook_events_fan_out_pending() == ([], False)

    def test_a_backlog_is_taken_a_batch_at_a_time(self, receiver: Receiver) -> None:
        _endpoint(receiver)
        events = [
            webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW) for _ in range(3)
        ]
        waiting, more = webhooks.webhook_events_fan_out_pending(limit=2)
        assert (len(waiting), more) == (2, True)
        assert list(
            WebhookEvent.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True)
        ) == [events[2].pk]

    def test_the_task_queues_each_delivery_and_sends_it(self, receiver: Receiver) -> None:
        from integrations.tasks import webhook_fan_out_pending

        _endpoint(receiver)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        assert webhook_fan_out_pending() == 1
        assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
        assert [a.webhook_id for a in receiver.arrivals] == [event.event_id]


class TestSweep:
    def test_an_event_whose_wake_up_was_lost_is_found_and_delivered(
        self, receiver: Receiver
    ) -> None:
        # given: committed, but the on-commit wake-up never ran (a broker outage)
        _endpoint(receiver)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        WebhookEvent.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        # when
        result = webhooks.webhook_sweep()
        # then
        delivery = WebhookDelivery.objects.get()
        assert (result.events_fanned_out, result.deliveries_due) == (1, [delivery.pk])
        assert webhook_deliver(delivery.pk) == "succeeded"
        assert [a.webhook_id for a in receiver.arrivals] == [event.event_id]

    def test_a_fresh_event_is_left_to_its_own_wake_up(self, receiver: Receiver) -> None:
        _endpoint(receiver)
        webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        assert webhooks.webhook_sweep() == webhooks.SweepResult(0, [])
        assert WebhookDelivery.objects.count() == 0

    def test_a_delivery_whose_sender_died_is_due_again_once_its_lease_runs_out(
        self, receiver: Receiver
    ) -> None:
        # given: claimed by a worker that then died
        _endpoint(receiver)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        webhooks.webhook_event_fan_out(event_pk=event.pk)
        delivery = WebhookDelivery.objects.get()
        assert webhooks._claim(delivery_id=delivery.pk, now=timezone.now())
        # then: while the lease runs, nobody else may send it
        assert webhooks.webhook_sweep().deliveries_due == []
        assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk).was_sent is False
        # when the lease has run out
        WebhookDelivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        # then
        assert webhooks.webhook_sweep().deliveries_due == [delivery.pk]
        assert webhook_deliver(delivery.pk) == "succeeded"
        delivery.refresh_from_db()
        assert (delivery.attempts, len(receiver.arrivals)) == (2, 1)


class TestReplay:
    def test_a_finished_delivery_is_sent_again_with_the_same_webhook_id(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given
        _endpoint(receiver)
        event = _emit(django_capture_on_commit_callbacks)
        # when
        with django_capture_on_commit_callbacks(execute=True):
            replayed = webhooks.webhook_deliveries_replay(deliveries=WebhookDelivery.objects.all())
        # then
        delivery = WebhookDelivery.objects.get()
        assert replayed == [delivery.pk]
        assert [a.webhook_id for a in receiver.arrivals] == [event.event_id, event.event_id]
        assert list(receiver.processed) == [event.event_id]  # the receiver dropped the repeat
        assert (delivery.status, delivery.attempts) == ("succeeded", 2)

    def test_a_delivery_in_progress_is_not_replayed(self, receiver: Receiver) -> None:
        _endpoint(receiver)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        webhooks.webhook_event_fan_out(event_pk=event.pk)
        assert webhooks.webhook_deliveries_replay(deliveries=WebhookDelivery.objects.all()) == []
        assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


class TestPrivateTargets:
    def test_production_settings_never_send_to_this_machine(
        self, receiver: Receiver, django_capture_on_commit_callbacks: Any, settings: Any
    ) -> None:
        # given: an endpoint on 127.0.0.1 saved while allowed, then production settings
        _endpoint(receiver)
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        # when
        _emit(django_capture_on_commit_callbacks)
        # then: refused before any connection, and not retried
        assert receiver.arrivals == []
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("failed", 1)
        assert delivery.last_error == "127.0.0.1 resolves to 127.0.0.1: not a public address."

    @pytest.mark.parametrize(
        "addresses",
        [
            ["127.0.0.1"],
            ["10.0.0.5"],
            ["192.168.1.10"],
            ["172.16.0.1"],
            ["169.254.169.254"],
            ["100.64.0.1"],
            ["::1"],
            ["fe80::1"],
            ["fd00::1"],
            ["::ffff:127.0.0.1"],
            [str(ipaddress.IPv4Address(0))],  # 0.0.0.0
            ["93.184.216.34", "10.0.0.5"],  # one bad address is enough
        ],
    )
    def test_every_resolved_address_must_be_public(
        self, addresses: list[str], settings: Any
    ) -> None:
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        with pytest.raises(targets.TargetRefused):
            targets.target_resolve(
                url="https://hooks.example.com/in", resolver=lambda host, port: addresses
            )

    def test_a_public_host_is_pinned_to_its_checked_addresses(self, settings: Any) -> None:
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        target = targets.target_resolve(
            url="https://hooks.example.com:8443/in",
            resolver=lambda host, port: ["93.184.216.34", "2606:2800:220:1::1"],
        )
        assert target == targets.Target(
            scheme="https",
            host="hooks.example.com",
            port=8443,
            addresses=("93.184.216.34", "2606:2800:220:1::1"),
        )

    @pytest.mark.parametrize(
        "url",
        [
            "http://localhost:8000/hooks",
            "http://10.1.2.3/hooks",
            "http://[::1]/hooks",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
        ],
    )
    def test_an_endpoint_that_can_never_be_a_target_is_refused(
        self, url: str, settings: Any
    ) -> None:
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        with pytest.raises(InvalidInput):
            webhooks.webhook_endpoint_create(name="x", url=url, event_types=["stock.low"])
        assert WebhookEndpoint.objects.count() == 0


def test_the_body_is_compact_sorted_json() -> None:
    event = WebhookEvent(
        event_id="msg_1",
        event_type="stock.low",
        payload={"b": 1, "a": "x"},
        created_at=timezone.now(),
    )
    body = webhooks.webhook_body(event=event)
    assert json.loads(body)["data"] == {"a": "x", "b": 1}
    assert body.startswith('{"data":{"a":"x","b":1},"timestamp":')


class TestAdmin:
    def test_an_endpoint_added_in_the_admin_shows_its_secret_once(
        self, admin_client: Any, settings: Any
    ) -> None:
        # when
        response = admin_client.post(
            "/admin/integrations/webhookendpoint/add/",
            {
                "name": "Warehouse",
                "url": "https://wms.example.com/hooks",
                "event_types": ["stock.low", "order.created"],
                "is_active": "on",
            },
            follow=True,
        )
        # then
        endpoint = WebhookEndpoint.objects.get()
        messages = [str(m) for m in response.context["messages"]]
        assert messages[0] == (
            f"Signing secret for Warehouse: {endpoint.secret} — copy it now, it is not shown again."
        )
        assert endpoint.event_types == ["order.created", "stock.low"]
        page = admin_client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/")
        assert endpoint.secret not in page.content.decode()
        assert endpoint.secret_prefix in page.content.decode()

    def test_the_delivery_log_replays_a_failed_delivery(
        self, admin_client: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given: a delivery that gave up
        endpoint = _endpoint(receiver)
        event = webhooks.webhook_emit(event_type="stock.low", payload=STOCK_LOW)
        webhooks.webhook_event_fan_out(event_pk=event.pk)
        WebhookDelivery.objects.update(status="failed", attempts=9, last_error="gave up")
        delivery = WebhookDelivery.objects.get()
        log = admin_client.get(
            f"/admin/integrations/webhookdelivery/?endpoint__id__exact={endpoint.pk}"
        )
        assert event.event_id in log.content.decode()
        # when
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(
                "/admin/integrations/webhookdelivery/",
                {"action": "replay", "_selected_action": [delivery.pk]},
            )
        # then
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("succeeded", 10)
        assert [a.webhook_id for a in receiver.arrivals] == [event.event_id]


def test_the_sweep_is_scheduled_every_minute() -> None:
    from django.conf import settings

    from interaction_platform.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["integrations-webhook-sweep"]
    assert entry == {"task": "integrations.webhook_sweep", "schedule": 60.0}
    assert "integrations.webhook_sweep" in app.tasks
