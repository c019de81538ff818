"""The shopper web store. For now its home page (categories, offers, stores) and the page where
a customer pays an order by link (sent by an agent or a store)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from catalog import selectors as catalog_selectors
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from orders import gateways, services
from orders.errors import PaymentDeclined, PaymentFailed, PaymentPending
from orders.models import OrderStatus

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
