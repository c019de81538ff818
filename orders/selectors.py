"""Reads of carts, orders and returns shared by the API and the channels."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from catalog import selectors as catalog_selectors
from customers.models import Customer
from interaction_platform.choices import Channel
from interaction_platform.errors import NotFound
from orders import countries, pricing
from orders.errors import VoucherNotApplicable
from orders.models import (
    Cart,
    CartLine,
    CartStatus,
    Order,
    OrderLine,
    Payment,
    Refund,
    Return,
    ReturnLine,
    Voucher,
)

MAX_ID = 2**63 - 1


def cart_get(*, cart_id: int) -> Cart:
    if not 0 < cart_id <= MAX_ID:
        raise NotFound("There is no such cart.")
    cart = Cart.objects.select_related("customer", "store", "voucher").filter(pk=cart_id).first()
    if cart is None:
        raise NotFound("There is no such cart.")
    return cart


def cart_open_for(*, customer: Customer) -> Cart | None:
    """The customer's one open cart, started on whichever channel, or None."""
    return (
        Cart.objects.select_related("customer", "store", "voucher")
        .filter(customer=customer, status=CartStatus.OPEN)
        .first()
    )


@dataclass(frozen=True)
class CartView:
    """A cart as the caller's channel prices it: an estimate until checkout (the delivery
    charge and the delivery country's VAT are known only then)."""

    cart: Cart
    lines: list[tuple[CartLine, Decimal | None]]
    quote: pricing.Quote | None
    voucher_message: str


def cart_priced(*, cart: Cart, channel: Channel) -> CartView:
    lines = list(
        CartLine.objects.filter(cart=cart).select_related("variant__product").order_by("pk")
    )
    price_list, prices = catalog_selectors.channel_prices(
        variant_ids=[line.variant_id for line in lines], channel=channel, currency=cart.currency
    )
    priced = [
        pricing.BasketLine(line.variant, line.quantity, prices[line.variant_id])
        for line in lines
        if line.variant_id in prices
    ]
    country = _estimate_country(cart)
    voucher_message = ""
    quote = None
    if priced and price_list is not None:
        include_tax = price_list.prices_include_tax
        try:
            quote = _quote(priced, cart, country, include_tax, cart.voucher)
        except VoucherNotApplicable as error:
            voucher_message = error.message
            quote = _quote(priced, cart, country, include_tax, None)
    return CartView(
        cart=cart,
        lines=[(line, prices.get(line.variant_id)) for line in lines],
        quote=quote,
        voucher_message=voucher_message,
    )


def _quote(
    lines: list[pricing.BasketLine],
    cart: Cart,
    country: str,
    prices_include_tax: bool,
    voucher: Voucher | None,
) -> pricing.Quote:
    return pricing.quote(
        lines=lines,
        currency=cart.currency,
        prices_include_tax=prices_include_tax,
        tax_country=country,
        voucher=voucher,
        is_delivered=False,
        now=timezone.now(),
    )


def _estimate_country(cart: Cart) -> str:
    for candidate in (
        cart.store.country if cart.store else "",
        cart.customer.country,
        settings.DEFAULT_COUNTRY,
    ):
        if candidate in countries.COUNTRIES:
            return candidate
    return next(iter(countries.COUNTRIES))


_ORDER_RELATED = (
    Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
    Prefetch("payments", queryset=Payment.objects.order_by("pk")),
)


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related(
        "customer", "store", "fulfilment_location", "voucher"
    ).prefetch_related(*_ORDER_RELATED)


def order_for_rendering(*, order: Order) -> Order:
    """``order`` as a service returned it (its customer, stores and voucher already at hand),
    with its lines and payments read in (one query each)."""
    prefetch_related_objects([order], *_ORDER_RELATED)
    return order


def order_get(*, number: str) -> Order:
    """An order by number, with its lines, payments and refunds. Raises NotFound."""
    order = _orders().filter(number=number).first()
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def order_customer_by_number(*, number: str) -> Customer | None:
    """The customer who placed order ``number`` (any case; None for an unknown order or an
    anonymous walk-in sale): how an agent finds a caller who reads out their order number."""
    order = (
        Order.objects.filter(number=number.strip().upper(), customer__isnull=False)
        .select_related("customer__home_store")
        .first()
    )
    return order.customer if order is not None else None


def order_list_for_customer(*, customer: Customer) -> QuerySet[Order]:
    return _orders().filter(customer=customer).order_by("-placed_at", "-pk")


def order_list_for_overview(*, customer: Customer, limit: int = 10) -> list[Order]:
    """A customer's latest orders for a profile page: store, lines and returns at hand
    (three queries), no payments."""
    return list(
        Order.objects.filter(customer=customer)
        .select_related("store")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
            Prefetch("returns", queryset=Return.objects.order_by("pk")),
        )
        .order_by("-placed_at", "-pk")[:limit]
    )


def return_get(*, return_id: int) -> Return:
    if not 0 < return_id <= MAX_ID:
        raise NotFound("There is no such return.")
    found = (
        Return.objects.select_related("order__customer", "received_at_location")
        .prefetch_related(
            Prefetch(
                "lines", queryset=ReturnLine.objects.select_related("order_line").order_by("pk")
            ),
            Prefetch("refunds", queryset=Refund.objects.order_by("pk")),
        )
        .filter(pk=return_id)
        .first()
    )
    if found is None:
        raise NotFound("There is no such return.")
    return found
