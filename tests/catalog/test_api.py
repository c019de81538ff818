"""Catalog API read paths and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def jacket() -> object:
    category = factories.CategoryFactory(name="Jackets", slug="jackets")
    product = factories.ProductFactory(
        name="Harbour Wool Parka", slug="harbour-wool-parka", category=category, brand="Northwind"
    )
    factories.VariantFactory(product=product, sku="NW-PARKA-M", barcode="8712345000017", name="M")
    factories.VariantFactory(product=product, sku="NW-PARKA-L", barcode="8712345000024", name="L")
    return product


def test_products_list_with_variants(api_client: APIClient, jacket: object) -> None:
    factories.ProductFactory(name="Hidden", slug="hidden", is_published=False)
    response = api_client.get("/api/v1/products/")
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "slug": "harbour-wool-parka",
                "name": "Harbour Wool Parka",
                "brand": "Northwind",
                "description": "",
                "category": {"slug": "jackets", "name": "Jackets"},
                "variants": [
                    {
                        "sku": "NW-PARKA-M",
                        "barcode": "8712345000017",
                        "name": "M",
                        "attributes": {},
                    },
                    {
                        "sku": "NW-PARKA-L",
                        "barcode": "8712345000024",
                        "name": "L",
                        "attributes": {},
                    },
                ],
            }
        ],
    }


@pytest.mark.parametrize("query", ["parka", "NORTHWIND", "nw-parka-l", "8712345000017"])
def test_search_by_name_brand_sku_or_barcode(
    api_client: APIClient, jacket: object, query: str
) -> None:
    factories.ProductFactory(name="Canal Linen Shirt", brand="Dune Supply")
    response = api_client.get("/api/v1/products/", {"q": query})
    assert [product["slug"] for product in response.json()["results"]] == ["harbour-wool-parka"]


def test_filter_by_parent_category_includes_children(api_client: APIClient) -> None:
    parent = factories.CategoryFactory(slug="women")
    child = factories.CategoryFactory(slug="women-jackets", parent=parent)
    factories.ProductFactory(slug="in-child", category=child)
    factories.ProductFactory(slug="elsewhere")
    response = api_client.get("/api/v1/products/", {"category": "women"})
    assert [product["slug"] for product in response.json()["results"]] == ["in-child"]


def test_product_list_query_count_does_not_grow_with_products(
    api_client: APIClient, django_assert_num_queries: object
) -> None:
    for _ in range(5):
        factories.VariantFactory()
    with django_assert_num_queries(3):  # type: ignore[operator]
        # count, page of products (with category), their variants
        response = api_client.get("/api/v1/products/")
    assert response.json()["count"] == 5


def test_product_detail(api_client: APIClient, jacket: object) -> None:
    response = api_client.get("/api/v1/products/harbour-wool-parka/")
    assert response.status_code == 200
    assert response.json()["name"] == "Harbour Wool Parka"
    assert [variant["sku"] for variant in response.json()["variants"]] == [
        "NW-PARKA-M",
        "NW-PARKA-L",
    ]


def test_unknown_or_unpublished_product_is_404_with_the_error_shape(api_client: APIClient) -> None:
    factories.ProductFactory(slug="draft", is_published=False)
    for slug in ("nope", "draft"):
        response = api_client.get(f"/api/v1/products/{slug}/")
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "message": f"There is no product '{slug}'.",
            "fields": {},
        }


def test_too_long_search_is_400(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/products/", {"q": "x" * 101})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "message": "Some of the data sent is not valid.",
        "fields": {"q": ["Ensure this field has no more than 100 characters."]},
    }


def test_page_past_the_end_is_404(api_client: APIClient, jacket: object) -> None:
    response = api_client.get("/api/v1/products/", {"page": 9})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_variant_by_barcode(api_client: APIClient, jacket: object) -> None:
    response = api_client.get("/api/v1/variants/", {"barcode": "8712345000024"})
    assert response.json()["results"] == [
        {
            "sku": "NW-PARKA-L",
            "barcode": "8712345000024",
            "name": "L",
            "attributes": {},
            "product": "harbour-wool-parka",
            "product_name": "Harbour Wool Parka",
        }
    ]


def test_a_malformed_barcode_is_400(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/variants/", {"barcode": "12ab"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"barcode": ["8 to 14 digits."]}


def test_variant_detail_is_case_insensitive_on_sku(api_client: APIClient, jacket: object) -> None:
    response = api_client.get("/api/v1/variants/nw-parka-m/")
    assert response.status_code == 200
    assert response.json()["sku"] == "NW-PARKA-M"


def test_stock_by_location_stores_first(api_client: APIClient) -> None:
    variant = factories.VariantFactory(sku="NW-1")
    warehouse = factories.WarehouseFactory(code="dc", name="DC")
    store = factories.StoreFactory(code="ams", name="Amsterdam")
    closed = factories.StoreFactory(code="old", name="Closed", is_active=False)
    factories.StockLevelFactory(variant=variant, location=warehouse, on_hand=100, reserved=4)
    factories.StockLevelFactory(variant=variant, location=store, on_hand=3, reserved=1)
    factories.StockLevelFactory(variant=variant, location=closed, on_hand=9)
    response = api_client.get("/api/v1/variants/NW-1/stock/")
    assert response.json() == [
        {
            "location": "ams",
            "location_name": "Amsterdam",
            "location_kind": "store",
            "on_hand": 3,
            "reserved": 1,
            "available": 2,
        },
        {
            "location": "dc",
            "location_name": "DC",
            "location_kind": "warehouse",
            "on_hand": 100,
            "reserved": 4,
            "available": 96,
        },
    ]


def test_price_for_a_channel(api_client: APIClient) -> None:
    variant = factories.VariantFactory(sku="NW-1")
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.WEB),
        amount=Decimal("39.95"),
        compare_at_amount=Decimal("49.95"),
    )
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.STORE),
        amount=Decimal("49.95"),
    )
    web = api_client.get("/api/v1/variants/NW-1/price/", {"channel": "web"})
    store = api_client.get("/api/v1/variants/NW-1/price/", {"channel": "store"})
    assert web.json() == {
        "sku": "NW-1",
        "channel": "web",
        "currency": "EUR",
        "amount": "39.95",
        "compare_at_amount": "49.95",
        "includes_tax": True,
    }
    assert store.json()["amount"] == "49.95"


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"channel": ["This field is required."]}),
        ({"channel": "email"}, {"channel": ['"email" is not a valid choice.']}),
        (
            {"channel": "web", "currency": "eur"},
            {"currency": ["This value does not match the required pattern."]},
        ),
    ],
)
def test_price_refusals(api_client: APIClient, params: dict[str, str], fields: object) -> None:
    factories.VariantFactory(sku="NW-1")
    response = api_client.get("/api/v1/variants/NW-1/price/", params)
    assert response.status_code == 400
    assert response.json()["fields"] == fields


def test_no_price_on_that_channel_is_404(api_client: APIClient) -> None:
    factories.VariantFactory(sku="NW-1")
    response = api_client.get("/api/v1/variants/NW-1/price/", {"channel": "app"})
    assert response.status_code == 404
    assert response.json()["message"] == "'NW-1' has no EUR price on the Mobile app channel."


def test_stores_list_only_open_stores(api_client: APIClient) -> None:
    factories.StoreFactory(code="ams", name="Amsterdam")
    factories.StoreFactory(code="gone", name="Gone", is_active=False)
    factories.WarehouseFactory(code="dc")
    response = api_client.get("/api/v1/stores/")
    assert [store["code"] for store in response.json()] == ["ams"]
    assert api_client.get("/api/v1/stores/ams/").json()["name"] == "Amsterdam"
    assert api_client.get("/api/v1/stores/dc/").status_code == 404


def test_a_write_to_the_catalog_is_not_allowed(api_client: APIClient, jacket: object) -> None:
    response = api_client.post("/api/v1/products/", {"name": "x"}, format="json")
    assert response.status_code == 405
    assert response.json() == {
        "error": "method_not_allowed",
        "message": 'Method "POST" not allowed.',
        "fields": {},
    }


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"page": ""}, {"page": ["A whole number from 1 (pages past the end are 404)."]}),
        ({"page": "0"}, {"page": ["A whole number from 1 (pages past the end are 404)."]}),
        ({"page": "two"}, {"page": ["A whole number from 1 (pages past the end are 404)."]}),
        ({"page_size": "101"}, {"page_size": ["A whole number from 1 to 100."]}),
        ({"page_size": "null"}, {"page_size": ["A whole number from 1 to 100."]}),
    ],
)
def test_malformed_paging_is_400(
    api_client: APIClient, params: dict[str, str], fields: object
) -> None:
    response = api_client.get("/api/v1/products/", params)
    assert response.status_code == 400
    assert response.json()["fields"] == fields


def test_page_size_is_honoured(api_client: APIClient) -> None:
    for _ in range(3):
        factories.ProductFactory()
    response = api_client.get("/api/v1/products/", {"page_size": "2", "page": "2"})
    assert (response.json()["count"], len(response.json()["results"])) == (3, 1)
