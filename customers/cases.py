"""Support cases: opened on any channel, resolved by staff or by the customer themselves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.models import Case, CaseResolution, CaseStatus, Customer
from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel


@transaction.atomic
def case_record_self_service(
    *, customer: Customer, subject: str, channel: Channel | str, order: Any = None
) -> Case:
    """Record a request the customer settled on their own (tracked an order, started a
    return, changed their consent): a case opened and resolved electronically at once, so the
    service dashboard counts it beside the ones staff handled."""
    now = timezone.now()
    case = Case.objects.create(
        customer=customer,
        channel=Channel(channel),
        subject=subject[:200],
        order=order,
        status=CaseStatus.RESOLVED,
        resolution=CaseResolution.SELF_SERVICE,
        is_resolved_on_first_contact=True,
        resolved_at=now,
    )
    touchpoint_emit(
        customer=customer,
        event="Case Resolved",
        channel=channel,
        source="self-service",
        properties={"case_id": case.pk, "subject": case.subject, "resolution": "self_service"},
        message_id=f"case-resolved:{case.pk}",
    )
    return case
