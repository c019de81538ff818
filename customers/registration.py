"""Giving a login its customer record."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Identity, IdentityKind
from customers.webhook_payloads import customer_created_payload
from integrations.webhooks import webhook_emit
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict


@transaction.atomic
def customer_create_for_login(
    *, user: Any, email: str, first_name: str, last_name: str, channel: Channel
) -> Customer:
    """The customer record for a new login. If ``email`` (normalised) already identifies a
    customer without a login — say someone who bought in a store and got an e-receipt — that
    record becomes theirs, with its history; otherwise a new one is created. The login's id
    becomes a ``user_id`` identity. Raises Conflict when the e-mail belongs to another login."""
    existing = (
        Identity.objects.select_for_update()
        .filter(kind=IdentityKind.EMAIL, value=email)
        .select_related("customer")
        .first()
    )
    if existing is not None and existing.customer.user_id is not None:
        raise Conflict(
            "There is already an account with this e-mail address. Sign in, or reset the password.",
            code="account_exists",
            fields={"email": ["Already has an account."]},
        )
    now = timezone.now()
    if existing is not None:
        customer = existing.customer
        customer.user = user
        customer.first_name = customer.first_name or first_name
        customer.last_name = customer.last_name or last_name
        customer.is_identified = True
        customer.save(
            update_fields=["user", "first_name", "last_name", "is_identified", "updated_at"]
        )
    else:
        customer = Customer.objects.create(
            user=user,
            first_name=first_name,
            last_name=last_name,
            email=email,
            is_identified=True,
            first_seen_at=now,
            last_seen_at=now,
            channels_used=[Channel(channel).value],
            channel_count=1,
        )
        Identity.objects.create(
            customer=customer, kind=IdentityKind.EMAIL, value=email, source="sign-up"
        )
        webhook_emit(
            event_type="customer.created",
            payload=customer_created_payload(customer=customer),
            idempotency_key=f"customer.created:{customer.public_id}",
        )
    Identity.objects.create(
        customer=customer, kind=IdentityKind.USER_ID, value=str(user.pk), source="sign-up"
    )
    return customer
