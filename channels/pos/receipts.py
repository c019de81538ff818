"""E-receipts: after a sale the customer gives an e-mail address; the receipt goes there (text
and HTML), and the address becomes one of the customer's identities.

The address is not written onto a customer by this module. It travels as a touchpoint
(``Receipt Emailed``, with the address and the customer's existing identifier in
``context.traits``, as the tracking plan asks of store events) through the inbox, where the
pipeline's identity rules decide: a new address is attached to the customer; an address of an
anonymous profile folds that profile in; an address of another known person is never merged but
recorded for an agent to review. A walk-in sale's address finds (or starts) the customer it
belongs to, and the receipt lands on that customer's timeline.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from channels.pos.sales import sold_here
from customers.identity import normalise_email
from customers.inbox import inbox_accept
from customers.models import Customer, IdentityKind
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action
from orders.models import Order

logger = logging.getLogger(__name__)
SOURCE = "pos"
# The identifier that names the customer in the touchpoint, strongest first.
_NAMING_KINDS = (IdentityKind.USER_ID, IdentityKind.LOYALTY, IdentityKind.PHONE, IdentityKind.EMAIL)


@require_POST
@require_action(Action.POS_USE)
def email_receipt(request: HttpRequest, number: str) -> HttpResponse:
    order = sold_here(request, number)
    back = redirect("pos:receipt", number=order.number)
    try:
        address = normalise_email(request.POST.get("email", "")[:254])
    except InvalidInput:
        messages.error(request, "That is not an e-mail address. Check it with the customer.")
        return back
    try:
        receipt_send(order=order, email=address)
    except OSError:
        logger.warning("could not send the e-receipt of %s", order.number, exc_info=True)
        messages.error(
            request,
            "The receipt could not be sent just now: the mail server did not answer. "
            "Try again in a minute, or print it.",
        )
        return back
    receipt_identity_record(order=order, email=address)
    messages.success(request, f"Receipt sent to {address}.")
    return back


def receipt_send(*, order: Order, email: str) -> None:
    """Send the receipt of ``order`` to ``email`` (text and HTML). Raises OSError when the mail
    server cannot be reached. Sending again sends again: that is what "resend" means.
    ``order`` comes with its lines and payments (``orders.selectors.order_get``)."""
    context = {"order": order, "shop_name": settings.SHOP_NAME}
    message = EmailMultiAlternatives(
        subject=f"Your receipt from {settings.SHOP_NAME}, order {order.number}",
        body=render_to_string("pos/email/receipt.txt", context),
        to=[email],
    )
    message.attach_alternative(render_to_string("pos/email/receipt.html", context), "text/html")
    message.send()


def receipt_identity_record(*, order: Order, email: str) -> None:
    """Give the inbox a ``Receipt Emailed`` touchpoint that carries ``email`` and the
    identifier of the order's customer (module docstring). Idempotent per order and address."""
    traits: dict[str, Any] = {"email": email}
    event: dict[str, Any] = {
        "type": "track",
        "event": "Receipt Emailed",
        "messageId": f"pos-receipt:{order.number}:{email}",
        "timestamp": timezone.now().isoformat(),
        "properties": {
            "order_id": order.number,
            "store_code": order.store.code if order.store else "",
        },
        "context": {"traits": traits},
    }
    if order.customer is not None:
        kind, value = _naming_identity(order.customer)
        if kind == IdentityKind.USER_ID:
            event["userId"] = value
        elif kind == IdentityKind.EMAIL:
            # One e-mail trait per event: a customer known only by another address keeps it
            # (no second address is attached), and the receipt goes on their timeline.
            traits["email"] = value
            event["properties"]["receipt_email"] = email
        elif kind is not None:
            traits[{"loyalty": "loyalty_number"}.get(kind, kind)] = value
    inbox_accept(
        events=[event],
        source=SOURCE,
        channel=Channel.STORE,
        is_shared_device=False,
        received_at=timezone.now(),
    )


def _naming_identity(customer: Customer) -> tuple[str | None, str]:
    known = dict(customer.identities.filter(kind__in=_NAMING_KINDS).values_list("kind", "value"))
    for kind in _NAMING_KINDS:
        if kind in known:
            return kind, known[kind]
    return None, ""
