"""Consent: the current answer per purpose on the customer, every change in ConsentRecord."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.models import ConsentPurpose, ConsentRecord, Customer
from interaction_platform.choices import Channel


@transaction.atomic
def consent_set(
    *,
    customer: Customer,
    purpose: ConsentPurpose,
    is_granted: bool,
    channel: Channel | str,
    source: str,
    recorded_by: Any = None,
) -> bool:
    """Give or withdraw consent for ``purpose``. Records the change (who, when, where) and
    returns True; returns False and records nothing when the answer is already ``is_granted``,
    so repeating a form is harmless. Locks the customer row."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    field = f"{purpose.value}_consent"
    if getattr(locked, field) == is_granted and getattr(locked, f"{field}_at") is not None:
        return False
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(**{field: is_granted, f"{field}_at": now})
    ConsentRecord.objects.create(
        customer=locked,
        purpose=purpose,
        is_granted=is_granted,
        channel=Channel(channel),
        source=source[:100],
        recorded_by=recorded_by,
        occurred_at=now,
    )
    setattr(customer, field, is_granted)
    setattr(customer, f"{field}_at", now)
    return True
