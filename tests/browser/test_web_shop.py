"""The web store's basket, checkout, orders, returns and contact form in a real browser,
with screenshots of each screen, and one checkout with JavaScript switched off."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from customers.models import Case, CaseStatus
from interaction_platform.accounts.models import User
from orders.models import Order, OrderStatus, Return
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.orders.conftest import Shop, make_shop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(db: Any) -> Shop:
    made = make_shop()
    made.parka.product.slug = "harbour-parka"
    made.parka.product.description = "A warm wool parka for wet winters."
    made.parka.product.save(update_fields=["slug", "description"])
    return made


def _answer_cookie_banner(page: Page, live_server: Any) -> None:
    page.context.add_cookies(
        [{"name": "analytics_consent", "value": "denied", "url": live_server.url}]
    )


def _add_parka(page: Page, live_server: Any, quantity: str = "1") -> None:
    page.goto(f"{live_server.url}/p/harbour-parka/")
    page.get_by_label("Quantity").fill(quantity)
    page.get_by_role("button", name="Add to basket").click()
    expect(page.get_by_text(f"Added {quantity} × Harbour Parka (Navy / M).")).to_be_visible()


def _fill_address(page: Page) -> None:
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Last name").fill("Visser")
    page.get_by_label("Street and number").fill("Prinsengracht 263")
    page.get_by_label("Postcode").fill("1016 GV")
    page.get_by_label("City").fill("Amsterdam")
    page.get_by_label("Country").select_option("NL")


def test_a_visitor_fills_a_basket_signs_in_and_pays_after_a_declined_card(
    page: Page, live_server: Any, shop: Shop, shopper: User, sign_in: Any, screenshot: Any
) -> None:
    _answer_cookie_banner(page, live_server)
    _add_parka(page, live_server, "2")
    screenshot("web-product-added")
    page.get_by_role("link", name="Basket", exact=True).click()
    expect(page.get_by_role("heading", name="Your basket")).to_be_visible()
    expect(page.get_by_label("Quantity")).to_have_value("2")
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_text("Your basket is updated.")).to_be_visible()
    screenshot("web-basket-visitor")

    # checkout asks the visitor to sign in; the basket comes along
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("User name").fill(shopper.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_text("1 × Harbour Parka")).to_be_visible()
    _fill_address(page)
    page.get_by_label("Card token").fill("tok_sandbox_decline")
    screenshot("web-checkout")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_text("Try another card. Your basket is kept as it was.")).to_be_visible()
    screenshot("web-checkout-declined")
    page.get_by_label("Card token").fill("tok_sandbox_approve")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    order = Order.objects.get(status=OrderStatus.PAID)
    expect(page.get_by_text(order.number)).to_be_visible()
    screenshot("web-checkout-done")


def test_click_and_collect_shows_stock_per_store_and_the_pickup_code(
    page: Page, live_server: Any, shop: Shop, shopper: User, sign_in: Any, screenshot: Any
) -> None:
    _answer_cookie_banner(page, live_server)
    sign_in(shopper)
    _add_parka(page, live_server)
    page.goto(f"{live_server.url}/checkout/")
    page.get_by_label("Click & collect in a store (free)").check()
    expect(page.get_by_label("Street and number")).to_be_hidden()
    page.get_by_label("Store", exact=True).select_option("ams-a")
    page.get_by_label("Card token").fill("tok_sandbox_approve")
    screenshot("web-checkout-collect")
    page.get_by_role("button", name="Place order").click()

    order = Order.objects.get()
    expect(page.get_by_label("Pickup code")).to_have_text(order.pickup_code)
    expect(page.get_by_text("Collect it at Amsterdam A")).to_be_visible()
    screenshot("web-checkout-done-collect")


def test_order_page_return_question_and_contact_form(
    page: Page, live_server: Any, shop: Shop, shopper: User, sign_in: Any, screenshot: Any
) -> None:
    _answer_cookie_banner(page, live_server)
    sign_in(shopper)
    _add_parka(page, live_server, "2")
    page.goto(f"{live_server.url}/checkout/")
    _fill_address(page)
    page.get_by_label("Card token").fill("tok_sandbox_approve")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.COMPLETED, tracking_reference="3SNWB0001"
    )

    # the orders list and the order page
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    screenshot("web-orders")
    page.get_by_role("link", name=order.number).click()
    expect(page.get_by_text("3SNWB0001")).to_be_visible()
    screenshot("web-order-detail")

    # start a return of one of the two parkas
    page.get_by_label("Harbour Parka Navy / M — how many to return (up to 2)").fill("1")
    page.get_by_label("Why are you sending it back?").fill("Too big")
    page.get_by_role("button", name="Start a return").click()
    expect(page.get_by_text("Your return (number")).to_be_visible()
    screenshot("web-order-returned")
    assert list(Return.objects.values_list("kind", "status")) == [("postal", "requested")]

    # ask about the order
    page.get_by_label("Your message").fill("Can I return the other one in a store?")
    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_text("Your question is with customer service")).to_be_visible()

    # the contact form
    page.get_by_role("link", name="Contact us").first.click()
    page.get_by_label("Subject").fill("Opening hours at Easter")
    page.get_by_label("Your message").fill("Are you open on Easter Monday?")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Your message is with customer service")).to_be_visible()
    screenshot("web-contact")
    assert sorted(
        Case.objects.filter(status=CaseStatus.OPEN).values_list("subject", flat=True)
    ) == [
        "Opening hours at Easter",
        f"Question about order {order.number}",
    ]


def test_the_empty_basket_and_the_contact_page_for_visitors(
    page: Page, live_server: Any, shop: Shop, screenshot: Any
) -> None:
    _answer_cookie_banner(page, live_server)
    page.goto(f"{live_server.url}/basket/")
    expect(page.get_by_text("Your basket is empty.")).to_be_visible()
    screenshot("web-basket-empty")
    page.goto(f"{live_server.url}/help/contact/")
    expect(page.get_by_text("Sign in so we know who you are")).to_be_visible()
    screenshot("web-contact-visitor")


def test_a_checkout_without_javascript(
    browser: Browser, live_server: Any, shop: Shop, shopper: User
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _answer_cookie_banner(page, live_server)
        page.goto(f"{live_server.url}/accounts/login/?next=/p/harbour-parka/")
        page.get_by_label("User name").fill(shopper.username)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Quantity").fill("1")
        page.get_by_role("button", name="Add to basket").click()
        page.goto(f"{live_server.url}/basket/")
        page.get_by_role("link", name="Checkout").click()
        _fill_address(page)
        page.get_by_label("Card token").fill("tok_sandbox_approve")
        page.get_by_role("button", name="Place order").click()
        expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "web-checkout-no-js.png"), full_page=True)
        assert Order.objects.get().status == OrderStatus.PAID
    finally:
        context.close()
