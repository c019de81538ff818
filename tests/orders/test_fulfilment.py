"""Fulfilment: delivery addresses per country, click & collect with a pickup code, ship-from-store
by the documented allocation rule, carry-out — and the order state machine, whose cancel
releases stock and refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import StockLevel
from customers.models import InboxEvent
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotAllowed
from orders import services, states
from orders.addresses import address_validate
from orders.errors import InvalidTransition, OutOfStock
from orders.models import FulfilmentMethod, Order, OrderStatus, Payment, Refund
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, cash, snapshot, web_cart

pytestmark = pytest.mark.django_db


class TestDeliveryAddress:
    @pytest.mark.parametrize(
        ("country", "postcode", "phone", "clean_postcode", "clean_phone"),
        [
            ("NL", "1016gv", "06 12345678", "1016 GV", "+31612345678"),
            ("BE", "1000", "0470 12 34 56", "1000", "+32470123456"),
            ("DE", "10115", "030 901820", "10115", "+4930901820"),
            ("LU", "1009", "621 123 456", "L-1009", "+352621123456"),
            ("FR", "75001", "06 12 34 56 78", "75001", "+33612345678"),
        ],
    )
    def test_a_valid_address_is_normalised_for_its_country(
        self, country: str, postcode: str, phone: str, clean_postcode: str, clean_phone: str
    ) -> None:
        address = address_validate(
            {**ADDRESS, "country": country, "postcode": postcode, "phone": phone}
        )
        assert (address["postcode"], address["phone"], address["country"]) == (
            clean_postcode,
            clean_phone,
            country,
        )

    @pytest.mark.parametrize(
        ("changes", "problems"),
        [
            (
                {"postcode": "10115"},
                {
                    "delivery_address.postcode": [
                        "Not a postcode of the Netherlands (e.g. 1012 LG)."
                    ]
                },
            ),
            (
                {"country": "DE", "postcode": "1016 GV"},
                {"delivery_address.postcode": ["Not a postcode of Germany (e.g. 10115)."]},
            ),
            (
                {"phone": "12"},
                {
                    "delivery_address.phone": [
                        "Not a valid phone number in the Netherlands; "
                        "include the country code if abroad."
                    ]
                },
            ),
            (
                {"city": "", "last_name": ""},
                {
                    "delivery_address.city": ["Required."],
                    "delivery_address.last_name": ["Required."],
                },
            ),
            (
                {"country": "US"},
                {"delivery_address.country": ["We deliver to AT, BE, DE, FR, LU, NL."]},
            ),
            ({"price": "1.00"}, {"delivery_address.price": ["Not an address field."]}),
            ({"city": 7}, {"delivery_address.city": ["Text of at most 100 characters."]}),
        ],
    )
    def test_an_invalid_address_names_what_is_wrong(
        self, changes: dict[str, Any], problems: dict[str, list[str]]
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            address_validate({**ADDRESS, **changes})
        assert refused.value.fields == problems


def _collect_order(shop: Shop, shopper: User, **extra: Any) -> Order:
    return services.order_place(
        actor=shopper,
        channel=Channel.APP,
        idempotency_key=extra.pop("key", "collect-0001"),
        cart=web_cart(shopper.customer, (shop.parka, 2)),
        fulfilment_method="click_and_collect",
        pickup_store=shop.store_b,
        payment=card(),
    ).order


class TestClickAndCollect:
    def test_ready_then_collected_with_the_pickup_code(
        self, shop: Shop, shopper: User, staff_b: User
    ) -> None:
        order = _collect_order(shop, shopper)
        assert shop.stock(shop.parka, shop.store_b) == (5, 2)
        # when
        services.order_mark_ready(actor=staff_b, order=order)
        services.order_collect(actor=staff_b, order=order, pickup_code=order.pickup_code)
        # then
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert order.ready_at is not None
        assert order.completed_at is not None
        assert shop.stock(shop.parka, shop.store_b) == (3, 0)
        events = list(InboxEvent.objects.order_by("pk").values_list("payload__event", "channel"))
        assert events[-2:] == [("Order Ready For Pickup", "store"), ("Order Collected", "store")]

    def test_a_wrong_pickup_code_hands_nothing_over(
        self, shop: Shop, shopper: User, staff_b: User
    ) -> None:
        order = _collect_order(shop, shopper)
        services.order_mark_ready(actor=staff_b, order=order)
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.order_collect(actor=staff_b, order=order, pickup_code="000000x")
        assert refused.value.code == "wrong_pickup_code"
        assert snapshot() == before

    def test_collecting_before_it_is_ready_is_refused(
        self, shop: Shop, shopper: User, staff_b: User
    ) -> None:
        order = _collect_order(shop, shopper)
        before = snapshot()
        with pytest.raises(InvalidTransition):
            services.order_collect(actor=staff_b, order=order, pickup_code=order.pickup_code)
        assert snapshot() == before

    def test_staff_of_another_store_cannot_hand_it_over(
        self, shop: Shop, shopper: User, staff_a: User
    ) -> None:
        order = _collect_order(shop, shopper)
        before = snapshot()
        with pytest.raises(NotAllowed, match="another location"):
            services.order_mark_ready(actor=staff_a, order=order)
        assert snapshot() == before


class TestAllocation:
    def _deliver(self, shop: Shop, agent: User, key: str, **extra: Any) -> Order:
        customer = extra.pop("customer", None) or factories.CustomerFactory()
        return services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key=key,
            customer=customer,
            lines=[services.LineRequest("PARKA-M", 2)],
            delivery_address=ADDRESS,
            payment=services.PaymentRequest(method="pay_by_link"),
            **{"fulfilment_method": "delivery", **extra},
        ).order

    def test_delivery_comes_from_the_warehouse(self, shop: Shop, agent: User) -> None:
        order = self._deliver(shop, agent, "alloc-0001")
        assert (order.fulfilment_method, order.fulfilment_location) == ("delivery", shop.warehouse)

    def test_without_warehouse_stock_a_store_ships_it(self, shop: Shop, agent: User) -> None:
        StockLevel.objects.filter(location=shop.warehouse).update(on_hand=1)
        order = self._deliver(shop, agent, "alloc-0002")
        assert order.fulfilment_method == FulfilmentMethod.SHIP_FROM_STORE
        # both stores hold 5: the tie goes to the code, alphabetically
        assert order.fulfilment_location == shop.store_a

    def test_the_store_with_the_most_to_spare_ships(self, shop: Shop, agent: User) -> None:
        StockLevel.objects.filter(location=shop.store_a, variant=shop.parka).update(on_hand=3)
        StockLevel.objects.filter(location=shop.store_b, variant=shop.parka).update(on_hand=9)
        order = self._deliver(shop, agent, "alloc-0003", fulfilment_method="ship_from_store")
        assert (order.fulfilment_method, order.fulfilment_location) == (
            "ship_from_store",
            shop.store_b,
        )
        assert shop.stock(shop.parka, shop.store_b) == (9, 2)

    def test_a_store_that_cannot_serve_every_line_is_skipped(self, shop: Shop, agent: User) -> None:
        StockLevel.objects.filter(location=shop.warehouse).update(on_hand=0)
        StockLevel.objects.filter(location=shop.store_a, variant=shop.parka).update(on_hand=1)
        order = self._deliver(shop, agent, "alloc-0004")
        assert order.fulfilment_location == shop.store_b

    def test_stores_abroad_do_not_ship_to_the_netherlands(self, shop: Shop, agent: User) -> None:
        StockLevel.objects.filter(location__in=[shop.warehouse, shop.store_a, shop.store_b]).update(
            on_hand=0
        )
        german = factories.StoreFactory(code="ber-c", country="DE")
        factories.StockLevelFactory(variant=shop.parka, location=german, on_hand=50)
        customer = factories.CustomerFactory()
        before = snapshot()
        with pytest.raises(OutOfStock, match="Not every item of this order is in stock"):
            self._deliver(shop, agent, "alloc-0005", customer=customer)
        assert snapshot() == before


class TestStateMachine:
    @pytest.mark.parametrize(
        ("status", "method", "to", "allowed"),
        [
            ("pending_payment", "delivery", "paid", True),
            ("pending_payment", "click_and_collect", "cancelled", True),
            ("paid", "click_and_collect", "ready_for_pickup", True),
            ("paid", "delivery", "ready_for_pickup", False),
            ("paid", "delivery", "shipped", True),
            ("paid", "click_and_collect", "shipped", False),
            ("paid", "delivery", "completed", False),
            ("ready_for_pickup", "click_and_collect", "completed", True),
            ("shipped", "ship_from_store", "completed", True),
            ("shipped", "delivery", "cancelled", False),
            ("completed", "carry_out", "cancelled", False),
            ("cancelled", "delivery", "paid", False),
            ("pending_payment", "delivery", "shipped", False),
        ],
    )
    def test_only_the_allowed_moves(self, status: str, method: str, to: str, allowed: bool) -> None:
        order = factories.OrderFactory.build(status=status, fulfilment_method=method)
        assert states.is_allowed(order=order, to=to) is allowed

    def test_shipping_an_unpaid_order_is_refused(self, shop: Shop, agent: User) -> None:
        order = services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key="unpaid-ship",
            customer=factories.CustomerFactory(),
            lines=[services.LineRequest("BOOK-1", 1)],
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=services.PaymentRequest(method="pay_by_link"),
        ).order
        warehouse_staff = factories.UserFactory(role="store_staff")
        warehouse_staff.stores.add(shop.warehouse)
        before = snapshot()
        with pytest.raises(InvalidTransition, match="awaiting payment"):
            services.order_ship(actor=warehouse_staff, order=order)
        assert snapshot() == before

    def test_ship_then_deliver(self, shop: Shop, shopper: User, warehouse_staff: User) -> None:
        order = services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="ship-0001",
            cart=web_cart(shopper.customer, (shop.book, 3)),
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        ).order
        services.order_ship(actor=warehouse_staff, order=order, tracking_reference="3SABC123")
        assert shop.stock(shop.book, shop.warehouse) == (7, 0)
        services.order_mark_delivered(actor=warehouse_staff, order=order)
        order.refresh_from_db()
        assert (order.status, order.tracking_reference) == ("completed", "3SABC123")


class TestCancel:
    def test_cancelling_releases_the_stock_and_refunds_the_card(
        self, shop: Shop, shopper: User
    ) -> None:
        voucher = factories.VoucherFactory(code="TEN", value=Decimal("10"), usage_limit=5)
        cart = web_cart(shopper.customer, (shop.parka, 2))
        cart.voucher = voucher
        cart.save()
        order = _collect_order_from(cart, shop, shopper)
        assert (order.total, shop.stock(shop.parka, shop.store_b)) == (Decimal("180.00"), (5, 2))
        # when
        services.order_cancel(actor=shopper, order=order, reason="changed my mind")
        # then
        order.refresh_from_db()
        assert (order.status, order.refunded_total) == ("cancelled", Decimal("180.00"))
        assert shop.stock(shop.parka, shop.store_b) == (5, 0)
        payment = Payment.objects.get()
        assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("180.00"))
        voucher.refresh_from_db()
        assert voucher.times_used == 0
        shopper.customer.refresh_from_db()
        assert (shopper.customer.order_count, shopper.customer.lifetime_revenue) == (0, 0)
        assert InboxEvent.objects.filter(payload__event="Order Cancelled").count() == 1

    def test_a_shopper_cannot_cancel_once_it_is_on_the_shelf(
        self, shop: Shop, shopper: User, staff_b: User
    ) -> None:
        order = _collect_order(shop, shopper)
        services.order_mark_ready(actor=staff_b, order=order)
        before = snapshot()
        with pytest.raises(InvalidTransition, match="contact us"):
            services.order_cancel(actor=shopper, order=order, reason="")
        assert snapshot() == before
        # the store can: it was not collected
        services.order_cancel(actor=staff_b, order=order, reason="not collected")
        assert shop.stock(shop.parka, shop.store_b) == (5, 0)

    def test_money_paid_at_the_till_is_paid_back_at_a_till(
        self, shop: Shop, staff_a: User, agent: User
    ) -> None:
        order = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:endless-1",
            customer=factories.CustomerFactory(),
            lines=[services.LineRequest("PARKA-M", 1)],
            store=shop.store_a,
            fulfilment_method="ship_from_store",
            delivery_address=ADDRESS,
            payment=cash("100.00"),
        ).order
        before = snapshot()
        with pytest.raises(NotAllowed) as refused:
            services.order_cancel(actor=agent, order=order, reason="x")
        assert refused.value.code == "refund_at_store"
        assert snapshot() == before
        services.order_cancel(actor=staff_a, order=order, reason="x", store=shop.store_a)
        refund = Refund.objects.get()
        assert (refund.method, refund.status, refund.amount, refund.location) == (
            "cash",
            "succeeded",
            Decimal("100.00"),
            shop.store_a,
        )

    def test_staff_cannot_cancel_another_stores_order(
        self, shop: Shop, shopper: User, staff_a: User
    ) -> None:
        order = _collect_order(shop, shopper)
        before = snapshot()
        with pytest.raises(NotAllowed, match="orders of the stores you work at"):
            services.order_cancel(actor=staff_a, order=order, reason="")
        assert snapshot() == before


def _collect_order_from(cart: Any, shop: Shop, shopper: User) -> Order:
    return services.order_place(
        actor=shopper,
        channel=Channel.APP,
        idempotency_key="collect-voucher",
        cart=cart,
        fulfilment_method="click_and_collect",
        pickup_store=shop.store_b,
        payment=card(),
    ).order
