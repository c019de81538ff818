"""What an order holds until it is fulfilled or cancelled: reserved stock and a voucher use.
Both are given back by the functions here, inside the caller's transaction (order locked)."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from catalog.services import StockMove, stock_release
from orders import states
from orders.models import Order, OrderLine, OrderStatus, Voucher, VoucherRedemption


def order_stock_moves(*, order: Order) -> list[StockMove]:
    """The order's units at its fulfilment location."""
    assert order.fulfilment_location_id is not None
    return [
        StockMove(order.fulfilment_location_id, variant_id, quantity)
        for variant_id, quantity in OrderLine.objects.filter(order=order).values_list(
            "variant_id", "quantity"
        )
    ]


def voucher_give_back(*, order: Order) -> None:
    """A cancelled order does not use up its voucher."""
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return
    redemption.delete()
    Voucher.objects.filter(pk=redemption.voucher_id, times_used__gt=0).update(
        times_used=F("times_used") - 1
    )


def order_release(*, order: Order, reason: str) -> Order:
    """Cancel ``order`` (locked by the caller): its reserved units go back on sale and its
    voucher use is given back. Money is the caller's business."""
    holds_stock = order.status in states.HOLDS_RESERVED_STOCK
    states.order_transition(
        order=order,
        to=OrderStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=reason[:300],
    )
    if holds_stock:
        stock_release(moves=order_stock_moves(order=order))
    voucher_give_back(order=order)
    return order
