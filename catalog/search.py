"""Product search: PostgreSQL full-text search (stemmed, ranked), or a substring match on the
embedded SQLite default. Exact SKUs and barcodes always match, so a scanned code finds its
product on every database."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import CombinedExpression

from catalog.models import Product, Variant

# The configuration and weights must stay equal to the index in catalog/migrations, or
# PostgreSQL cannot use it.
SEARCH_CONFIG = "english"


def product_search_vector() -> CombinedExpression:
    return (
        SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("brand", weight="B", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG)
    )


def _products_with_code(query: str) -> list[int]:
    """Products that have a variant whose SKU (any case) or barcode is exactly ``query``:
    unique-index lookups, asked first so that the text search can use its own index."""
    codes = {query, query.upper()}
    return list(
        Variant.objects.filter(Q(sku__in=codes) | Q(barcode=query), is_published=True)
        .values_list("product_id", flat=True)
        .distinct()
    )


def products_matching(products: QuerySet[Product], *, query: str) -> QuerySet[Product]:
    """``products`` that match ``query``, best match first on PostgreSQL (name order on SQLite).

    The result is annotated with ``rank`` (0 for a SKU/barcode-only hit, and on SQLite). On
    PostgreSQL the text condition is the expression of the GIN index ``catalog_product_search``
    (catalog/migrations/0003), so a search reads the index, not every product."""
    query = query.strip()
    by_code = Q(pk__in=_products_with_code(query))
    if connection.vendor != "postgresql":
        # Every word must appear in the name, brand or description.
        every_word = Q()
        for word in query.split():
            every_word &= (
                Q(name__icontains=word) | Q(brand__icontains=word) | Q(description__icontains=word)
            )
        return (
            products.filter(every_word | by_code).annotate(rank=F("pk") * 0).order_by("name", "id")
        )
    search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return (
        products.annotate(search=product_search_vector())
        .filter(Q(search=search_query) | by_code)
        .annotate(rank=SearchRank(F("search"), search_query))
        .order_by("-rank", "name", "id")
    )
