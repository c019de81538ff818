"""The ``data`` of the customer webhooks (docs/webhooks.md), built from the models.

The pipeline's services call these when they emit, inside their own transaction::

    webhook_emit(event_type="customer.created", payload=customer_created_payload(customer=c),
                 idempotency_key=f"customer.created:{c.public_id}")

``customer.created`` carries personal data (the receiving endpoints are set up by an
administrator for systems that need it, e.g. the e-mail service); ``customer.merged`` and
``customer.erased`` carry ids only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from customers.models import Customer


def customer_created_payload(*, customer: Customer) -> dict[str, Any]:
    return {
        "id": str(customer.public_id),
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "loyalty_number": customer.loyalty_number,
        "consent": {
            "email": customer.email_consent,
            "sms": customer.sms_consent,
            "direct_mail": customer.direct_mail_consent,
        },
        "created_at": customer.created_at.isoformat() if customer.created_at else None,
    }


def customer_merged_payload(
    *, survivor: Customer, absorbed: Iterable[Customer], merged_at: datetime
) -> dict[str, Any]:
    """The survivor's id and the ids it absorbed: a receiver re-points its records."""
    return {
        "id": str(survivor.public_id),
        "merged_ids": sorted(str(customer.public_id) for customer in absorbed),
        "merged_at": merged_at.isoformat(),
    }


def customer_erased_payload(*, customer: Customer) -> dict[str, Any]:
    """Only the id: the receiver must erase what it holds about this customer."""
    return {
        "id": str(customer.public_id),
        "erased_at": customer.erased_at.isoformat() if customer.erased_at else None,
    }
