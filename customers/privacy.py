"""What a customer may ask of their personal data: a copy of all of it, and its erasure.

Both reach every app's rows the way a merge does — through Customer's reverse relations —
without importing those apps: a model that holds personal data of its own (an order's address)
defines ``export_customer_rows(cls, *, customer) -> list[dict]`` and
``erase_customer_rows(cls, *, customer) -> int``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.merging import customer_relations
from customers.models import (
    AccessAction,
    Case,
    CaseStatus,
    Customer,
    Identity,
    TimelineEvent,
)
from customers.services import access_log_record
from customers.touchpoints import touchpoint_emit
from customers.webhook_payloads import customer_erased_payload
from integrations.webhooks import webhook_emit
from interaction_platform.choices import Channel

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "loyalty_number",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "analytics_consent",
    "email_consent",
    "sms_consent",
    "direct_mail_consent",
    "first_seen_at",
    "last_seen_at",
    "channels_used",
    "order_count",
    "lifetime_revenue",
    "currency",
    "created_at",
)
ERASED_TEXT = "(erased)"


def customer_data_export(*, customer: Customer) -> dict[str, Any]:
    """Everything we hold about ``customer``, as JSON-ready data (the right of access)."""
    data: dict[str, Any] = {
        "id": str(customer.public_id),
        "exported_at": timezone.now().isoformat(),
        "profile": {name: getattr(customer, name) for name in PROFILE_FIELDS},
        "home_store": customer.home_store.name if customer.home_store else None,
        "identities": list(
            customer.identities.order_by("kind", "value").values("kind", "value", "created_at")
        ),
        "consent_history": list(
            customer.consent_records.order_by("occurred_at").values(
                "purpose", "is_granted", "channel", "source", "occurred_at"
            )
        ),
        "cases": list(
            customer.cases.order_by("opened_at").values(
                "subject", "description", "channel", "status", "opened_at", "resolved_at"
            )
        ),
        "timeline": list(
            customer.events.order_by("occurred_at", "id").values(
                "occurred_at", "channel", "type", "properties"
            )
        ),
    }
    for model, _key in customer_relations():
        hook = getattr(model, "export_customer_rows", None)
        if hook is not None:
            data[str(model._meta.verbose_name_plural)] = hook(customer=customer)
    return data


@transaction.atomic
def customer_erasure_request(*, customer: Customer, channel: Channel | str) -> Case:
    """The customer asks to be forgotten: an open case for an agent, who checks open orders
    and returns and then erases (:func:`customer_erase`). Asking twice keeps one open request."""
    open_request = customer.cases.filter(
        subject="Erasure request", status__in=[CaseStatus.OPEN, CaseStatus.WAITING]
    ).first()
    if open_request is not None:
        return open_request
    case = Case.objects.create(
        customer=customer,
        channel=Channel(channel),
        subject="Erasure request",
        description="The customer asked for their personal data to be erased.",
    )
    touchpoint_emit(
        customer=customer,
        event="Case Opened",
        channel=channel,
        source="privacy",
        properties={"case_id": case.pk, "subject": case.subject},
        message_id=f"case-opened:{case.pk}",
    )
    return case


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Any, reason: str) -> Customer:
    """Erase ``customer``'s personal data: the profile, every identity, the properties of their
    timeline events and the text of their cases, their login, and what other apps hold through
    ``erase_customer_rows`` (orders keep their amounts for accounting, under the pseudonym of
    the customer's public id). The erasure itself is recorded in the access log and announced
    as ``customer.erased``. Erasing twice changes nothing. Locks the customer row."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.erased_at is not None:
        return locked
    for model, _key in customer_relations():
        hook = getattr(model, "erase_customer_rows", None)
        if hook is not None:
            hook(customer=locked)
    Identity.objects.filter(customer=locked).delete()
    TimelineEvent.objects.filter(customer=locked).update(properties={})
    locked.cases.update(subject=ERASED_TEXT, description="")
    if locked.user is not None:
        _erase_login(locked.user)
    now = timezone.now()
    Customer.objects.filter(pk=locked.pk).update(
        user=None,
        first_name="",
        last_name="",
        email="",
        phone="",
        loyalty_number=None,
        home_store=None,
        address_line1="",
        address_line2="",
        postcode="",
        city="",
        country="",
        analytics_consent=False,
        email_consent=False,
        sms_consent=False,
        direct_mail_consent=False,
        erased_at=now,
        updated_at=now,
    )
    locked.refresh_from_db()
    access_log_record(
        actor=actor, customers=[locked], action=AccessAction.EDIT, via="erasure", reason=reason
    )
    webhook_emit(
        event_type="customer.erased",
        payload=customer_erased_payload(customer=locked),
        idempotency_key=f"customer.erased:{locked.public_id}",
    )
    return locked


def _erase_login(user: Any) -> None:
    user.username = f"erased-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=["username", "email", "first_name", "last_name", "is_active", "password"]
    )
    user.api_tokens.all().delete()
