"""Payments: the gateway interface and its sandbox, pay-by-link, refunds, and card numbers that
never get in."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.db import transaction
from django.test import Client
from django.utils import timezone

from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotAllowed
from orders import services
from orders.cards import RedactCardNumbers, looks_like_card_number
from orders.errors import (
    PaymentDeclined,
    PaymentLinkExpired,
    PaymentLinkInvalid,
    RefundTooLarge,
)
from orders.gateways import (
    SANDBOX_APPROVE,
    GatewayError,
    GatewayTimeout,
    SandboxGateway,
    gateway_get,
)
from orders.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    SandboxGatewayEntry,
)
from orders.services.payments import payment_settle_fresh
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, snapshot, web_cart

pytestmark = pytest.mark.django_db


class TestSandboxGateway:
    def test_a_repeated_key_gets_the_first_answer(self) -> None:
        gateway = SandboxGateway()
        first = gateway.authorize(
            amount=Decimal("10.00"), currency="EUR", token=SANDBOX_APPROVE, idempotency_key="k1"
        )
        again = gateway.authorize(
            amount=Decimal("10.00"), currency="EUR", token=SANDBOX_APPROVE, idempotency_key="k1"
        )
        assert first == again
        assert first.is_approved
        assert SandboxGatewayEntry.objects.count() == 1

    def test_the_test_tokens(self) -> None:
        gateway = SandboxGateway()
        declined = gateway.authorize(
            amount=Decimal("1.00"), currency="EUR", token="tok_sandbox_decline", idempotency_key="d"
        )
        unknown = gateway.authorize(
            amount=Decimal("1.00"), currency="EUR", token="tok_made_up", idempotency_key="u"
        )
        with pytest.raises(GatewayError):
            gateway.authorize(
                amount=Decimal("1.00"),
                currency="EUR",
                token="tok_sandbox_error",
                idempotency_key="e",
            )
        with pytest.raises(GatewayTimeout):
            gateway.authorize(
                amount=Decimal("1.00"),
                currency="EUR",
                token="tok_sandbox_timeout",
                idempotency_key="t",
            )
        after_timeout = gateway.authorize(
            amount=Decimal("1.00"), currency="EUR", token="tok_sandbox_timeout", idempotency_key="t"
        )
        assert (declined.is_approved, declined.message) == (False, "Declined by the card issuer.")
        assert (unknown.is_approved, unknown.message) == (False, "sandbox: unknown test token")
        assert after_timeout.is_approved is True
        assert SandboxGatewayEntry.objects.count() == 3  # the error left nothing behind

    def test_money_moves_only_within_what_was_authorised_and_captured(self) -> None:
        gateway = SandboxGateway()
        auth = gateway.authorize(
            amount=Decimal("50.00"), currency="EUR", token=SANDBOX_APPROVE, idempotency_key="a"
        )
        over = gateway.capture(
            authorization=auth.reference,
            amount=Decimal("50.01"),
            currency="EUR",
            idempotency_key="c0",
        )
        captured = gateway.capture(
            authorization=auth.reference,
            amount=Decimal("50.00"),
            currency="EUR",
            idempotency_key="c1",
        )
        too_much_back = gateway.refund(
            authorization=auth.reference,
            amount=Decimal("50.01"),
            currency="EUR",
            idempotency_key="r0",
        )
        void_after_capture = gateway.void(authorization=auth.reference, idempotency_key="v")
        assert (over.is_approved, captured.is_approved) == (False, True)
        assert (too_much_back.is_approved, void_after_capture.is_approved) == (False, False)

    def test_a_gateway_is_never_called_inside_a_transaction(self) -> None:
        with (
            pytest.raises(RuntimeError, match="inside a database transaction"),
            transaction.atomic(),
        ):
            gateway_get().authorize(
                amount=Decimal("1.00"), currency="EUR", token=SANDBOX_APPROVE, idempotency_key="x"
            )
        assert SandboxGatewayEntry.objects.count() == 0


class TestCardNumbers:
    @pytest.mark.parametrize(
        ("text", "is_card"),
        [
            ("4111111111111111", True),
            ("4111 1111 1111 1111", True),
            ("5500-0000-0000-0004", True),
            ("my card is 378282246310005 thanks", True),
            ("4111111111111112", False),  # fails the Luhn check
            ("order NW12345678", False),
            ("+31612345678", False),
        ],
    )
    def test_card_numbers_are_recognised(self, text: str, is_card: bool) -> None:
        assert looks_like_card_number(text) is is_card

    def test_a_card_number_never_reaches_the_log(self) -> None:
        record = logging.LogRecord(
            "orders",
            logging.WARNING,
            __file__,
            1,
            "customer said %s",
            ("4111 1111 1111 1111",),
            None,
        )
        assert RedactCardNumbers().filter(record) is True
        assert record.getMessage() == "customer said [card number removed]"

    def test_the_project_log_handler_redacts(self) -> None:
        handler = logging.getLogger().handlers[0]
        assert any(isinstance(f, RedactCardNumbers) for f in handler.filters)

    def test_a_card_number_in_a_delivery_address_is_refused(
        self, shop: Shop, shopper: User
    ) -> None:
        cart = web_cart(shopper.customer, (shop.book, 1))
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="pan-address-1",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address={**ADDRESS, "line2": "4111111111111111"},
                payment=card(),
            )
        assert refused.value.fields == {
            "delivery_address.line2": ["This looks like a card number; never send one."]
        }
        assert snapshot() == before


def _link_order(shop: Shop, agent: User) -> services.PlacedOrder:
    return services.order_place(
        actor=agent,
        channel=Channel.CALL_CENTRE,
        idempotency_key="console:link-1",
        customer=factories.CustomerFactory(),
        lines=[services.LineRequest("PARKA-M", 1)],
        fulfilment_method="delivery",
        delivery_address=ADDRESS,
        payment=services.PaymentRequest(method="pay_by_link"),
    )


def _token(path: str) -> str:
    return path.removeprefix("/pay/").removesuffix("/")


class TestPayByLink:
    def test_the_customer_pays_on_the_web_store_page(self, shop: Shop, agent: User) -> None:
        placed = _link_order(shop, agent)
        page = Client()
        # when: the customer opens the link
        shown = page.get(placed.payment_link)
        body = shown.content.decode()
        assert shown.status_code == 200
        assert f"Order {placed.order.number}" in body
        assert "Pay €100.00" in body
        attempt = Payment.objects.get()
        # and pays with the approving test card
        paid = page.post(
            placed.payment_link,
            {"attempt": attempt.pk, "card_token": "tok_sandbox_approve"},
            follow=True,
        )
        # then
        assert "Thank you: your payment was received." in paid.content.decode()
        assert "This order is paid." in paid.content.decode()
        order = Order.objects.get()
        assert (order.status, order.paid_total) == ("paid", Decimal("100.00"))
        attempt.refresh_from_db()
        assert (attempt.status, attempt.token) == ("captured", "tok_sandbox_approve")
        # a second submit of the same form charges nothing more
        page.post(placed.payment_link, {"attempt": attempt.pk, "card_token": SANDBOX_APPROVE})
        assert SandboxGatewayEntry.objects.filter(operation="capture").count() == 1

    def test_a_declined_card_leaves_the_link_open_for_another(
        self, shop: Shop, agent: User
    ) -> None:
        placed = _link_order(shop, agent)
        first = Payment.objects.get()
        token = _token(placed.payment_link)
        with pytest.raises(PaymentDeclined):
            services.payment_link_pay(
                token=token, attempt_id=first.pk, card_token="tok_sandbox_decline"
            )
        assert Order.objects.get().status == OrderStatus.PENDING_PAYMENT
        _order, second = services.payment_link_open(token=token)
        assert second is not None
        assert second.pk != first.pk
        services.payment_link_pay(token=token, attempt_id=second.pk, card_token=SANDBOX_APPROVE)
        assert Order.objects.get().status == OrderStatus.PAID
        assert list(Payment.objects.order_by("pk").values_list("status", flat=True)) == [
            "declined",
            "captured",
        ]

    def test_a_tampered_link_is_not_found(self, shop: Shop, agent: User) -> None:
        placed = _link_order(shop, agent)
        other_order = signing.dumps("NWSOMEONEELSE", salt="not-the-link-salt")
        before = snapshot()
        for tampered in (_token(placed.payment_link)[:-2] + "xx", other_order):
            response = Client().post(
                f"/pay/{tampered}/",
                {"attempt": Payment.objects.get().pk, "card_token": SANDBOX_APPROVE},
            )
            assert response.status_code == 404
            assert "This payment link is not valid." in response.content.decode()
            with pytest.raises(PaymentLinkInvalid):
                services.payment_link_open(token=tampered)
        assert snapshot() == before

    def test_an_expired_link_is_gone_and_its_order_released(self, shop: Shop, agent: User) -> None:
        placed = _link_order(shop, agent)
        Payment.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        before = snapshot()
        response = Client().get(placed.payment_link)
        assert response.status_code == 410
        assert snapshot() == before
        # the sweep cancels the unpaid order: its stock goes back on sale
        assert services.payment_links_expire(now=timezone.now()) == 1
        order = Order.objects.get()
        assert (order.status, order.cancel_reason) == ("cancelled", "payment link expired")
        assert shop.stock(shop.parka, shop.warehouse) == (10, 0)
        with pytest.raises(PaymentLinkExpired):
            services.payment_link_open(token=_token(placed.payment_link))

    def test_a_link_signed_long_ago_expires_by_its_signature_too(
        self, shop: Shop, agent: User, settings: object
    ) -> None:
        placed = _link_order(shop, agent)
        settings.PAYMENT_LINK_TTL_HOURS = 0  # type: ignore[attr-defined]
        with pytest.raises(PaymentLinkExpired):
            services.payment_link_open(token=_token(placed.payment_link))

    def test_a_card_number_typed_into_the_page_is_refused(self, shop: Shop, agent: User) -> None:
        placed = _link_order(shop, agent)
        before = snapshot()
        response = Client().post(
            placed.payment_link,
            {"attempt": Payment.objects.get().pk, "card_token": "4111111111111111"},
        )
        assert response.status_code == 400
        assert "Card numbers are never accepted." in response.content.decode()
        assert snapshot() == before


class TestGoodwillRefunds:
    def _paid_order(self, shop: Shop, shopper: User) -> Order:
        return services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="paid-for-refund",
            cart=web_cart(shopper.customer, (shop.parka, 1)),
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        ).order

    def test_an_agent_refunds_part_of_an_order(
        self, shop: Shop, shopper: User, agent: User
    ) -> None:
        order = self._paid_order(shop, shopper)
        refunds = services.order_refund(
            actor=agent,
            order=order,
            amount=Decimal("15.00"),
            reason="late delivery",
            idempotency_key="goodwill-0001",
        )
        assert [(r.status, r.amount, r.method) for r in refunds] == [
            ("succeeded", Decimal("15.00"), "original_payment")
        ]
        order.refresh_from_db()
        payment = Payment.objects.get()
        assert (order.refunded_total, payment.refunded_amount, payment.status) == (
            Decimal("15.00"),
            Decimal("15.00"),
            PaymentStatus.PARTIALLY_REFUNDED,
        )
        shopper.customer.refresh_from_db()
        assert shopper.customer.lifetime_revenue == Decimal("85.00")

    def test_never_more_than_was_paid(self, shop: Shop, shopper: User, agent: User) -> None:
        order = self._paid_order(shop, shopper)
        services.order_refund(
            actor=agent,
            order=order,
            amount=Decimal("60.00"),
            reason="a",
            idempotency_key="goodwill-1001",
        )
        before = snapshot()
        with pytest.raises(RefundTooLarge) as refused:
            services.order_refund(
                actor=agent,
                order=order,
                amount=Decimal("40.01"),
                reason="b",
                idempotency_key="goodwill-1002",
            )
        assert (
            refused.value.message == f"At most 40.00 EUR is left to refund on order {order.number}."
        )
        assert snapshot() == before

    def test_a_failed_refund_gives_the_amount_back(
        self, shop: Shop, shopper: User, agent: User
    ) -> None:
        order = services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="refund-error-card",
            cart=web_cart(shopper.customer, (shop.book, 1)),
            fulfilment_method="click_and_collect",
            pickup_store=shop.store_a,
            payment=card("tok_sandbox_refund_error"),
        ).order
        refunds = services.order_refund(
            actor=agent,
            order=order,
            amount=Decimal("5.00"),
            reason="x",
            idempotency_key="goodwill-1003",
        )
        assert [r.status for r in refunds] == ["failed"]
        order.refresh_from_db()
        assert order.refunded_total == Decimal("0.00")

    def test_a_shopper_cannot_refund_themselves(self, shop: Shop, shopper: User) -> None:
        order = self._paid_order(shop, shopper)
        with pytest.raises(NotAllowed):
            services.order_refund(
                actor=shopper,
                order=order,
                amount=Decimal("1.00"),
                reason="x",
                idempotency_key="goodwill-1004",
            )
        assert Refund.objects.count() == 0


def test_money_taken_for_an_order_cancelled_meanwhile_goes_straight_back(
    shop: Shop, agent: User
) -> None:
    # given: the customer is paying by link while the agent cancels the order
    placed = _link_order(shop, agent)
    attempt = Payment.objects.get()
    Payment.objects.filter(pk=attempt.pk).update(token=SANDBOX_APPROVE)
    attempt.refresh_from_db()  # what the settling read, before the cancellation
    services.order_cancel(actor=agent, order=placed.order, reason="customer changed plans")
    # when: the provider captures the customer's money all the same (the settling started
    # before the cancellation: it holds the payment as it was then)
    payment_settle_fresh(payment=attempt)
    # then: it is recorded and refunded at once
    order = Order.objects.get()
    attempt.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert (order.paid_total, order.refunded_total) == (Decimal("100.00"), Decimal("100.00"))
    assert (attempt.status, attempt.refunded_amount) == ("refunded", Decimal("100.00"))
    assert list(Refund.objects.values_list("status", "amount")) == [
        ("succeeded", Decimal("100.00"))
    ]
