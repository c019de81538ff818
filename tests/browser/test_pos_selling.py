"""Selling on a phone-sized POS: cash and card sales, an online basket pulled into a sale, the
e-receipt, click & collect handover, a return — and sales made while the network is down,
sent exactly once when it is back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from customers.inbox import inbox_process_batch
from customers.models import Customer, TimelineEvent
from interaction_platform.accounts.models import Role, User
from orders.models import Cart, Order, OrderStatus, Return
from tests import factories
from tests.channels.pos.test_selling import web_collect_order
from tests.orders.conftest import Shop, make_shop, web_cart

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(db: Any) -> Shop:
    return make_shop()


@pytest.fixture
def seller(shop: Shop) -> User:
    user = factories.UserFactory(role=Role.STORE_STAFF, first_name="Noor", last_name="Bakker")
    user.stores.add(shop.store_a)
    return user


@pytest.fixture
def anna(db: Any) -> Customer:
    return factories.CustomerFactory(
        first_name="Anna", last_name="Visser", phone="+31611111111", loyalty_number="NW00000042"
    )


def sale_ready(page: Page) -> None:
    """Wait until the sale screen's script has taken over the scan field."""
    page.wait_for_selector("html[data-sale-ready]", state="attached")


def scan(page: Page, code: str) -> None:
    field = page.get_by_label("Scan or type a barcode or SKU", exact=True)
    field.fill(code)
    field.press("Enter")


def test_sell_with_cash_then_card_and_email_the_receipt(
    page: Page,
    live_server: Any,
    shop: Shop,
    seller: User,
    sign_in: Any,
    screenshot: Any,
    smtp_server: Any,
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(seller)
    page.get_by_role("link", name="New sale").click()
    sale_ready(page)
    expect(page.get_by_text("Nothing on this sale yet. Scan a product to start.")).to_be_visible()
    screenshot("pos-sale-empty")
    # a scanner types the barcode and presses Enter; a SKU can be typed
    scan(page, shop.parka.barcode)
    scan(page, "book-1")
    page.get_by_role("button", name="One more Canal Guide Paperback").click()
    expect(page.locator("[data-ticket-total]")).to_have_text("€140.00")
    scan(page, "NOPE-404")
    expect(page.get_by_role("alert")).to_have_text(
        "No product has the barcode or SKU “NOPE-404”. Scan it again or type the SKU."
    )
    screenshot("pos-sale-ticket")
    # too little cash is refused on the spot
    page.get_by_label("Cash handed over").fill("100")
    page.get_by_role("button", name="Take cash").click()
    expect(page.locator("[data-pay-error]")).to_have_text(
        "€100.00 does not cover the total of €140.00."
    )
    page.get_by_label("Cash handed over").fill("150")
    page.get_by_role("button", name="Take cash").click()
    expect(page.get_by_text("Change to give")).to_be_visible()
    expect(page.locator(".change-due strong")).to_have_text("€10.00")
    screenshot("pos-receipt-cash")
    order = Order.objects.get()
    assert (order.total, order.status, order.channel) == (140, "completed", "store")
    # the e-receipt
    page.get_by_label("Customer's e-mail address").fill("walk.in@example.com")
    page.get_by_role("button", name="Send receipt").click()
    expect(page.get_by_text("Receipt sent to walk.in@example.com.")).to_be_visible()
    screenshot("pos-receipt-emailed")
    [message] = smtp_server.messages
    assert message["To"] == "walk.in@example.com"
    # the next sale, by card
    page.get_by_role("link", name="Next sale").click()
    sale_ready(page)
    expect(page.get_by_text("Nothing on this sale yet. Scan a product to start.")).to_be_visible()
    scan(page, "BOOK-1")
    page.get_by_label("Card terminal approval code").fill("TRM-2201")
    page.get_by_role("button", name="Card payment").click()
    expect(page.get_by_role("heading", name="Receipt", exact=True)).to_be_visible()
    expect(page.get_by_text("approval TRM-2201")).to_be_visible()
    screenshot("pos-receipt-card")
    assert sorted(Order.objects.values_list("total", flat=True)) == [20, 140]


def test_find_the_customer_by_phone_and_sell_their_web_basket(
    page: Page,
    live_server: Any,
    shop: Shop,
    seller: User,
    anna: Customer,
    sign_in: Any,
    screenshot: Any,
) -> None:
    cart = web_cart(anna, (shop.parka, 1), (shop.book, 1))
    page.set_viewport_size(PHONE)
    sign_in(seller)
    page.get_by_label("Phone, email or loyalty card").fill("06 1111 1111")
    page.get_by_role("button", name="Identify").click()
    page.get_by_role("link", name="Sell to Anna").click()
    sale_ready(page)
    expect(page.get_by_role("heading", name="Online basket")).to_be_visible()
    screenshot("pos-sale-customer-basket")
    page.get_by_role("button", name="Add basket to sale").click()
    expect(page.get_by_text("For Anna Visser (with their online basket)")).to_be_visible()
    expect(page.locator("[data-ticket-total]")).to_have_text("€120.00")
    screenshot("pos-sale-basket-added")
    page.get_by_label("Card terminal approval code").fill("TRM-3001")
    page.get_by_role("button", name="Card payment").click()
    expect(page.get_by_text("basket started on the web store")).to_be_visible()
    order = Order.objects.get()
    cart.refresh_from_db()
    assert (order.customer_id, order.cart_id, order.origin_channel) == (anna.pk, cart.pk, "web")
    assert cart.status == "ordered"
    # the visit and the sale are on Anna's timeline
    inbox_process_batch()
    assert sorted(TimelineEvent.objects.filter(customer=anna).values_list("type", flat=True)) == [
        "POS Order Completed",
        "Store Visited",
    ]


def test_click_and_collect_handover(
    page: Page,
    live_server: Any,
    shop: Shop,
    seller: User,
    shopper: User,
    sign_in: Any,
    screenshot: Any,
) -> None:
    order = web_collect_order(shopper, (shop.parka, 1), pickup_store=shop.store_a)
    page.set_viewport_size(PHONE)
    sign_in(seller)
    page.get_by_role("link", name="Click & collect").first.click()
    expect(page.get_by_role("heading", name="To prepare 1")).to_be_visible()
    screenshot("pos-collect-to-prepare")
    page.get_by_role("button", name="Mark ready on the shelf").click()
    expect(page.get_by_text(f"Order {order.number} is on the collection shelf.")).to_be_visible()
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    page.get_by_label("Pickup code from the customer").fill(wrong)
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"That is not the pickup code of order {order.number}."
    )
    screenshot("pos-collect-wrong-code")
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    page.get_by_label("Pickup code from the customer").fill(order.pickup_code)
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_text(f"Order {order.number} is handed over.")).to_be_visible()
    expect(page.get_by_text("Nothing on the collection shelf.")).to_be_visible()
    screenshot("pos-collect-done")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_a_return_of_a_web_order_at_the_till(
    page: Page,
    live_server: Any,
    shop: Shop,
    seller: User,
    shopper: User,
    sign_in: Any,
    screenshot: Any,
) -> None:
    order = web_collect_order(
        shopper, (shop.parka, 1), (shop.book, 2), pickup_store=shop.store_b, is_collected=True
    )
    page.set_viewport_size(PHONE)
    sign_in(seller)
    page.get_by_role("link", name="Returns").click()
    page.get_by_label("Order number").fill("NW0000000000")
    page.get_by_role("button", name="Find order").click()
    expect(page.get_by_role("alert")).to_contain_text("There is no order “NW0000000000”.")
    page.get_by_label("Order number").fill(order.number)
    page.get_by_role("button", name="Find order").click()
    expect(page.get_by_role("heading", name=f"Return of {order.number}")).to_be_visible()
    page.get_by_label(re.compile(r"^Canal Guide Paperback")).fill("1")
    page.get_by_label("Cash at the store").check()
    page.get_by_label("Reason").fill("a gift, twice")
    screenshot("pos-return-form")
    page.get_by_role("button", name="Take the return and refund").click()
    expect(page.get_by_text("Pay out in cash")).to_be_visible()
    expect(page.locator(".change-due strong")).to_have_text("€20.00")
    screenshot("pos-return-receipt")
    returned = Return.objects.get()
    assert (returned.status, returned.refund_amount) == ("refunded", 20)


