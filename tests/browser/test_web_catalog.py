"""The web store's catalog in a real browser: browse a category, open a product, search."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalog(db: Any) -> None:
    women = factories.CategoryFactory(name="Women", slug="women")
    jackets = factories.CategoryFactory(name="Jackets", slug="women-jackets", parent=women)
    factories.CategoryFactory(name="Shoes", slug="shoes")
    stores = [
        factories.StoreFactory(name=name, city=city)
        for name, city in [
            ("Amsterdam Kalverstraat", "Amsterdam"),
            ("Utrecht Oudegracht", "Utrecht"),
        ]
    ]
    warehouse = factories.WarehouseFactory()
    web = factories.PriceListFactory(channel=Channel.WEB)
    for number, name in enumerate(
        [
            "Harbour Wool Parka",
            "Dune Rain Jacket",
            "Polder Field Jacket",
            "Tidal Waxed Jacket",
            "Canal Linen Blazer",
        ]
    ):
        product = factories.ProductFactory(
            name=name,
            slug=f"product-{number}",
            category=jackets,
            brand="Northwind",
            description=f"The {name.lower()}: made to last, easy to care for.",
        )
        for position, size in enumerate(["S", "M", "L"]):
            variant = factories.VariantFactory(
                product=product,
                name=f"Navy / {size}",
                position=position,
                attributes={"colour": "Navy", "size": size},
            )
            factories.PriceFactory(
                variant=variant,
                price_list=web,
                amount=Decimal(89 + 20 * number) + Decimal("0.95"),
                compare_at_amount=Decimal("149.95") if number == 0 else None,
            )
            factories.StockLevelFactory(
                variant=variant, location=warehouse, on_hand=(position + number) % 3
            )
            for offset, store in enumerate(stores):
                factories.StockLevelFactory(
                    variant=variant, location=store, on_hand=(position + offset) * 2
                )


def test_browse_a_category_and_open_a_product(
    page: Page, live_server: Any, catalog: None, screenshot: Any
) -> None:
    page.goto(live_server.url)
    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Women").click()
    expect(page.get_by_role("heading", name="Women", level=1)).to_be_visible()
    expect(page.get_by_text("5 products")).to_be_visible()
    screenshot("web-category")
    page.get_by_role("link", name="Harbour Wool Parka").click()
    expect(page.get_by_role("heading", name="Harbour Wool Parka")).to_be_visible()
    expect(page.get_by_role("heading", name="Availability of Navy / M")).to_be_visible()
    screenshot("web-product")
    # choosing another size shows its own stock, without JavaScript
    page.get_by_label("Navy / S").check()
    page.get_by_role("button", name="Show availability").click()
    expect(page.get_by_role("heading", name="Availability of Navy / S")).to_be_visible()
    expect(page.get_by_text("Sold out online")).to_be_visible()


def test_search_from_the_header(
    page: Page, live_server: Any, catalog: None, screenshot: Any
) -> None:
    page.goto(live_server.url)
    page.get_by_role("searchbox", name="Search products").fill("waxed")
    page.get_by_role("button", name="Search").first.click()
    expect(page.get_by_role("heading", name="Results for “waxed”")).to_be_visible()
    expect(page.get_by_role("link", name="Tidal Waxed Jacket")).to_be_visible()
    screenshot("web-search")


def test_the_product_page_on_a_phone(
    page: Page, live_server: Any, catalog: None, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/p/product-0/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("web-product-phone")
