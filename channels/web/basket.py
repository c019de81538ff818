"""The web store's basket: add from the product page, change quantities, remove, vouchers.

A signed-in shopper's basket is their one open cart (the same cart the app, the store's POS and
the call centre see). A visitor who has not signed in keeps their basket in the session — the
cart services act only for a known customer — and it joins the customer's cart when they sign
in or sign up (:func:`basket_fold_session`, by the cart merge rule of ``orders``).

Every page works without JavaScript: plain forms, POST, then a redirect to a GET page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from catalog import selectors as catalog_selectors
from catalog.models import Variant
from channels.web import tracking
from channels.web.forms import BasketLineForm, VoucherForm
from channels.web.repeats import form_already_sent, form_mark_sent
from customers import selectors as customer_selectors
from customers.models import Customer
from interaction_platform.accounts.models import Role
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, InvalidInput, NotAllowed, NotFound
from orders import pricing, services
from orders import selectors as order_selectors
from orders.models import Cart
from orders.services.carts import sellable_variant
from orders.services.common import MAX_LINES, quantity_check

SESSION_KEY = "web_basket"


@dataclass(frozen=True)
class ShownLine:
    sku: str
    product_name: str
    product_slug: str
    variant_name: str
    quantity: int
    unit_price: Decimal | None
    line_total: Decimal | None


@dataclass(frozen=True)
class Basket:
    """What the basket page shows, for a cart or a visitor's session alike."""

    cart: Cart | None
    lines: list[ShownLine]
    quote: pricing.Quote | None
    voucher_code: str
    voucher_message: str
    currency: str

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def unit_count(self) -> int:
        return sum(line.quantity for line in self.lines)


# --- whose basket -----------------------------------------------------------------------------


def shopper_customer(request: HttpRequest) -> Customer | None:
    """The signed-in shopper's customer record; None for a visitor. Staff logins have no
    basket in the web store (they sell through their own channel)."""
    user = request.user
    if not user.is_authenticated:
        return None
    if getattr(user, "role", None) != Role.SHOPPER:
        raise NotAllowed("The web store's basket is for shoppers; staff sell in their channel.")
    customer = customer_selectors.customer_for_user(user_id=user.pk or 0)
    if customer is None:
        raise NotAllowed("Your login has no customer profile.")
    return customer


def _session_lines(request: HttpRequest) -> dict[str, int]:
    raw = request.session.get(SESSION_KEY, {})
    return dict(raw) if isinstance(raw, dict) else {}


def _open_cart(customer: Customer) -> Cart:
    """The customer's open cart, for a change to it: without one there is nothing to change."""
    cart = order_selectors.cart_open_for(customer=customer)
    if cart is None:
        raise InvalidInput("Your basket is empty.")
    return cart


def _cart_for(request: HttpRequest, customer: Customer) -> Cart:
    cart, _ = services.cart_open(actor=request.user, customer=customer, channel=Channel.WEB)
    return cart


def basket_get(request: HttpRequest) -> Basket:
    customer = shopper_customer(request)
    if customer is not None:
        cart = order_selectors.cart_open_for(customer=customer)
        if cart is not None:
            return basket_of_cart(cart)
        return Basket(None, [], None, "", "", settings.DEFAULT_CURRENCY)
    return _session_basket(_session_lines(request))


def basket_of_cart(cart: Cart) -> Basket:
    view = order_selectors.cart_priced(cart=cart, channel=Channel.WEB)
    priced = {line.variant.sku: line for line in view.quote.lines} if view.quote else {}
    lines = []
    for cart_line, unit_price in view.lines:
        variant = cart_line.variant
        quoted = priced.get(variant.sku)
        lines.append(
            ShownLine(
                sku=variant.sku,
                product_name=variant.product.name,
                product_slug=variant.product.slug,
                variant_name=variant.name,
                quantity=cart_line.quantity,
                unit_price=unit_price,
                line_total=quoted.line_total if quoted else None,
            )
        )
    return Basket(
        cart=cart,
        lines=lines,
        quote=view.quote,
        voucher_code=cart.voucher.code if cart.voucher else "",
        voucher_message=view.voucher_message,
        currency=cart.currency,
    )


