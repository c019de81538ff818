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


@transaction.atomic
def case_open(
    *,
    customer: Customer,
    channel: Channel | str,
    subject: str,
    description: str = "",
    opened_by: Any = None,
    order: Any = None,
    product: Any = None,
) -> Case:
    """Open a support case for ``customer`` and put ``Case Opened`` on their timeline.
    ``product`` (a catalog variant) is what they asked about: it goes on the timeline event, so
    the web store can suggest it (customers.selectors.customer_recently_viewed)."""
    case = Case.objects.create(
        customer=customer,
        channel=Channel(channel),
        subject=subject[:200],
        description=description,
        opened_by=opened_by,
        order=order,
    )
    touchpoint_emit(
        customer=customer,
        event="Case Opened",
        channel=channel,
        source="cases",
        properties={
            "case_id": case.pk,
            "subject": case.subject,
            **(_product_properties(product) if product is not None else {}),
        },
        message_id=f"case-opened:{case.pk}",
    )
    return case


@transaction.atomic
def case_resolve(
    *, case: Case, resolution: CaseResolution, is_first_contact: bool, channel: Channel | str
) -> Case:
    """Resolve an open case. Resolving a resolved case changes nothing (a double click, a
    repeated form). Puts ``Case Resolved`` on the timeline."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status == CaseStatus.RESOLVED:
        return locked
    locked.status = CaseStatus.RESOLVED
    locked.resolution = resolution
    locked.is_resolved_on_first_contact = is_first_contact
    locked.resolved_at = timezone.now()
    locked.save(
        update_fields=["status", "resolution", "is_resolved_on_first_contact", "resolved_at"]
    )
    touchpoint_emit(
        customer=locked.customer,
        event="Case Resolved",
        channel=channel,
        source="cases",
        properties={
            "case_id": locked.pk,
            "subject": locked.subject,
            "resolution": str(resolution),
            "first_contact": is_first_contact,
        },
        message_id=f"case-resolved:{locked.pk}",
    )
    return locked


def _product_properties(variant: Any) -> dict[str, str]:
    return {
        "product_id": variant.product.slug,
        "sku": variant.sku,
        "name": variant.product.name,
        "variant": variant.name,
    }
