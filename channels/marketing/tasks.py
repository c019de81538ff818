"""Celery tasks of the marketing channel. Thin and safe to run twice or side by side: every
rollup recompute replaces its rows from the raw rows in one transaction; sending claims each
recipient before mailing; attribution and follow-up are idempotent by unique rows and
conditional updates."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from channels.marketing.attribution import attribution_refresh as attribution_refresh_service
from channels.marketing.attribution import attribution_uncredit_cancelled
from channels.marketing.campaigns import campaign_send_batch
from channels.marketing.followup import followup_sweep as followup_sweep_service
from channels.marketing.rollups import RefreshResult, rollups_rebuild, rollups_refresh

_TRANSIENT = (OperationalError, InterfaceError)
#: The nightly safety net re-rolls this many recent days from scratch.
RECENT_REBUILD_DAYS = 3


@shared_task(
    name="marketing.rollups_refresh",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=3,
    time_limit=600,
)
def rollups_refresh_task() -> dict[str, int]:
    """Bring the dashboards' rollups up to date with what changed since the last run."""
    return _as_dict(rollups_refresh())


@shared_task(
    name="marketing.rollups_rebuild_recent",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=3,
    time_limit=1800,
)
def rollups_rebuild_recent_task() -> dict[str, int]:
    """Rebuild the last few days from scratch: catches an event that arrived so late that the
    refresh's id overlap no longer covered it."""
    today = timezone.localdate()
    return _as_dict(
        rollups_rebuild(day_from=today - timedelta(days=RECENT_REBUILD_DAYS - 1), day_to=today)
    )


def _as_dict(result: RefreshResult) -> dict[str, int]:
    return {"days": result.days, "customer_months": result.customer_months, "months": result.months}


# --- campaigns -------------------------------------------------------------------------------

# One task sends at most this many batches, then hands over to a fresh task, so a big campaign
# never pins a worker. Run eagerly (the embedded default) it simply finishes the campaign.
MAX_BATCHES_PER_TASK = 20


@shared_task(
    bind=True,
    name="marketing.campaign_send",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
)
def campaign_send(self: Any, campaign_id: int) -> dict[str, int]:
    """Send a campaign's pending e-mails in batches (each recipient at most once)."""
    sent = failed = 0
    batches = 0
    while True:
        result = campaign_send_batch(campaign_id=campaign_id)
        sent, failed, batches = sent + result.sent, failed + result.failed, batches + 1
        if not result.remaining or not (result.sent or result.failed):
            break
        if batches >= MAX_BATCHES_PER_TASK and not self.request.is_eager:
            campaign_send.delay(campaign_id)
            break
    return {"sent": sent, "failed": failed, "remaining": result.remaining}


@shared_task(name="marketing.attribution_refresh", acks_late=True, reject_on_worker_lost=True)
def attribution_refresh() -> dict[str, int]:
    """Credit new orders to campaigns; take the credit of cancelled ones back."""
    return {
        "credited": attribution_refresh_service(),
        "taken_back": attribution_uncredit_cancelled(),
    }


@shared_task(name="marketing.followup_sweep", acks_late=True, reject_on_worker_lost=True)
def followup_sweep() -> dict[str, int]:
    return asdict(followup_sweep_service())
