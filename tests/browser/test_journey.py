"""One customer across three channels, in three browsers: the promise that a customer never
meets a channel boundary.

An anonymous visitor accepts cookies, looks at products and fills a basket on the web store, then
signs up; in a store, staff find them by phone on the POS, see that basket and sell it; the next
day an agent finds them by phone and sees the web visit, the store visit and the basket handed
over at the till on one timeline, in order — and logs the call.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from customers.inbox import inbox_process_batch
from customers.models import Customer, TimelineEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders.models import Cart, CartStatus, Order
from tests import factories
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _drain() -> None:
    while inbox_process_batch():
        pass


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _signed_in(browser: Browser, live_server: Any, user: User, **options: Any) -> Page:
    context: BrowserContext = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    store = factories.StoreFactory(code="ams-kalverstraat", name="Amsterdam Kalverstraat")
    warehouse = factories.WarehouseFactory(code="tlb-dc", name="Tilburg DC")
    jackets = factories.CategoryFactory(name="Jackets", slug="jackets")
    parka = factories.VariantFactory(
        sku="NW-P-M",
        name="Navy / M",
        product=factories.ProductFactory(
            name="Harbour Wool Parka", slug="harbour-wool-parka", category=jackets
        ),
    )
    scarf = factories.VariantFactory(
        sku="NW-S-1",
        name="One size",
        product=factories.ProductFactory(
            name="Dune Merino Scarf", slug="dune-merino-scarf", category=jackets
        ),
    )
    for channel in Channel.selling():
        price_list = factories.PriceListFactory(channel=channel)
        factories.PriceFactory(price_list=price_list, variant=parka, amount=Decimal("149.95"))
        factories.PriceFactory(price_list=price_list, variant=scarf, amount=Decimal("29.95"))
    for variant in (parka, scarf):
        factories.StockLevelFactory(variant=variant, location=store, on_hand=5)
        factories.StockLevelFactory(variant=variant, location=warehouse, on_hand=50)
    staff = factories.UserFactory(role=Role.STORE_STAFF, first_name="Noor", last_name="Bakker")
    staff.stores.add(store)
    agent = factories.UserFactory(role=Role.AGENT, first_name="Sanne", last_name="Kok")
    return {"store": store, "parka": parka, "scarf": scarf, "staff": staff, "agent": agent}


def test_web_basket_sold_in_a_store_and_seen_by_the_call_centre(
    browser: Browser, live_server: Any, shop: dict[str, Any]
) -> None:
    # 1. The web store: an anonymous visitor accepts cookies, browses and fills a basket.
    web = browser.new_context().new_page()
    web.goto(live_server.url)
    web.get_by_role("complementary", name="May we remember what you look at?").get_by_role(
        "button", name="Accept"
    ).click()
    web.goto(f"{live_server.url}/p/dune-merino-scarf/")
    web.goto(f"{live_server.url}/p/harbour-wool-parka/")
    web.get_by_label("Quantity").fill("1")
    web.get_by_role("button", name="Add to basket").click()
    expect(web.get_by_text("Harbour Wool Parka").first).to_be_visible()
    _screenshot(web, "journey-web-basket")
    _drain()

    # ... and signs up; the basket and the browsing come along, and they add their phone.
    web.goto(f"{live_server.url}/account/signup/")
    web.get_by_label("First name").fill("Lotte")
    web.get_by_label("Last name").fill("Mulder")
    web.get_by_label("E-mail address").fill("lotte@example.com")
    web.get_by_label("Password").fill("a long enough passphrase")
    web.get_by_role("button", name="Create my account").click()
    expect(web.get_by_role("heading", name="Hello Lotte")).to_be_visible()
    web.get_by_label("Phone").fill("06 2222 3333")
    web.get_by_role("button", name="Save my details").click()
    _drain()
    lotte = Customer.objects.get(email="lotte@example.com")
    basket = Cart.objects.get(customer=lotte, status=CartStatus.OPEN)
    assert list(basket.lines.values_list("variant__sku", "quantity")) == [("NW-P-M", 1)]
    web_events = list(
        TimelineEvent.objects.filter(customer=lotte, channel="web").values_list("type", flat=True)
    )
    assert "Product Viewed" in web_events
    assert "Product Added" in web_events

    # 2. The store: staff find Lotte by phone, see the web basket and sell it.
    pos = _signed_in(browser, live_server, shop["staff"], viewport=PHONE)
    pos.get_by_label("Phone, email or loyalty card").fill("0622223333")
    pos.get_by_role("button", name="Identify").click()
    pos.get_by_role("link", name="Sell to Lotte").click()
    pos.locator("html[data-sale-ready]").wait_for(state="attached")  # the sale script is ready
    expect(pos.get_by_role("heading", name="Online basket")).to_be_visible()
    expect(pos.get_by_text("Harbour Wool Parka").first).to_be_visible()
    pos.get_by_role("button", name="Add basket to sale").click()
    expect(pos.locator("[data-ticket-total]")).to_have_text("€149.95")
    _screenshot(pos, "journey-pos-basket-in-sale")
    pos.get_by_label("Cash handed over").fill("150")
    pos.get_by_role("button", name="Take cash").click()
    expect(pos.get_by_text("basket started on the web store")).to_be_visible()
    _screenshot(pos, "journey-pos-receipt")
    order = Order.objects.get(customer=lotte)
    assert (order.channel, order.origin_channel, order.cart_id) == ("store", "web", basket.pk)
    basket.refresh_from_db()
    assert basket.status == CartStatus.ORDERED
    _drain()

    # 3. The next day: the agent finds Lotte by phone and sees it all on one timeline.
    TimelineEvent.objects.filter(customer=lotte).update(
        occurred_at=timezone.now() - timedelta(days=1)
    )
    console = _signed_in(browser, live_server, shop["agent"])
    console.get_by_role("searchbox", name="Find a customer").fill("06 2222 3333")
    console.keyboard.press("Enter")
    expect(console.get_by_role("heading", name="Lotte Mulder")).to_be_visible()
    timeline = console.locator("[data-timeline]")
    expect(timeline.get_by_text("POS Order Completed")).to_be_visible()
    expect(
        timeline.get_by_text("Basket handed over: started on Web store, completed on Store")
    ).to_be_visible()
    expect(timeline.get_by_text("Store Visited")).to_be_visible()
    expect(timeline.get_by_text("Product Added").first).to_be_visible()
    _screenshot(console, "journey-console-timeline")
    # newest first: the sale, the visit to the store, then the web session
    shown = [
        text.strip() for text in timeline.locator(".timeline-item .what strong").all_inner_texts()
    ]
    sale, visit = shown.index("POS Order Completed"), shown.index("Store Visited")
    added = shown.index("Product Added")
    assert sale < visit < added

    console.get_by_label("Outcome").select_option("resolved")
    console.get_by_label("Notes").fill("Asked about washing the parka.")
    console.get_by_role("button", name="Log call").click()
    expect(console.get_by_text("The call is logged on the customer's timeline.")).to_be_visible()
    _drain()
    assert TimelineEvent.objects.filter(
        customer=lotte, type="Call Completed", channel="call_centre"
    ).exists()
