"""Moving touchpoints from the durable inbox onto the timeline.

Workers claim pending rows with ``SELECT … FOR UPDATE SKIP LOCKED`` so that any number of them
can share the work, append them to the timeline (``message_id`` is unique there: a conflict
means "already done"), update the customers' statistics and mark the rows done — all in one
transaction. A repeated or redelivered task therefore changes nothing, and a worker killed
half-way leaves its rows pending for the next one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import Customer, InboxEvent, InboxStatus, TimelineEvent
from customers.selectors import customer_resolve_merged

BATCH_SIZE = 500


@dataclass(frozen=True)
class _Placed:
    """A timeline row ready to insert, with the customer it belongs to."""

    event: TimelineEvent
    customer_id: int


def inbox_process_batch(*, batch_size: int = BATCH_SIZE) -> int:
    """Process up to ``batch_size`` pending inbox rows in one transaction. Returns how many
    rows were claimed (0 when the inbox is empty or every pending row is being worked on)."""
    with transaction.atomic():
        rows = list(
            InboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=InboxStatus.PENDING)
            .order_by("id")[:batch_size]
        )
        if not rows:
            return 0
        placed: list[_Placed] = []
        failed: list[InboxEvent] = []
        for row in rows:
            try:
                placed.append(_place(row))
            except _Unprocessable as error:
                row.error = str(error)
                failed.append(row)
        _append_to_timeline(placed)
        now = timezone.now()
        done_ids = [row.pk for row in rows if row not in failed]
        InboxEvent.objects.filter(pk__in=done_ids).update(status=InboxStatus.DONE, processed_at=now)
        for row in failed:
            row.status = InboxStatus.FAILED
            row.processed_at = now
            row.attempts += 1
        InboxEvent.objects.bulk_update(failed, ["status", "processed_at", "attempts", "error"])
    return len(rows)


class _Unprocessable(Exception):
    """Bad data: recorded on the row, never retried."""


def _place(row: InboxEvent) -> _Placed:
    payload: dict[str, Any] = row.payload
    internal = (payload.get("context") or {}).get("internal")
    if not internal:
        raise _Unprocessable("only internal touchpoints can be placed")
    customer = Customer.objects.filter(pk=internal.get("customer_id")).first()
    if customer is None:
        raise _Unprocessable(f"no customer {internal.get('customer_id')!r}")
    customer = customer_resolve_merged(customer=customer)
    occurred_at = _parse_time(payload.get("timestamp")) or row.received_at
    event = TimelineEvent(
        customer_id=customer.pk,
        occurred_at=occurred_at,
        received_at=row.received_at,
        channel=row.channel,
        type=str(payload.get("event") or payload.get("name") or payload.get("type")),
        source=row.source,
        message_id=row.message_id,
        store_id=internal.get("store_id"),
        order_id=internal.get("order_id"),
        properties=payload.get("properties") or {},
    )
    return _Placed(event=event, customer_id=customer.pk)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


def _append_to_timeline(placed: list[_Placed]) -> None:
    """Insert the rows (a known message id is skipped), then update the statistics of the
    customers whose timeline really grew, under their row locks taken in id order."""
    if not placed:
        return
    message_ids = [item.event.message_id for item in placed]
    already = set(
        TimelineEvent.objects.filter(message_id__in=message_ids).values_list(
            "message_id", flat=True
        )
    )
    fresh: dict[str, _Placed] = {}
    for item in placed:
        if item.event.message_id not in already:
            fresh.setdefault(item.event.message_id, item)
    TimelineEvent.objects.bulk_create(
        [item.event for item in fresh.values()], ignore_conflicts=True
    )
    by_customer: dict[int, list[TimelineEvent]] = defaultdict(list)
    for item in fresh.values():
        by_customer[item.customer_id].append(item.event)
    customers = Customer.objects.select_for_update().filter(pk__in=by_customer).order_by("pk")
    for customer in customers:
        _update_stats(customer, by_customer[customer.pk])


def _update_stats(customer: Customer, events: list[TimelineEvent]) -> None:
    first = min(event.occurred_at for event in events)
    last = max(event.occurred_at for event in events)
    customer.first_seen_at = min(filter(None, [customer.first_seen_at, first]))
    customer.last_seen_at = max(filter(None, [customer.last_seen_at, last]))
    channels = sorted(set(customer.channels_used) | {event.channel for event in events})
    customer.channels_used = channels
    customer.channel_count = len(channels)
    customer.save(
        update_fields=[
            "first_seen_at",
            "last_seen_at",
            "channels_used",
            "channel_count",
            "updated_at",
        ]
    )
