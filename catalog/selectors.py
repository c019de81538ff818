"""Catalog reads shared by the API and the channels."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from catalog.models import (
    Category,
    Location,
    LocationKind,
    Price,
    PriceList,
    Product,
    StockLevel,
    Variant,
)
from catalog.search import products_matching
from interaction_platform.choices import Channel
from interaction_platform.errors import NotFound


def product_list(
    *, query: str = "", category_slug: str = "", with_variants: bool = True
) -> QuerySet[Product]:
    """Published products (with their published variants prefetched unless ``with_variants``
    is False), optionally filtered.

    ``query`` is a full-text search over name, brand and description (see catalog/search.py)
    that also finds exact SKUs and barcodes; results are then best match first.
    """
    products = _published_products()
    if category_slug:
        products = products.filter(
            Q(category__slug=category_slug) | Q(category__parent__slug=category_slug)
        )
    products = products.order_by("name", "id")
    if query:
        products = products_matching(products, query=query)
    if not with_variants:
        return products
    return products.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.filter(is_published=True))
    )


def _published_products() -> QuerySet[Product]:
    return Product.objects.filter(is_published=True).select_related("category__parent")


def product_get(*, slug: str, with_variants: bool = True) -> Product:
    """A published product by slug (its variants prefetched unless told not to). Raises
    NotFound."""
    try:
        return product_list(with_variants=with_variants).get(slug=slug)
    except Product.DoesNotExist as error:
        raise NotFound(f"There is no product '{slug}'.") from error


def variant_list(*, sku: str = "", barcode: str = "") -> QuerySet[Variant]:
    variants = Variant.objects.filter(is_published=True, product__is_published=True)
    if sku:
        variants = variants.filter(sku__iexact=sku)
    if barcode:
        variants = variants.filter(barcode=barcode)
    return variants.select_related("product").order_by("sku")


def variant_get(*, sku: str) -> Variant:
    """A published variant by SKU (case-insensitive). Raises NotFound."""
    variant = variant_list(sku=sku).first()
    if variant is None:
        raise NotFound(f"There is no product with SKU '{sku}'.")
    return variant


def variant_stock(*, variant: Variant) -> QuerySet[StockLevel]:
    """Stock of ``variant`` at every active location, stores first."""
    return (
        StockLevel.objects.filter(variant=variant, location__is_active=True)
        .select_related("location")
        .order_by("location__kind", "location__name")
    )


def variant_price(*, variant: Variant, channel: Channel, currency: str) -> Price:
    """The variant's price on ``channel`` in ``currency`` from the active price list."""
    price = (
        Price.objects.filter(
            variant=variant,
            price_list__channel=channel,
            price_list__currency=currency,
            price_list__is_active=True,
        )
        .select_related("price_list")
        .first()
    )
    if price is None:
        raise NotFound(
            f"'{variant.sku}' has no {currency} price on the {Channel(channel).label} channel."
        )
    return price


def store_list() -> QuerySet[Location]:
    return Location.objects.filter(kind=LocationKind.STORE, is_active=True).order_by("name")


def store_get(*, code: str) -> Location:
    try:
        return store_list().get(code=code)
    except Location.DoesNotExist as error:
        raise NotFound(f"There is no store '{code}'.") from error


def product_list_with_prices(
    *, channel: Channel, currency: str, products: QuerySet[Product] | None = None
) -> QuerySet[Product]:
    """Products annotated with ``price_from`` and ``compare_at_from``: their lowest price on
    ``channel`` (in one query, whatever the number of products)."""
    prices = Price.objects.filter(
        variant__product=OuterRef("pk"),
        variant__is_published=True,
        price_list__channel=channel,
        price_list__currency=currency,
        price_list__is_active=True,
    ).order_by("amount")
    base = products if products is not None else _published_products()
    return base.annotate(
        price_from=Subquery(prices.values("amount")[:1]),
        compare_at_from=Subquery(prices.values("compare_at_amount")[:1]),
    )


def category_tree() -> list[Category]:
    """Top-level categories, each with ``children`` and ``product_count`` (published products,
    children included), in two queries."""
    counts = dict(
        Product.objects.filter(is_published=True)
        .values_list("category_id")
        .annotate(count=Count("id"))
        .values_list("category_id", "count")
    )
    categories = list(Category.objects.order_by("position", "name"))
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    for category in categories:
        category.child_list = by_parent.get(category.pk, [])  # type: ignore[attr-defined]
    for category in by_parent.get(None, []):
        category.product_count = counts.get(category.pk, 0) + sum(  # type: ignore[attr-defined]
            counts.get(child.pk, 0) for child in by_parent.get(category.pk, [])
        )
    return by_parent.get(None, [])


