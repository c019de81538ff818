"""Checkout in the web store: delivery or click & collect, the sandbox card, the confirmation.

One page, one POST to ``orders.services.order_place`` (the checkout every channel uses). The
form carries an idempotency key in a hidden field, so a double click or a resent form places
one order. A declined card leaves the basket as it was and asks for another card (with a new
key: the old one would answer the same refusal again); a payment whose answer is lost keeps the
key, so pressing "Place order" again finishes it and charges once.

The core needs a known customer and a signed-in actor for an order, so a visitor is asked to
sign in (their basket comes along).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from catalog import selectors as catalog_selectors
from catalog.models import Location, LocationKind, StockLevel
from channels.web import tracking
from channels.web.basket import Basket, basket_get, basket_of_cart, shopper_customer
from channels.web.forms import CheckoutForm
from customers.models import Customer
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, NotAuthenticated
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require
from orders import gateways, services
from orders import selectors as order_selectors
from orders.countries import COUNTRIES, shipping_fee
from orders.errors import PaymentDeclined, PaymentFailed, PaymentPending
from orders.models import FulfilmentMethod, PaymentMethod

SANDBOX_TOKENS = [
    (gateways.SANDBOX_APPROVE, "approved"),
    (gateways.SANDBOX_DECLINE, "declined by the bank"),
    (gateways.SANDBOX_ERROR, "the provider fails"),
    (gateways.SANDBOX_TIMEOUT, "the answer is late; press Place order again"),
]
STARTED_SESSION_KEY = "web_checkout_started"
# Keys this browser submitted, with the cart they were for: a repeat after the cart was
# ordered (a double click, a reload, pressing again after a late payment answer) is the same
# request and must reach the core again, which answers the first result.
SUBMITTED_SESSION_KEY = "web_checkout_submitted"
SUBMITTED_KEYS_KEPT = 20


def _new_key() -> str:
    return f"web-{uuid.uuid4().hex}"


def _initial(customer: Customer, store_rows: list[dict[str, Any]]) -> dict[str, Any]:
    home_store = [
        row["store"].code for row in store_rows if row["store"].pk == customer.home_store_id
    ]
    return {
        "idempotency_key": _new_key(),
        "fulfilment": FulfilmentMethod.DELIVERY,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "line1": customer.address_line1,
        "postcode": customer.postcode,
        "city": customer.city,
        "country": customer.country or settings.DEFAULT_COUNTRY,
        "phone": customer.phone,
        "pickup_store": home_store[0] if home_store else "",
    }


def _pickup_stores(current: Basket) -> list[dict[str, Any]]:
    """Stores offering click & collect, each with whether it has every unit of the basket on
    its shelf today (one query for the stock)."""
    stores = [store for store in catalog_selectors.store_list() if store.offers_click_and_collect]
    wanted = {line.sku: line.quantity for line in current.lines}
    levels = StockLevel.objects.filter(
        variant__sku__in=list(wanted),
        location__in=stores,
    ).select_related("variant")
    available: dict[int, dict[str, int]] = {}
    for level in levels:
        available.setdefault(level.location_id, {})[level.variant.sku] = level.available
    return [
        {
            "store": store,
            "short": [
                sku
                for sku, quantity in wanted.items()
                if available.get(store.pk, {}).get(sku, 0) < quantity
            ],
        }
        for store in stores
    ]


def _delivery_fees(current: Basket) -> list[dict[str, Any]]:
    """What delivery would cost this basket in each country we deliver to (the core's rule)."""
    if current.quote is None:
        return []
    goods = current.quote.goods_amount - current.quote.discount_total
    return [
        {
            "country": rules.name,
            "fee": shipping_fee(country=code, goods_total=goods),
            "free_from": rules.free_shipping_from,
        }
        for code, rules in COUNTRIES.items()
    ]


def _store_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (
            row["store"].code,
            f"{row['store'].name}, {row['store'].city} — "
            + ("everything in stock" if not row["short"] else "not everything in stock"),
        )
        for row in rows
    ]


def _pickup_store(code: str) -> Location | None:
    if not code:
        return None
    store = catalog_selectors.store_list().filter(code=code).first()
    return store if store is not None and store.kind == LocationKind.STORE else None


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        messages.info(
            request, "Sign in or create an account to check out; your basket comes along."
        )
        raise NotAuthenticated()
    require(request.user, Action.ORDER_PLACE)
    customer = shopper_customer(request)
    assert customer is not None
    current = _submitted_basket(request) or basket_get(request)
    if current.is_empty or current.cart is None:
        messages.info(request, "Your basket is empty: add something first.")
        return redirect("web:basket")
    store_rows = _pickup_stores(current)
    form = CheckoutForm(
        request.POST or None,
        initial=_initial(customer, store_rows),
        stores=_store_choices(store_rows),
    )
    status = 200
    details_step = None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            placed, details_step = _place(request, form, current)
            if placed is not None:
                return placed
    response = render(
        request,
        "web/checkout.html",
        {
            "basket": current,
            "form": form,
            "store_rows": store_rows,
            "sandbox_tokens": SANDBOX_TOKENS,
            "delivery_fees": _delivery_fees(current),
        },
        status=status,
    )
    if request.method == "GET":
        return _checkout_started(request, response, current)
    if details_step is not None:
        tracking.track(request, response, event="Checkout Step Completed", properties=details_step)
    return response


