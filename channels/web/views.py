"""The shopper web store: home, categories, search and product pages, sitemap and robots,
and the page where a customer pays an order by link (sent by an agent or a store).

Views read through the core's selectors and call its services; they decide nothing about
prices, stock or payments themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from catalog import selectors as catalog_selectors
from catalog.models import Category, LocationKind, Product, Variant
from channels.web import tracking
from channels.web.repeats import form_key_new
from customers import selectors as customer_selectors
from customers.models import Customer, IdentityKind
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from orders import gateways, services
from orders.errors import PaymentDeclined, PaymentFailed, PaymentPending
from orders.models import OrderStatus

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
            "add_form_key": form_key_new(),
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


# The sandbox provider's test cards, offered in place of a real provider's card fields.
SANDBOX_CARDS = [
    (gateways.SANDBOX_APPROVE, "Test card that is approved"),
    (gateways.SANDBOX_DECLINE, "Test card that is declined"),
    (gateways.SANDBOX_ERROR, "Test card whose provider fails"),
    (gateways.SANDBOX_TIMEOUT, "Test card whose answer times out"),
]


@never_cache
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """Pay an order by link. The signed, expiring link is the credential: no sign-in. A
    tampered link is not found (404), an expired one is gone (410)."""
    if request.method == "POST":
        return _pay_submit(request, token)
    order, attempt = services.payment_link_open(token=token)
    return render(
        request,
        "web/pay.html",
        {
            "order": order,
            "attempt": attempt,
            "is_paid": order.status != OrderStatus.PENDING_PAYMENT,
            "cards": SANDBOX_CARDS,
        },
    )


def _pay_submit(request: HttpRequest, token: str) -> HttpResponse:
    attempt = request.POST.get("attempt", "")
    if not attempt.isdigit() or len(attempt) > 18:
        raise InvalidInput("This form is out of date; open the link again.")
    try:
        services.payment_link_pay(
            token=token, attempt_id=int(attempt), card_token=request.POST.get("card_token", "")
        )
    except (PaymentDeclined, PaymentFailed) as error:
        messages.error(request, error.message)
    except PaymentPending:
        messages.info(
            request,
            "The payment provider is slow to answer. Try again in a moment: you will not be "
            "charged twice.",
        )
    else:
        messages.success(request, "Thank you: your payment was received.")
    return redirect("web:pay", token=token)
