"""The REST API (the mobile app's channel, and the POS's and console's): carts, checkout,
orders, payments and returns, with object-level permissions and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from customers.models import AccessLog
from interaction_platform.accounts.models import User
from orders.models import Order, Payment, Return
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, snapshot

pytestmark = pytest.mark.django_db

Clients = Callable[[User], APIClient]


def _post(client: APIClient, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body, format="json", **headers)


def _open_cart(client: APIClient, *lines: tuple[str, int], **body: Any) -> int:
    response = client.post("/api/v1/carts/", body, format="json")
    assert response.status_code in {200, 201}, response.json()
    cart_id: int = response.json()["id"]
    for sku, quantity in lines:
        added = client.post(
            f"/api/v1/carts/{cart_id}/lines/", {"sku": sku, "quantity": quantity}, format="json"
        )
        assert added.status_code == 200, added.json()
    return cart_id


class TestShopperInTheApp:
    def test_cart_checkout_and_repeat(self, shop: Shop, shopper: User, client_for: Clients) -> None:
        app = client_for(shopper)
        # given: a cart with a voucher
        factories.VoucherFactory(code="WELCOME10", value=Decimal("10"))
        cart_id = _open_cart(app, ("PARKA-M", 1), ("BOOK-1", 1))
        with_voucher = app.put(f"/api/v1/carts/{cart_id}/voucher/", {"code": "welcome10"})
        assert with_voucher.status_code == 200
        cart = with_voucher.json()
        assert (
            cart["voucher_code"],
            cart["goods_total"],
            cart["discount_total"],
            cart["total"],
        ) == (
            "WELCOME10",
            "120.00",
            "12.00",
            "108.00",
        )
        assert [line["unit_price"] for line in cart["lines"]] == ["100.00", "20.00"]
        # when: checkout with delivery and a sandbox card
        body = {
            "cart": cart_id,
            "fulfilment_method": "delivery",
            "delivery_address": ADDRESS,
            "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
        }
        response = _post(app, "/api/v1/orders/", body, key="app-7f3c1e0a")
        # then
        assert response.status_code == 201, response.json()
        order = response.json()
        assert (order["status"], order["channel"], order["origin_channel"]) == (
            "paid",
            "app",
            "app",
        )
        assert (order["total"], order["paid_total"], order["discount_total"]) == (
            "108.00",
            "108.00",
            "12.00",
        )
        assert order["customer"] == str(shopper.customer.public_id)
        assert [(line["sku"], line["line_total"]) for line in order["lines"]] == [
            ("PARKA-M", "90.00"),
            ("BOOK-1", "18.00"),
        ]
        assert order["payments"][0]["status"] == "captured"
        assert order["payment_link"] is None
        assert order["change_due"] is None
        assert "Idempotent-Replayed" not in response
        # the repeat answers the same, and says so
        again = _post(app, "/api/v1/orders/", body, key="app-7f3c1e0a")
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert again.json()["number"] == order["number"]
        assert Order.objects.count() == 1
        # the order is in the shopper's list and readable
        listed = app.get("/api/v1/orders/").json()
        assert [row["number"] for row in listed["results"]] == [order["number"]]
        assert app.get(f"/api/v1/orders/{order['number']}/").json()["number"] == order["number"]
        assert AccessLog.objects.count() == 0  # a shopper reading their own data is not audited

    def test_the_key_may_come_in_the_body(
        self, shop: Shop, shopper: User, client_for: Clients
    ) -> None:
        app = client_for(shopper)
        body = {
            "idempotency_key": "body-key-0001",
            "cart": _open_cart(app, ("BOOK-1", 1)),
            "fulfilment_method": "click_and_collect",
            "pickup_store": "ams-a",
            "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
        }
        response = _post(app, "/api/v1/orders/", body)
        assert response.status_code == 201
        assert len(response.json()["pickup_code"]) == 6
        assert Order.objects.get().idempotency_key == "body-key-0001"

    def test_a_declined_card_answers_409_and_gives_the_cart_back(
        self, shop: Shop, shopper: User, client_for: Clients
    ) -> None:
        app = client_for(shopper)
        cart_id = _open_cart(app, ("BOOK-1", 1))
        body = {
            "cart": cart_id,
            "fulfilment_method": "click_and_collect",
            "pickup_store": "ams-a",
            "payment": {"method": "card_online", "token": "tok_sandbox_decline"},
        }
        response = _post(app, "/api/v1/orders/", body, key="declined-api-1")
        assert response.status_code == 409
        assert response.json() == {
            "error": "payment_declined",
            "message": "The payment was declined. Nothing was charged; try another card.",
            "fields": {},
        }
        assert app.get(f"/api/v1/carts/{cart_id}/").json()["status"] == "open"

    def test_a_timeout_answers_409_and_the_same_key_finishes_it(
        self, shop: Shop, shopper: User, client_for: Clients
    ) -> None:
        app = client_for(shopper)
        body = {
            "cart": _open_cart(app, ("BOOK-1", 1)),
            "fulfilment_method": "click_and_collect",
            "pickup_store": "ams-a",
            "payment": {"method": "card_online", "token": "tok_sandbox_timeout"},
        }
        first = _post(app, "/api/v1/orders/", body, key="timeout-api-1")
        assert (first.status_code, first.json()["error"]) == (409, "payment_pending")
        second = _post(app, "/api/v1/orders/", body, key="timeout-api-1")
        assert (second.status_code, second.json()["status"]) == (201, "paid")
        assert Payment.objects.get().captured_amount == Decimal("20.00")


class TestStaffAndAgents:
    def test_a_pos_sale_with_cash_gives_change(
        self, shop: Shop, staff_a: User, client_for: Clients
    ) -> None:
        pos = client_for(staff_a)
        response = _post(
            pos,
            "/api/v1/orders/",
            {
                "store": "ams-a",
                "lines": [{"sku": "BOOK-1", "quantity": 2}],
                "fulfilment_method": "carry_out",
                "payment": {"method": "cash", "amount_tendered": "50.00"},
            },
            key="pos-a:api-0001",
        )
        assert response.status_code == 201, response.json()
        order = response.json()
        assert (order["status"], order["channel"], order["total"], order["change_due"]) == (
            "completed",
            "store",
            "40.00",
            "10.00",
        )
        assert order["customer"] is None

    def test_an_agent_gets_a_payment_link_and_every_look_is_audited(
        self, shop: Shop, agent: User, client_for: Clients
    ) -> None:
        console = client_for(agent)
        customer = factories.CustomerFactory()
        cart_id = _open_cart(console, ("PARKA-M", 1), customer=str(customer.public_id))
        response = _post(
            console,
            "/api/v1/orders/",
            {
                "cart": cart_id,
                "fulfilment_method": "delivery",
                "delivery_address": ADDRESS,
                "payment": {"method": "pay_by_link"},
            },
            key="console:api-0001",
        )
        assert response.status_code == 201, response.json()
        order = response.json()
        assert order["status"] == "pending_payment"
        assert order["payment_link"].startswith("http://testserver/pay/")
        console.get(f"/api/v1/orders/{order['number']}/")
        assert list(
            AccessLog.objects.order_by("pk").values_list("actor", "customer", "action", "via")
        ) == [
            (agent.pk, customer.pk, "edit", "POST /api/v1/carts/"),
            (agent.pk, customer.pk, "edit", f"POST /api/v1/carts/{cart_id}/lines/"),
            (agent.pk, customer.pk, "edit", "POST /api/v1/orders/"),
            (agent.pk, customer.pk, "view", f"GET /api/v1/orders/{order['number']}/"),
        ]

    def test_staff_list_a_customers_orders_with_the_customer_named(
        self, shop: Shop, agent: User, client_for: Clients
    ) -> None:
        console = client_for(agent)
        assert console.get("/api/v1/orders/").status_code == 400
        customer = factories.CustomerFactory()
        response = console.get(f"/api/v1/orders/?customer={customer.public_id}")
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
        assert AccessLog.objects.get().via == "GET /api/v1/orders/"


class TestWalkthrough:
    """docs/commerce.md: place a web order, collect it in a store, return it at another."""

    def test_order_online_collect_in_amsterdam_return_in_rotterdam(
        self, shop: Shop, shopper: User, staff_a: User, staff_b: User, client_for: Clients
    ) -> None:
        app, amsterdam, rotterdam = client_for(shopper), client_for(staff_a), client_for(staff_b)
        # 1. the shopper orders for collection in Amsterdam
        placed = _post(
            app,
            "/api/v1/orders/",
            {
                "cart": _open_cart(app, ("PARKA-M", 1), ("BOOK-1", 1)),
                "fulfilment_method": "click_and_collect",
                "pickup_store": "ams-a",
                "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
            },
            key="walkthrough-order-1",
        ).json()
        number, code = placed["number"], placed["pickup_code"]
        # 2. Amsterdam puts it on the shelf and hands it over against the pickup code
        assert amsterdam.get(f"/api/v1/orders/{number}/").json()["pickup_code"] is None
        assert amsterdam.post(f"/api/v1/orders/{number}/ready/").json()["status"] == (
            "ready_for_pickup"
        )
        collected = amsterdam.post(f"/api/v1/orders/{number}/collect/", {"pickup_code": code})
        assert collected.json()["status"] == "completed"
        # 3. the parka comes back in Rotterdam
        parka_line = next(line for line in placed["lines"] if line["sku"] == "PARKA-M")
        returned = _post(
            rotterdam,
            "/api/v1/returns/",
            {
                "order": number,
                "lines": [{"line": parka_line["id"], "quantity": 1}],
                "kind": "in_store",
                "location": "rtm-b",
                "reason": "too small",
            },
            key="walkthrough-return-1",
        )
        assert returned.status_code == 201, returned.json()
        body = returned.json()
        assert (body["status"], body["refund_amount"], body["received_at_location"]) == (
            "refunded",
            "100.00",
            "rtm-b",
        )
        assert [r["method"] for r in body["refunds"]] == ["original_payment"]
        assert shop.stock(shop.parka, shop.store_a) == (4, 0)
        assert shop.stock(shop.parka, shop.store_b) == (6, 0)
        final = app.get(f"/api/v1/orders/{number}/").json()
        assert (final["refunded_total"], final["lines"][0]["returned_quantity"]) == ("100.00", 1)
        assert app.get(f"/api/v1/returns/{body['id']}/").json()["id"] == body["id"]
        payments = app.get(f"/api/v1/orders/{number}/payments/").json()
        assert [r["amount"] for r in payments["refunds"]] == ["100.00"]


class TestPostalReturnByApi:
    def test_requested_in_the_app_received_at_the_warehouse(
        self,
        shop: Shop,
        shopper: User,
        warehouse_staff: User,
        client_for: Clients,
    ) -> None:
        app, warehouse = client_for(shopper), client_for(warehouse_staff)
        placed = _post(
            app,
            "/api/v1/orders/",
            {
                "cart": _open_cart(app, ("BOOK-1", 1)),
                "fulfilment_method": "delivery",
                "delivery_address": ADDRESS,
                "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
            },
            key="postal-api-order",
        ).json()
        number = placed["number"]
        assert warehouse.post(f"/api/v1/orders/{number}/ship/", {}).json()["status"] == "shipped"
        assert warehouse.post(f"/api/v1/orders/{number}/deliver/").json()["status"] == "completed"
        requested = _post(
            app,
            "/api/v1/returns/",
            {
                "order": number,
                "lines": [{"line": placed["lines"][0]["id"], "quantity": 1}],
                "kind": "postal",
            },
            key="postal-api-return",
        ).json()
        assert requested["status"] == "requested"
        received = warehouse.post(
            f"/api/v1/returns/{requested['id']}/receive/", {"location": "tilburg-dc"}
        )
        assert received.json()["status"] == "refunded"
        assert Return.objects.get().received_at_location == shop.warehouse


class TestObjectPermissions:
    def test_another_shoppers_cart_order_and_return_are_not_found(
        self, shop: Shop, shopper: User, client_for: Clients, staff_a: User
    ) -> None:
        other = factories.UserFactory(role="shopper")
        factories.CustomerFactory(user=other)
        theirs = client_for(other)
        cart_id = _open_cart(theirs, ("BOOK-1", 1))
        order = _post(
            theirs,
            "/api/v1/orders/",
            {
                "cart": cart_id,
                "fulfilment_method": "click_and_collect",
                "pickup_store": "ams-a",
                "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
            },
            key="someone-else-1",
        ).json()
        mine = client_for(shopper)
        before = snapshot()
        for method, path, body in [
            ("get", f"/api/v1/carts/{cart_id}/", None),
            ("post", f"/api/v1/carts/{cart_id}/lines/", {"sku": "BOOK-1", "quantity": 1}),
            ("get", f"/api/v1/orders/{order['number']}/", None),
            ("get", f"/api/v1/orders/{order['number']}/payments/", None),
            ("post", f"/api/v1/orders/{order['number']}/cancel/", {}),
        ]:
            response = getattr(mine, method)(path, body, format="json")
            assert (response.status_code, response.json()["error"]) == (404, "not_found"), path
        assert snapshot() == before

    def test_a_marketer_has_no_business_with_carts(
        self, shop: Shop, marketer: User, client_for: Clients
    ) -> None:
        response = client_for(marketer).post("/api/v1/carts/", {}, format="json")
        assert response.status_code == 403

    def test_anonymous_callers_are_asked_to_sign_in(
        self, shop: Shop, api_client: APIClient
    ) -> None:
        response = api_client.post("/api/v1/orders/", {}, format="json")
        assert response.status_code == 401
