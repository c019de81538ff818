"""The console's commerce: an agent places an order for the caller (from their open basket or
new lines; paid by link or a sandbox card), cancels an order, registers a postal return."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalog import selectors as catalog_selectors
from customers import selectors as customer_selectors
from customers.models import Customer
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, InvalidInput
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require
from orders import gateways, services
from orders import selectors as order_selectors
from orders.models import FulfilmentMethod, PaymentMethod

MAX_LINES = 20
SANDBOX_CARDS = [
    (gateways.SANDBOX_APPROVE, "Test card: approved"),
    (gateways.SANDBOX_DECLINE, "Test card: declined"),
    (gateways.SANDBOX_ERROR, "Test card: provider fails"),
]


class PlaceOrderForm(forms.Form):
    """What an agent fills in for a caller. Prices and totals are never on it."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    source = forms.ChoiceField(
        choices=[("basket", "Their open basket"), ("lines", "These products")],
        widget=forms.RadioSelect,
        label="What to order",
    )
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "NW-000001 1\nNW-000002 2"}),
        required=False,
        label="Products (one per line: SKU and quantity)",
    )
    fulfilment = forms.ChoiceField(
        choices=[
            (FulfilmentMethod.DELIVERY, "Deliver to the address below"),
            (FulfilmentMethod.CLICK_AND_COLLECT, "Collect in a store"),
        ],
        widget=forms.RadioSelect,
        label="How they get it",
    )
    pickup_store = forms.ChoiceField(required=False, label="Store for collection")
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    line1 = forms.CharField(max_length=200, required=False, label="Street and number")
    postcode = forms.CharField(max_length=16, required=False, label="Postcode")
    city = forms.CharField(max_length=100, required=False, label="City")
    country = forms.CharField(max_length=2, required=False, label="Country (two letters)")
    phone = forms.CharField(max_length=32, required=False, label="Phone")
    payment = forms.ChoiceField(
        choices=[("link", "Send a payment link"), *SANDBOX_CARDS],
        widget=forms.RadioSelect,
        label="Payment",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pickup_store = self.fields["pickup_store"]
        assert isinstance(pickup_store, forms.ChoiceField)
        pickup_store.choices = [("", "—")] + [
            (store.code, store.name) for store in catalog_selectors.store_list()
        ]

    def clean_lines(self) -> list[services.LineRequest]:
        requested: list[services.LineRequest] = []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                raise forms.ValidationError(f"Line {number}: write a SKU and a quantity.")
            requested.append(
                services.LineRequest(parts[0], int(parts[1]) if len(parts) == 2 else 1)
            )
        if len(requested) > MAX_LINES:
            raise forms.ValidationError(f"At most {MAX_LINES} products per order.")
        return requested


def _initial(customer: Customer, has_basket: bool) -> dict[str, Any]:
    return {
        "idempotency_key": f"console-{uuid.uuid4().hex}",
        "source": "basket" if has_basket else "lines",
        "fulfilment": FulfilmentMethod.DELIVERY,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "line1": customer.address_line1,
        "postcode": customer.postcode,
        "city": customer.city,
        "country": customer.country or "NL",
        "phone": customer.phone,
        "payment": "link",
        "pickup_store": customer.home_store.code if customer.home_store else "",
    }


def _customer(request: HttpRequest, public_id: str) -> Customer:
    customer = customer_selectors.customer_get_by_public_id(public_id=public_id)
    require(request.user, Action.CUSTOMER_VIEW, customer)
    return customer


@require_http_methods(["GET", "POST"])
@require_action(Action.CONSOLE_USE)
def place_order(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = _customer(request, public_id)
    basket = order_selectors.cart_open_for(customer=customer)
    priced = (
        order_selectors.cart_priced(cart=basket, channel=Channel.CALL_CENTRE) if basket else None
    )
    form = PlaceOrderForm(request.POST or None, initial=_initial(customer, basket is not None))
    if request.method == "POST" and form.is_valid():
        try:
            placed = services.order_place(
                **_order_request(form.cleaned_data, customer, basket, request)
            )
        except DomainError as error:
            _show(form, error)
        else:
            order = placed.order
            if placed.payment_link:
                link = request.build_absolute_uri(placed.payment_link)
                messages.success(
                    request,
                    f"Order {order.number} is waiting for payment. "
                    f"Read or send the payment link: {link}",
                )
            else:
                messages.success(request, f"Order {order.number} is placed and paid.")
            return redirect("console:customer", public_id=customer.public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "console/place_order.html",
        {"customer": customer, "form": form, "basket": priced},
        status=status,
    )


def _order_request(
    data: dict[str, Any], customer: Customer, basket: Any, request: HttpRequest
) -> dict[str, Any]:
    if data["source"] == "basket" and basket is None:
        raise InvalidInput("The customer has no open basket.", fields={"source": ["No basket."]})
    if data["source"] == "lines" and not data["lines"]:
        raise InvalidInput("Add at least one product.", fields={"lines": ["No products."]})
    is_delivery = data["fulfilment"] == FulfilmentMethod.DELIVERY
    pickup_store = None
    if not is_delivery:
        if not data["pickup_store"]:
            raise InvalidInput("Choose the store.", fields={"pickup_store": ["Choose a store."]})
        pickup_store = catalog_selectors.store_get(code=data["pickup_store"])
    payment = (
        services.PaymentRequest(method=PaymentMethod.PAY_BY_LINK)
        if data["payment"] == "link"
        else services.PaymentRequest(method=PaymentMethod.CARD_ONLINE, token=data["payment"])
    )
    return {
        "actor": request.user,
        "channel": Channel.CALL_CENTRE,
        "idempotency_key": data["idempotency_key"],
        "customer": customer,
        "cart": basket if data["source"] == "basket" else None,
        "lines": data["lines"] if data["source"] == "lines" else (),
        "fulfilment_method": data["fulfilment"],
        "pickup_store": pickup_store,
        "delivery_address": (
            {
                name: data[name]
                for name in (
                    "first_name",
                    "last_name",
                    "line1",
                    "postcode",
                    "city",
                    "country",
                    "phone",
                )
            }
            if is_delivery
            else None
        ),
        "email": customer.email,
        "payment": payment,
    }


def _show(form: forms.Form, error: DomainError) -> None:
    form.add_error(None, error.message)
    for name, field_messages in error.fields.items():
        field = name.rsplit(".", 1)[-1]
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def _back_to(order: Any) -> HttpResponse:
    if order.customer is None:  # a walk-in sale at a till has no customer page
        return redirect("console:home")
    return redirect("console:customer", public_id=order.customer.public_id)


@require_POST
@require_action(Action.CONSOLE_USE)
def cancel_order(request: HttpRequest, number: str) -> HttpResponse:
    order = order_selectors.order_get(number=number)
    reason = request.POST.get("reason", "").strip()[:300] or "cancelled by the call centre"
    try:
        services.order_cancel(actor=request.user, order=order, reason=reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order {order.number} is cancelled; stock and money are back.")
    return _back_to(order)


@require_POST
@require_action(Action.CONSOLE_USE)
def return_by_post(request: HttpRequest, number: str) -> HttpResponse:
    """Register a postal return of the chosen lines; it is refunded when the parcel arrives."""
    order = order_selectors.order_get(number=number)
    lines = []
    for line in order.lines.all():
        raw = request.POST.get(f"line-{line.pk}", "0").strip()
        if raw and raw != "0":
            if not raw.isdigit():
                messages.error(request, "Quantities are whole numbers.")
                return _back_to(order)
            lines.append(services.ReturnLineRequest(line.pk, int(raw)))
    if not lines:
        messages.error(request, "Choose at least one item to return; nothing was registered.")
        return _back_to(order)
    try:
        result = services.return_create(
            actor=request.user,
            order=order,
            lines=lines,
            channel=Channel.CALL_CENTRE,
            kind="postal",
            idempotency_key=request.POST.get("idempotency_key", ""),
            reason=request.POST.get("reason", "").strip()[:300],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Return {result.return_request.pk} registered; "
            "the refund follows when the parcel arrives.",
        )
    return _back_to(order)
