"""Ringing up a sale at the till.

The ticket (the lines being rung up, the customer attached to it, their online basket pulled
into it) lives on the device, in the page's script (static/pos/sale.js), so that the till keeps
selling through a network drop. A finished sale is sent as JSON to ``POST /pos/sales/`` with the
id the page made for it (a UUID): that id is the order's idempotency key, so a sale sent twice —
a retry, or a replay of a sale kept on the device while offline — is placed once. The answer is
201 for a new order and 200, with the same order, for a repeat.

Everything a sale does goes through ``orders.services.order_place`` (the one checkout): prices,
stock, payment, the ``POS Order Completed`` touchpoint. A sale that took in the customer's
online basket is placed *from that basket*, so the basket is closed (``ordered``) by the same
transaction that writes the order and the order remembers the channel the basket started on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors as catalog_selectors
from catalog.models import Location
from channels.pos.store import current_store
from customers import selectors as customer_selectors
from customers.models import Customer
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, DomainError, InvalidInput, NotFound
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, can, require
from orders import selectors as order_selectors
from orders import services
from orders.models import Cart, CartStatus, FulfilmentMethod, Order, PaymentMethod
from orders.services.checkout import PlacedOrder

CUSTOMER_SESSION_KEY = "pos_customer"
MAX_BODY_BYTES = 64 * 1024
PAYMENT_METHODS = frozenset({PaymentMethod.CASH, PaymentMethod.CARD_PRESENT})


@dataclass(frozen=True)
class SaleRequest:
    """A sale as the till sent it, parsed; ``order_place`` checks the rest."""

    sale_id: str
    store: Location
    lines: tuple[services.LineRequest, ...]
    customer: Customer | None
    cart: Cart | None
    payment: services.PaymentRequest
    placed_at: datetime | None


def serving_customer(request: HttpRequest) -> Customer | None:
    """The customer staff identified at this till (see views.identify_customer), if any."""
    public_id = request.session.get(CUSTOMER_SESSION_KEY)
    return customer_selectors.customer_get_live(public_id=public_id) if public_id else None


# --- pages -----------------------------------------------------------------------------------


@require_GET
@require_action(Action.POS_USE)
def sale(request: HttpRequest) -> HttpResponse:
    """The sale screen: the ticket is drawn by sale.js from what the device keeps; the page
    brings the customer being served and their open online basket, priced for the store."""
    store = current_store(request)
    require(request.user, Action.STORE_ACT, store)
    customer = serving_customer(request)
    basket = None
    if customer is not None:
        cart = order_selectors.cart_open_for(customer=customer)
        if cart is not None:
            basket = order_selectors.cart_priced(cart=cart, channel=Channel.STORE)
    assert isinstance(request.user, User)
    return render(
        request,
        "pos/sale.html",
        {
            "store": store,
            "customer": customer,
            "basket": basket,
            "sale_data": _sale_page_data(request.user, store, customer, basket),
        },
    )


def _sale_page_data(
    user: User, store: Location, customer: Customer | None, basket: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": user.pk,
        "store": {"code": store.code, "name": store.name},
        "currency": settings.DEFAULT_CURRENCY,
        "customer": None,
        "basket": None,
    }
    if customer is not None:
        data["customer"] = {"id": str(customer.public_id), "name": customer.display_name}
    if basket is not None:
        data["basket"] = {
            "cart": basket.cart.pk,
            "lines": [
                {
                    "sku": line.variant.sku,
                    "name": f"{line.variant.product.name} {line.variant.name}".strip(),
                    "unit_price": str(price),
                    "quantity": line.quantity,
                }
                for line, price in basket.lines
                if price is not None
            ],
        }
    return data


@require_GET
@require_action(Action.POS_USE)
def sale_item(request: HttpRequest) -> JsonResponse:
    """``GET /pos/sale/items/?code=…``: what a scanned barcode or typed SKU adds to the ticket
    (name, store price, units available here). The service worker keeps the answers, so a
    product looked up before can be sold while offline."""
    try:
        store = current_store(request)
        code = request.GET.get("code", "").strip()[:64]
        found = catalog_selectors.variant_by_code(code=code) if code else None
        if found is None:
            raise NotFound(
                f"No product has the barcode or SKU “{code}”. Scan it again or type the SKU.",
                code="unknown_product",
            )
        try:
            price = catalog_selectors.variant_price(
                variant=found, channel=Channel.STORE, currency=settings.DEFAULT_CURRENCY
            )
        except NotFound:
            raise InvalidInput(
                f"{found.product.name} {found.name} has no store price: it cannot be sold here.",
                code="not_for_sale_here",
            ) from None
        level = next(
            (
                row
                for row in catalog_selectors.variant_stock(variant=found)
                if row.location_id == store.pk
            ),
            None,
        )
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.http_status)
    return JsonResponse(
        {
            "sku": found.sku,
            "barcode": found.barcode,
            "name": f"{found.product.name} {found.name}".strip(),
            "unit_price": str(price.amount),
            "currency": price.price_list.currency,
            "available_here": level.available if level is not None else 0,
        }
    )


# --- the sales endpoint ------------------------------------------------------------------------


@require_POST
def sales(request: HttpRequest) -> JsonResponse:
    """``POST /pos/sales/``: place a sale (JSON, see the module docstring). 201 with the new
    order, 200 with the same order for a repeat of a sale already placed, 4xx with
    ``{"error", "message", "fields"}`` for a sale that cannot be placed (nothing is written)."""
    try:
        require(request.user, Action.POS_USE)
        sale_request = sale_parse(request.body, user=request.user)
        placed = sale_place(actor=request.user, sale=sale_request)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.http_status)
    order = placed.order
    return JsonResponse(
        {
            "id": sale_request.sale_id,
            "number": order.number,
            "total": str(order.total),
            "currency": order.currency,
            "change_due": str(placed.change_due) if placed.change_due is not None else None,
            "receipt_url": reverse("pos:receipt", kwargs={"number": order.number}),
            "is_replay": placed.is_replay,
        },
        status=200 if placed.is_replay else 201,
    )


def sale_place(*, actor: Any, sale: SaleRequest) -> PlacedOrder:
    """Place ``sale`` through the one checkout, carried out at the till. With a pulled
    online basket the basket is first made to hold exactly the ticket's lines and then ordered,
    in one transaction: a refusal leaves the basket as it was. Idempotent per ``sale_id``."""
    request: dict[str, Any] = {
        "actor": actor,
        "channel": Channel.STORE,
        "idempotency_key": sale.sale_id,
        "payment": sale.payment,
        "fulfilment_method": FulfilmentMethod.CARRY_OUT,
        "customer": sale.customer,
        "store": sale.store,
        "placed_at": sale.placed_at,
    }
    if sale.cart is None:
        return services.order_place(**request, lines=sale.lines)
    if _is_placed(sale.sale_id):
        return services.order_place(**request, cart=sale.cart)  # the same answer again
    try:
        with transaction.atomic():
            _basket_match(actor=actor, cart=sale.cart, lines=sale.lines)
            return services.order_place(**request, cart=sale.cart)
    except Conflict as error:
        # A repeat racing the first send found the basket already ordered by it.
        if error.code != "cart_closed" or not _is_placed(sale.sale_id):
            raise
        return services.order_place(**request, cart=sale.cart)


def _is_placed(sale_id: str) -> bool:
    return Order.objects.filter(idempotency_key=sale_id).exists()


def _basket_match(*, actor: Any, cart: Cart, lines: tuple[services.LineRequest, ...]) -> None:
    """Make ``cart`` hold ``lines`` (what the ticket shows) through the cart services."""
    wanted = {line.sku.upper(): line for line in lines}
    if len(wanted) != len(lines):
        raise InvalidInput("A product is on two lines of the sale.", code="duplicate_line")
    held = {
        sku.upper(): quantity
        for sku, quantity in cart.lines.values_list("variant__sku", "quantity")
    }
    for sku in held.keys() - wanted.keys():
        services.cart_remove_line(actor=actor, cart=cart, sku=sku)
    for sku, line in wanted.items():
        if sku not in held:
            services.cart_add_line(
                actor=actor, cart=cart, sku=line.sku, quantity=line.quantity, channel=Channel.STORE
            )
        elif held[sku] != line.quantity:
            services.cart_set_quantity(
                actor=actor, cart=cart, sku=line.sku, quantity=line.quantity, channel=Channel.STORE
            )


def sale_parse(body: bytes, *, user: Any) -> SaleRequest:
    """Read a sale sent by the till. Raises InvalidInput (shape), NotFound (an unknown store,
    customer or basket), NotAllowed (a store the staff member does not work at)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput("This sale is too large to send in one piece.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Send the sale as a JSON object.") from None
    if not isinstance(data, dict):
        raise InvalidInput("Send the sale as a JSON object.")
    store = catalog_selectors.store_get(code=_text(data.get("store"), "store"))
    require(user, Action.STORE_ACT, store)
    customer = None
    if data.get("customer") is not None:
        customer = customer_selectors.customer_get_by_public_id(
            public_id=_uuid(data["customer"], "customer")
        )
    return SaleRequest(
        sale_id=_uuid(data.get("id"), "id"),
        store=store,
        lines=_lines(data.get("lines")),
        customer=customer,
        cart=_cart(data.get("cart"), customer),
        payment=_payment(data.get("payment")),
        placed_at=_placed_at(data.get("placed_at")),
    )


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > 100:
        raise InvalidInput(f"The sale has no valid {field}.", fields={field: ["Required."]})
    return value.strip()


