"""The order state machine: which status may follow which, for which fulfilment method.

::

    pending_payment ──paid──▶ paid ──▶ ready_for_pickup ──collected──▶ completed   (click & collect)
          │                    └─────▶ shipped ──────────delivered──▶ completed   (delivery,
          │                                                                        ship-from-store)
          └──────────────▶ cancelled ◀── paid, ready_for_pickup

A carry-out sale at the POS is paid and handed over in one step: it is created completed.

Anything else is refused with ``invalid_transition`` (409). A move is one conditional
``UPDATE … WHERE status = <from>``, so two people moving the same order cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from integrations.webhooks import webhook_emit
from orders.errors import InvalidTransition
from orders.models import FulfilmentMethod, Order, OrderLine, OrderStatus
from orders.webhook_payloads import order_payload

S = OrderStatus
F = FulfilmentMethod
ALL_METHODS = frozenset(FulfilmentMethod)

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.PENDING_PAYMENT, S.PAID): ALL_METHODS - {F.CARRY_OUT},
    (S.PENDING_PAYMENT, S.CANCELLED): ALL_METHODS,
    (S.PAID, S.READY_FOR_PICKUP): frozenset({F.CLICK_AND_COLLECT}),
    (S.PAID, S.SHIPPED): frozenset({F.DELIVERY, F.SHIP_FROM_STORE}),
    (S.PAID, S.CANCELLED): ALL_METHODS - {F.CARRY_OUT},
    (S.READY_FOR_PICKUP, S.COMPLETED): frozenset({F.CLICK_AND_COLLECT}),
    (S.READY_FOR_PICKUP, S.CANCELLED): frozenset({F.CLICK_AND_COLLECT}),
    (S.SHIPPED, S.COMPLETED): frozenset({F.DELIVERY, F.SHIP_FROM_STORE}),
}

# Statuses in which the order's units are still reserved at its fulfilment location.
HOLDS_RESERVED_STOCK = frozenset({S.PENDING_PAYMENT, S.PAID, S.READY_FOR_PICKUP})


def is_allowed(*, order: Order, to: str) -> bool:
    return order.fulfilment_method in TRANSITIONS.get((order.status, to), frozenset())


def transition_check(*, order: Order, to: str) -> None:
    """Raise InvalidTransition unless ``order`` may move to ``to``."""
    if not is_allowed(order=order, to=to):
        raise InvalidTransition(
            f"Order {order.number} is {OrderStatus(order.status).label.lower()}; "
            f"a {FulfilmentMethod(order.fulfilment_method).label.lower()} order in that state "
            f"cannot become {OrderStatus(to).label.lower()}."
        )


def order_transition(
    *, order: Order, to: str, lines: Sequence[OrderLine] | None = None, **changes: Any
) -> Order:
    """Move ``order`` to ``to`` with a conditional update (and set ``changes`` with it).
    ``lines`` (the order's lines, when the caller holds them) spares a read for the webhook.
    Raises InvalidTransition when the move is not allowed or someone moved it first."""
    transition_check(order=order, to=to)
    changes["updated_at"] = timezone.now()
    updated = Order.objects.filter(pk=order.pk, status=order.status).update(status=to, **changes)
    if updated != 1:
        order.refresh_from_db(fields=["status"])
        raise InvalidTransition(
            f"Order {order.number} changed meanwhile; it is now "
            f"{OrderStatus(order.status).label.lower()}."
        )
    order.status = to
    for name, value in changes.items():
        if not hasattr(value, "resolve_expression"):  # an F() is left to the caller
            setattr(order, name, value)
    webhook_emit(
        event_type="order.updated",
        payload=order_payload(order=order, lines=lines),
        idempotency_key=f"order.updated:{order.number}:{to}",
    )
    return order
