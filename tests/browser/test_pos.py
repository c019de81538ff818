"""The POS on a phone: scan a product, see stock here and nearby, identify the customer, and
keep working when the network drops."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stocked(store: Any) -> Any:
    store.name = "Amsterdam Kalverstraat"
    store.latitude, store.longitude = Decimal("52.36860"), Decimal("4.89170")
    store.save()
    utrecht = factories.StoreFactory(
        name="Utrecht Oudegracht", latitude=Decimal("52.09010"), longitude=Decimal("5.12080")
    )
    product = factories.ProductFactory(name="Harbour Wool Parka", brand="Northwind")
    variant = factories.VariantFactory(
        product=product, sku="NW-P-M", barcode="2000000000015", name="Navy / M"
    )
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.STORE),
        amount=Decimal("149.95"),
    )
    factories.StockLevelFactory(variant=variant, location=store, on_hand=3)
    factories.StockLevelFactory(variant=variant, location=utrecht, on_hand=6)
    return factories.CustomerFactory(
        first_name="Sam", last_name="Jansen", loyalty_number="NW00000001"
    )


def test_scan_and_identify_on_a_phone(
    page: Page, staff: Any, stocked: Any, sign_in: Any, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(staff)
    expect(page.get_by_role("heading", name="Who is the customer?")).to_be_visible()
    screenshot("pos-home")
    # a barcode scanner types the code and presses Enter
    page.get_by_label("Scan or type a barcode, SKU or name").fill("2000000000015")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Harbour Wool Parka")).to_be_visible()
    expect(page.get_by_text("3 available")).to_be_visible()
    expect(page.get_by_role("row", name="Utrecht Oudegracht")).to_contain_text("6")
    screenshot("pos-product")
    page.goto(page.url.split("/pos/")[0] + "/pos/")
    page.get_by_label("Phone, email or loyalty card").fill("NW00000001")
    page.get_by_role("button", name="Identify").click()
    expect(page.get_by_role("heading", name="Sam Jansen")).to_be_visible()
    screenshot("pos-customer")


def test_the_pos_keeps_working_offline(
    page: Page, staff: Any, stocked: Any, sign_in: Any, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(staff)
    # the service worker is installed and controls the page
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    # when the network drops
    page.context.set_offline(True)
    page.reload()
    # then the POS still opens from the device, and says it is offline
    expect(page.get_by_role("heading", name="Who is the customer?")).to_be_visible()
    expect(page.locator("[data-sync-status]")).to_have_text("Offline")
    # a page never opened before shows the offline page instead of the browser's error
    page.goto(page.url + "products/NW-P-M/")
    expect(page.get_by_role("heading", name="No connection")).to_be_visible()
    screenshot("pos-offline")
    page.context.set_offline(False)