def _uuid(value: object, field: str) -> str:
    try:
        return str(uuid.UUID(_text(value, field)))
    except ValueError:
        raise InvalidInput(
            f"The sale's {field} is not a UUID.", fields={field: ["A UUID."]}
        ) from None


def _lines(value: object) -> tuple[services.LineRequest, ...]:
    if not isinstance(value, list):
        raise InvalidInput("The sale has no lines.", fields={"lines": ["A list of lines."]})
    lines = []
    for index, line in enumerate(value):
        if not isinstance(line, dict):
            raise InvalidInput("A line of the sale is unreadable.", fields={"lines": ["Objects."]})
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput(
                "Each line needs a whole number of units.",
                fields={f"lines.{index}.quantity": ["A whole number."]},
            )
        lines.append(
            services.LineRequest(
                sku=_text(line.get("sku"), f"lines.{index}.sku"), quantity=quantity
            )
        )
    return tuple(lines)


def _cart(value: object, customer: Customer | None) -> Cart | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("The basket is not a number.", fields={"cart": ["A basket id."]})
    cart = order_selectors.cart_get(cart_id=value)
    if customer is None or cart.customer_id != customer.pk:
        raise InvalidInput(
            "An online basket is added to a sale together with its customer.",
            fields={"cart": ["Attach the basket's customer to the sale."]},
        )
    if cart.status == CartStatus.MERGED:
        raise InvalidInput("This basket was merged into another one; add the basket again.")
    return cart


