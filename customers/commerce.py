"""What the order services need from the customer record: the order statistics.

Called by ``orders`` inside its own transactions (orders → customers is the allowed direction).
Counters move with ``F()``, never read-modify-write, so concurrent orders of one customer all
count.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Value
from django.db.models.functions import Greatest

from customers.models import Customer


def customer_stats_record_order(*, customer_id: int, amount: Decimal) -> None:
    """A paid order of ``amount``: one more order, that much more revenue."""
    Customer.objects.filter(pk=customer_id).update(
        order_count=F("order_count") + 1, lifetime_revenue=F("lifetime_revenue") + amount
    )


def customer_stats_record_refund(
    *, customer_id: int, amount: Decimal, is_order_cancelled: bool = False
) -> None:
    """Money paid back: ``amount`` less revenue; a cancelled order no longer counts as an order.
    Neither counter goes below zero (stats of a merged profile may have moved elsewhere)."""
    changes: dict[str, object] = {
        "lifetime_revenue": Greatest(F("lifetime_revenue") - amount, Value(Decimal("0")))
    }
    if is_order_cancelled:
        changes["order_count"] = Greatest(F("order_count") - 1, Value(0))
    Customer.objects.filter(pk=customer_id).update(**changes)
