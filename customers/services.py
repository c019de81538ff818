"""Customer writes. Each function is one transaction and raises domain errors only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from customers import identity
from customers.models import AccessAction, AccessLog, Customer, Identity, IdentityKind
from interaction_platform.errors import Conflict

PROFILE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "phone",
        "address_line1",
        "address_line2",
        "postcode",
        "city",
        "country",
    }
)


def access_log_record(
    *,
    actor: Any,
    customers: Iterable[Customer],
    action: AccessAction,
    via: str,
    reason: str = "",
) -> list[AccessLog]:
    """Write one audit row per customer that ``actor`` (a staff member) read, exported or
    edited. Append-only: rows are never changed afterwards."""
    rows = [
        AccessLog(actor=actor, customer=customer, action=action, via=via[:200], reason=reason[:300])
        for customer in customers
    ]
    return AccessLog.objects.bulk_create(rows)


@transaction.atomic
def customer_update_profile(*, customer: Customer, **changes: str) -> Customer:
    """Change profile fields. A new phone number is normalised to E.164 and becomes the
    customer's phone identity (refused with Conflict if it identifies someone else)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if changes.get("phone"):
        changes["phone"] = identity.normalise_phone(changes["phone"])
        _attach_identity(customer=customer, kind=IdentityKind.PHONE, value=changes["phone"])
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*changes, "updated_at"])
    return customer


def _attach_identity(*, customer: Customer, kind: IdentityKind, value: str) -> None:
    row, _created = Identity.objects.get_or_create(
        kind=kind, value=value, defaults={"customer": customer, "source": "profile"}
    )
    if row.customer_id != customer.pk:
        raise Conflict(
            "This phone number already belongs to another customer.",
            code="identity_taken",
            fields={kind.value: ["Already used by another customer."]},
        )
