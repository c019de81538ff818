"""Celery tasks for webhooks. Thin: they take ids, call a service, and are safe to run twice
(the services claim rows with conditional UPDATEs)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from integrations.webhooks import (
    FAN_OUT_WAKE_QUEUE,
    SHORT_RETRY_S,
    webhook_delivery_attempt,
    webhook_events_fan_out_pending,
    webhook_sweep,
)
from interaction_platform.wakeups import wake_taken

# Only the database being briefly unreachable is worth a Celery retry: an HTTP failure is
# recorded on the delivery and retried on its own schedule, never by Celery.
_TRANSIENT = (OperationalError,)


@shared_task(
    name="integrations.webhook_fan_out_pending",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def webhook_fan_out_pending() -> int:
    """Create the deliveries of the events waiting and queue each one. The wake-up is taken
    first, so that an event committed from now on wakes a worker again; a long backlog is
    handed to a fresh task batch by batch."""
    wake_taken(FAN_OUT_WAKE_QUEUE)
    delivery_ids, more = webhook_events_fan_out_pending()
    for delivery_id in delivery_ids:
        webhook_deliver.delay(delivery_id)
    if more:
        webhook_fan_out_pending.delay()
    return len(delivery_ids)


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