def _session_basket(session_lines: dict[str, int]) -> Basket:
    """A visitor's basket, priced like a cart (web prices, VAT of the shop's country, no
    voucher: vouchers are for signed-in shoppers)."""
    currency = settings.DEFAULT_CURRENCY
    if not session_lines:
        return Basket(None, [], None, "", "", currency)
    found = Variant.objects.filter(
        sku__in=list(session_lines), is_published=True, product__is_published=True
    ).select_related("product")
    by_sku = {variant.sku: variant for variant in found}
    variants = [by_sku[sku] for sku in session_lines if sku in by_sku]
    price_list, prices = catalog_selectors.channel_prices(
        variant_ids=[variant.pk for variant in variants], channel=Channel.WEB, currency=currency
    )
    priced = [
        pricing.BasketLine(variant, session_lines[variant.sku], prices[variant.pk])
        for variant in variants
        if variant.pk in prices
    ]
    quote = None
    if priced and price_list is not None:
        quote = pricing.quote(
            lines=priced,
            currency=currency,
            prices_include_tax=price_list.prices_include_tax,
            tax_country=settings.DEFAULT_COUNTRY,
            voucher=None,
            is_delivered=False,
            now=timezone.now(),
        )
    totals = {line.variant.sku: line.line_total for line in quote.lines} if quote else {}
    lines = [
        ShownLine(
            sku=variant.sku,
            product_name=variant.product.name,
            product_slug=variant.product.slug,
            variant_name=variant.name,
            quantity=session_lines[variant.sku],
            unit_price=prices.get(variant.pk),
            line_total=totals.get(variant.sku),
        )
        for variant in variants
    ]
    return Basket(None, lines, quote, "", "", currency)


def basket_fold_session(request: HttpRequest) -> None:
    """The visitor signed in or up: the basket in their session joins their cart (a product in
    both keeps the larger quantity) and leaves the session. Call after ``login``."""
    session_lines = _session_lines(request)
    if not session_lines:
        return
    try:
        customer = shopper_customer(request)
    except NotAllowed:
        return
    if customer is None:
        return
    try:
        _, skipped = services.cart_fold_lines(
            actor=request.user,
            cart=_cart_for(request, customer),
            lines=session_lines.items(),
            channel=Channel.WEB,
        )
    except DomainError:
        # The cart was checked out at this very moment elsewhere: the visitor's basket stays
        # in the session and joins the next cart at the next sign-in.
        messages.info(request, "We could not add your earlier basket yet; it is kept for you.")
        return
    del request.session[SESSION_KEY]
    if skipped:
        messages.info(
            request,
            "Some products in your basket are no longer for sale and were left out: "
            + ", ".join(skipped)
            + ".",
        )


# --- pages ------------------------------------------------------------------------------------


@never_cache
@require_GET
def basket(request: HttpRequest) -> HttpResponse:
    current = basket_get(request)
    response = render(
        request,
        "web/basket.html",
        {
            "basket": current,
            "voucher_form": VoucherForm(initial={"code": current.voucher_code}),
            "is_visitor": not request.user.is_authenticated,
        },
    )
    return tracking.page_viewed(request, response, name="Basket")


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page the form was on (a product page adds and stays), else the basket."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("web:basket")


def _refuse(request: HttpRequest, error: DomainError | str) -> HttpResponseRedirect:
    message = error if isinstance(error, str) else error.message
    messages.error(request, message)
    return _back(request)


@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    form = BasketLineForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.first_error())
    sku, quantity = form.cleaned_data["sku"], form.cleaned_data["quantity"]
    key = request.POST.get("form_key", "")[:100]
    if form_already_sent(request, key):
        return _back(request)
    try:
        customer = shopper_customer(request)
        if customer is None:
            variant = _session_add(request, sku=sku, quantity=quantity)
            cart_id: int | None = None
        else:
            variant = sellable_variant(sku=sku)  # before the cart is opened: a refusal opens none
            cart = _cart_for(request, customer)
            services.cart_add_line(
                actor=request.user, cart=cart, sku=sku, quantity=quantity, channel=Channel.WEB
            )
            cart_id = cart.pk
    except DomainError as error:
        return _refuse(request, error)
    form_mark_sent(request, key)
    messages.success(request, f"Added {quantity} × {variant.product.name} ({variant.name}).")
    response = _back(request)
    if not tracking.is_tracking_allowed(request):
        return response
    return tracking.track(
        request,
        response,
        event="Product Added",
        properties=_added_properties(variant, quantity, cart_id),
    )


