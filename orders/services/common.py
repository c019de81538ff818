"""What the order services share: idempotency keys, request fingerprints, input checks and
the touchpoints they emit."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from orders.models import Order, OrderLine

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{7,99}$")
# One line of one order: more than this is a typing error or an attack, not a purchase.
MAX_LINE_QUANTITY = 99
MAX_LINES = 100
SOURCE = "orders"


def idempotency_key_check(key: str) -> str:
    """The key, if it is 8 to 100 letters, digits or ``_ . : -`` (a UUID fits)."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise InvalidInput(
            "Send an Idempotency-Key of 8 to 100 letters, digits, '_', '.', ':' or '-', "
            "e.g. a UUID made by the client for this request.",
            code="idempotency_key_invalid",
            fields={"idempotency_key": ["8 to 100 letters, digits, '_', '.', ':' or '-'."]},
        )
    return key


def fingerprint(content: Mapping[str, Any]) -> str:
    """A stable hash of a request's content: a repeat with another body has another hash."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def quantity_check(value: object, *, field: str = "quantity") -> int:
    """A whole number of units from 1 to MAX_LINE_QUANTITY (not a bool, not a fraction)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "A quantity is a whole number.", fields={field: ["A whole number of units."]}
        )
    if not 1 <= value <= MAX_LINE_QUANTITY:
        raise InvalidInput(
            f"A quantity is from 1 to {MAX_LINE_QUANTITY}.",
            fields={field: [f"From 1 to {MAX_LINE_QUANTITY}."]},
        )
    return value


def text_check(value: str, *, field: str, max_length: int) -> str:
    """Free text from a client: a string, not too long, without NUL characters (PostgreSQL
    refuses them in text)."""
    if not isinstance(value, str) or "\x00" in value or len(value) > max_length:
        raise InvalidInput(
            f"'{field}' is text of at most {max_length} characters.",
            fields={field: [f"Text of at most {max_length} characters."]},
        )
    return value.strip()


def money_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def emit(
    *,
    order: Order,
    event: str,
    channel: Channel | str,
    message_id: str,
    properties: dict[str, Any] | None = None,
    store_id: int | None = None,
) -> None:
    """Put a touchpoint about ``order`` on its customer's timeline (through the outbox, in the
    caller's transaction). An anonymous walk-in sale has nobody's timeline to go on."""
    if order.customer_id is None:
        return
    assert order.customer is not None
    touchpoint_emit(
        customer=order.customer,
        event=event,
        channel=channel,
        source=SOURCE,
        properties={"order_id": order.number, **(properties or {})},
        store_id=store_id,
        order_id=order.pk,
        message_id=message_id,
    )


def order_properties(order: Order, *, lines: Sequence[OrderLine] | None = None) -> dict[str, Any]:
    """The Segment e-commerce spec's order properties (``Order Completed`` and friends).
    ``lines`` spares a read when the caller holds them."""
    return {
        "total": money_text(order.total),
        "revenue": money_text(order.subtotal),
        "shipping": money_text(order.shipping_total),
        "tax": money_text(order.tax_total),
        "discount": money_text(order.discount_total),
        "coupon": order.voucher.code if order.voucher_id and order.voucher else "",
        "currency": order.currency,
        "fulfilment_method": order.fulfilment_method,
        "origin_channel": order.origin_channel,
        "products": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "price": money_text(line.unit_price),
                "quantity": line.quantity,
            }
            for line in (lines if lines is not None else order.lines.all())
        ],
    }
