"""Celery tasks of the marketing app's rollups. Thin and safe to run twice or side by side:
every recompute replaces its rows from the raw rows in one transaction."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

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