def _added_properties(variant: Any, quantity: int, cart_id: int | None) -> dict[str, Any]:
    price = catalog_selectors.channel_prices(
        variant_ids=[variant.pk], channel=Channel.WEB, currency=settings.DEFAULT_CURRENCY
    )[1].get(variant.pk)
    return {
        "cart_id": cart_id,
        "product_id": variant.product.slug,
        "sku": variant.sku,
        "name": variant.product.name,
        "variant": variant.name,
        "price": str(price) if price is not None else None,
        "quantity": quantity,
        "currency": settings.DEFAULT_CURRENCY,
    }


def _session_add(request: HttpRequest, *, sku: str, quantity: int) -> Any:
    """The same checks the cart applies (a SKU for sale, 1 to 99 units a line, at most
    MAX_LINES lines), for a visitor's session basket."""
    variant = sellable_variant(sku=sku)
    session_lines = _session_lines(request)
    if variant.sku not in session_lines and len(session_lines) >= MAX_LINES:
        raise InvalidInput(f"A basket holds at most {MAX_LINES} different products.")
    session_lines[variant.sku] = quantity_check(session_lines.get(variant.sku, 0) + quantity)
    request.session[SESSION_KEY] = session_lines
    return variant


def _session_set(request: HttpRequest, *, sku: str, quantity: int | None) -> None:
    """Set a line of the visitor's session basket to ``quantity`` units, or remove it (None).
    Raises NotFound (not in the basket), InvalidInput (a bad quantity)."""
    session_lines = _session_lines(request)
    if sku not in session_lines:
        raise NotFound(f"'{sku}' is not in your basket.")
    if quantity is None:
        del session_lines[sku]
    else:
        session_lines[sku] = quantity_check(quantity)
    request.session[SESSION_KEY] = session_lines


@require_POST
def basket_update(request: HttpRequest) -> HttpResponse:
    form = BasketLineForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.first_error())
    sku, quantity = form.cleaned_data["sku"], form.cleaned_data["quantity"]
    try:
        customer = shopper_customer(request)
        if customer is None:
            _session_set(request, sku=sku, quantity=quantity)
        else:
            services.cart_set_quantity(
                actor=request.user,
                cart=_open_cart(customer),
                sku=sku,
                quantity=quantity,
                channel=Channel.WEB,
            )
    except DomainError as error:
        return _refuse(request, error)
    messages.success(request, "Your basket is updated.")
    return redirect("web:basket")


@require_POST
def basket_remove(request: HttpRequest) -> HttpResponse:
    sku = request.POST.get("sku", "").strip()[:64]
    try:
        customer = shopper_customer(request)
        if customer is None:
            _session_set(request, sku=sku, quantity=None)
        else:
            services.cart_remove_line(actor=request.user, cart=_open_cart(customer), sku=sku)
    except DomainError as error:
        return _refuse(request, error)
    messages.success(request, "The product is removed from your basket.")
    return redirect("web:basket")


@require_POST
def basket_voucher(request: HttpRequest) -> HttpResponse:
    """Apply a voucher (``code``) or remove it (``remove``). Signed-in shoppers only."""
    customer = shopper_customer(request)
    if customer is None:
        return _refuse(request, "Sign in to use a voucher: it is checked against your account.")
    try:
        cart = _open_cart(customer)
        if "remove" in request.POST:
            services.cart_remove_voucher(actor=request.user, cart=cart)
            messages.success(request, "The voucher is removed.")
        else:
            form = VoucherForm(request.POST)
            if not form.is_valid():
                return _refuse(request, form.first_error())
            services.cart_apply_voucher(
                actor=request.user, cart=cart, code=form.cleaned_data["code"]
            )
            messages.success(request, f"Voucher {form.cleaned_data['code'].upper()} is applied.")
    except DomainError as error:
        return _refuse(request, error)
    return redirect("web:basket")