def _payment(value: object) -> services.PaymentRequest:
    if not isinstance(value, dict) or value.get("method") not in PAYMENT_METHODS:
        raise InvalidInput(
            "Take cash or a card payment.", fields={"payment.method": ["cash or card_present."]}
        )
    method = str(value["method"])
    if method == PaymentMethod.CASH:
        return services.PaymentRequest(
            method=method, amount_tendered=_amount(value.get("amount_tendered"))
        )
    reference = value.get("terminal_reference")
    return services.PaymentRequest(
        method=method, terminal_reference=reference if isinstance(reference, str) else ""
    )


def _amount(value: object) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None  # order_place asks for the amount handed over
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(
            "Type the cash handed over as an amount, like 50 or 20.50.",
            fields={"payment.amount_tendered": ["An amount."]},
        ) from None


def _placed_at(value: object) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(
            "The time of the sale is unreadable.", fields={"placed_at": ["An ISO 8601 time."]}
        )
    return parsed


# --- the receipt -------------------------------------------------------------------------------


def sold_here(request: HttpRequest, number: str) -> Order:
    """An order sold or collected at one of the staff member's stores. Raises NotFound."""
    order = order_selectors.order_get(number=number)
    if order.store is None or not _works_at(request, order.store):
        raise NotFound(f"There is no order {number} at your stores.")
    return order


def _works_at(request: HttpRequest, store: Location) -> bool:
    return can(request.user, Action.STORE_ACT, store)


@require_GET
@require_action(Action.POS_USE)
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    store = current_store(request)
    order = sold_here(request, number)
    tendered = _tendered(request.GET.get("tendered", ""))
    change = tendered - order.total if tendered is not None and tendered >= order.total else None
    return render(
        request,
        "pos/receipt.html",
        {"store": store, "order": order, "tendered": tendered, "change": change},
    )


def _tendered(raw: str) -> Decimal | None:
    try:
        amount = Decimal(raw[:12])
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None
