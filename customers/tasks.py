"""Celery tasks of the customers app. Thin: they take ids (or nothing) and call a service.

Both tasks are safe to run any number of times, concurrently: inbox rows are claimed with
SKIP LOCKED and the timeline refuses a message id twice. They are acknowledged late, so a task
whose worker dies is delivered again; and whatever a lost message leaves behind, the sweep finds.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from customers.inbox import (
    InboxContention,
    inbox_drain,
    inbox_is_stale,
    inbox_wake,
    inbox_wake_queue,
)
from interaction_platform.wakeups import wake_taken

# One task drains a bounded number of batches, then hands over to a fresh task so that a busy
# inbox never pins a worker and the sweep can always run.
MAX_BATCHES_PER_TASK = 20
_TRANSIENT = (OperationalError, InterfaceError, InboxContention)


@shared_task(
    name="customers.inbox_process",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def inbox_process(shard: int | None = None) -> int:
    """Drain ``shard`` of the inbox (None: every shard). Returns how many rows were processed.
    The wake-up is taken first, so that a row committed from now on wakes a worker again."""
    wake_taken(inbox_wake_queue(shard))
    processed, is_empty = inbox_drain(max_batches=MAX_BATCHES_PER_TASK, shard=shard)
    if not is_empty:
        inbox_wake(shard)
    return processed


@shared_task(
    name="customers.inbox_sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=_TRANSIENT,
    retry_backoff=True,
    max_retries=3,
)
def inbox_sweep() -> int:
    """Run by celery beat: drain the inbox when a row has waited too long, because its wake-up
    message was lost (a broker restart, a killed worker, a failed publish). A row woken normally
    is processed within moments; one that waited a whole sweep interval lost its wake-up."""
    if not inbox_is_stale(older_than=timedelta(seconds=settings.INBOX_SWEEP_INTERVAL_S)):
        return 0
    processed, is_empty = inbox_drain(max_batches=MAX_BATCHES_PER_TASK)
    if not is_empty:
        inbox_wake()
    return processed
