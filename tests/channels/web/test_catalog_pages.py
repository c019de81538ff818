"""The web store's catalog pages: categories, product pages, search, sitemap and robots."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> dict[str, Any]:
    women = factories.CategoryFactory(name="Women", slug="women")
    jackets = factories.CategoryFactory(name="Jackets", slug="women-jackets", parent=women)
    store = factories.StoreFactory(name="Utrecht Oudegracht")
    warehouse = factories.WarehouseFactory()
    parka = factories.ProductFactory(
        name="Harbour Wool Parka",
        slug="harbour-wool-parka",
        category=jackets,
        brand="Northwind",
        description="A warm parka for windy harbours.",
    )
    medium = factories.VariantFactory(
        product=parka, sku="NW-P-M", barcode="2000000000015", name="Navy / M", position=0
    )
    large = factories.VariantFactory(
        product=parka, sku="NW-P-L", barcode="2000000000022", name="Navy / L", position=1
    )
    web = factories.PriceListFactory(channel=Channel.WEB)
    factories.PriceFactory(
        variant=medium,
        price_list=web,
        amount=Decimal("129.95"),
        compare_at_amount=Decimal("159.95"),
    )
    factories.PriceFactory(variant=large, price_list=web, amount=Decimal("129.95"))
    factories.StockLevelFactory(variant=medium, location=warehouse, on_hand=0)
    factories.StockLevelFactory(variant=medium, location=store, on_hand=1)
    factories.StockLevelFactory(variant=large, location=warehouse, on_hand=7)
    factories.StockLevelFactory(variant=large, location=store, on_hand=5)
    rain = factories.ProductFactory(
        name="Dune Rain Jacket", slug="dune-rain-jacket", category=jackets
    )
    factories.PriceFactory(
        variant=factories.VariantFactory(product=rain), price_list=web, amount=Decimal("89.95")
    )
    return {"women": women, "jackets": jackets, "parka": parka, "store": store}


class TestCategory:
    def test_a_parent_category_lists_its_childrens_products(
        self, client: Client, shop: dict[str, Any]
    ) -> None:
        body = client.get("/c/women/").content.decode()
        assert "<h1>Women</h1>" in body
        assert "2 products" in body
        assert body.index("Dune Rain Jacket") < body.index("Harbour Wool Parka")  # by name
        assert '<a class="chip" href="/c/women-jackets/">Jackets</a>' in body

    def test_sorting_by_price(self, client: Client, shop: dict[str, Any]) -> None:
        body = client.get("/c/women/", {"sort": "-price"}).content.decode()
        assert body.index("Harbour Wool Parka") < body.index("Dune Rain Jacket")
        assert "€129.95<s>€159.95</s>" in body

    def test_an_unknown_sort_falls_back_to_name(self, client: Client, shop: dict[str, Any]) -> None:
        response = client.get("/c/women/", {"sort": "'; drop table"})
        assert response.status_code == 200
        assert '<option value="name" selected>' in response.content.decode()

    def test_an_unknown_category_is_a_designed_404(self, client: Client) -> None:
        response = client.get("/c/nope/")
        assert response.status_code == 404
        assert "There is no category &#x27;nope&#x27;." in response.content.decode()

    def test_the_page_costs_a_fixed_number_of_queries(
        self, client: Client, shop: dict[str, Any], django_assert_num_queries: Any
    ) -> None:
        for number in range(30):
            factories.ProductFactory(category=shop["jackets"], name=f"Extra {number}")
        # category, nav, children, count, page of products (with prices)
        with django_assert_num_queries(5):
            response = client.get("/c/women/", {"page": 2})
        assert "Page 2 of 2" in response.content.decode()


class TestProduct:
    def test_price_availability_and_store_stock(self, client: Client, shop: dict[str, Any]) -> None:
        body = client.get("/p/harbour-wool-parka/").content.decode()
        # the first variant in stock online is chosen
        assert 'value="NW-P-L" checked' in body
        assert "Availability of Navy / L" in body
        assert "In stock online" in body
        assert re.search(r"Utrecht Oudegracht.*?In stock</span>", body, re.S)

    def test_choosing_a_variant_shows_its_stock(self, client: Client, shop: dict[str, Any]) -> None:
        body = client.get("/p/harbour-wool-parka/", {"sku": "nw-p-m"}).content.decode()
        assert "Availability of Navy / M" in body
        assert "€129.95<s>€159.95</s>" in body
        assert "Sold out online" in body
        assert "Only 1 left" in body

    def test_search_engines_get_titles_descriptions_and_product_data(
        self, client: Client, shop: dict[str, Any]
    ) -> None:
        body = client.get("/p/harbour-wool-parka/").content.decode()
        assert "<title>Harbour Wool Parka · Northwind · Northwind Outfitters</title>" in body
        assert '<meta name="description" content="A warm parka for windy harbours.">' in body
        assert '<link rel="canonical" href="http://testserver/p/harbour-wool-parka/">' in body
        data = json.loads(
            re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)[1]
        )
        assert data["@type"] == "Product"
        assert data["name"] == "Harbour Wool Parka"
        assert [(o["sku"], o["price"], o["availability"]) for o in data["offers"]] == [
            ("NW-P-M", "129.95", "https://schema.org/OutOfStock"),
            ("NW-P-L", "129.95", "https://schema.org/InStock"),
        ]

    def test_markup_in_content_cannot_break_out_of_the_data_block(
        self, client: Client, shop: dict[str, Any]
    ) -> None:
        factories.ProductFactory(slug="sneaky", name="</script><script>alert(1)</script>")
        body = client.get("/p/sneaky/").content.decode()
        assert "</script><script>alert(1)" not in body

    def test_the_page_costs_a_fixed_number_of_queries(
        self, client: Client, shop: dict[str, Any], django_assert_num_queries: Any
    ) -> None:
        # product, variants with prices, their stock levels, nav
        with django_assert_num_queries(4):
            client.get("/p/harbour-wool-parka/")

    def test_an_unpublished_product_is_404(self, client: Client, shop: dict[str, Any]) -> None:
        shop["parka"].is_published = False
        shop["parka"].save()
        assert client.get("/p/harbour-wool-parka/").status_code == 404


class TestSearch:
    @pytest.mark.parametrize("query", ["parka", "Northwind parka", "2000000000022", "nw-p-m"])
    def test_finds_by_words_or_codes(
        self, client: Client, shop: dict[str, Any], query: str
    ) -> None:
        body = client.get("/search", {"q": query}).content.decode()
        assert "1 product found" in body
        assert "Harbour Wool Parka" in body

    def test_no_match_says_what_to_try(self, client: Client, shop: dict[str, Any]) -> None:
        body = client.get("/search", {"q": "submarine"}).content.decode()
        assert "Nothing matches “submarine”." in body

    def test_an_empty_search_explains_itself(self, client: Client) -> None:
        body = client.get("/search").content.decode()
        assert "Type what you are looking for" in body

    def test_a_very_long_query_is_cut_not_refused(
        self, client: Client, shop: dict[str, Any]
    ) -> None:
        response = client.get("/search", {"q": "parka" + "x" * 500})
        assert response.status_code == 200


@pytest.mark.postgres
def test_full_text_search_stems_and_ranks(client: Client, shop: dict[str, Any]) -> None:
    # "jackets" finds "Jacket" (stemming); a name match ranks above a description match
    factories.ProductFactory(name="Canvas Tote", description="Fits a rain jacket folded small.")
    body = client.get("/search", {"q": "jackets"}).content.decode()
    assert "2 products found" in body
    assert body.index("Dune Rain Jacket") < body.index("Canvas Tote")


def test_sitemap_lists_products_and_categories(client: Client, shop: dict[str, Any]) -> None:
    body = client.get("/sitemap.xml").content.decode()
    assert "<loc>http://testserver/p/harbour-wool-parka/</loc>" in body
    assert "<loc>http://testserver/c/women-jackets/</loc>" in body


def test_robots_points_at_the_sitemap_and_keeps_out_of_staff_pages(client: Client) -> None:
    body = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /pos/" in body
    assert "Disallow: /admin/" in body