LOW_STOCK_THRESHOLD = 2


def location_stock_summary(*, location: Location) -> dict[str, int]:
    """How many variants the location holds, how many are low or out, and units on hand."""
    levels = StockLevel.objects.filter(location=location)
    available = F("on_hand") - F("reserved")
    return levels.aggregate(
        variants=Count("id"),
        in_stock=Count("id", filter=Q(on_hand__gt=F("reserved"))),
        low=Count(
            "id",
            filter=Q(on_hand__gt=F("reserved"))
            & Q(on_hand__lte=F("reserved") + LOW_STOCK_THRESHOLD),
        ),
        out=Count("id", filter=Q(on_hand__lte=F("reserved"))),
        units_available=Coalesce(Sum(available), 0),
    )


def category_get(*, slug: str) -> Category:
    category = Category.objects.select_related("parent").filter(slug=slug).first()
    if category is None:
        raise NotFound(f"There is no category '{slug}'.")
    return category


def variants_with_prices(*, product: Product, channel: Channel, currency: str) -> Sequence[Variant]:
    """The product's published variants, each with ``price`` / ``compare_at_price`` on
    ``channel`` (None when not sold there) and ``stock_levels`` (active locations) prefetched:
    two queries whatever the number of variants and locations."""
    price = Price.objects.filter(
        variant=OuterRef("pk"),
        price_list__channel=channel,
        price_list__currency=currency,
        price_list__is_active=True,
    )
    variants = list(
        product.variants.filter(is_published=True)
        .annotate(
            price=Subquery(price.values("amount")[:1]),
            compare_at_price=Subquery(price.values("compare_at_amount")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "stock_levels",
                queryset=StockLevel.objects.filter(location__is_active=True)
                .select_related("location")
                .order_by("location__kind", "location__name"),
            )
        )
        .order_by("position", "id")
    )
    for variant in variants:
        # SQLite hands back sub-query decimals unrounded; money always has two places.
        variant.price = _cents(variant.price)
        variant.compare_at_price = _cents(variant.compare_at_price)
    return variants


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else Decimal(amount).quantize(Decimal("0.01"))


EARTH_RADIUS_KM = 6371.0


def stores_by_distance(*, origin: Location) -> list[tuple[Location, float | None]]:
    """Other active stores, nearest first, with their distance in km from ``origin`` (None
    when a store has no coordinates; those come last)."""
    measured = []
    for store in store_list().exclude(pk=origin.pk):
        measured.append((store, _distance_km(origin, store)))
    return sorted(measured, key=lambda pair: (pair[1] is None, pair[1] or 0.0, pair[0].name))


def _distance_km(a: Location, b: Location) -> float | None:
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    lat1, lon1, lat2, lon2 = (
        math.radians(float(value)) for value in (a.latitude, a.longitude, b.latitude, b.longitude)
    )
    haversine = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return round(2 * EARTH_RADIUS_KM * math.asin(math.sqrt(haversine)), 1)


def variant_by_code(*, code: str) -> Variant | None:
    """The published variant a scanned barcode or typed SKU names exactly, or None."""
    code = code.strip()
    if not code:
        return None
    by_barcode = variant_list(barcode=code).first() if code.isdigit() else None
    return by_barcode or variant_list(sku=code).first()


def products_by_slugs(*, slugs: Sequence[str]) -> list[Product]:
    """Published products in the order of ``slugs`` (unknown or unpublished ones left out)."""
    found = {product.slug: product for product in _published_products().filter(slug__in=slugs)}
    return [found[slug] for slug in slugs if slug in found]


def products_suggested(*, seen: Sequence[Product], limit: int = 4) -> QuerySet[Product]:
    """Other products from the categories of ``seen``, newest first: simple, explainable
    suggestions ("more from Jackets")."""
    return (
        _published_products()
        .filter(category__in={product.category_id for product in seen})
        .exclude(pk__in=[product.pk for product in seen])
        .order_by("-created_at", "-id")[:limit]
    )


def channel_prices(
    *, variant_ids: Iterable[int], channel: Channel, currency: str
) -> tuple[PriceList | None, dict[int, Decimal]]:
    """The active price list of ``channel`` in ``currency`` and the prices it has for
    ``variant_ids`` (variant id → amount), in one query. Variants without a price are absent."""
    rows = list(
        Price.objects.filter(
            variant_id__in=list(variant_ids),
            price_list__channel=channel,
            price_list__currency=currency,
            price_list__is_active=True,
        ).select_related("price_list")
    )
    if not rows:
        price_list = PriceList.objects.filter(
            channel=channel, currency=currency, is_active=True
        ).first()
        return price_list, {}
    return rows[0].price_list, {row.variant_id: row.amount for row in rows}
