"""Calls to the call centre, as touchpoints: the telephony screen-pop starts one, the agent's
outcome completes it. A call from an unknown number is kept only in the agent's session until
the agent finds (or creates) the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel


class CallOutcome:
    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    ORDER_PLACED = "order_placed"
    NO_ANSWER_NEEDED = "information_only"
    CHOICES = [
        (RESOLVED, "Question answered / problem solved"),
        (ORDER_PLACED, "Order placed for the customer"),
        (FOLLOW_UP, "Needs a follow-up"),
        (NO_ANSWER_NEEDED, "Information only"),
    ]


@transaction.atomic
def call_start(*, customer: Customer, call_id: str, from_number: str, agent: Any) -> None:
    """Put ``Call Started`` on the timeline (once per call id)."""
    touchpoint_emit(
        customer=customer,
        event="Call Started",
        channel=Channel.CALL_CENTRE,
        source="console",
        properties={"call_id": call_id, "from": from_number, "agent": agent.get_username()},
        message_id=f"call-started:{call_id}",
    )


@transaction.atomic
def call_complete(
    *,
    customer: Customer,
    call_id: str,
    started_at: datetime | None,
    outcome: str,
    notes: str,
    agent: Any,
) -> None:
    """Put ``Call Completed`` with its outcome, notes and duration on the timeline (once per
    call id: logging the same call twice keeps the first)."""
    now = timezone.now()
    duration_s = int((now - started_at).total_seconds()) if started_at else None
    touchpoint_emit(
        customer=customer,
        event="Call Completed",
        channel=Channel.CALL_CENTRE,
        source="console",
        properties={
            "call_id": call_id,
            "outcome": outcome,
            "notes": notes[:2000],
            "duration_s": duration_s,
            "agent": agent.get_username(),
        },
        occurred_at=now,
        message_id=f"call-completed:{call_id}",
    )
