"""Click & collect at the store: the orders to prepare and to hand over, "ready" when the
parcel is on the collection shelf, and the handover against the customer's pickup code."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Location
from channels.pos.sales import sold_here
from channels.pos.store import current_store
from interaction_platform.errors import DomainError
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require
from orders import services
from orders.models import FulfilmentMethod, Order, OrderStatus

WAITING = (OrderStatus.PAID, OrderStatus.READY_FOR_PICKUP)
LIST_LIMIT = 100


def orders_to_collect(*, store: Location) -> QuerySet[Order]:
    """Click & collect orders for ``store`` still to prepare (paid) or waiting on the shelf
    (ready), oldest first, with their lines."""
    return (
        Order.objects.filter(
            store=store, fulfilment_method=FulfilmentMethod.CLICK_AND_COLLECT, status__in=WAITING
        )
        .select_related("customer")
        .prefetch_related("lines")
        .order_by("placed_at", "pk")[:LIST_LIMIT]
    )


@require_GET
@require_action(Action.POS_USE)
def collect_list(request: HttpRequest) -> HttpResponse:
    return _collect_page(request)


def _collect_page(
    request: HttpRequest, *, error: str = "", failed_number: str = "", status: int = 200
) -> HttpResponse:
    store = current_store(request)
    require(request.user, Action.STORE_ACT, store)
    waiting = list(orders_to_collect(store=store))
    return render(
        request,
        "pos/collect.html",
        {
            "store": store,
            "to_prepare": [order for order in waiting if order.status == OrderStatus.PAID],
            "ready": [order for order in waiting if order.status == OrderStatus.READY_FOR_PICKUP],
            "error": error,
            "failed_number": failed_number,
        },
        status=status,
    )


@require_POST
@require_action(Action.POS_USE)
def collect_ready(request: HttpRequest, number: str) -> HttpResponse:
    order = sold_here(request, number)
    if order.status == OrderStatus.READY_FOR_PICKUP:
        messages.info(request, f"Order {order.number} is already on the collection shelf.")
        return redirect("pos:collect")
    try:
        services.order_mark_ready(actor=request.user, order=order)
    except DomainError as error:
        return _collect_page(request, error=error.message, status=error.http_status)
    messages.success(request, f"Order {order.number} is on the collection shelf.")
    return redirect("pos:collect")


@require_POST
@require_action(Action.POS_USE)
def collect_hand_over(request: HttpRequest, number: str) -> HttpResponse:
    order = sold_here(request, number)
    is_collected = (
        order.status == OrderStatus.COMPLETED
        and order.fulfilment_method == FulfilmentMethod.CLICK_AND_COLLECT
    )
    if is_collected:
        messages.info(request, f"Order {order.number} was already handed over.")
        return redirect("pos:collect")
    try:
        services.order_collect(
            actor=request.user, order=order, pickup_code=request.POST.get("pickup_code", "")
        )
    except DomainError as error:
        message = error.message
        if error.code == "wrong_pickup_code":
            message = (
                f"That is not the pickup code of order {order.number}. Ask the customer for the "
                "6-digit code in their e-mail or app; the order stays on the shelf."
            )
        return _collect_page(
            request, error=message, failed_number=order.number, status=error.http_status
        )
    messages.success(request, f"Order {order.number} is handed over.")
    return redirect("pos:collect")
