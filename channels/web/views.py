"""The shopper web store: home, categories, search and product pages, sitemap and robots.

Views read through the catalog's selectors and render; they decide nothing about prices or
stock themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from catalog import selectors as catalog_selectors
from catalog.models import Category, LocationKind, Product, Variant
from channels.web import tracking
from customers import selectors as customer_selectors
from customers.models import Customer, IdentityKind
from interaction_platform.choices import Channel

FEATURED_PRODUCT_COUNT = 8
PRODUCTS_PER_PAGE = 24
SEARCH_MAX_LENGTH = 100
SORTS: dict[str, tuple[str, list[Any]]] = {
    "name": ("Name", ["name", "id"]),
    "price": ("Price, low to high", [F("price_from").asc(nulls_last=True), "name", "id"]),
    "-price": ("Price, high to low", [F("price_from").desc(nulls_last=True), "name", "id"]),
    "new": ("Newest", ["-created_at", "-id"]),
}


def _web_prices(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    return catalog_selectors.product_list_with_prices(
        channel=Channel.WEB, currency=settings.DEFAULT_CURRENCY, products=products
    )


def _page(request: HttpRequest, products: QuerySet[Product]) -> Any:
    return Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))


def _nav(current: Category | None = None, top: list[Category] | None = None) -> dict[str, Any]:
    """The category bar of every web page: top-level categories (one query, unless the page
    already has them)."""
    if top is None:
        top = list(Category.objects.filter(parent__isnull=True))
    return {"nav_categories": top, "current_category": current}


def _viewer(request: HttpRequest) -> Customer | None:
    """Whose history personalises the page: the signed-in shopper, or a consenting visitor
    the pipeline knows by their visitor cookie."""
    if not tracking.is_tracking_allowed(request):
        return None
    if request.user.is_authenticated:
        return customer_selectors.customer_for_user(user_id=request.user.pk or 0)
    visitor = request.COOKIES.get(tracking.VISITOR_COOKIE)
    if not visitor:
        return None
    return customer_selectors.customer_find_by_identity(
        kind=IdentityKind.ANONYMOUS_ID, value=visitor
    )


def _personal(request: HttpRequest, *, exclude: Product | None = None) -> dict[str, Any]:
    """Recently viewed (on any channel) and suggestions, when consent allows."""
    viewer = _viewer(request)
    if viewer is None:
        return {"recently_viewed": [], "suggested": []}
    slugs = customer_selectors.customer_recently_viewed(customer=viewer)
    if exclude is not None:
        slugs = [slug for slug in slugs if slug != exclude.slug]
    recent = catalog_selectors.products_by_slugs(slugs=slugs[:4])
    suggested = list(_web_prices(catalog_selectors.products_suggested(seen=recent)))
    return {"recently_viewed": recent, "suggested": suggested}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    featured = _web_prices().order_by(F("compare_at_from").desc(nulls_last=True), "name")[
        :FEATURED_PRODUCT_COUNT
    ]
    categories = catalog_selectors.category_tree()
    response = render(
        request,
        "web/home.html",
        {
            **_nav(top=categories),
            **_personal(request),
            "categories": categories,
            "featured": featured,
            "stores": catalog_selectors.store_list(),
        },
    )
    return tracking.page_viewed(request, response, name="Home")


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    current = catalog_selectors.category_get(slug=slug)
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    products = _web_prices(
        catalog_selectors.product_list(category_slug=slug, with_variants=False)
    ).order_by(*SORTS[sort][1])
    children = list(Category.objects.filter(parent=current))
    response = render(
        request,
        "web/category.html",
        {
            **_nav(current.parent or current),
            "category": current,
            "children": children,
            "page": _page(request, products),
            "sort": sort,
            "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        },
    )
    return tracking.page_viewed(request, response, name=f"Category: {current.name}")


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    page = None
    if query:
        products = _web_prices(catalog_selectors.product_list(query=query, with_variants=False))
        page = _page(request, products)
    response = render(request, "web/search.html", {**_nav(), "query": query, "page": page})
    return tracking.page_viewed(request, response, name="Search")


@require_GET
def product(request: HttpRequest, slug: str) -> HttpResponse:
    item = catalog_selectors.product_get(slug=slug, with_variants=False)
    variants = catalog_selectors.variants_with_prices(
        product=item, channel=Channel.WEB, currency=settings.DEFAULT_CURRENCY
    )
    selected = _selected_variant(variants, request.GET.get("sku", ""))
    canonical_url = request.build_absolute_uri(reverse("web:product", kwargs={"slug": item.slug}))
    response = render(
        request,
        "web/product.html",
        {
            **_nav(item.category.parent or item.category),
            "product": item,
            "variants": variants,
            "selected": selected,
            "availability": _availability(selected) if selected else None,
            "canonical_url": canonical_url,
            "structured_data": _structured_data(item, variants, canonical_url),
            **_personal(request, exclude=item),
        },
    )
    return tracking.product_viewed(
        request, response, properties=_product_properties(item, selected, canonical_url)
    )


def _product_properties(item: Product, variant: Variant | None, url: str) -> dict[str, Any]:
    """Segment e-commerce v2 ``Product Viewed`` properties."""
    properties: dict[str, Any] = {
        "product_id": item.slug,
        "name": item.name,
        "brand": item.brand,
        "category": item.category.name,
        "url": url,
        "currency": settings.DEFAULT_CURRENCY,
    }
    if variant is not None:
        properties["sku"] = variant.sku
        properties["variant"] = variant.name
        if variant.price is not None:  # type: ignore[attr-defined]
            properties["price"] = str(variant.price)  # type: ignore[attr-defined]
    return properties


def _selected_variant(variants: Sequence[Variant], sku: str) -> Variant | None:
    chosen = [variant for variant in variants if variant.sku.lower() == sku.lower()]
    if chosen:
        return chosen[0]
    in_stock = [variant for variant in variants if _online_units(variant) > 0]
    candidates = in_stock or variants
    return candidates[0] if candidates else None


def _online_units(variant: Variant) -> int:
    return sum(
        level.available
        for level in variant.stock_levels.all()
        if level.location.kind == LocationKind.WAREHOUSE
    )


def _availability(variant: Variant) -> dict[str, Any]:
    """What the product page says about stock: units that can ship, and per store."""
    stores = [
        {"store": level.location, "available": level.available}
        for level in variant.stock_levels.all()
        if level.location.kind == LocationKind.STORE
    ]
    return {"online": _online_units(variant), "stores": stores}


def _structured_data(item: Product, variants: Sequence[Variant], canonical_url: str) -> str:
    """schema.org Product data for search engines, as JSON safe inside a <script> element."""
    offers = [
        {
            "@type": "Offer",
            "sku": variant.sku,
            "gtin": variant.barcode,
            "name": variant.name,
            "price": str(variant.price),  # type: ignore[attr-defined]
            "priceCurrency": settings.DEFAULT_CURRENCY,
            "availability": "https://schema.org/InStock"
            if _online_units(variant) > 0
            else "https://schema.org/OutOfStock",
            "url": f"{canonical_url}?sku={variant.sku}",
        }
        for variant in variants
        if variant.price is not None  # type: ignore[attr-defined]
    ]
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": item.name,
        "description": item.description,
        "brand": {"@type": "Brand", "name": item.brand},
        "category": item.category.name,
        "url": canonical_url,
        "offers": offers,
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /api/",
        "Disallow: /pos/",
        "Disallow: /console/",
        "Disallow: /marketing/",
        "Disallow: /search",
        f"Sitemap: {request.build_absolute_uri(reverse('web:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
