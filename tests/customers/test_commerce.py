"""The order statistics that orders/ moves on the customer record (customers/commerce.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.commerce import customer_stats_record_order, customer_stats_record_refund
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_paid_order_counts_once_with_its_amount() -> None:
    customer = factories.CustomerFactory(order_count=2, lifetime_revenue=Decimal("10.00"))
    customer_stats_record_order(customer_id=customer.pk, amount=Decimal("49.95"))
    customer.refresh_from_db()
    assert (customer.order_count, customer.lifetime_revenue) == (3, Decimal("59.95"))


def test_a_refund_lowers_the_revenue_and_a_cancellation_the_count() -> None:
    customer = factories.CustomerFactory(order_count=3, lifetime_revenue=Decimal("59.95"))
    customer_stats_record_refund(customer_id=customer.pk, amount=Decimal("9.95"))
    customer_stats_record_refund(
        customer_id=customer.pk, amount=Decimal("0"), is_order_cancelled=True
    )
    customer.refresh_from_db()
    assert (customer.order_count, customer.lifetime_revenue) == (2, Decimal("50.00"))


def test_the_statistics_never_go_below_zero() -> None:
    # A merged profile's statistics may have moved to the survivor before a late refund.
    customer = factories.CustomerFactory(order_count=0, lifetime_revenue=Decimal("5.00"))
    customer_stats_record_refund(
        customer_id=customer.pk, amount=Decimal("20.00"), is_order_cancelled=True
    )
    customer.refresh_from_db()
    assert (customer.order_count, customer.lifetime_revenue) == (0, Decimal("0.00"))
