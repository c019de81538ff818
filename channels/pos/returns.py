"""Returns at the till, of any order from any channel: find it by its number, say what comes
back, refund (to the original payment, or cash at the store — the rules are the returns
service's), hand over the return receipt."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from channels.pos.store import current_store
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, InvalidInput, NotFound
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, can, require
from orders import selectors as order_selectors
from orders import services
from orders.models import Order, RefundMethod, ReturnKind

NUMBER_MAX_LENGTH = 20


class ReturnForm(forms.Form):
    """One quantity per order line (``line_<pk>``), whether it goes back on sale
    (``restock_<pk>``), the refund method and a reason. The key is made when the form is
    first shown, so sending it twice registers one return."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    refund_method = forms.ChoiceField(
        label="How the money goes back",
        help_text="To how it was paid (a card online or at a till), or as cash from this till.",
        choices=RefundMethod.choices,
        initial=RefundMethod.ORIGINAL_PAYMENT,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        required=False,
        help_text="In the customer's words: too small, changed mind, faulty…",
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.returnable = []
        for line in order.lines.all():
            left = line.quantity - line.returned_quantity
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.product_name} ({line.sku})",
                min_value=0,
                initial=0,
                help_text=f"{left} of {line.quantity} can come back",
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.fields[f"restock_{line.pk}"] = forms.BooleanField(
                label="Goes back on sale", required=False, initial=True
            )
            self.returnable.append((line, left))

    def line_rows(self) -> list[tuple[Any, int, Any, Any]]:
        return [
            (line, left, self[f"line_{line.pk}"], self[f"restock_{line.pk}"])
            for line, left in self.returnable
        ]

    def line_requests(self) -> list[services.ReturnLineRequest]:
        return [
            services.ReturnLineRequest(
                order_line_id=line.pk,
                quantity=self.cleaned_data[f"line_{line.pk}"],
                restock=self.cleaned_data[f"restock_{line.pk}"],
            )
            for line, _left in self.returnable
            if self.cleaned_data[f"line_{line.pk}"]
        ]


@require_GET
@require_action(Action.POS_USE)
def return_find(request: HttpRequest) -> HttpResponse:
    store = current_store(request)
    number = request.GET.get("number", "").strip().upper()[:NUMBER_MAX_LENGTH]
    if number:
        try:
            order = order_selectors.order_get(number=number)
            require(request.user, Action.ORDER_VIEW, order)
        except NotFound:
            return render(
                request,
                "pos/return_find.html",
                {"store": store, "number": number, "not_found": True},
                status=404,
            )
        return redirect("pos:return-order", number=order.number)
    return render(request, "pos/return_find.html", {"store": store, "number": ""})


@require_http_methods(["GET", "POST"])
@require_action(Action.POS_USE)
def return_order(request: HttpRequest, number: str) -> HttpResponse:
    store = current_store(request)
    order = order_selectors.order_get(number=number)
    require(request.user, Action.ORDER_VIEW, order)
    require(request.user, Action.STORE_ACT, store)
    form = ReturnForm(request.POST or None, order=order, initial={"idempotency_key": uuid.uuid4()})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = _return_take(request, form=form, order=order, store=store)
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.http_status
            else:
                return redirect("pos:return-receipt", return_id=result.return_request.pk)
    return render(
        request,
        "pos/return_order.html",
        {"store": store, "order": order, "form": form},
        status=status,
    )


def _return_take(
    request: HttpRequest, *, form: ReturnForm, order: Order, store: Any
) -> services.ReturnResult:
    lines = form.line_requests()
    if not lines:
        raise InvalidInput("Type how many of each item come back (at least one).")
    return services.return_create(
        actor=request.user,
        order=order,
        lines=lines,
        channel=Channel.STORE,
        kind=ReturnKind.IN_STORE,
        idempotency_key=str(form.cleaned_data["idempotency_key"]),
        location=store,
        refund_method=form.cleaned_data["refund_method"],
        reason=form.cleaned_data["reason"],
    )


@require_GET
@require_action(Action.POS_USE)
def return_receipt(request: HttpRequest, return_id: int) -> HttpResponse:
    store = current_store(request)
    found = order_selectors.return_get(return_id=return_id)
    location = found.received_at_location
    if location is None or not _works_at(request, location):
        raise NotFound("There is no such return at your stores.")
    return render(request, "pos/return_receipt.html", {"store": store, "return": found})


def _works_at(request: HttpRequest, location: Any) -> bool:
    return can(request.user, Action.STORE_ACT, location)
