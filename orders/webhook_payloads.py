"""The ``data`` of the order and return webhooks (docs/webhooks.md), built from the models.
Reads only; the commerce services call these when they emit, inside their own transaction::

    webhook_emit(event_type="order.created", payload=order_payload(order=order),
                 idempotency_key=f"order.created:{order.number}")

No personal data beyond the customer's public id: no name, e-mail, phone or address.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orders.models import Order, OrderLine, Return


def order_payload(*, order: Order, lines: Sequence[OrderLine] | None = None) -> dict[str, Any]:
    """For ``order.created`` and ``order.updated``. ``lines`` spares a read when the caller
    holds the order's lines."""
    return {
        "number": order.number,
        # None for an anonymous walk-in sale at the till
        "customer_id": str(order.customer.public_id) if order.customer else None,
        "channel": order.channel,
        "origin_channel": order.origin_channel,
        "store": order.store.code if order.store_id and order.store else None,
        "status": order.status,
        "fulfilment_method": order.fulfilment_method,
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "shipping_total": str(order.shipping_total),
        "tax_total": str(order.tax_total),
        "total": str(order.total),
        "placed_at": order.placed_at.isoformat() if order.placed_at else None,
        "updated_at": order.updated_at.isoformat() if order.updated_at else None,
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "discount": str(line.discount),
                "line_total": str(line.line_total),
            }
            for line in (order.lines.all() if lines is None else lines)
        ],
    }


def return_processed_payload(*, return_request: Return) -> dict[str, Any]:
    """For ``return.processed``."""
    location = return_request.received_at_location
    return {
        "id": return_request.pk,
        "order_number": return_request.order.number,
        "channel": return_request.channel,
        "status": return_request.status,
        "received_at_location": location.code if location else None,
        "refund_method": return_request.refund_method,
        "refund_amount": str(return_request.refund_amount),
        "currency": return_request.currency,
        "lines": [
            {
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "restock": line.restock,
                "refund_amount": str(line.refund_amount),
            }
            for line in return_request.lines.select_related("order_line")
        ],
        "updated_at": return_request.updated_at.isoformat() if return_request.updated_at else None,
    }
