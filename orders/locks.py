"""Row locks of the orders app, in the one order every service takes them.

Within a transaction, locks are always acquired in this sequence (skip what you do not need,
never go back up):

1. carts, by primary key
2. orders, by primary key
3. payments of an order, by primary key
4. vouchers (by the conditional ``UPDATE`` of ``times_used``)
5. stock levels, by location then variant (``catalog.services`` does this)

Two transactions therefore never wait on each other in a cycle. Hot rows (a voucher, a stock
level) come last, so they are held only for the last statements before the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from orders.models import Cart, Order, Payment


def cart_lock(*, cart_id: int) -> Cart:
    """Lock one cart. Raises Cart.DoesNotExist."""
    return Cart.objects.select_for_update().get(pk=cart_id)


def carts_lock(*, cart_ids: Iterable[int]) -> list[Cart]:
    """Lock several carts, lowest primary key first."""
    return list(Cart.objects.select_for_update().filter(pk__in=set(cart_ids)).order_by("pk"))


def order_lock(*, order_id: int) -> Order:
    """Lock one order (its own row only). Raises Order.DoesNotExist."""
    return Order.objects.select_for_update().get(pk=order_id)


def payments_lock(*, order_id: int) -> list[Payment]:
    """Lock an order's payments, lowest primary key first."""
    return list(Payment.objects.select_for_update().filter(order_id=order_id).order_by("pk"))
