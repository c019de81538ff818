"""Celery tasks of the marketing channel. Thin: they take ids, call a service, and are safe to
run twice (sending claims each recipient before mailing; attribution and follow-up are
idempotent by unique rows and conditional updates)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from channels.marketing.attribution import attribution_refresh as attribution_refresh_service
from channels.marketing.campaigns import campaign_send_batch
from channels.marketing.followup import followup_sweep as followup_sweep_service


@shared_task(
    name="marketing.campaign_send",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
)
def campaign_send(campaign_id: int) -> dict[str, int]:
    """Send one batch of a campaign's e-mails, then hand the rest to a fresh task."""
    result = campaign_send_batch(campaign_id=campaign_id)
    if result.remaining and (result.sent or result.failed):
        campaign_send.delay(campaign_id)
    return asdict(result)


@shared_task(name="marketing.attribution_refresh", acks_late=True, reject_on_worker_lost=True)
def attribution_refresh() -> int:
    return attribution_refresh_service()


@shared_task(name="marketing.followup_sweep", acks_late=True, reject_on_worker_lost=True)
def followup_sweep() -> dict[str, int]:
    return asdict(followup_sweep_service())
