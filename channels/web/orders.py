"""The shopper's orders: the list, one order with its status and tracking, starting a return
by post, and a question about an order.

Looking up an order's status and starting a return are what a customer would otherwise phone
about: each is recorded as a self-service case (``case_record_self_service``), a status look-up
once per order per day. Another shopper's order is "not found".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from channels.web.account import own_customer
from channels.web.forms import MessageForm, ReturnForm
from channels.web.help import question_send
from channels.web.repeats import form_key_new
from customers.cases import case_record_self_service
from customers.models import Customer
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require
from orders import selectors as order_selectors
from orders import services
from orders.models import FulfilmentMethod, Order, OrderStatus, ReturnKind
from orders.services.returns import RETURNABLE

ORDERS_PER_PAGE = 20
VIEWED_SESSION_KEY = "web_orders_viewed"
VIEWED_KEPT = 50


def _own_order(request: HttpRequest, number: str) -> tuple[Customer, Order]:
    customer = own_customer(request)
    order = order_selectors.order_get(number=number[:20])
    require(request.user, Action.ORDER_VIEW, order)
    return customer, order


def _lines_left(order: Order) -> list[Any]:
    """Lines with units not yet returned: what a return form may name. Whether the order can
    be returned at all is the core's answer (``return_create``)."""
    return [line for line in order.lines.all() if line.returned_quantity < line.quantity]


def _returnable_lines(order: Order) -> list[Any]:
    """What the page offers to send back: the lines left, once the goods are with the
    customer."""
    return _lines_left(order) if order.status in RETURNABLE else []


@never_cache
@require_GET
@require_action(Action.OWN_PROFILE)
def order_list(request: HttpRequest) -> HttpResponse:
    customer = own_customer(request)
    page = Paginator(
        order_selectors.order_list_for_customer(customer=customer).prefetch_related(None),
        ORDERS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(request, "web/orders.html", {"page": page})


def _record_status_viewed(request: HttpRequest, customer: Customer, order: Order) -> None:
    """Once per order per day (per browser session is enough to keep the count honest)."""
    marker = f"{order.number}:{timezone.localdate().isoformat()}"
    viewed = request.session.get(VIEWED_SESSION_KEY, [])
    if marker in viewed:
        return
    case_record_self_service(
        customer=customer,
        subject=f"Checked the status of order {order.number}",
        channel=Channel.WEB,
        order=order,
    )
    request.session[VIEWED_SESSION_KEY] = [*viewed, marker][-VIEWED_KEPT:]


def _progress(order: Order) -> list[dict[str, Any]]:
    """The order's way to the customer, step by step, with the time a step was reached when the
    order records it."""
    is_collect = order.fulfilment_method == FulfilmentMethod.CLICK_AND_COLLECT
    handed_on = order.ready_at if is_collect else order.shipped_at
    is_completed = order.status == OrderStatus.COMPLETED
    is_handed_on = is_completed or order.status in {
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.SHIPPED,
    }
    steps = [
        ("Ordered", order.placed_at, True),
        ("Paid", None, order.status != OrderStatus.PENDING_PAYMENT),
        ("Ready for pickup" if is_collect else "Shipped", handed_on, is_handed_on),
        ("Collected" if is_collect else "Delivered", order.completed_at, is_completed),
    ]
    return [{"label": label, "at": at, "is_done": done} for label, at, done in steps]


def _detail_context(
    order: Order, *, return_form: ReturnForm | None = None, ask_form: MessageForm | None = None
) -> dict[str, Any]:
    returnable = _returnable_lines(order)
    return {
        "order": order,
        "progress": [] if order.cancelled_at else _progress(order),
        "is_click_and_collect": order.fulfilment_method == FulfilmentMethod.CLICK_AND_COLLECT,
        "return_form": return_form
        or ReturnForm(initial={"idempotency_key": form_key_new()}, returnable=returnable),
        "can_return": bool(returnable),
        "ask_form": ask_form
        or MessageForm(
            initial={
                "idempotency_key": form_key_new(),
                "subject": f"Question about order {order.number}",
            }
        ),
        "returns": list(order.returns.all()),
    }


@never_cache
@require_GET
@require_action(Action.OWN_PROFILE)
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    customer, order = _own_order(request, number)
    _record_status_viewed(request, customer, order)
    return render(request, "web/order_detail.html", _detail_context(order))


@require_POST
@require_action(Action.OWN_PROFILE)
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """Start a return by post of some units of some lines."""
    customer, order = _own_order(request, number)
    form = ReturnForm(request.POST, returnable=_lines_left(order))
    if form.is_valid() and not form.requested():
        form.add_error(None, "Choose how many of at least one product you send back.")
    if form.is_valid():
        try:
            result = services.return_create(
                actor=request.user,
                order=order,
                lines=[
                    services.ReturnLineRequest(line_id, quantity)
                    for line_id, quantity in form.requested()
                ],
                channel=Channel.WEB,
                kind=ReturnKind.POSTAL,
                idempotency_key=form.cleaned_data["idempotency_key"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            if not result.is_replay:
                case_record_self_service(
                    customer=customer,
                    subject=f"Started a return of order {order.number}",
                    channel=Channel.WEB,
                    order=order,
                )
            messages.success(
                request,
                f"Your return (number {result.return_request.pk}) is registered. Send the "
                "items to us; we refund you to your original payment when they arrive.",
            )
            return redirect("web:order-detail", number=order.number)
    return render(
        request, "web/order_detail.html", _detail_context(order, return_form=form), status=400
    )


@require_POST
@require_action(Action.OWN_PROFILE)
def order_ask(request: HttpRequest, number: str) -> HttpResponse:
    """ "Ask about this order": opens a support case linked to the order."""
    customer, order = _own_order(request, number)
    form = MessageForm(request.POST)
    if form.is_valid():
        question_send(request, customer=customer, form=form, order=order)
        messages.success(
            request, "Thank you. Your question is with customer service; we answer by e-mail."
        )
        return redirect("web:order-detail", number=order.number)
    return render(
        request, "web/order_detail.html", _detail_context(order, ask_form=form), status=400
    )
