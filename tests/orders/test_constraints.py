"""The database keeps the order model's invariants: money never negative, keys unique."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from orders.models import Cart, CartStatus, Order, Payment
from tests import factories

pytestmark = pytest.mark.django_db


def _raw_update(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_order_idempotency_key_is_used_once() -> None:
    order = factories.OrderFactory(idempotency_key="device-7:sale-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.OrderFactory(idempotency_key="device-7:sale-1", customer=order.customer)
    assert Order.objects.count() == 1


def test_a_payment_idempotency_key_is_used_once() -> None:
    payment = factories.PaymentFactory(idempotency_key="pay-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.PaymentFactory(idempotency_key="pay-1", order=payment.order)
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("column", ["subtotal", "tax_total", "total", "discount_total"])
def test_order_money_is_never_negative(column: str) -> None:
    order = factories.OrderFactory()
    with pytest.raises(IntegrityError):
        _raw_update(f"UPDATE orders_order SET {column} = -1 WHERE id = %s", [order.pk])
    order.refresh_from_db()
    assert order.total == Decimal("49.95")


def test_a_refund_cannot_exceed_what_was_captured() -> None:
    payment = factories.PaymentFactory(captured_amount=Decimal("49.95"))
    with pytest.raises(IntegrityError):
        _raw_update("UPDATE orders_payment SET refunded_amount = 50.00 WHERE id = %s", [payment.pk])
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("0")


def test_capture_cannot_exceed_the_amount() -> None:
    payment = factories.PaymentFactory(amount=Decimal("10.00"), captured_amount=Decimal("0"))
    with pytest.raises(IntegrityError):
        _raw_update("UPDATE orders_payment SET captured_amount = 10.01 WHERE id = %s", [payment.pk])
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("0")


def test_one_open_cart_per_customer() -> None:
    cart = factories.CartFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Cart.objects.create(customer=cart.customer, origin_channel="store")
    # closed carts are history and do not count
    Cart.objects.filter(pk=cart.pk).update(status=CartStatus.ORDERED)
    Cart.objects.create(customer=cart.customer, origin_channel="store")
    assert Cart.objects.filter(customer=cart.customer).count() == 2


def test_a_cart_line_quantity_is_positive() -> None:
    cart = factories.CartFactory()
    variant = factories.VariantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        cart.lines.create(variant=variant, quantity=0, added_channel="web")
    assert cart.lines.count() == 0
