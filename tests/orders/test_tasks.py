"""The orders sweep, as celery beat runs it every minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from orders import services
from orders.errors import PaymentPending
from orders.models import Order, OrderStatus, Payment, SandboxGatewayEntry
from orders.tasks import orders_sweep
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, web_cart

pytestmark = pytest.mark.django_db


def test_the_sweep_finishes_lost_payments_and_cancels_expired_links(
    shop: Shop, shopper: User, agent: User, settings: object
) -> None:
    # given: a card payment whose answer was lost, and a payment link that expired
    settings.PAYMENT_RECONCILE_AFTER_S = 0  # type: ignore[attr-defined]
    with pytest.raises(PaymentPending):
        services.order_place(
            actor=shopper,
            channel=Channel.APP,
            idempotency_key="sweep-card-1",
            cart=web_cart(shopper.customer, (shop.book, 1)),
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card("tok_sandbox_timeout"),
        )
    linked = services.order_place(
        actor=agent,
        channel=Channel.CALL_CENTRE,
        idempotency_key="sweep-link-1",
        customer=factories.CustomerFactory(),
        lines=[services.LineRequest("PARKA-M", 1)],
        fulfilment_method="delivery",
        delivery_address=ADDRESS,
        payment=services.PaymentRequest(method="pay_by_link"),
    ).order
    Payment.objects.filter(order=linked).update(
        expires_at=timezone.now() - timedelta(minutes=1),
        updated_at=timezone.now() - timedelta(minutes=5),
    )
    Payment.objects.exclude(order=linked).update(updated_at=timezone.now() - timedelta(minutes=5))
    # when
    result = orders_sweep.apply().get()
    # then
    assert result == {"reconciled": 1, "links_expired": 1}
    statuses = dict(Order.objects.values_list("idempotency_key", "status"))
    assert statuses == {"sweep-card-1": OrderStatus.PAID, "sweep-link-1": OrderStatus.CANCELLED}
    assert SandboxGatewayEntry.objects.filter(operation="capture").count() == 1
    assert shop.stock(shop.parka, shop.warehouse) == (10, 0)
