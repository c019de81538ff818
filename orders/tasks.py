"""Celery tasks of the orders app. Thin: they call a service and are safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from orders.services import payment_links_expire, payments_reconcile


@shared_task(name="orders.sweep", acks_late=True, reject_on_worker_lost=True)
def orders_sweep() -> dict[str, int]:
    """Every minute (celery beat): finish online payments and refunds whose answer was lost,
    and cancel orders whose payment link expired, so their stock goes back on sale."""
    now = timezone.now()
    settled_before = now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER_S)
    return {
        "reconciled": payments_reconcile(settled_before=settled_before),
        "links_expired": payment_links_expire(now=now),
    }
