"""The web store's basket, checkout, orders, returns and help pages.

Each refusal is checked for its plain-word answer and for nothing having changed (the
``snapshot`` of the commerce tests covers orders, stock, payments, carts, vouchers and the
inbox)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from catalog.models import StockLevel
from customers.models import Case, CaseResolution, CaseStatus, Customer, InboxEvent
from interaction_platform import demo
from interaction_platform.accounts.models import User
from orders.models import Cart, CartLine, CartStatus, Order, OrderStatus, Return
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, make_shop, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Shop:
    made = make_shop()
    made.parka.product.slug = "harbour-parka"
    made.parka.product.save(update_fields=["slug"])
    return made


@pytest.fixture
def signed_in(client: Client, shopper: User) -> Client:
    client.force_login(shopper)
    return client


def _customer(user: User) -> Customer:
    return Customer.objects.get(user=user)


def _cart_lines(customer: Customer) -> list[tuple[str, int]]:
    return list(
        CartLine.objects.filter(cart__customer=customer, cart__status=CartStatus.OPEN)
        .order_by("variant__sku")
        .values_list("variant__sku", "quantity")
    )


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _fill_cart(client: Client, *lines: tuple[str, int]) -> None:
    for sku, quantity in lines:
        response = client.post("/basket/add/", {"sku": sku, "quantity": quantity})
        assert response.status_code == 302


def _key(body: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', body)
    assert match, "the form carries an idempotency key"
    return match.group(1)


def _checkout(client: Client, **fields: str) -> Any:
    key = fields.pop("idempotency_key", None) or _key(client.get("/checkout/").content.decode())
    data = {
        "idempotency_key": key,
        "fulfilment": "delivery",
        "card_token": "tok_sandbox_approve",
        **ADDRESS,
        **fields,
    }
    return client.post("/checkout/", data)


# --- basket -----------------------------------------------------------------------------------


class TestVisitorBasket:
    def test_adding_keeps_the_basket_in_the_session_and_returns_to_the_page(
        self, client: Client, shop: Shop
    ) -> None:
        # when
        response = client.post(
            "/basket/add/", {"sku": "PARKA-M", "quantity": "2", "next": "/p/harbour-parka/"}
        )
        # then
        assert (response.status_code, response["Location"]) == (302, "/p/harbour-parka/")
        assert client.session["web_basket"] == {"PARKA-M": 2}
        assert Cart.objects.count() == 0
        page = client.get("/basket/")
        body = page.content.decode()
        assert "Harbour Parka" in body
        assert 'value="2"' in body
        assert "€200.00" in body
        assert _messages(page) == ["Added 2 × Harbour Parka (Navy / M)."]

    def test_adding_again_adds_units_and_quantities_change_and_lines_go(
        self, client: Client, shop: Shop
    ) -> None:
        _fill_cart(client, ("PARKA-M", 1), ("parka-m", 2), ("BOOK-1", 1))
        assert client.session["web_basket"] == {"PARKA-M": 3, "BOOK-1": 1}
        client.post("/basket/update/", {"sku": "PARKA-M", "quantity": "5"})
        client.post("/basket/remove/", {"sku": "BOOK-1"})
        assert client.session["web_basket"] == {"PARKA-M": 5}

    @pytest.mark.parametrize(
        ("quantity", "message"),
        [
            ("0", "Quantity: Ensure this value is greater than or equal to 1."),
            ("abc", "Quantity: Enter a whole number."),
            ("100", "Quantity: Ensure this value is less than or equal to 99."),
            ("2.5", "Quantity: Enter a whole number."),
        ],
    )
    def test_a_bad_quantity_is_refused_and_nothing_changes(
        self, client: Client, shop: Shop, quantity: str, message: str
    ) -> None:
        _fill_cart(client, ("PARKA-M", 1))
        # when
        response = client.post("/basket/add/", {"sku": "PARKA-M", "quantity": quantity})
        # then
        assert response["Location"] == "/basket/"
        assert _messages(client.get("/basket/"))[-1] == message
        assert client.session["web_basket"] == {"PARKA-M": 1}

    def test_an_unknown_sku_is_refused_and_nothing_changes(
        self, client: Client, shop: Shop
    ) -> None:
        _fill_cart(client, ("PARKA-M", 1))
        client.post("/basket/add/", {"sku": "NOPE-1", "quantity": "1"})
        page = client.get("/basket/")
        assert _messages(page)[-1] == "No product with SKU 'NOPE-1' is for sale."
        assert client.session["web_basket"] == {"PARKA-M": 1}

    def test_more_than_99_of_a_line_in_total_is_refused(self, client: Client, shop: Shop) -> None:
        _fill_cart(client, ("PARKA-M", 60))
        client.post("/basket/add/", {"sku": "PARKA-M", "quantity": "40"})
        assert _messages(client.get("/basket/"))[-1] == "A quantity is from 1 to 99."
        assert client.session["web_basket"] == {"PARKA-M": 60}

    def test_the_same_add_form_sent_twice_adds_once(self, client: Client, shop: Shop) -> None:
        page = client.get("/p/harbour-parka/").content.decode()
        match = re.search(r'name="form_key" value="([^"]+)"', page)
        assert match
        data = {"sku": "PARKA-M", "quantity": "2", "form_key": match.group(1)}
        client.post("/basket/add/", data)
        client.post("/basket/add/", data)
        assert client.session["web_basket"] == {"PARKA-M": 2}

    def test_a_visitor_cannot_apply_a_voucher(self, client: Client, shop: Shop) -> None:
        factories.VoucherFactory(code="WELCOME10")
        _fill_cart(client, ("PARKA-M", 1))
        client.post("/basket/voucher/", {"code": "WELCOME10"})
        assert _messages(client.get("/basket/"))[-1] == (
            "Sign in to use a voucher: it is checked against your account."
        )

    def test_an_empty_basket_says_so(self, client: Client, shop: Shop) -> None:
        body = client.get("/basket/").content.decode()
        assert "Your basket is empty." in body
        assert "Start shopping" in body

    def test_the_basket_page_costs_a_fixed_number_of_queries(
        self, client: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        _fill_cart(client, ("PARKA-M", 1), ("BOOK-1", 2))
        # session, variants, prices
        with django_assert_num_queries(3):
            response = client.get("/basket/")
        assert "Canal Guide" in response.content.decode()


class TestShopperBasket:
    def test_adding_goes_into_the_customers_one_open_cart(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1), ("BOOK-1", 3))
        cart = Cart.objects.get()
        assert (cart.customer.user, cart.origin_channel, cart.status) == (shopper, "web", "open")
        assert _cart_lines(_customer(shopper)) == [("BOOK-1", 3), ("PARKA-M", 1)]
        signed_in.post("/basket/update/", {"sku": "BOOK-1", "quantity": "2"})
        signed_in.post("/basket/remove/", {"sku": "PARKA-M"})
        assert _cart_lines(_customer(shopper)) == [("BOOK-1", 2)]

    def test_a_voucher_is_applied_shown_and_removed(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        factories.VoucherFactory(code="WELCOME10", value=Decimal("10"))
        _fill_cart(signed_in, ("PARKA-M", 1))
        signed_in.post("/basket/voucher/", {"code": "welcome10"})
        body = signed_in.get("/basket/").content.decode()
        assert 'Voucher <strong class="mono">WELCOME10</strong> applied.' in body
        assert "−€10.00" in body
        assert "€90.00" in body
        signed_in.post("/basket/voucher/", {"remove": "1"})
        assert Cart.objects.get().voucher is None

    def test_an_unknown_voucher_is_refused_and_nothing_changes(
        self, signed_in: Client, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        before = snapshot()
        signed_in.post("/basket/voucher/", {"code": "NOPE"})
        assert _messages(signed_in.get("/basket/"))[-1] == "There is no voucher 'NOPE'."
        assert snapshot() == before

    def test_an_unknown_sku_opens_no_cart(self, signed_in: Client, shop: Shop) -> None:
        signed_in.post("/basket/add/", {"sku": "NOPE-1", "quantity": "1"})
        assert _messages(signed_in.get("/basket/")) == ["No product with SKU 'NOPE-1' is for sale."]
        assert Cart.objects.count() == 0

    def test_a_line_not_in_the_basket_cannot_change(self, signed_in: Client, shop: Shop) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        before = snapshot()
        signed_in.post("/basket/update/", {"sku": "BOOK-1", "quantity": "2"})
        assert _messages(signed_in.get("/basket/"))[-1] == "'BOOK-1' is not in this cart."
        assert snapshot() == before

    def test_changing_a_basket_that_does_not_exist_creates_nothing(
        self, signed_in: Client, shop: Shop
    ) -> None:
        factories.VoucherFactory(code="WELCOME10")
        signed_in.post("/basket/update/", {"sku": "PARKA-M", "quantity": "2"})
        signed_in.post("/basket/remove/", {"sku": "PARKA-M"})
        signed_in.post("/basket/voucher/", {"code": "WELCOME10"})
        assert _messages(signed_in.get("/basket/")) == ["Your basket is empty."] * 3
        assert Cart.objects.count() == 0

    def test_staff_have_no_web_basket(self, client: Client, shop: Shop, agent: User) -> None:
        client.force_login(agent)
        response = client.post("/basket/add/", {"sku": "PARKA-M", "quantity": "1"})
        assert response["Location"] == "/basket/"
        assert Cart.objects.count() == 0
        assert client.get("/basket/").status_code == 403

    def test_the_basket_page_costs_a_fixed_number_of_queries(
        self, signed_in: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1), ("BOOK-1", 2))
        # session, user, customer, cart, lines, prices; the customer's analytics consent
        with django_assert_num_queries(7):
            response = signed_in.get("/basket/")
        assert "Canal Guide" in response.content.decode()


class TestBasketJoinsTheAccount:
    def test_signing_in_folds_the_visitors_basket_into_the_cart(
        self, client: Client, shopper: User, shop: Shop
    ) -> None:
        # given: the customer has a cart from the app; the visitor adds more on the web
        customer = _customer(shopper)
        cart = Cart.objects.create(customer=customer, origin_channel="app")
        CartLine.objects.create(cart=cart, variant=shop.parka, quantity=3, added_channel="app")
        _fill_cart(client, ("PARKA-M", 1), ("BOOK-1", 2))
        # when
        response = client.post(
            "/accounts/login/",
            {"username": shopper.username, "password": factories.PASSWORD},
        )
        # then: one cart; the larger quantity kept, never the sum
        assert response.status_code == 302
        assert _cart_lines(customer) == [("BOOK-1", 2), ("PARKA-M", 3)]
        assert Cart.objects.count() == 1
        assert "web_basket" not in client.session

    def test_signing_up_takes_the_basket_along_to_the_checkout(
        self, client: Client, shop: Shop
    ) -> None:
        _fill_cart(client, ("BOOK-1", 2))
        login_page = client.get("/accounts/login/?next=/checkout/").content.decode()
        assert 'href="/account/signup/?next=/checkout/"' in login_page
        response = client.post(
            "/account/signup/?next=/checkout/",
            {
                "first_name": "Noor",
                "last_name": "de Vries",
                "email": "noor@example.com",
                "password": "a long enough passphrase",
            },
        )
        assert response["Location"] == "/checkout/"
        customer = Customer.objects.get(email="noor@example.com")
        assert _cart_lines(customer) == [("BOOK-1", 2)]
        assert "2 × Canal Guide" in client.get("/checkout/").content.decode()


# --- checkout ---------------------------------------------------------------------------------


class TestCheckout:
    def test_a_visitor_is_asked_to_sign_in(self, client: Client, shop: Shop) -> None:
        _fill_cart(client, ("PARKA-M", 1))
        response = client.get("/checkout/")
        assert (response.status_code, response["Location"]) == (
            302,
            "/accounts/login/?next=/checkout/",
        )

    def test_an_empty_basket_goes_back_to_the_basket(self, signed_in: Client, shop: Shop) -> None:
        response = signed_in.get("/checkout/")
        assert response["Location"] == "/basket/"

    def test_the_page_shows_the_basket_the_stores_and_the_sandbox_tokens(
        self, signed_in: Client, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        StockLevel.objects.filter(variant=shop.parka, location=shop.store_b).update(on_hand=0)
        body = signed_in.get("/checkout/").content.decode()
        assert "1 × Harbour Parka" in body
        assert "Amsterdam A, Amsterdam — everything in stock" in body
        assert "Rotterdam B, Rotterdam — not everything in stock" in body
        assert "Not in stock: PARKA-M" in body
        for token in ("tok_sandbox_approve", "tok_sandbox_decline", "tok_sandbox_timeout"):
            assert token in body

    def test_the_page_costs_a_fixed_number_of_queries(
        self, signed_in: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1), ("BOOK-1", 2))
        signed_in.get("/checkout/")  # the first visit records "Checkout Started" in the session
        # session, user, customer, cart, lines, prices, stores, stock; analytics consent
        with django_assert_num_queries(9):
            signed_in.get("/checkout/")

    def test_delivery_with_an_approved_card(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        # when
        response = _checkout(signed_in)
        # then
        order = Order.objects.get()
        assert response["Location"] == f"/checkout/done/{order.number}/"
        assert (order.status, order.channel, order.fulfilment_method, order.total) == (
            OrderStatus.PAID,
            "web",
            "delivery",
            Decimal("100.00"),
        )
        assert order.delivery_address["postcode"] == "1016 GV"
        assert Cart.objects.get().status == CartStatus.ORDERED
        assert shop.stock(shop.parka, shop.warehouse) == (10, 1)
        done = signed_in.get(response["Location"]).content.decode()
        assert order.number in done
        assert "Thank you for your order" in done

    def test_click_and_collect_shows_the_pickup_code(self, signed_in: Client, shop: Shop) -> None:
        _fill_cart(signed_in, ("BOOK-1", 2))
        response = _checkout(signed_in, fulfilment="click_and_collect", pickup_store="rtm-b")
        order = Order.objects.get()
        assert (order.fulfilment_method, order.store, len(order.pickup_code)) == (
            "click_and_collect",
            shop.store_b,
            6,
        )
        assert shop.stock(shop.book, shop.store_b) == (5, 2)
        done = signed_in.get(response["Location"]).content.decode()
        assert order.pickup_code in done
        assert "Collect it at <strong>Rotterdam B</strong>" in done

    def test_click_and_collect_needs_a_store(self, signed_in: Client, shop: Shop) -> None:
        _fill_cart(signed_in, ("BOOK-1", 1))
        before = snapshot()
        response = _checkout(signed_in, fulfilment="click_and_collect", pickup_store="")
        assert response.status_code == 400
        assert "Choose the store where you want to collect it." in response.content.decode()
        assert snapshot() == before

    def test_a_double_submit_places_one_order(self, signed_in: Client, shop: Shop) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        key = _key(signed_in.get("/checkout/").content.decode())
        first = _checkout(signed_in, idempotency_key=key)
        second = _checkout(signed_in, idempotency_key=key)
        assert Order.objects.count() == 1
        assert (
            first["Location"]
            == second["Location"]
            == f"/checkout/done/{Order.objects.get().number}/"
        )
        assert shop.stock(shop.parka, shop.warehouse) == (10, 1)

    def test_a_declined_card_keeps_the_basket_and_the_next_card_pays(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        key = _key(signed_in.get("/checkout/").content.decode())
        # when
        declined = _checkout(signed_in, idempotency_key=key, card_token="tok_sandbox_decline")
        # then: plain words, the basket as it was, stock back, and a new key for the next try
        body = declined.content.decode()
        assert declined.status_code == 400
        assert "Try another card. Your basket is kept as it was." in body
        assert "declined" in body
        assert _cart_lines(_customer(shopper)) == [("PARKA-M", 1)]
        assert shop.stock(shop.parka, shop.warehouse) == (10, 0)
        assert Order.objects.get().status == OrderStatus.CANCELLED
        new_key = _key(body)
        assert new_key != key
        # when: another card
        paid = _checkout(signed_in, idempotency_key=new_key)
        # then
        assert paid.status_code == 302
        assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == [
            OrderStatus.CANCELLED,
            OrderStatus.PAID,
        ]

    def test_an_answer_lost_in_time_is_finished_by_pressing_again(
        self, signed_in: Client, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        key = _key(signed_in.get("/checkout/").content.decode())
        pending = _checkout(signed_in, idempotency_key=key, card_token="tok_sandbox_timeout")
        assert pending.status_code == 400
        assert "you will not be charged twice" in pending.content.decode()
        assert _key(pending.content.decode()) == key
        finished = _checkout(signed_in, idempotency_key=key, card_token="tok_sandbox_timeout")
        order = Order.objects.get()
        assert (finished.status_code, order.status, order.paid_total) == (
            302,
            OrderStatus.PAID,
            Decimal("100.00"),
        )

    def test_out_of_stock_is_refused_and_nothing_changes(
        self, signed_in: Client, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 6))
        before = snapshot()
        response = _checkout(signed_in, fulfilment="click_and_collect", pickup_store="ams-a")
        assert response.status_code == 400
        assert "&#x27;PARKA-M&#x27; is not available in the quantity asked for." in (
            response.content.decode()
        )
        assert snapshot() == before

    def test_a_bad_address_is_refused_beside_its_field_and_nothing_changes(
        self, signed_in: Client, shop: Shop
    ) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        before = snapshot()
        response = _checkout(signed_in, postcode="12")
        assert response.status_code == 400
        assert response.context["form"].errors["postcode"]
        assert snapshot() == before

    def test_a_card_number_is_never_taken(self, signed_in: Client, shop: Shop) -> None:
        _fill_cart(signed_in, ("PARKA-M", 1))
        before = snapshot()
        response = _checkout(signed_in, card_token="4111111111111111")
        assert response.status_code == 400
        assert "4111111111111111" not in response.content.decode().replace(
            'value="4111111111111111"', ""
        )
        assert snapshot() == before

    def test_a_voucher_on_the_basket_is_redeemed(self, signed_in: Client, shop: Shop) -> None:
        voucher = factories.VoucherFactory(code="WELCOME10", value=Decimal("10"))
        _fill_cart(signed_in, ("PARKA-M", 1))
        signed_in.post("/basket/voucher/", {"code": "WELCOME10"})
        _checkout(signed_in)
        order = Order.objects.get()
        voucher.refresh_from_db()
        assert (order.discount_total, order.total, voucher.times_used) == (
            Decimal("10.00"),
            Decimal("90.00"),
            1,
        )

    def test_someone_elses_confirmation_is_not_found(self, signed_in: Client, shop: Shop) -> None:
        order = factories.OrderFactory()
        assert signed_in.get(f"/checkout/done/{order.number}/").status_code == 404


class TestCheckoutAnalytics:
    def test_with_consent_the_steps_reach_the_inbox(self, signed_in: Client, shop: Shop) -> None:
        signed_in.cookies["analytics_consent"] = "granted"
        _fill_cart(signed_in, ("PARKA-M", 1))
        signed_in.get("/checkout/")
        signed_in.get("/checkout/")  # a reload is not a new checkout
        _checkout(signed_in)
        events = [
            (row.payload["event"], row.payload["properties"].get("step"))
            for row in InboxEvent.objects.filter(source="web-store").order_by("pk")
            if row.payload["type"] == "track"
        ]
        assert events == [
            ("Product Added", None),
            ("Checkout Started", None),
            ("Checkout Step Completed", 1),
            ("Checkout Step Completed", 2),
        ]

    def test_a_refused_card_completes_the_details_step_only(
        self, signed_in: Client, shop: Shop
    ) -> None:
        signed_in.cookies["analytics_consent"] = "granted"
        _fill_cart(signed_in, ("PARKA-M", 1))
        _checkout(signed_in, card_token="tok_sandbox_decline")
        steps = [
            (row.payload["properties"]["step"], row.payload["properties"]["shipping_method"])
            for row in InboxEvent.objects.filter(source="web-store").order_by("pk")
            if row.payload.get("event") == "Checkout Step Completed"
        ]
        assert steps == [(1, "delivery")]

    def test_without_consent_nothing_is_sent(self, signed_in: Client, shop: Shop) -> None:
        signed_in.cookies["analytics_consent"] = "denied"
        _fill_cart(signed_in, ("PARKA-M", 1))
        _checkout(signed_in)
        assert InboxEvent.objects.filter(source="web-store").count() == 0


# --- orders, returns, questions ---------------------------------------------------------------


def _placed(client: Client, *, status: str = OrderStatus.COMPLETED) -> Order:
    _fill_cart(client, ("PARKA-M", 2), ("BOOK-1", 1))
    _checkout(client)
    order = Order.objects.latest("pk")
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


class TestOrders:
    def test_the_list_shows_only_my_orders(self, signed_in: Client, shop: Shop) -> None:
        mine = _placed(signed_in, status=OrderStatus.PAID)
        other = factories.OrderFactory()
        body = signed_in.get("/account/orders/").content.decode()
        assert mine.number in body
        assert other.number not in body

    def test_no_orders_yet(self, signed_in: Client, shop: Shop) -> None:
        assert "You have no orders yet." in signed_in.get("/account/orders/").content.decode()

    def test_the_list_costs_a_fixed_number_of_queries(
        self, signed_in: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        _placed(signed_in)
        # session, user, customer, count, page
        with django_assert_num_queries(5):
            signed_in.get("/account/orders/")

    def test_the_detail_shows_status_and_records_self_service_once_a_day(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        order = _placed(signed_in, status=OrderStatus.SHIPPED)
        Order.objects.filter(pk=order.pk).update(
            tracking_reference="3SABC123", shipped_at=order.placed_at
        )
        response = signed_in.get(f"/account/orders/{order.number}/")
        body = response.content.decode()
        assert [(step["label"], step["is_done"]) for step in response.context["progress"]] == [
            ("Ordered", True),
            ("Paid", True),
            ("Shipped", True),
            ("Delivered", False),
        ]
        signed_in.get(f"/account/orders/{order.number}/")
        assert "3SABC123" in body
        assert "Shipped" in body
        case = Case.objects.get()
        assert (case.subject, case.status, case.resolution, case.order) == (
            f"Checked the status of order {order.number}",
            CaseStatus.RESOLVED,
            CaseResolution.SELF_SERVICE,
            order,
        )

    def test_the_detail_costs_a_fixed_number_of_queries(
        self, signed_in: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        order = _placed(signed_in)
        signed_in.get(f"/account/orders/{order.number}/")  # records today's look-up
        # session, user, customer, order, lines, payments, returns
        with django_assert_num_queries(7):
            signed_in.get(f"/account/orders/{order.number}/")

    def test_someone_elses_order_is_not_found_and_nothing_is_recorded(
        self, signed_in: Client, shop: Shop
    ) -> None:
        other = factories.OrderFactory(status=OrderStatus.COMPLETED)
        assert signed_in.get(f"/account/orders/{other.number}/").status_code == 404
        assert signed_in.post(f"/account/orders/{other.number}/return/", {}).status_code == 404
        assert signed_in.post(f"/account/orders/{other.number}/ask/", {}).status_code == 404
        assert Case.objects.count() == 0

    def test_a_visitor_is_asked_to_sign_in(self, client: Client, shop: Shop) -> None:
        response = client.get("/account/orders/")
        assert response["Location"] == "/accounts/login/?next=/account/orders/"


class TestReturns:
    def test_a_return_of_some_units_is_registered_and_recorded(
        self, signed_in: Client, shop: Shop
    ) -> None:
        order = _placed(signed_in)
        parka_line = order.lines.get(sku="PARKA-M")
        page = signed_in.get(f"/account/orders/{order.number}/").content.decode()
        key = re.findall(r'name="idempotency_key" value="([^"]+)"', page)[0]
        data = {"idempotency_key": key, f"line-{parka_line.pk}": "1", "reason": "Too big"}
        # when: sent twice (a double click)
        first = signed_in.post(f"/account/orders/{order.number}/return/", data)
        signed_in.post(f"/account/orders/{order.number}/return/", data)
        # then
        assert first["Location"] == f"/account/orders/{order.number}/"
        returned = Return.objects.get()
        assert (returned.kind, returned.status, returned.reason) == (
            "postal",
            "requested",
            "Too big",
        )
        assert list(returned.lines.values_list("order_line__sku", "quantity")) == [("PARKA-M", 1)]
        assert list(Case.objects.order_by("pk").values_list("subject", flat=True)) == [
            f"Checked the status of order {order.number}",
            f"Started a return of order {order.number}",
        ]

    def test_an_order_not_yet_received_cannot_be_returned(
        self, signed_in: Client, shop: Shop
    ) -> None:
        order = _placed(signed_in, status=OrderStatus.PAID)
        line = order.lines.get(sku="PARKA-M")
        page = signed_in.get(f"/account/orders/{order.number}/").content.decode()
        assert "You can return items once you have them" in page
        before = snapshot()
        cases = Case.objects.count()
        response = signed_in.post(
            f"/account/orders/{order.number}/return/",
            {"idempotency_key": "web-return-key-1", f"line-{line.pk}": "1"},
        )
        assert response.status_code == 400
        assert "Only goods that were collected or delivered can be returned" in (
            response.content.decode()
        )
        assert (snapshot(), Case.objects.count()) == (before, cases)

    def test_more_than_was_bought_is_refused(self, signed_in: Client, shop: Shop) -> None:
        order = _placed(signed_in)
        line = order.lines.get(sku="BOOK-1")
        before = snapshot()
        response = signed_in.post(
            f"/account/orders/{order.number}/return/",
            {"idempotency_key": "web-return-key-2", f"line-{line.pk}": "2"},
        )
        assert response.status_code == 400
        assert "Ensure this value is less than or equal to 1." in response.content.decode()
        assert snapshot() == before


class TestQuestions:
    def test_asking_about_an_order_opens_one_case(self, signed_in: Client, shop: Shop) -> None:
        order = _placed(signed_in, status=OrderStatus.PAID)
        data = {"idempotency_key": "web-ask-key-1", "subject": "Where is it?", "message": "Hi"}
        signed_in.post(f"/account/orders/{order.number}/ask/", data)
        signed_in.post(f"/account/orders/{order.number}/ask/", data)
        case = Case.objects.get(status=CaseStatus.OPEN)
        assert (case.subject, case.description, case.order, case.channel) == (
            "Where is it?",
            "Hi",
            order,
            "web",
        )

    def test_the_contact_form_opens_a_case(
        self, signed_in: Client, shopper: User, shop: Shop
    ) -> None:
        page = signed_in.get("/help/contact/").content.decode()
        response = signed_in.post(
            "/help/contact/",
            {"idempotency_key": _key(page), "subject": "Opening hours", "message": "Sunday?"},
        )
        assert response["Location"] == "/help/contact/"
        case = Case.objects.get()
        assert (case.customer.user, case.subject, case.status) == (
            shopper,
            "Opening hours",
            CaseStatus.OPEN,
        )
        assert (
            "Your message is with customer service" in _messages(signed_in.get("/help/contact/"))[0]
        )

    def test_the_contact_page_costs_a_fixed_number_of_queries(
        self, signed_in: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        # session, user, customer
        with django_assert_num_queries(3):
            signed_in.get("/help/contact/")

    def test_an_empty_message_is_refused_and_nothing_is_opened(
        self, signed_in: Client, shop: Shop
    ) -> None:
        response = signed_in.post(
            "/help/contact/", {"idempotency_key": "web-contact-1", "subject": "x", "message": ""}
        )
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert Case.objects.count() == 0

    def test_a_visitor_is_asked_to_sign_in(self, client: Client, shop: Shop) -> None:
        body = client.post(
            "/help/contact/", {"idempotency_key": "web-contact-2", "subject": "x", "message": "y"}
        ).content.decode()
        assert "Sign in so we know who you are" in body
        assert Case.objects.count() == 0


# --- the demo shop ----------------------------------------------------------------------------


def test_the_demo_shopper_buys_with_the_demo_voucher(client: Client) -> None:
    """``make run``'s shop: the demo shopper signs in, fills the basket, applies WELCOME10 and
    pays with the sandbox card."""
    # given
    demo.seed(size="small")
    level = (
        StockLevel.objects.filter(location__kind="warehouse", on_hand__gte=2)
        .select_related("variant")
        .order_by("variant__sku")
        .first()
    )
    assert level is not None
    sku = level.variant.sku
    # when
    client.post("/accounts/login/", {"username": "shopper", "password": demo.DEMO_PASSWORD})
    client.post("/basket/add/", {"sku": sku, "quantity": "2"})
    client.post("/basket/voucher/", {"code": demo.DEMO_VOUCHER})
    response = _checkout(client)
    # then (the demo shop has a year of orders already: this one is the newest)
    order = Order.objects.latest("pk")
    assert response["Location"] == f"/checkout/done/{order.number}/"
    assert order.customer is not None
    assert (order.customer.user.username, order.status, order.voucher.code) == (  # type: ignore[union-attr]
        "shopper",
        OrderStatus.PAID,
        "WELCOME10",
    )
    assert order.discount_total > 0
