"""Catalog reads shared by the API and the channels."""

from __future__ import annotations

from collections.abc import Iterable
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
from interaction_platform.choices import Channel
from interaction_platform.errors import NotFound


def product_list(*, query: str = "", category_slug: str = "") -> QuerySet[Product]:
    """Published products with their published variants, optionally filtered.

    ``query`` matches name, brand, SKU or barcode (case-insensitive substring); the web store's
    full-text search builds on this later.
    """
    products = _published_products()
    if category_slug:
        products = products.filter(
            Q(category__slug=category_slug) | Q(category__parent__slug=category_slug)
        )
    if query:
        matching_variants = Variant.objects.filter(
            Q(sku__iexact=query) | Q(barcode=query), is_published=True
        ).values("product_id")
        products = products.filter(
            Q(name__icontains=query) | Q(brand__icontains=query) | Q(pk__in=matching_variants)
        )
    return products.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.filter(is_published=True))
    ).order_by("name", "id")


def _published_products() -> QuerySet[Product]:
    return Product.objects.filter(is_published=True).select_related("category")


def product_get(*, slug: str) -> Product:
    try:
        return product_list().get(slug=slug)
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
