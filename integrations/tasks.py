"""Celery tasks for webhooks. Thin: they take ids, call a service, and are safe to run twice
(the services claim rows with conditional UPDATEs)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from integrations.models import WebhookEvent
from integrations.webhooks import (
    SHORT_RETRY_S,
    webhook_delivery_attempt,
    webhook_event_fan_out,
    webhook_sweep,
)

# Only the database being briefly unreachable is worth a Celery retry: an HTTP failure is
# recorded on the delivery and retried on its own schedule, never by Celery.
_TRANSIENT = (OperationalError,)


@shared_task(
    name="integrations.webhook_fan_out",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def webhook_fan_out(event_pk: int) -> int:
    """Create an event's deliveries and queue each one."""
    delivery_ids = webhook_event_fan_out(event_pk=event_pk)
    for delivery_id in delivery_ids:
        webhook_deliver.delay(delivery_id)
    return len(delivery_ids)


@shared_task(
    name="integrations.webhook_fan_out_many",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def webhook_fan_out_many(event_ids: list[str]) -> int:
    """Fan out a batch written by ``webhook_emit_many`` (events are named by their
    ``event_id``: with ``ignore_conflicts`` the database may not hand back primary keys)."""
    queued = 0
    for event_pk in WebhookEvent.objects.filter(event_id__in=event_ids).values_list(
        "pk", flat=True
    ):
        for delivery_id in webhook_event_fan_out(event_pk=event_pk):
            webhook_deliver.delay(delivery_id)
            queued += 1
    return queued


@shared_task(
    name="integrations.webhook_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt at one delivery. A soon retry is queued with a countdown; later ones are
    found by the sweep."""
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in_s is not None and outcome.retry_in_s <= SHORT_RETRY_S:
        webhook_deliver.apply_async((delivery_id,), countdown=outcome.retry_in_s)
    return outcome.status


@shared_task(name="integrations.webhook_sweep", acks_late=True, autoretry_for=_TRANSIENT)
def webhook_sweep_task() -> int:
    """Every minute (celery beat): fan out forgotten events, resend due deliveries."""
    result = webhook_sweep()
    for delivery_id in result.deliveries_due:
        webhook_deliver.delay(delivery_id)
    return len(result.deliveries_due)
