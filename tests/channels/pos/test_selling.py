"""Selling at the till: the sales endpoint (JSON, idempotent per sale id), the sale screen,
receipts and e-receipts, click & collect handover and returns of any order.

The shop (tests/orders/conftest.py): a parka €100.00 and a book €20.00 on every channel, five
of each in Amsterdam A and Rotterdam B; the staff member here works in Amsterdam A.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from customers.inbox import inbox_process_batch
from customers.models import Customer, InboxEvent, TimelineEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders import services
from orders.models import Cart, CartLine, Order, OrderStatus, Return
from tests import factories
from tests.orders.conftest import Shop, card, make_shop, snapshot, web_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: Any) -> Shop:
    return make_shop()


@pytest.fixture
def staff_a(shop: Shop) -> User:
    user = factories.UserFactory(role=Role.STORE_STAFF, first_name="Noor")
    user.stores.add(shop.store_a)
    return user


@pytest.fixture
def till(client: Client, staff_a: User) -> Client:
    client.force_login(staff_a)
    return client


@pytest.fixture
def anna(db: Any) -> Customer:
    return factories.CustomerFactory(
        first_name="Anna", last_name="Visser", email="anna@example.com", loyalty_number="NW00000042"
    )


def sale(shop: Shop, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "store": shop.store_a.code,
        "lines": [{"sku": "PARKA-M", "quantity": 1}, {"sku": "BOOK-1", "quantity": 2}],
        "customer": None,
        "cart": None,
        "payment": {"method": "cash", "amount_tendered": "150.00"},
    }
    body.update(changes)
    return body


def post(client: Client, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/pos/sales/", data, content_type="application/json")


class TestSale:
    def test_cash_sale_is_one_completed_order_with_change(self, till: Client, shop: Shop) -> None:
        body = sale(shop)
        # when
        response = post(till, body)
        # then
        assert response.status_code == 201
        order = Order.objects.get()
        assert response.json() == {
            "id": body["id"],
            "number": order.number,
            "total": "140.00",
            "currency": "EUR",
            "change_due": "10.00",
            "receipt_url": f"/pos/sales/{order.number}/",
            "is_replay": False,
        }
        assert (order.channel, order.status, order.fulfilment_method) == (
            "store",
            "completed",
            "carry_out",
        )
        assert (order.store_id, order.idempotency_key, order.customer_id) == (
            shop.store_a.pk,
            body["id"],
            None,
        )
        assert sorted(order.lines.values_list("sku", "quantity", "line_total")) == [
            ("BOOK-1", 2, Decimal("40.00")),
            ("PARKA-M", 1, Decimal("100.00")),
        ]
        assert list(order.payments.values_list("method", "status", "amount")) == [
            ("cash", "captured", Decimal("140.00"))
        ]
        assert shop.stock(shop.parka, shop.store_a) == (4, 0)
        assert shop.stock(shop.book, shop.store_a) == (3, 0)

    def test_the_same_sale_sent_again_is_the_same_order(self, till: Client, shop: Shop) -> None:
        body = sale(shop)
        first = post(till, body)
        before = snapshot()
        # when: the till replays it (a retry, or a sale kept offline)
        again = post(till, body)
        # then
        assert again.status_code == 200
        assert again.json() == {**first.json(), "is_replay": True}
        assert Order.objects.count() == 1
        assert snapshot() == before

    def test_a_sale_id_reused_for_other_content_is_refused(self, till: Client, shop: Shop) -> None:
        body = sale(shop)
        post(till, body)
        before = snapshot()
        response = post(till, {**body, "lines": [{"sku": "BOOK-1", "quantity": 1}]})
        assert response.status_code == 409
        assert response.json()["error"] == "idempotency_key_reused"
        assert snapshot() == before

    def test_card_payment_keeps_the_terminal_reference(self, till: Client, shop: Shop) -> None:
        body = sale(shop, payment={"method": "card_present", "terminal_reference": "TRM-4711"})
        response = post(till, body)
        assert response.status_code == 201
        assert response.json()["change_due"] is None
        order = Order.objects.get()
        assert list(order.payments.values_list("method", "gateway_reference", "amount")) == [
            ("card_present", "TRM-4711", Decimal("140.00"))
        ]

    def test_a_sale_made_offline_keeps_its_time(self, till: Client, shop: Shop) -> None:
        made_at = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
        response = post(till, sale(shop, placed_at=made_at.isoformat()))
        assert response.status_code == 201
        assert Order.objects.get().placed_at == made_at

    def test_an_attached_customer_gets_the_order_on_their_timeline(
        self, till: Client, shop: Shop, anna: Customer
    ) -> None:
        response = post(till, sale(shop, customer=str(anna.public_id)))
        assert response.status_code == 201
        inbox_process_batch()
        order = Order.objects.get()
        assert order.customer_id == anna.pk
        [event] = TimelineEvent.objects.filter(customer=anna)
        assert (event.type, event.channel, event.message_id, event.store_id) == (
            "POS Order Completed",
            "store",
            f"order-completed:{order.number}",
            shop.store_a.pk,
        )

    @pytest.mark.parametrize(
        ("payment", "status", "error", "message"),
        [
            (
                {"method": "cash", "amount_tendered": "139.99"},
                400,
                "tender_too_low",
                "139.99 does not cover the total of 140.00.",
            ),
            ({"method": "cash"}, 400, "invalid", "Say how much cash was handed over."),
            ({"method": "cash", "amount_tendered": "ten"}, 400, "invalid", None),
            ({"method": "card_present"}, 400, "invalid", None),
            (
                {"method": "card_present", "terminal_reference": "4111111111111111"},
                400,
                None,
                None,
            ),
            ({"method": "card_online", "token": "tok_sandbox_approve"}, 400, "invalid", None),
            ({"method": "voucher"}, 400, "invalid", "Take cash or a card payment."),
        ],
    )
    def test_a_bad_tender_is_refused_and_nothing_changes(
        self,
        till: Client,
        shop: Shop,
        payment: dict[str, str],
        status: int,
        error: str | None,
        message: str | None,
    ) -> None:
        before = snapshot()
        response = post(till, sale(shop, payment=payment))
        assert response.status_code == status
        if error is not None:
            assert response.json()["error"] == error
        if message is not None:
            assert response.json()["message"] == message
        assert snapshot() == before

    def test_not_enough_stock_is_refused_and_nothing_changes(
        self, till: Client, shop: Shop
    ) -> None:
        before = snapshot()
        response = post(
            till,
            sale(
                shop,
                lines=[{"sku": "PARKA-M", "quantity": 6}],
                payment={"method": "cash", "amount_tendered": "600.00"},
            ),
        )
        assert response.status_code == 409
        assert response.json()["error"] == "out_of_stock"
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("changes", "status", "error"),
        [
            ({"lines": [{"sku": "NOPE-1", "quantity": 1}]}, 400, "unknown_variant"),
            ({"lines": [{"sku": "PARKA-M", "quantity": 0}]}, 400, "invalid"),
            ({"lines": [{"sku": "PARKA-M", "quantity": "1"}]}, 400, "invalid"),
            ({"lines": []}, 400, "empty_order"),
            ({"id": "not-a-uuid"}, 400, "invalid"),
            ({"store": "nowhere"}, 404, "not_found"),
            ({"customer": str(uuid.uuid4())}, 404, "not_found"),
            ({"placed_at": "yesterday"}, 400, "invalid"),
            ({"placed_at": "2020-01-01T10:00:00+00:00"}, 400, "invalid"),
        ],
    )
    def test_bad_sales_are_refused_and_nothing_changes(
        self, till: Client, shop: Shop, changes: dict[str, Any], status: int, error: str
    ) -> None:
        before = snapshot()
        response = post(till, sale(shop, **changes))
        assert (response.status_code, response.json()["error"]) == (status, error)
        assert snapshot() == before

    def test_a_store_the_staff_member_does_not_work_at_is_refused(
        self, till: Client, shop: Shop
    ) -> None:
        before = snapshot()
        response = post(till, sale(shop, store=shop.store_b.code))
        assert response.status_code == 403
        assert response.json() == {
            "error": "not_allowed",
            "message": "You can only act for the stores you work at.",
            "fields": {},
        }
        assert snapshot() == before

    @pytest.mark.parametrize("body", ["not json", "[]", '{"id": 1}'])
    def test_unreadable_bodies_are_refused(self, till: Client, shop: Shop, body: str) -> None:
        response = post(till, body)
        assert response.status_code == 400
        assert Order.objects.count() == 0

    def test_only_signed_in_store_staff_may_sell(
        self, client: Client, shop: Shop, shopper: User
    ) -> None:
        assert post(client, sale(shop)).status_code == 401
        client.force_login(shopper)
        assert post(client, sale(shop)).status_code == 403
        assert Order.objects.count() == 0


class TestOnlineBasket:
    def test_the_basket_is_sold_as_the_ticket_shows_it_and_closed(
        self, till: Client, shop: Shop, anna: Customer
    ) -> None:
        # given: Anna's web basket holds two parkas; at the till she takes one, plus a book
        cart = web_cart(anna, (shop.parka, 2))
        body = sale(
            shop,
            customer=str(anna.public_id),
            cart=cart.pk,
            lines=[{"sku": "PARKA-M", "quantity": 1}, {"sku": "BOOK-1", "quantity": 1}],
            payment={"method": "card_present", "terminal_reference": "TRM-0001"},
        )
        # when
        response = post(till, body)
        # then
        assert response.status_code == 201
        order = Order.objects.get()
        assert (order.cart_id, order.origin_channel, order.channel, order.customer_id) == (
            cart.pk,
            "web",
            "store",
            anna.pk,
        )
        assert sorted(order.lines.values_list("sku", "quantity")) == [
            ("BOOK-1", 1),
            ("PARKA-M", 1),
        ]
        cart.refresh_from_db()
        assert cart.status == "ordered"
        assert response.json()["total"] == "120.00"
        # and a replay is the same order
        again = post(till, body)
        assert (again.status_code, again.json()["number"]) == (200, order.number)
        assert Order.objects.count() == 1

    def test_a_refused_sale_leaves_the_basket_as_it_was(
        self, till: Client, shop: Shop, anna: Customer
    ) -> None:
        cart = web_cart(anna, (shop.parka, 2))
        before = snapshot()
        response = post(
            till,
            sale(
                shop,
                customer=str(anna.public_id),
                cart=cart.pk,
                lines=[{"sku": "PARKA-M", "quantity": 2}, {"sku": "BOOK-1", "quantity": 9}],
                payment={"method": "cash", "amount_tendered": "500.00"},
            ),
        )
        assert response.status_code == 409
        assert snapshot() == before
        assert list(CartLine.objects.values_list("variant__sku", "quantity")) == [("PARKA-M", 2)]

    def test_a_basket_without_its_customer_is_refused(
        self, till: Client, shop: Shop, anna: Customer
    ) -> None:
        cart = web_cart(anna, (shop.parka, 1))
        before = snapshot()
        response = post(till, sale(shop, cart=cart.pk))
        assert response.status_code == 400
        assert response.json()["fields"] == {"cart": ["Attach the basket's customer to the sale."]}
        assert snapshot() == before


class TestItemLookup:
    def test_a_barcode_gives_name_price_and_stock_here(self, till: Client, shop: Shop) -> None:
        response = till.get("/pos/sale/items/", {"code": shop.parka.barcode})
        assert response.json() == {
            "sku": "PARKA-M",
            "barcode": shop.parka.barcode,
            "name": "Harbour Parka Navy / M",
            "unit_price": "100.00",
            "currency": "EUR",
            "available_here": 5,
        }

    def test_an_unknown_barcode_says_so(self, till: Client, shop: Shop) -> None:
        response = till.get("/pos/sale/items/", {"code": "999"})
        assert response.status_code == 404
        assert response.json()["message"] == (
            "No product has the barcode or SKU “999”. Scan it again or type the SKU."
        )


class TestSaleScreen:
    def test_the_screen_brings_the_customer_and_their_basket(
        self,
        till: Client,
        shop: Shop,
        anna: Customer,
        django_assert_num_queries: Any,
    ) -> None:
        web_cart(anna, (shop.parka, 2))
        till.post("/pos/customers/identify/", {"q": "NW00000042"})
        with django_assert_num_queries(8):
            response = till.get("/pos/sale/")
        body = response.content.decode()
        assert '<h2 id="customer-title">Anna Visser</h2>' in body
        assert "2 × Harbour Parka" in body
        assert "Add basket to sale" in body
        data = response.context["sale_data"]
        assert data["customer"] == {"id": str(anna.public_id), "name": "Anna Visser"}
        assert data["basket"]["lines"] == [
            {
                "sku": "PARKA-M",
                "name": "Harbour Parka Navy / M",
                "unit_price": "100.00",
                "quantity": 2,
            }
        ]

    def test_without_a_customer(
        self, till: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        with django_assert_num_queries(4):
            body = till.get("/pos/sale/").content.decode()
        assert "Nothing on this sale yet. Scan a product to start." in body
        assert "Add basket to sale" not in body


class TestReceipt:
    def test_the_receipt_shows_lines_totals_and_change(
        self, till: Client, shop: Shop, django_assert_num_queries: Any
    ) -> None:
        number = post(till, sale(shop)).json()["number"]
        with django_assert_num_queries(7):
            response = till.get(f"/pos/sales/{number}/", {"tendered": "150.00"})
        body = response.content.decode()
        assert "<strong>€10.00</strong>" in body
        assert "of €150.00 handed over" in body
        assert "Harbour Parka Navy / M" in body
        assert '<td class="num">€140.00</td>' in body

    def test_another_stores_receipt_is_not_found(self, till: Client, shop: Shop) -> None:
        other = factories.UserFactory(role=Role.STORE_STAFF)
        other.stores.add(shop.store_b)
        placed = services.order_place(
            actor=other,
            channel=Channel.STORE,
            idempotency_key=str(uuid.uuid4()),
            payment=services.PaymentRequest(method="cash", amount_tendered=Decimal("20.00")),
            fulfilment_method="carry_out",
            lines=[services.LineRequest(sku="BOOK-1", quantity=1)],
            store=shop.store_b,
        )
        assert till.get(f"/pos/sales/{placed.order.number}/").status_code == 404


class TestEmailReceipt:
    def test_the_receipt_goes_out_and_the_address_joins_the_customer(
        self, till: Client, shop: Shop, anna: Customer, smtp_server: Any
    ) -> None:
        number = post(till, sale(shop, customer=str(anna.public_id))).json()["number"]
        # when
        response = till.post(f"/pos/sales/{number}/email/", {"email": " Anna.V@Example.org "})
        # then
        assert response["Location"] == f"/pos/sales/{number}/"
        [message] = smtp_server.messages
        assert message["To"] == "anna.v@example.org"
        assert message["Subject"] == f"Your receipt from Northwind Outfitters, order {number}"
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "1 x Harbour Parka Navy / M (PARKA-M)    €100.00" in text
        assert "Total: €140.00" in text
        assert "<strong>€140.00</strong>" in html
        inbox_process_batch()
        assert set(anna.identities.values_list("kind", "value")) == {
            ("loyalty", "NW00000042"),
            ("email", "anna@example.com"),
            ("phone", anna.phone),
            ("email", "anna.v@example.org"),
        }
        assert TimelineEvent.objects.filter(customer=anna, type="Receipt Emailed").count() == 1

    def test_a_walk_in_receipt_finds_the_customer_by_the_address(
        self, till: Client, shop: Shop, anna: Customer, smtp_server: Any
    ) -> None:
        number = post(till, sale(shop)).json()["number"]
        till.post(f"/pos/sales/{number}/email/", {"email": "anna@example.com"})
        till.post(f"/pos/sales/{number}/email/", {"email": "anna@example.com"})
        inbox_process_batch()
        assert len(smtp_server.messages) == 2  # sending again is a resend
        assert Customer.objects.count() == 1
        [event] = TimelineEvent.objects.filter(type="Receipt Emailed")
        assert (event.customer_id, event.properties["order_id"]) == (anna.pk, number)

    def test_a_bad_address_sends_nothing(self, till: Client, shop: Shop, smtp_server: Any) -> None:
        number = post(till, sale(shop)).json()["number"]
        inbox_before = InboxEvent.objects.count()
        response = till.post(f"/pos/sales/{number}/email/", {"email": "anna@"}, follow=True)
        assert "That is not an e-mail address. Check it with the customer." in (
            response.content.decode()
        )
        assert smtp_server.messages == []
        assert InboxEvent.objects.count() == inbox_before


def web_collect_order(
    shopper: User, *lines: tuple[Any, int], pickup_store: Any, is_collected: bool = False
) -> Order:
    """A web order paid by card, to collect at ``pickup_store`` (already collected, when
    ``is_collected``: the state a return needs)."""
    order = services.order_place(
        actor=shopper,
        channel=Channel.WEB,
        idempotency_key=str(uuid.uuid4()),
        cart=web_cart(shopper.customer, *lines),
        fulfilment_method="click_and_collect",
        pickup_store=pickup_store,
        payment=card(),
    ).order
    if is_collected:
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    return order


def _collect_order(shop: Shop, shopper: User) -> Order:
    return web_collect_order(shopper, (shop.parka, 1), pickup_store=shop.store_a)


class TestClickAndCollect:
    def test_list_ready_and_hand_over(
        self, till: Client, shop: Shop, shopper: User, django_assert_num_queries: Any
    ) -> None:
        order = _collect_order(shop, shopper)
        with django_assert_num_queries(6):
            body = till.get("/pos/collect/").content.decode()
        assert order.number in body
        assert "Mark ready on the shelf" in body
        # when: ready, then handed over with the customer's code
        assert till.post(f"/pos/collect/{order.number}/ready/")["Location"] == "/pos/collect/"
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
        response = till.post(
            f"/pos/collect/{order.number}/hand-over/", {"pickup_code": order.pickup_code}
        )
        assert response["Location"] == "/pos/collect/"
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert shop.stock(shop.parka, shop.store_a) == (4, 0)

    def test_a_wrong_pickup_code_is_refused_and_nothing_changes(
        self, till: Client, shop: Shop, shopper: User
    ) -> None:
        order = _collect_order(shop, shopper)
        till.post(f"/pos/collect/{order.number}/ready/")
        wrong = "000000" if order.pickup_code != "000000" else "111111"
        before = snapshot()
        response = till.post(f"/pos/collect/{order.number}/hand-over/", {"pickup_code": wrong})
        assert response.status_code == 400
        assert (
            f"That is not the pickup code of order {order.number}. Ask the customer"
            in response.content.decode()
        )
        assert snapshot() == before
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP

    def test_another_stores_order_is_not_found(
        self, client: Client, shop: Shop, shopper: User
    ) -> None:
        order = _collect_order(shop, shopper)
        staff_b = factories.UserFactory(role=Role.STORE_STAFF)
        staff_b.stores.add(shop.store_b)
        client.force_login(staff_b)
        before = snapshot()
        assert client.post(f"/pos/collect/{order.number}/ready/").status_code == 404
        assert snapshot() == before


class TestReturns:
    def test_find_an_online_order_and_return_part_of_it_for_cash(
        self, till: Client, shop: Shop, shopper: User
    ) -> None:
        order = web_collect_order(
            shopper, (shop.parka, 1), (shop.book, 2), pickup_store=shop.store_b, is_collected=True
        )
        assert till.get("/pos/returns/", {"number": order.number.lower()})["Location"] == (
            f"/pos/returns/orders/{order.number}/"
        )
        page = till.get(f"/pos/returns/orders/{order.number}/")
        form = page.context["form"]
        book_line = order.lines.get(sku="BOOK-1")
        # when
        response = till.post(
            f"/pos/returns/orders/{order.number}/",
            {
                "idempotency_key": form.initial["idempotency_key"],
                f"line_{book_line.pk}": "1",
                f"restock_{book_line.pk}": "on",
                **{f"line_{line.pk}": "0" for line in order.lines.exclude(pk=book_line.pk)},
                "refund_method": "cash",
                "reason": "a gift, twice",
            },
        )
        # then
        returned = Return.objects.get()
        assert response["Location"] == f"/pos/returns/{returned.pk}/"
        assert (returned.status, returned.refund_method, returned.refund_amount) == (
            "refunded",
            "cash",
            Decimal("20.00"),
        )
        assert returned.received_at_location_id == shop.store_a.pk
        assert shop.stock(shop.book, shop.store_a) == (6, 0)
        receipt = till.get(response["Location"]).content.decode()
        assert "Pay out in cash" in receipt
        assert "<strong>€20.00</strong>" in receipt

    def test_returning_more_than_was_bought_is_refused_and_nothing_changes(
        self, till: Client, shop: Shop
    ) -> None:
        number = post(till, sale(shop)).json()["number"]
        order = Order.objects.get(number=number)
        parka_line = order.lines.get(sku="PARKA-M")
        book_line = order.lines.get(sku="BOOK-1")
        before = snapshot()
        response = till.post(
            f"/pos/returns/orders/{number}/",
            {
                "idempotency_key": str(uuid.uuid4()),
                f"line_{parka_line.pk}": "2",
                f"line_{book_line.pk}": "0",
                "refund_method": "original_payment",
            },
        )
        assert response.status_code == 400
        assert "Only 1 of &#x27;PARKA-M&#x27; can still be returned." in response.content.decode()
        assert snapshot() == before

    def test_nothing_picked_is_refused(self, till: Client, shop: Shop) -> None:
        number = post(till, sale(shop)).json()["number"]
        order = Order.objects.get(number=number)
        before = snapshot()
        response = till.post(
            f"/pos/returns/orders/{number}/",
            {
                "idempotency_key": str(uuid.uuid4()),
                **{f"line_{line.pk}": "0" for line in order.lines.all()},
                "refund_method": "cash",
            },
        )
        assert response.status_code == 400
        assert "Type how many of each item come back (at least one)." in (response.content.decode())
        assert snapshot() == before

    def test_an_unknown_order_number_says_so(self, till: Client, shop: Shop) -> None:
        response = till.get("/pos/returns/", {"number": "NW0000000000"})
        assert response.status_code == 404
        assert "There is no order “NW0000000000”." in response.content.decode()

    def test_the_same_return_sent_twice_is_one_return(self, till: Client, shop: Shop) -> None:
        number = post(till, sale(shop)).json()["number"]
        order = Order.objects.get(number=number)
        data = {
            "idempotency_key": str(uuid.uuid4()),
            **{f"line_{line.pk}": "1" for line in order.lines.all()},
            "refund_method": "original_payment",
        }
        first = till.post(f"/pos/returns/orders/{number}/", data)
        second = till.post(f"/pos/returns/orders/{number}/", data)
        assert first["Location"] == second["Location"]
        assert Return.objects.count() == 1


def test_the_cart_model_is_untouched_by_a_plain_sale(till: Client, shop: Shop) -> None:
    post(till, sale(shop))
    assert Cart.objects.count() == 0


@pytest.mark.parametrize(
    "path", ["/pos/sale/", "/pos/sale/items/?code=PARKA-M", "/pos/collect/", "/pos/returns/"]
)
def test_only_store_staff_open_the_till_screens(
    client: Client, shop: Shop, shopper: User, path: str
) -> None:
    assert client.get(path)["Location"] == f"/accounts/login/?{urlencode({'next': path}, safe='/')}"
    client.force_login(shopper)
    assert client.get(path).status_code == 403


def test_a_product_without_a_store_price_cannot_be_rung_up(till: Client, shop: Shop) -> None:
    online_only = factories.VariantFactory(sku="WEB-ONLY", product__name="Gift Card", name="€25")
    response = till.get("/pos/sale/items/", {"code": online_only.sku})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Gift Card €25 has no store price: it cannot be sold here."
    )


def test_an_identified_customer_without_a_basket(till: Client, shop: Shop, anna: Customer) -> None:
    till.post("/pos/customers/identify/", {"q": "NW00000042"})
    body = till.get("/pos/sale/").content.decode()
    assert "Attach Anna to this sale" in body
    assert "Anna has no open online basket." in body
    assert "Add basket to sale" not in body
