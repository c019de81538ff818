"""The one road onto the timeline for our own services (the transactional outbox).

A service that causes a touchpoint (an order placed, a return received, a case opened, a call
logged) calls :func:`touchpoint_emit` inside its own transaction. The touchpoint is written to
the durable inbox with everything else the service wrote, or not at all; after the commit a
worker is woken to move it onto the customer's timeline. Event names and their required
properties are in ``docs/tracking-plan.md``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.inbox import inbox_shard, inbox_wake
from customers.models import Customer, InboxEvent
from interaction_platform.choices import Channel


def touchpoint_emit(
    *,
    customer: Customer,
    event: str,
    channel: Channel | str,
    source: str,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    store_id: int | None = None,
    order_id: int | None = None,
    message_id: str | None = None,
) -> InboxEvent:
    """Record that ``customer`` did ``event`` on ``channel``, inside the caller's transaction.

    ``source`` names the service (``"orders"``, ``"console"``…). ``message_id`` makes the
    touchpoint idempotent: give a stable one when the same business fact could be emitted twice
    (e.g. ``f"order-completed:{order.number}"``); the timeline keeps it once. Returns the inbox
    row. Raises nothing of its own; call it inside ``transaction.atomic``.
    """
    now = timezone.now()
    occurred = occurred_at or now
    message_id = message_id or f"internal:{uuid.uuid4()}"
    payload = {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": occurred.isoformat(),
        "properties": properties or {},
        "context": {
            "internal": {
                "customer_id": customer.pk,
                "store_id": store_id,
                "order_id": order_id,
            }
        },
    }
    shard = inbox_shard(payload)
    row = InboxEvent.objects.create(
        message_id=message_id,
        source=source,
        channel=Channel(channel),
        payload=payload,
        received_at=now,
        shard=shard,
    )
    transaction.on_commit(partial(_wake_workers, shard))
    return row


def _wake_workers(shard: int) -> None:
    inbox_wake(shard)
