"""The store staff's mobile POS: look products up, see stock here and nearby, identify the
customer. Phone-sized pages that work with a barcode scanner (it types and presses Enter)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors as catalog_selectors
from catalog.models import Location, LocationKind
from channels.pos.sales import CUSTOMER_SESSION_KEY, serving_customer
from channels.pos.store import choose_store, current_store, stores_for
from customers import selectors as customer_selectors
from customers.in_store import customer_identify_in_store, product_viewed_in_store
from customers.models import AccessAction
from customers.services import access_log_record
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotFound
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require

LOOKUP_LIMIT = 20
STATIC_DIR = Path(__file__).resolve().parent / "static" / "pos"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_GET
@require_action(Action.POS_USE)
def home(request: HttpRequest) -> HttpResponse:
    store = current_store(request)
    return render(
        request,
        "pos/home.html",
        {
            "store": store,
            "stores": stores_for(_user(request)),
            "stock": catalog_selectors.location_stock_summary(location=store),
        },
    )


@require_POST
@require_action(Action.POS_USE)
def switch_store(request: HttpRequest) -> HttpResponse:
    store = get_object_or_404(Location, pk=request.POST.get("store"), kind=LocationKind.STORE)
    choose_store(request, store)
    messages.success(request, f"You now sell for {store.name}.")
    return redirect("pos:home")


@require_GET
@require_action(Action.POS_USE)
def lookup(request: HttpRequest) -> HttpResponse:
    """A scanned barcode or typed SKU opens the product; words list matching products."""
    query = request.GET.get("q", "").strip()[:100]
    if not query:
        return redirect("pos:home")
    exact = catalog_selectors.variant_by_code(code=query)
    if exact is not None:
        return redirect("pos:variant", sku=exact.sku)
    store = current_store(request)
    products = catalog_selectors.product_list(query=query, with_variants=True)[:LOOKUP_LIMIT]
    return render(
        request, "pos/lookup.html", {"store": store, "query": query, "products": products}
    )


@require_GET
@require_action(Action.POS_USE)
def variant(request: HttpRequest, sku: str) -> HttpResponse:
    store = current_store(request)
    item = catalog_selectors.variant_get(sku=sku)
    levels = {level.location_id: level for level in catalog_selectors.variant_stock(variant=item)}
    try:
        price = catalog_selectors.variant_price(
            variant=item, channel=Channel.STORE, currency=settings.DEFAULT_CURRENCY
        )
    except NotFound:
        price = None
    nearby = [
        {"store": other, "km": km, "level": levels.get(other.pk)}
        for other, km in catalog_selectors.stores_by_distance(origin=store)
    ]
    warehouse = [
        level for level in levels.values() if level.location.kind == LocationKind.WAREHOUSE
    ]
    serving = serving_customer(request)
    if serving is not None:
        product_viewed_in_store(customer=serving, variant=item, store=store)
    return render(
        request,
        "pos/variant.html",
        {
            "store": store,
            "variant": item,
            "price": price,
            "here": levels.get(store.pk),
            "nearby": nearby,
            "warehouse_units": sum(level.available for level in warehouse),
            "serving": serving,
        },
    )


@require_POST
@require_action(Action.CUSTOMER_LOOKUP)
def identify_customer(request: HttpRequest) -> HttpResponse:
    store = current_store(request)
    require(request.user, Action.STORE_ACT, store)
    query = request.POST.get("q", "")[:200]
    try:
        customer = customer_identify_in_store(query=query, store=store, staff=request.user)
    except InvalidInput as error:
        messages.error(request, error.message)
        return redirect("pos:home")
    if customer is None:
        messages.error(request, "No customer matches that. Check the number, or ask for another.")
        return redirect("pos:home")
    request.session[CUSTOMER_SESSION_KEY] = str(customer.public_id)
    return redirect("pos:customer", public_id=customer.public_id)


@require_POST
@require_action(Action.POS_USE)
def finish_customer(request: HttpRequest) -> HttpResponse:
    """The customer leaves the counter: stop attributing what staff look up to them."""
    request.session.pop(CUSTOMER_SESSION_KEY, None)
    return redirect("pos:home")


@require_GET
@require_action(Action.POS_USE)
def customer(request: HttpRequest, public_id: str) -> HttpResponse:
    store = current_store(request)
    found = customer_selectors.customer_get_by_public_id(public_id=public_id)
    require(request.user, Action.CUSTOMER_VIEW, found)
    access_log_record(
        actor=request.user,
        customers=[found],
        action=AccessAction.VIEW,
        via="POS: customer panel",
        reason=f"serving in {store.name}",
    )
    return render(request, "pos/customer.html", {"store": store, "customer": found})


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker for a page it has not kept, while the device is offline."""
    return render(request, "pos/offline.html")


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker is served from /pos/ so that it may control every POS page."""
    body = (STATIC_DIR / "sw.js").read_text()
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = reverse("pos:home")
    return response


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> HttpResponse:
    body = (STATIC_DIR / "manifest.webmanifest").read_text()
    return HttpResponse(body, content_type="application/manifest+json")