def test_sales_made_offline_are_sent_once_when_the_network_is_back(
    page: Page, live_server: Any, shop: Shop, seller: User, sign_in: Any, screenshot: Any
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(seller)
    page.goto(f"{live_server.url}/pos/sale/")
    # the service worker is installed and controls the page
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    sale_ready(page)
    # products looked up while online stay known on the device
    scan(page, shop.parka.barcode)
    scan(page, "BOOK-1")
    expect(page.locator("[data-ticket-total]")).to_have_text("€120.00")
    # when: the network drops, two sales are made
    page.context.set_offline(True)
    page.get_by_label("Cash handed over").fill("120")
    page.get_by_role("button", name="Take cash").click()
    saved = page.get_by_text("Sale of €120.00 kept on this device. Give €0.00 change.")
    expect(saved).to_be_visible()
    expect(page.locator("[data-sync-status]")).to_have_text("Offline · 1 sale not sent yet")
    page.reload()  # the sale screen itself comes from the device
    sale_ready(page)
    expect(page.locator("[data-sync-status]")).to_have_text("Offline · 1 sale not sent yet")
    scan(page, "BOOK-1")
    expect(page.locator("[data-ticket-total]")).to_have_text("€20.00")
    page.get_by_label("Card terminal approval code").fill("TRM-9001")
    page.get_by_role("button", name="Card payment").click()
    expect(page.locator("[data-sync-status]")).to_have_text("Offline · 2 sales not sent yet")
    expect(page.get_by_text("Sales waiting on this device")).to_be_visible()
    screenshot("pos-offline-two-sales")
    kept = page.evaluate("posSync.listKept().then((rows) => rows.map((row) => row.body))")
    assert len(kept) == 2
    assert Order.objects.count() == 0
    # signing out with unsent sales warns, and can be called off
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Sign out").click()
    assert [message.split(" They stay")[0] for message in dialogs] == [
        "2 sales made offline are not sent yet."
    ]
    expect(page.get_by_role("heading", name="Sale", exact=True)).to_be_visible()
    # then: back online, each is sent once
    page.context.set_offline(False)
    expect(page.locator("[data-sync-status]")).to_be_hidden(timeout=10_000)
    expect(page.get_by_role("heading", name="Sale sent")).to_be_visible()
    screenshot("pos-offline-synced")
    assert sorted(Order.objects.values_list("idempotency_key", flat=True)) == sorted(
        body["id"] for body in kept
    )
    assert sorted(Order.objects.values_list("total", flat=True)) == [20, 120]
    # and replaying them again changes nothing
    page.reload()
    statuses = [
        page.evaluate("(body) => posSync.sendSale(body).then((answer) => answer.status)", body)
        for body in kept
    ]
    assert statuses == [200, 200]
    assert Order.objects.count() == 2
    assert page.evaluate("posSync.countUnsynced()") == 0
    assert Cart.objects.count() == 0