def _submitted_basket(request: HttpRequest) -> Basket | None:
    """The basket a repeated submit was for (see SUBMITTED_SESSION_KEY), else None."""
    key = request.POST.get("idempotency_key", "")
    cart_id = request.session.get(SUBMITTED_SESSION_KEY, {}).get(key)
    if request.method != "POST" or not cart_id:
        return None
    return basket_of_cart(order_selectors.cart_get(cart_id=cart_id))


def _remember_submitted(request: HttpRequest, key: str, cart_id: int) -> None:
    submitted = dict(request.session.get(SUBMITTED_SESSION_KEY, {}))
    submitted[key] = cart_id
    request.session[SUBMITTED_SESSION_KEY] = dict(list(submitted.items())[-SUBMITTED_KEYS_KEPT:])


def _checkout_started(
    request: HttpRequest, response: HttpResponse, current: Basket
) -> HttpResponse:
    """``Checkout Started`` once per cart and session (a reload is not a new checkout)."""
    assert current.cart is not None
    if request.session.get(STARTED_SESSION_KEY) == current.cart.pk:
        return response
    request.session[STARTED_SESSION_KEY] = current.cart.pk
    return tracking.track(
        request,
        response,
        event="Checkout Started",
        properties={
            "checkout_id": current.cart.pk,
            "value": str(current.quote.total) if current.quote else None,
            "currency": current.currency,
            "products": [
                {"sku": line.sku, "product_id": line.product_slug, "quantity": line.quantity}
                for line in current.lines
            ],
        },
    )


def _place(
    request: HttpRequest, form: CheckoutForm, current: Basket
) -> tuple[HttpResponse | None, dict[str, Any] | None]:
    """Place the order. Returns (the redirect to the confirmation, None), or, refused, (None,
    the details step when the core took the details before refusing the card, else None): the
    refusal is on the form and nothing is kept. The checkout steps reach analytics (with
    consent): the details step when the core took them, the payment step when it is paid."""
    data = form.cleaned_data
    is_delivery = data["fulfilment"] == FulfilmentMethod.DELIVERY
    pickup_store = None if is_delivery else _pickup_store(data["pickup_store"])
    if not is_delivery and pickup_store is None:
        form.add_error("pickup_store", "Choose the store where you want to collect it.")
        return None, None
    assert current.cart is not None
    details_step = {
        "checkout_id": current.cart.pk,
        "step": 1,
        "step_name": "details",
        "shipping_method": data["fulfilment"],
    }
    _remember_submitted(request, data["idempotency_key"], current.cart.pk)
    try:
        placed = services.order_place(
            actor=request.user,
            channel=Channel.WEB,
            idempotency_key=data["idempotency_key"],
            payment=services.PaymentRequest(
                method=PaymentMethod.CARD_ONLINE, token=data["card_token"].strip()
            ),
            fulfilment_method=data["fulfilment"],
            cart=current.cart,
            pickup_store=pickup_store,
            delivery_address=form.delivery_address() if is_delivery else None,
        )
    except PaymentPending as error:
        form.add_error(None, error.message)
        form.add_error(
            None, "Press Place order again in a moment to finish: you will not be charged twice."
        )
        return None, details_step
    except (PaymentDeclined, PaymentFailed) as error:
        _fresh_key(form)
        form.add_domain_error(error)
        form.add_error("card_token", "Try another card. Your basket is kept as it was.")
        return None, details_step
    except DomainError as error:
        _fresh_key(form)
        form.add_domain_error(error)
        return None, None
    order = placed.order
    request.session.pop(STARTED_SESSION_KEY, None)
    response = redirect("web:checkout-done", number=order.number)
    tracking.track(request, response, event="Checkout Step Completed", properties=details_step)
    payment_step = {
        **details_step,
        "step": 2,
        "step_name": "payment",
        "payment_method": PaymentMethod.CARD_ONLINE.value,
        "order_id": order.number,
    }
    tracking.track(request, response, event="Checkout Step Completed", properties=payment_step)
    return response, None


def _fresh_key(form: CheckoutForm) -> None:
    """A refused request keeps its answer under its key: the next attempt needs a new one."""
    data = form.data.copy()  # type: ignore[attr-defined]
    data["idempotency_key"] = _new_key()
    form.data = data


@never_cache
@require_GET
@require_action(Action.OWN_PROFILE)
def checkout_done(request: HttpRequest, number: str) -> HttpResponse:
    order = order_selectors.order_get(number=number)
    require(request.user, Action.ORDER_VIEW, order)
    return render(request, "web/checkout_done.html", {"order": order})
