"""One checkout for every channel: the web store and the app with a card, the POS with cash or
the store's terminal, the call centre with a payment link — with the cart following the
customer, totals from the server, stock reserved, and idempotent repeats."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import Price
from customers.models import Customer, InboxEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotAllowed, NotFound
from orders import services
from orders.errors import (
    CardNumberRefused,
    IdempotencyKeyReused,
    OutOfStock,
    PaymentDeclined,
    PaymentFailed,
    PaymentPending,
)
from orders.models import (
    CartStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxGatewayEntry,
)
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, cash, snapshot, web_cart

pytestmark = pytest.mark.django_db


def _events() -> list[tuple[str, str, str]]:
    return list(
        InboxEvent.objects.order_by("pk").values_list("message_id", "payload__event", "channel")
    )


class TestWebCheckout:
    def test_a_card_order_is_priced_reserved_paid_and_on_the_timeline(
        self, shop: Shop, shopper: User
    ) -> None:
        # given: a parka and two books in the web cart, delivered in the Netherlands
        customer = shopper.customer
        cart = web_cart(customer, (shop.parka, 1), (shop.book, 2))
        # when
        placed = services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="web-checkout-0001",
            cart=cart,
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        )
        # then: priced on the server, 21% and 9% VAT inside, free delivery above €50
        order = Order.objects.get()
        assert placed.order == order
        assert placed.is_replay is False
        assert (order.status, order.channel, order.origin_channel) == ("paid", "web", "web")
        assert (order.total, order.tax_total, order.subtotal, order.shipping_total) == (
            Decimal("140.00"),
            Decimal("20.66"),
            Decimal("119.34"),
            Decimal("0.00"),
        )
        assert order.paid_total == Decimal("140.00")
        assert order.delivery_address["phone"] == "+31612345678"
        assert order.delivery_address["postcode"] == "1016 GV"
        assert list(order.lines.values_list("sku", "quantity", "unit_price", "line_total")) == [
            ("PARKA-M", 1, Decimal("100.00"), Decimal("100.00")),
            ("BOOK-1", 2, Decimal("20.00"), Decimal("40.00")),
        ]
        # the stock is reserved at the warehouse, not yet taken off the shelf
        assert order.fulfilment_location == shop.warehouse
        assert shop.stock(shop.parka, shop.warehouse) == (10, 1)
        assert shop.stock(shop.book, shop.warehouse) == (10, 2)
        payment = Payment.objects.get()
        assert (payment.method, payment.status, payment.captured_amount) == (
            "card_online",
            "captured",
            Decimal("140.00"),
        )
        assert list(SandboxGatewayEntry.objects.values_list("operation", "amount")) == [
            ("authorize", Decimal("140.00")),
            ("capture", Decimal("140.00")),
        ]
        cart.refresh_from_db()
        assert cart.status == CartStatus.ORDERED
        assert _events() == [
            (f"checkout-started:{order.number}", "Checkout Started", "web"),
            (f"order-completed:{order.number}", "Order Completed", "web"),
        ]
        customer.refresh_from_db()
        assert (customer.order_count, customer.lifetime_revenue) == (1, Decimal("140.00"))

    def test_the_same_key_returns_the_first_order_and_charges_once(
        self, shop: Shop, shopper: User
    ) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 1))
        request: dict[str, Any] = {
            "actor": shopper,
            "channel": Channel.WEB,
            "idempotency_key": "web-checkout-0002",
            "cart": cart,
            "fulfilment_method": "delivery",
            "delivery_address": ADDRESS,
            "payment": card(),
        }
        first = services.order_place(**request)
        before = snapshot()
        # when
        again = services.order_place(**request)
        # then
        assert (again.order.pk, again.is_replay) == (first.order.pk, True)
        assert snapshot() == before

    def test_the_same_key_with_other_content_is_refused(self, shop: Shop, shopper: User) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 1))
        services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="web-checkout-0003",
            cart=cart,
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        )
        before = snapshot()
        with pytest.raises(IdempotencyKeyReused):
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="web-checkout-0003",
                cart=cart,
                fulfilment_method="click_and_collect",
                pickup_store=shop.store_a,
                payment=card(),
            )
        assert snapshot() == before


class TestPaymentOutcomes:
    def test_a_declined_card_cancels_the_order_and_gives_stock_and_cart_back(
        self, shop: Shop, shopper: User
    ) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 2))
        with pytest.raises(PaymentDeclined):
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="declined-0001",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card("tok_sandbox_decline"),
            )
        order = Order.objects.get()
        assert (order.status, order.cancel_reason, order.paid_total) == (
            "cancelled",
            "payment declined",
            Decimal("0"),
        )
        assert Payment.objects.get().status == PaymentStatus.DECLINED
        assert shop.stock(shop.parka, shop.warehouse) == (10, 0)
        cart.refresh_from_db()
        assert cart.status == CartStatus.OPEN
        shopper.customer.refresh_from_db()
        assert shopper.customer.order_count == 0
        # the same key gives the same answer; a new key with another card succeeds
        with pytest.raises(PaymentDeclined):
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="declined-0001",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card("tok_sandbox_decline"),
            )
        placed = services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="declined-0002",
            cart=cart,
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        )
        assert placed.order.status == OrderStatus.PAID
        assert shop.stock(shop.parka, shop.warehouse) == (10, 2)

    def test_a_failing_provider_charges_nothing(self, shop: Shop, shopper: User) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 1))
        with pytest.raises(PaymentFailed):
            services.order_place(
                actor=shopper,
                channel=Channel.APP,
                idempotency_key="failed-0001",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card("tok_sandbox_error"),
            )
        assert Order.objects.get().status == OrderStatus.CANCELLED
        assert Payment.objects.get().status == PaymentStatus.FAILED
        assert SandboxGatewayEntry.objects.count() == 0
        assert shop.stock(shop.parka, shop.warehouse) == (10, 0)

    def test_a_timeout_then_a_retry_with_the_same_key_charges_once(
        self, shop: Shop, shopper: User
    ) -> None:
        # given: the provider authorises, but its answer is lost
        cart = web_cart(shopper.customer, (shop.parka, 1))
        request: dict[str, Any] = {
            "actor": shopper,
            "channel": Channel.APP,
            "idempotency_key": "timeout-0001",
            "cart": cart,
            "fulfilment_method": "delivery",
            "delivery_address": ADDRESS,
            "payment": card("tok_sandbox_timeout"),
        }
        with pytest.raises(PaymentPending):
            services.order_place(**request)
        order = Order.objects.get()
        assert (order.status, Payment.objects.get().status) == ("pending_payment", "pending")
        assert shop.stock(shop.parka, shop.warehouse) == (10, 1)  # the units stay promised
        # when: the client repeats the request with the same key
        placed = services.order_place(**request)
        # then: one order, paid once
        assert (placed.order.pk, placed.is_replay, placed.order.status) == (order.pk, True, "paid")
        assert list(SandboxGatewayEntry.objects.values_list("operation", "amount")) == [
            ("authorize", Decimal("100.00")),
            ("capture", Decimal("100.00")),
        ]
        payment = Payment.objects.get()
        assert (payment.status, payment.captured_amount) == ("captured", Decimal("100.00"))
        assert Order.objects.count() == 1

    def test_the_sweep_finishes_a_payment_whose_client_never_came_back(
        self, shop: Shop, shopper: User
    ) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 1))
        with pytest.raises(PaymentPending):
            services.order_place(
                actor=shopper,
                channel=Channel.APP,
                idempotency_key="timeout-0002",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card("tok_sandbox_timeout"),
            )
        # when
        looked_at = services.payments_reconcile(settled_before=timezone.now() + timedelta(1))
        # then
        assert looked_at == 1
        assert Order.objects.get().status == OrderStatus.PAID
        assert SandboxGatewayEntry.objects.filter(operation="capture").count() == 1

    def test_a_card_number_is_never_accepted_as_a_token(self, shop: Shop, shopper: User) -> None:
        cart = web_cart(shopper.customer, (shop.parka, 1))
        before = snapshot()
        with pytest.raises(CardNumberRefused) as refused:
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="pan-0001",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card("4111 1111 1111 1111"),
            )
        assert refused.value.fields == {
            "payment.token": ["This looks like a card number; it is never accepted."]
        }
        assert snapshot() == before


class TestCartFollowsTheCustomer:
    def test_a_web_cart_is_completed_at_the_pos_at_the_stores_price(
        self, shop: Shop, staff_a: User
    ) -> None:
        # given: started on the web; the store sells the parka for less
        customer = factories.CustomerFactory()
        cart = web_cart(customer, (shop.parka, 1))
        Price.objects.filter(variant=shop.parka, price_list__channel=Channel.STORE).update(
            amount=Decimal("90.00")
        )
        # when: the customer walks in and the staff member opens and completes it
        opened, created = services.cart_open(
            actor=staff_a, customer=customer, channel=Channel.STORE, store=shop.store_a
        )
        placed = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:0001",
            cart=opened,
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=cash("100.00"),
        )
        # then
        order = placed.order
        assert (opened.pk, created) == (cart.pk, False)
        assert (order.origin_channel, order.channel, order.store, order.placed_by) == (
            "web",
            "store",
            shop.store_a,
            staff_a,
        )
        assert (order.status, order.total, placed.change_due) == (
            "completed",
            Decimal("90.00"),
            Decimal("10.00"),
        )
        assert shop.stock(shop.parka, shop.store_a) == (4, 0)  # carried out: off the shelf
        assert _events() == [(f"order-completed:{order.number}", "POS Order Completed", "store")]
        payment = Payment.objects.get()
        assert (payment.method, payment.gateway, payment.status) == ("cash", "store", "captured")

    def test_an_agent_completes_a_web_cart_with_a_payment_link(
        self, shop: Shop, agent: User
    ) -> None:
        customer = factories.CustomerFactory()
        cart = web_cart(customer, (shop.book, 1))
        placed = services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key="console:0001",
            cart=cart,
            fulfilment_method="click_and_collect",
            pickup_store=shop.store_b,
            payment=services.PaymentRequest(method="pay_by_link"),
        )
        order = placed.order
        assert (order.origin_channel, order.channel, order.status) == (
            "web",
            "call_centre",
            "pending_payment",
        )
        assert (order.store, order.fulfilment_location) == (shop.store_b, shop.store_b)
        assert len(order.pickup_code) == 6
        assert order.pickup_code.isdigit()
        assert placed.payment_link.startswith("/pay/")
        assert shop.stock(shop.book, shop.store_b) == (5, 1)
        payment = Payment.objects.get()
        assert (payment.method, payment.status, payment.token) == ("pay_by_link", "pending", "")
        assert _events() == [
            (f"checkout-started:{order.number}", "Checkout Started", "call_centre")
        ]

    def test_a_merged_customers_order_goes_to_the_survivor(self, shop: Shop, agent: User) -> None:
        survivor = factories.CustomerFactory()
        absorbed = factories.CustomerFactory(merged_into=survivor)
        placed = services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key="console:0002",
            customer=absorbed,
            lines=[services.LineRequest("PARKA-M", 1)],
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=services.PaymentRequest(method="pay_by_link"),
        )
        assert placed.order.customer == survivor


class TestPointOfSale:
    def test_an_anonymous_walk_in_sale_on_the_terminal(self, shop: Shop, staff_a: User) -> None:
        placed = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:0002",
            lines=[services.LineRequest("BOOK-1", 3)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=services.PaymentRequest(
                method="card_present", terminal_reference="TERM-7:000123"
            ),
        )
        order = placed.order
        assert (order.customer, order.status, order.total, order.tax_total) == (
            None,
            "completed",
            Decimal("60.00"),
            Decimal("4.95"),
        )
        assert Payment.objects.get().gateway_reference == "TERM-7:000123"
        assert InboxEvent.objects.count() == 0  # nobody's timeline
        assert shop.stock(shop.book, shop.store_a) == (2, 0)

    def test_an_offline_sale_keeps_its_time(self, shop: Shop, staff_a: User) -> None:
        sold_at = timezone.now() - timedelta(hours=3)
        placed = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:0003",
            lines=[services.LineRequest("BOOK-1", 1)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=cash("20.00"),
            placed_at=sold_at,
        )
        assert placed.order.placed_at == sold_at

    @pytest.mark.parametrize(
        ("offset", "field"),
        [(timedelta(hours=1), "placed_at"), (-timedelta(days=8), "placed_at")],
    )
    def test_a_sale_from_the_future_or_too_long_ago_is_refused(
        self, shop: Shop, staff_a: User, offset: timedelta, field: str
    ) -> None:
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.order_place(
                actor=staff_a,
                channel=Channel.STORE,
                idempotency_key="pos-a:0004",
                lines=[services.LineRequest("BOOK-1", 1)],
                store=shop.store_a,
                fulfilment_method="carry_out",
                payment=cash("20.00"),
                placed_at=timezone.now() + offset,
            )
        assert list(refused.value.fields) == [field]
        assert snapshot() == before

    def test_cash_that_does_not_cover_the_total_is_refused(self, shop: Shop, staff_a: User) -> None:
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.order_place(
                actor=staff_a,
                channel=Channel.STORE,
                idempotency_key="pos-a:0005",
                lines=[services.LineRequest("PARKA-M", 1)],
                store=shop.store_a,
                fulfilment_method="carry_out",
                payment=cash("99.99"),
            )
        assert refused.value.code == "tender_too_low"
        assert snapshot() == before

    def test_the_last_unit_cannot_be_sold_twice(self, shop: Shop, staff_a: User) -> None:
        services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:0006",
            lines=[services.LineRequest("PARKA-M", 5)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=cash("500.00"),
        )
        before = snapshot()
        with pytest.raises(OutOfStock) as refused:
            services.order_place(
                actor=staff_a,
                channel=Channel.STORE,
                idempotency_key="pos-a:0007",
                lines=[services.LineRequest("PARKA-M", 1)],
                store=shop.store_a,
                fulfilment_method="carry_out",
                payment=cash("100.00"),
            )
        assert refused.value.message == "'PARKA-M' is not available in the quantity asked for."
        assert snapshot() == before


class TestWhoMayCheckOut:
    def test_staff_of_one_store_cannot_sell_for_another(self, shop: Shop, staff_a: User) -> None:
        before = snapshot()
        with pytest.raises(NotAllowed, match="stores you work at"):
            services.order_place(
                actor=staff_a,
                channel=Channel.STORE,
                idempotency_key="pos-b:0001",
                lines=[services.LineRequest("BOOK-1", 1)],
                store=shop.store_b,
                fulfilment_method="carry_out",
                payment=cash("20.00"),
            )
        assert snapshot() == before

    def test_a_shopper_cannot_check_out_another_customers_cart(
        self, shop: Shop, shopper: User
    ) -> None:
        cart = web_cart(factories.CustomerFactory(), (shop.book, 1))
        before = snapshot()
        with pytest.raises(NotFound):
            services.order_place(
                actor=shopper,
                channel=Channel.WEB,
                idempotency_key="web-checkout-0010",
                cart=cart,
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=card(),
            )
        assert snapshot() == before

    def test_an_agent_takes_a_card_token_but_never_a_card_number(
        self, shop: Shop, agent: User
    ) -> None:
        # given: a card number read out on the phone, typed where the token belongs
        with pytest.raises(InvalidInput) as refused:
            services.order_place(
                actor=agent,
                channel=Channel.CALL_CENTRE,
                idempotency_key="console:0003",
                customer=factories.CustomerFactory(),
                lines=[services.LineRequest("BOOK-1", 1)],
                fulfilment_method="delivery",
                delivery_address=ADDRESS,
                payment=services.PaymentRequest(method="card_online", token="4111111111111111"),
            )
        assert refused.value.code == "card_number_refused"
        assert Order.objects.count() == 0
        # a token from the (sandbox) phone-payment service is taken
        placed = services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key="console:0005",
            customer=factories.CustomerFactory(),
            lines=[services.LineRequest("BOOK-1", 1)],
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        )
        assert placed.order.status == "paid"


def test_an_order_placed_by_staff_records_them(shop: Shop, make_user: Any) -> None:
    agent = make_user(Role.AGENT)
    customer = factories.CustomerFactory()
    placed = services.order_place(
        actor=agent,
        channel=Channel.CALL_CENTRE,
        idempotency_key="console:0004",
        customer=customer,
        lines=[services.LineRequest("book-1", 1)],
        fulfilment_method="delivery",
        delivery_address=ADDRESS,
        payment=services.PaymentRequest(method="pay_by_link"),
    )
    assert (placed.order.placed_by, placed.order.customer) == (agent, customer)
    assert Customer.objects.get(pk=customer.pk).order_count == 0  # not paid yet
