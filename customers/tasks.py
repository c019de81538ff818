"""Celery tasks of the customers app. Thin: they take ids (or nothing) and call a service."""

from __future__ import annotations

from celery import shared_task

from customers.inbox import inbox_process_batch

# One task drains a bounded number of batches, then hands over to a fresh task so that a busy
# inbox never pins a worker and the sweep can always run.
MAX_BATCHES_PER_TASK = 20


@shared_task(name="customers.inbox_process", acks_late=True, reject_on_worker_lost=True)
def inbox_process() -> int:
    """Drain the inbox. Safe to run any number of times, concurrently: rows are claimed with
    SKIP LOCKED and the timeline refuses a message id twice."""
    processed = 0
    for _ in range(MAX_BATCHES_PER_TASK):
        claimed = inbox_process_batch()
        processed += claimed
        if claimed == 0:
            return processed
    inbox_process.delay()
    return processed
