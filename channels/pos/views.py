"""The store staff's mobile POS. For now its home: the staff member's stores and their stock."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors as catalog_selectors
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action


@require_action(Action.POS_USE)
def home(request: HttpRequest) -> HttpResponse:
    stores = [
        {"location": store, "stock": catalog_selectors.location_stock_summary(location=store)}
        for store in request.user.stores.order_by("name")  # type: ignore[union-attr]
    ]
    return render(request, "pos/home.html", {"stores": stores})
