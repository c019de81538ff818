"""Every bad input of the issue, through the API: a clear 4xx, and nothing changed — no order,
no stock moved, no payment, no voucher use, no cart line, no touchpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product, Variant
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders import services
from orders.models import Cart, CartLine, Order, Payment
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, make_shop, snapshot, web_cart

pytestmark = pytest.mark.django_db


@dataclass
class World:
    shop: Shop
    shopper: User
    app: APIClient
    cart: Cart
    staff_a: APIClient
    agent: APIClient
    other_cart: Cart
    other_order: Order
    paid_order: Order


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(db: Any) -> World:
    shop = make_shop()
    shopper = factories.UserFactory(role=Role.SHOPPER)
    factories.CustomerFactory(user=shopper)
    shopper.refresh_from_db()
    paid_order = services.order_place(
        actor=shopper,
        channel=Channel.APP,
        idempotency_key="own-paid-order-1",
        cart=web_cart(shopper.customer, (shop.parka, 1)),
        fulfilment_method="click_and_collect",
        pickup_store=shop.store_a,
        payment=card(),
    ).order
    cart = web_cart(shopper.customer, (shop.book, 1))
    staff_a = factories.UserFactory(role=Role.STORE_STAFF)
    staff_a.stores.add(shop.store_a)
    other = factories.UserFactory(role=Role.SHOPPER)
    other_customer = factories.CustomerFactory(user=other)
    other_order = services.order_place(
        actor=other,
        channel=Channel.APP,
        idempotency_key="other-order-1",
        cart=web_cart(other_customer, (shop.parka, 1)),
        fulfilment_method="click_and_collect",
        pickup_store=shop.store_a,
        payment=card(),
    ).order
    other_cart = web_cart(other_customer, (shop.book, 2))
    return World(
        shop=shop,
        shopper=shopper,
        app=_client(shopper),
        cart=cart,
        staff_a=_client(staff_a),
        agent=_client(factories.UserFactory(role=Role.AGENT)),
        other_cart=other_cart,
        other_order=other_order,
        paid_order=paid_order,
    )


def _checkout(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cart": world.cart.pk,
        "fulfilment_method": "delivery",
        "delivery_address": ADDRESS,
        "payment": {"method": "card_online", "token": "tok_sandbox_approve"},
    }
    body.update(changes)
    return body


def _refused(response: Any, status: int, error: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["error"]) == (status, error), response.json()
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def unchanged() -> Iterator[Callable[[], None]]:
    """Take the snapshot when asked, and compare at the end of the test."""
    taken: list[dict[str, Any]] = []

    def take() -> None:
        taken.append(snapshot())

    yield take
    assert taken, "the test never took its snapshot"
    assert snapshot() == taken[0]


# --- quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (-1, "Ensure this value is greater than or equal to 1."),
        (0, "Ensure this value is greater than or equal to 1."),
        (1.5, "A valid integer is required."),
        ("2", "A valid integer is required."),
        (100, "Ensure this value is less than or equal to 99."),
        (10**30, "Ensure this value is less than or equal to 99."),
        (True, "A valid integer is required."),
    ],
)
def test_bad_quantities_in_a_cart(
    world: World, unchanged: Callable[[], None], quantity: Any, message: str
) -> None:
    unchanged()
    response = world.app.post(
        f"/api/v1/carts/{world.cart.pk}/lines/",
        {"sku": "BOOK-1", "quantity": quantity},
        format="json",
    )
    assert _refused(response, 400, "invalid")["fields"] == {"quantity": [message]}


@pytest.mark.parametrize("quantity", [-3, 0, 2.5, 1000, 2**63])
def test_bad_quantities_in_a_pos_sale(
    world: World, unchanged: Callable[[], None], quantity: Any
) -> None:
    unchanged()
    response = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "ams-a",
            "lines": [{"sku": "BOOK-1", "quantity": quantity}],
            "fulfilment_method": "carry_out",
            "payment": {"method": "cash", "amount_tendered": "50.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:bad-qty",
    )
    assert list(_refused(response, 400, "invalid")["fields"]) == ["lines.0.quantity"]


def test_the_same_sku_on_two_lines(world: World, unchanged: Callable[[], None]) -> None:
    unchanged()
    response = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "ams-a",
            "lines": [{"sku": "BOOK-1", "quantity": 1}, {"sku": "book-1", "quantity": 2}],
            "fulfilment_method": "carry_out",
            "payment": {"method": "cash", "amount_tendered": "100.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:dup-sku",
    )
    assert _refused(response, 400, "duplicate_line")["fields"] == {
        "lines.1.sku": ["Same product as line 0."]
    }


# --- variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["unknown", "unpublished variant", "unpublished product"])
def test_unknown_or_unpublished_variants(
    world: World, unchanged: Callable[[], None], case: str
) -> None:
    sku = "NO-SUCH-SKU"
    if case != "unknown":
        hidden = factories.VariantFactory(sku="HIDDEN-1")
        factories.PriceFactory(variant=hidden)
        if case == "unpublished variant":
            Variant.objects.filter(pk=hidden.pk).update(is_published=False)
        else:
            Product.objects.filter(pk=hidden.product_id).update(is_published=False)
        sku = "HIDDEN-1"
    unchanged()
    in_cart = world.app.post(
        f"/api/v1/carts/{world.cart.pk}/lines/", {"sku": sku, "quantity": 1}, format="json"
    )
    at_till = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "ams-a",
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfilment_method": "carry_out",
            "payment": {"method": "cash", "amount_tendered": "100.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:unknown",
    )
    assert _refused(in_cart, 400, "unknown_variant")["fields"] == {
        "sku": ["No product with this SKU is for sale."]
    }
    assert _refused(at_till, 400, "unknown_variant")["fields"] == {
        "lines.0.sku": ["No product with this SKU is for sale."]
    }


def test_a_variant_unpublished_while_in_the_cart(
    world: World, unchanged: Callable[[], None]
) -> None:
    Variant.objects.filter(pk=world.shop.book.pk).update(is_published=False)
    unchanged()
    response = world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="unpublished-1"
    )
    assert _refused(response, 400, "unknown_variant")["message"] == (
        "No longer for sale: BOOK-1. Remove it from the cart."
    )


# --- other people's things, other stores ------------------------------------------------------


def test_another_customers_cart(world: World, unchanged: Callable[[], None]) -> None:
    unchanged()
    checkout = world.app.post(
        "/api/v1/orders/",
        _checkout(world, cart=world.other_cart.pk),
        format="json",
        HTTP_IDEMPOTENCY_KEY="not-my-cart-1",
    )
    edit = world.app.put(
        f"/api/v1/carts/{world.other_cart.pk}/lines/BOOK-1/", {"quantity": 5}, format="json"
    )
    _refused(checkout, 404, "not_found")
    _refused(edit, 404, "not_found")


def test_another_customers_order(world: World, unchanged: Callable[[], None]) -> None:
    line = world.other_order.lines.get()
    unchanged()
    number = world.other_order.number
    _refused(world.app.get(f"/api/v1/orders/{number}/"), 404, "not_found")
    _refused(
        world.app.post(f"/api/v1/orders/{number}/cancel/", {}, format="json"), 404, "not_found"
    )
    returned = world.app.post(
        "/api/v1/returns/",
        {"order": number, "lines": [{"line": line.pk, "quantity": 1}], "kind": "postal"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="not-my-order-1",
    )
    _refused(returned, 404, "not_found")


def test_staff_of_store_a_acting_for_store_b(world: World, unchanged: Callable[[], None]) -> None:
    b_order = services.order_place(
        actor=world.shopper,
        channel=Channel.APP,
        idempotency_key="for-store-b-1",
        cart=world.cart,
        fulfilment_method="click_and_collect",
        pickup_store=world.shop.store_b,
        payment=card(),
    ).order
    unchanged()
    sale = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "rtm-b",
            "lines": [{"sku": "BOOK-1", "quantity": 1}],
            "fulfilment_method": "carry_out",
            "payment": {"method": "cash", "amount_tendered": "20.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:for-b",
    )
    ready = world.staff_a.post(f"/api/v1/orders/{b_order.number}/ready/")
    cancel = world.staff_a.post(f"/api/v1/orders/{b_order.number}/cancel/", {}, format="json")
    opened = world.staff_a.post(
        "/api/v1/carts/",
        {"customer": str(world.shopper.customer.public_id), "store": "rtm-b"},
        format="json",
    )
    assert _refused(sale, 403, "not_allowed")["message"] == (
        "You can only act for the stores you work at."
    )
    _refused(ready, 403, "not_allowed")
    _refused(cancel, 403, "not_allowed")
    _refused(opened, 403, "not_allowed")


# --- money ------------------------------------------------------------------------------------


def test_a_refund_above_what_was_captured(world: World, unchanged: Callable[[], None]) -> None:
    unchanged()
    response = world.agent.post(
        f"/api/v1/orders/{world.paid_order.number}/refunds/",
        {"amount": "100.01", "reason": "goodwill"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="refund-too-much",
    )
    assert _refused(response, 409, "refund_too_large")["fields"] == {"amount": ["At most 100.00."]}


@pytest.mark.parametrize(
    "field",
    ["price", "total", "currency", "paid", "unit_price", "tax"],
)
def test_client_sent_money_is_refused(
    world: World, unchanged: Callable[[], None], field: str
) -> None:
    unchanged()
    response = world.app.post(
        "/api/v1/orders/",
        _checkout(world, **{field: "0.01"}),
        format="json",
        HTTP_IDEMPOTENCY_KEY="client-money-1",
    )
    assert _refused(response, 400, "invalid")["fields"] == {
        field: ["Computed by the server; never sent."]
    }


def test_a_client_sent_line_price_is_refused(world: World, unchanged: Callable[[], None]) -> None:
    unchanged()
    response = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "ams-a",
            "lines": [{"sku": "PARKA-M", "quantity": 1, "price": "1.00"}],
            "fulfilment_method": "carry_out",
            "payment": {"method": "cash", "amount_tendered": "1.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:line-price",
    )
    assert _refused(response, 400, "invalid")["fields"] == {
        "lines.0.price": ["Computed by the server; never sent."]
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": "00000000-0000-0000-0000-000000000001"}, "customer"),
        ({"store": "ams-a"}, "store"),
    ],
)
def test_a_shopper_cannot_name_another_customer_or_a_selling_store(
    world: World, unchanged: Callable[[], None], changes: dict[str, Any], field: str
) -> None:
    unchanged()
    response = world.app.post(
        "/api/v1/orders/",
        _checkout(world, **changes),
        format="json",
        HTTP_IDEMPOTENCY_KEY="shopper-names-1",
    )
    assert list(_refused(response, 400, "invalid")["fields"]) == [field]


def test_a_card_number_instead_of_a_token(world: World, unchanged: Callable[[], None]) -> None:
    unchanged()
    response = world.app.post(
        "/api/v1/orders/",
        _checkout(world, payment={"method": "card_online", "token": "5555555555554444"}),
        format="json",
        HTTP_IDEMPOTENCY_KEY="pan-api-1",
    )
    _refused(response, 400, "card_number_refused")


# --- vouchers ---------------------------------------------------------------------------------


def test_voucher_stacking(world: World, unchanged: Callable[[], None]) -> None:
    factories.VoucherFactory(code="FIRST")
    factories.VoucherFactory(code="SECOND")
    world.app.put(f"/api/v1/carts/{world.cart.pk}/voucher/", {"code": "FIRST"}, format="json")
    unchanged()
    response = world.app.put(
        f"/api/v1/carts/{world.cart.pk}/voucher/", {"code": "SECOND"}, format="json"
    )
    _refused(response, 409, "voucher_stacking")


def test_a_voucher_that_expired_before_checkout(
    world: World, unchanged: Callable[[], None]
) -> None:
    voucher = factories.VoucherFactory(code="SOON", valid_until=timezone.now() + timedelta(days=1))
    world.app.put(f"/api/v1/carts/{world.cart.pk}/voucher/", {"code": "SOON"}, format="json")
    type(voucher).objects.filter(pk=voucher.pk).update(
        valid_until=timezone.now() - timedelta(minutes=1)
    )
    unchanged()
    response = world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="expired-v-1"
    )
    _refused(response, 400, "voucher_expired")


def test_an_expired_voucher_cannot_be_applied(world: World, unchanged: Callable[[], None]) -> None:
    factories.VoucherFactory(code="OLD", valid_until=timezone.now() - timedelta(days=1))
    unchanged()
    response = world.app.put(
        f"/api/v1/carts/{world.cart.pk}/voucher/", {"code": "OLD"}, format="json"
    )
    _refused(response, 400, "voucher_expired")


def test_a_single_use_voucher_used_up(world: World, unchanged: Callable[[], None]) -> None:
    factories.VoucherFactory(code="ONCE", usage_limit=1, times_used=1)
    unchanged()
    response = world.staff_a.post(
        "/api/v1/orders/",
        {
            "store": "ams-a",
            "lines": [{"sku": "BOOK-1", "quantity": 1}],
            "fulfilment_method": "carry_out",
            "voucher_code": "ONCE",
            "payment": {"method": "cash", "amount_tendered": "20.00"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-a:used-up",
    )
    _refused(response, 400, "voucher_used_up")


def test_a_personal_voucher_used_twice_by_one_customer(
    world: World, unchanged: Callable[[], None]
) -> None:
    factories.VoucherFactory(code="MINE", usage_limit_per_customer=1)
    world.app.put(f"/api/v1/carts/{world.cart.pk}/voucher/", {"code": "MINE"}, format="json")
    first = world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="personal-v-1"
    )
    assert first.status_code == 201, first.json()
    second_cart = web_cart(world.shopper.customer, (world.shop.book, 1))
    world.app.put(f"/api/v1/carts/{second_cart.pk}/voucher/", {"code": "MINE"}, format="json")
    unchanged()
    response = world.app.post(
        "/api/v1/orders/",
        _checkout(world, cart=second_cart.pk),
        format="json",
        HTTP_IDEMPOTENCY_KEY="personal-v-2",
    )
    _refused(response, 400, "voucher_used_by_customer")


# --- skipping steps ---------------------------------------------------------------------------


def test_checking_out_an_empty_cart(world: World, unchanged: Callable[[], None]) -> None:
    CartLine.objects.filter(cart=world.cart).delete()
    unchanged()
    response = world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="empty-cart-1"
    )
    _refused(response, 400, "cart_empty")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"delivery_address": None}, "delivery_address"),
        ({"fulfilment_method": "click_and_collect", "delivery_address": None}, "pickup_store"),
        ({"payment": {"method": "card_online"}}, "payment.token"),
        ({"fulfilment_method": "carry_out"}, "fulfilment_method"),
    ],
)
def test_checking_out_without_a_step(
    world: World, unchanged: Callable[[], None], changes: dict[str, Any], field: str
) -> None:
    body = {name: value for name, value in _checkout(world, **changes).items() if value is not None}
    unchanged()
    response = world.app.post(
        "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="missing-step-1"
    )
    assert field in _refused(response, 400, response.json()["error"])["fields"]
    assert response.status_code == 400


def test_checking_out_without_an_idempotency_key(
    world: World, unchanged: Callable[[], None]
) -> None:
    unchanged()
    response = world.app.post("/api/v1/orders/", _checkout(world), format="json")
    _refused(response, 400, "idempotency_key_missing")


def test_checking_out_an_ordered_cart_again_with_a_new_key(
    world: World, unchanged: Callable[[], None]
) -> None:
    world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="first-go-1"
    )
    unchanged()
    response = world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="second-go-1"
    )
    _refused(response, 409, "cart_closed")


def test_collecting_before_ready_and_with_a_wrong_code(
    world: World, unchanged: Callable[[], None]
) -> None:
    number = world.paid_order.number
    unchanged()
    early = world.staff_a.post(
        f"/api/v1/orders/{number}/collect/", {"pickup_code": world.paid_order.pickup_code}
    )
    _refused(early, 409, "invalid_transition")


def test_handing_over_with_a_wrong_code(world: World, unchanged: Callable[[], None]) -> None:
    number = world.paid_order.number
    world.staff_a.post(f"/api/v1/orders/{number}/ready/")
    unchanged()
    wrong = world.staff_a.post(f"/api/v1/orders/{number}/collect/", {"pickup_code": "999999x"})
    _refused(wrong, 400, "wrong_pickup_code")


def test_returning_an_order_not_yet_collected(world: World, unchanged: Callable[[], None]) -> None:
    line = world.paid_order.lines.get()
    unchanged()
    response = world.staff_a.post(
        "/api/v1/returns/",
        {
            "order": world.paid_order.number,
            "lines": [{"line": line.pk, "quantity": 1}],
            "kind": "in_store",
            "location": "ams-a",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="early-return-1",
    )
    _refused(response, 409, "invalid_transition")


# --- pay-by-link ------------------------------------------------------------------------------


def _link(world: World) -> str:
    response = world.agent.post(
        "/api/v1/orders/",
        {
            "customer": str(world.shopper.customer.public_id),
            "lines": [{"sku": "PARKA-M", "quantity": 1}],
            "fulfilment_method": "delivery",
            "delivery_address": ADDRESS,
            "payment": {"method": "pay_by_link"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="console:link-bad",
    )
    link: str = response.json()["payment_link"].removeprefix("http://testserver")
    return link


@pytest.mark.parametrize(
    "tamper",
    [
        lambda link: link.replace("/pay/", "/pay/x"),
        lambda link: link[:-3] + "AA/",
        lambda link: "/pay/" + link.split(":", 1)[1],
    ],
)
def test_a_tampered_payment_link(
    world: World, unchanged: Callable[[], None], tamper: Callable[[str], str]
) -> None:
    link = _link(world)
    attempt = Payment.objects.get(method="pay_by_link")
    unchanged()
    response = Client().post(
        tamper(link), {"attempt": attempt.pk, "card_token": "tok_sandbox_approve"}
    )
    assert response.status_code == 404
    assert "This payment link is not valid." in response.content.decode()


def test_paying_a_link_of_a_cancelled_order(world: World, unchanged: Callable[[], None]) -> None:
    link = _link(world)
    order = Order.objects.get(payments__method="pay_by_link")
    world.agent.post(f"/api/v1/orders/{order.number}/cancel/", {"reason": "asked"}, format="json")
    attempt = Payment.objects.get(method="pay_by_link")
    unchanged()
    response = Client().post(link, {"attempt": attempt.pk, "card_token": "tok_sandbox_approve"})
    assert response.status_code == 410
    assert Order.objects.get(pk=order.pk).paid_total == Decimal("0.00")


def test_the_same_key_with_other_content(world: World, unchanged: Callable[[], None]) -> None:
    world.app.post(
        "/api/v1/orders/", _checkout(world), format="json", HTTP_IDEMPOTENCY_KEY="reused-key-1"
    )
    unchanged()
    response = world.app.post(
        "/api/v1/orders/",
        _checkout(world, fulfilment_method="click_and_collect", pickup_store="ams-a"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="reused-key-1",
    )
    _refused(response, 409, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("header", "field", "error"),
    [
        ("header-key-0001", "body-key-00001", "invalid"),
        ("short", None, "idempotency_key_invalid"),
        ("has spaces in it", None, "idempotency_key_invalid"),
    ],
)
def test_a_bad_idempotency_key(
    world: World, unchanged: Callable[[], None], header: str, field: str | None, error: str
) -> None:
    body = _checkout(world) if field is None else _checkout(world, idempotency_key=field)
    unchanged()
    response = world.app.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=header)
    assert list(_refused(response, 400, error)["fields"]) == ["idempotency_key"]
