"""The mobile POS: product lookup, stock here and nearby, identifying the customer."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from customers.inbox import inbox_process_batch
from customers.lookup import customer_card_token
from customers.models import AccessLog, Customer, InboxEvent, TimelineEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(store: Any) -> dict[str, Any]:
    store.latitude, store.longitude = Decimal("52.36860"), Decimal("4.89170")  # Amsterdam
    store.save()
    utrecht = factories.StoreFactory(
        name="Utrecht", latitude=Decimal("52.09010"), longitude=Decimal("5.12080")
    )
    rotterdam = factories.StoreFactory(
        name="Rotterdam", latitude=Decimal("51.91960"), longitude=Decimal("4.47640")
    )
    warehouse = factories.WarehouseFactory()
    product = factories.ProductFactory(name="Harbour Wool Parka", brand="Northwind")
    variant = factories.VariantFactory(
        product=product, sku="NW-P-M", barcode="2000000000015", name="Navy / M"
    )
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.STORE),
        amount=Decimal("149.95"),
    )
    factories.StockLevelFactory(variant=variant, location=store, on_hand=3, reserved=1)
    factories.StockLevelFactory(variant=variant, location=utrecht, on_hand=4)
    factories.StockLevelFactory(variant=variant, location=warehouse, on_hand=40)
    return {"store": store, "utrecht": utrecht, "rotterdam": rotterdam, "variant": variant}


@pytest.fixture
def pos(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


class TestLookup:
    @pytest.mark.parametrize("code", ["2000000000015", "nw-p-m", " NW-P-M "])
    def test_a_scanned_or_typed_code_opens_the_product(
        self, pos: Client, shop: Any, code: str
    ) -> None:
        response = pos.get("/pos/lookup/", {"q": code})
        assert response["Location"] == "/pos/products/NW-P-M/"

    def test_words_list_matching_products(self, pos: Client, shop: Any) -> None:
        body = pos.get("/pos/lookup/", {"q": "parka"}).content.decode()
        assert "Harbour Wool Parka" in body
        assert '<a class="chip" href="/pos/products/NW-P-M/">Navy / M</a>' in body

    def test_nothing_found_says_what_to_do(self, pos: Client, shop: Any) -> None:
        body = pos.get("/pos/lookup/", {"q": "submarine"}).content.decode()
        assert "Nothing matches “submarine”. Scan the barcode again" in body

    def test_the_product_shows_price_stock_here_and_nearby_stores_nearest_first(
        self, pos: Client, shop: Any, django_assert_max_num_queries: Any
    ) -> None:
        with django_assert_max_num_queries(10):
            body = pos.get("/pos/products/NW-P-M/").content.decode()
        assert "€149.95" in body
        assert '<span class="badge in-stock">2 available</span>' in body
        assert "(1 more put aside for orders)" in body
        utrecht_row = '<tr><td>Utrecht</td><td class="num">34.7 km</td><td class="num">4</td></tr>'
        rotterdam_row = (
            '<tr><td>Rotterdam</td><td class="num">57.4 km</td><td class="num">0</td></tr>'
        )
        assert utrecht_row in body
        assert rotterdam_row in body
        assert body.index(utrecht_row) < body.index(rotterdam_row)
        assert "Online warehouse: 40 available for delivery." in body

    def test_an_unknown_sku_is_404(self, pos: Client) -> None:
        assert pos.get("/pos/products/NOPE/").status_code == 404


class TestAccess:
    def test_a_shopper_cannot_open_the_pos(self, client: Client, shopper: User) -> None:
        client.force_login(shopper)
        assert client.get("/pos/").status_code == 403
        assert client.post("/pos/customers/identify/", {"q": "x"}).status_code == 403

    def test_staff_switch_only_between_their_own_stores(
        self, pos: Client, staff: User, shop: Any
    ) -> None:
        staff.stores.add(shop["utrecht"])
        assert pos.post("/pos/store/", {"store": shop["utrecht"].pk})["Location"] == "/pos/"
        assert "Utrecht" in pos.get("/pos/").content.decode()
        response = pos.post("/pos/store/", {"store": shop["rotterdam"].pk})
        assert response.status_code == 403
        assert pos.session["pos_store_id"] == shop["utrecht"].pk


class TestIdentify:
    @pytest.fixture
    def anna(self) -> Customer:
        return factories.CustomerFactory(
            email="anna@example.com", phone="+31611111111", loyalty_number="NW00000042"
        )

    @pytest.mark.parametrize(
        "query", ["NW00000042", "nw 0000 0042", "06 1111 1111", "Anna@Example.com"]
    )
    def test_by_card_phone_or_email_opens_the_panel_audits_and_records_the_visit(
        self, pos: Client, staff: User, store: Any, anna: Customer, query: str
    ) -> None:
        response = pos.post("/pos/customers/identify/", {"q": query})
        assert response["Location"] == f"/pos/customers/{anna.public_id}/"
        assert list(AccessLog.objects.values_list("actor_id", "customer_id", "action", "via")) == [
            (staff.pk, anna.pk, "lookup", "POS: identify customer")
        ]
        [visit] = InboxEvent.objects.all()
        assert visit.payload["event"] == "Store Visited"
        assert visit.payload["context"]["internal"] == {
            "customer_id": anna.pk,
            "store_id": store.pk,
            "order_id": None,
        }

    def test_by_the_qr_code_of_their_web_account(self, pos: Client, anna: Customer) -> None:
        response = pos.post("/pos/customers/identify/", {"q": customer_card_token(customer=anna)})
        assert response["Location"] == f"/pos/customers/{anna.public_id}/"

    def test_scanning_twice_in_a_day_is_one_visit_on_the_timeline(
        self, pos: Client, anna: Customer
    ) -> None:
        pos.post("/pos/customers/identify/", {"q": "NW00000042"})
        pos.post("/pos/customers/identify/", {"q": "NW00000042"})
        inbox_process_batch()
        assert TimelineEvent.objects.filter(customer=anna, type="Store Visited").count() == 1

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("12", "Scan a loyalty card or QR code, or type a phone number or e-mail address."),
            ("null", "Scan a loyalty card or QR code, or type a phone number or e-mail address."),
            ("NWC:forged:value", "This QR code is not one of ours."),
            ("0612", "&#x27;0612&#x27; is not a valid phone number."),
            ("nobody@example.com", "No customer matches that."),
        ],
    )
    def test_a_query_that_finds_nobody_says_so_and_logs_nothing(
        self, pos: Client, anna: Customer, query: str, message: str
    ) -> None:
        response = pos.post("/pos/customers/identify/", {"q": query}, follow=True)
        assert message in response.content.decode()
        assert AccessLog.objects.count() == 0
        assert InboxEvent.objects.count() == 0

    def test_an_expired_qr_code_is_refused(self, pos: Client, anna: Customer) -> None:
        with mock.patch("django.core.signing.time.time", return_value=time.time() - 8 * 24 * 3600):
            old = customer_card_token(customer=anna)
        response = pos.post("/pos/customers/identify/", {"q": old}, follow=True)
        assert "This QR code has expired." in response.content.decode()
        assert AccessLog.objects.count() == 0

    def test_the_panel_is_audited_and_hides_erased_customers(
        self, pos: Client, staff: User, anna: Customer
    ) -> None:
        body = pos.get(f"/pos/customers/{anna.public_id}/").content.decode()
        assert anna.display_name in body
        assert list(AccessLog.objects.values_list("action", "via")) == [
            ("view", "POS: customer panel")
        ]
        Customer.objects.filter(pk=anna.pk).update(erased_at="2026-01-01T00:00:00Z")
        assert pos.get(f"/pos/customers/{anna.public_id}/").status_code == 404


def test_the_pos_is_an_installable_app(client: Client) -> None:
    worker = client.get("/pos/sw.js")
    assert worker["Content-Type"] == "application/javascript"
    assert worker["Service-Worker-Allowed"] == "/pos/"
    manifest = json.loads(client.get("/pos/manifest.webmanifest").content)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/pos/",
        "/pos/",
        "standalone",
    )
    assert client.get("/pos/offline/").status_code == 200


def test_the_account_page_shows_a_store_card_qr_code(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    body = client.get("/account/").content.decode()
    assert '<h2 id="card-title">Your store card</h2>' in body
    assert "<svg" in body
    assert "<title>Your store card</title>" in body


def test_store_staff_role_check_is_from_the_permission_module(client: Client, store: Any) -> None:
    unbound = factories.UserFactory(role=Role.STORE_STAFF)
    client.force_login(unbound)
    response = client.get("/pos/")
    assert response.status_code == 403
    assert "not bound to a store yet" in response.content.decode()
