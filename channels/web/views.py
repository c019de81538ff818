"""The shopper web store. For now its home page: categories, offers, stores."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors as catalog_selectors
from interaction_platform.choices import Channel

FEATURED_PRODUCT_COUNT = 8


def home(request: HttpRequest) -> HttpResponse:
    featured = catalog_selectors.product_list_with_prices(
        channel=Channel.WEB, currency=settings.DEFAULT_CURRENCY
    ).order_by(F("compare_at_from").desc(nulls_last=True), "name")[:FEATURED_PRODUCT_COUNT]
    return render(
        request,
        "web/home.html",
        {
            "categories": catalog_selectors.category_tree(),
            "featured": featured,
            "stores": catalog_selectors.store_list(),
        },
    )
