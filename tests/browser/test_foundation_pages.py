"""Every channel's first screen, the sign-in page and the API docs, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from interaction_platform.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(db: Any) -> Any:
    store = factories.StoreFactory(
        name="Amsterdam Kalverstraat",
        opening_hours={
            "sat": ["10:00", "18:00"],
            "sun": ["12:00", "17:00"],
        },
    )
    jackets = factories.CategoryFactory(name="Jackets")
    for number, name in enumerate(
        ["Harbour Wool Parka", "Dune Rain Jacket", "Polder Field Jacket"]
    ):
        product = factories.ProductFactory(name=name, category=jackets)
        variant = factories.VariantFactory(product=product)
        factories.PriceFactory(
            variant=variant,
            amount=f"{99 + number * 20}.95",
            compare_at_amount="149.95" if number == 0 else None,
        )
        factories.StockLevelFactory(variant=variant, location=store, on_hand=number)
    return store


def test_the_home_page(page: Page, live_server: Any, shop: Any, screenshot: Any) -> None:
    page.goto(live_server.url)
    expect(page).to_have_title("Northwind Outfitters — clothing, shoes and outdoor gear")
    expect(page.get_by_role("heading", name="Made to last, wherever you shop")).to_be_visible()
    expect(page.get_by_text("Harbour Wool Parka")).to_be_visible()
    expect(page.get_by_text("Amsterdam Kalverstraat")).to_be_visible()
    screenshot("web-home")


def test_the_home_page_on_a_phone(page: Page, live_server: Any, shop: Any, screenshot: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url)
    # nothing may be wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("web-home-phone")


def test_sign_in_errors_are_plain(page: Page, live_server: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
    screenshot("sign-in-error")


def test_store_staff_land_on_the_pos(
    page: Page, staff: Any, store: Any, sign_in: Any, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    factories.StockLevelFactory(location=store, on_hand=4)
    sign_in(staff)
    expect(page).to_have_url(f"{page.url.split('/pos/')[0]}/pos/")
    expect(page.get_by_role("heading", name=store.name)).to_be_visible()
    screenshot("pos-home")


def test_agents_land_on_the_console(page: Page, agent: Any, sign_in: Any, screenshot: Any) -> None:
    factories.CustomerFactory()
    sign_in(agent)
    expect(page.get_by_role("heading", name="Call-centre console")).to_be_visible()
    screenshot("console-home")


def test_marketers_land_on_their_dashboard(
    page: Page, marketer: Any, sign_in: Any, screenshot: Any
) -> None:
    for consent in (True, True, False):
        factories.CustomerFactory(email_consent=consent)
    sign_in(marketer)
    expect(page.get_by_role("heading", name="Customer base")).to_be_visible()
    expect(page.get_by_role("row", name="Marketing e-mail 2 67%")).to_be_visible()
    screenshot("marketing-home")


def test_a_shopper_who_opens_the_pos_gets_a_clear_refusal(
    page: Page, live_server: Any, sign_in: Any, screenshot: Any
) -> None:
    shopper = factories.UserFactory(role=Role.SHOPPER)
    sign_in(shopper)
    response = page.goto(f"{live_server.url}/pos/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()
    screenshot("refusal-403")


def test_store_staff_who_open_the_console_get_a_clear_refusal(
    page: Page, live_server: Any, staff: Any, sign_in: Any
) -> None:
    sign_in(staff)
    response = page.goto(f"{live_server.url}/console/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()


def test_the_api_docs_load_everything_from_us(
    page: Page, live_server: Any, screenshot: Any
) -> None:
    # given: a record of every request the page makes, and of CSP violations
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    # when
    page.goto(f"{live_server.url}/api/docs/")
    # then: Swagger UI renders the schema under our CSP, with no third-party host
    expect(page.get_by_text("Interaction Platform API")).to_be_visible()
    expect(page.get_by_text("/api/v1/products/").first).to_be_visible()
    assert [url for url in requested if not url.startswith(live_server.url)] == []
    assert console_errors == []
    screenshot("api-docs")
