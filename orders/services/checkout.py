"""The one checkout every channel uses: web store, mobile app, POS and call centre.

:func:`order_place` validates, prices on the server, writes the order and reserves its stock in
**one short transaction**, then — outside it — takes an online payment through the gateway and
records the outcome in a second one. In-store tenders (cash, the store's card terminal) are
settled in the first transaction: there is no network call to wait for.

**Idempotency.** Every request carries a client key. The same key with the same content returns
the first result (the same order — or the same refusal); the same key with other content is
refused (409 ``idempotency_key_reused``). Two requests with one key racing each other meet at
the order's unique key before either touches stock. A POS that sold offline replays its sales
with the keys it made at the till: each becomes one order, however often it is replayed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.errors import OutOfStock
from catalog.models import Location, LocationKind
from catalog.services import StockMove, stock_reserve, stock_sell_now
from customers.identity import normalise_email
from customers.models import Customer
from customers.selectors import customer_resolve_merged
from integrations.webhooks import webhook_emit
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotAllowed
from interaction_platform.permissions import Action, AnyUser, require
from orders import locks, pricing
from orders.addresses import address_validate
from orders.allocation import Allocation, allocation_candidates
from orders.cards import refuse_card_numbers
from orders.countries import country_rules
from orders.errors import IdempotencyKeyReused, VoucherNotApplicable
from orders.gateways import gateway_get
from orders.models import (
    Cart,
    CartLine,
    CartStatus,
    FulfilmentMethod,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Voucher,
    VoucherRedemption,
)
from orders.services.carts import sellable_variant, voucher_find
from orders.services.common import (
    MAX_LINES,
    emit,
    fingerprint,
    idempotency_key_check,
    money_text,
    quantity_check,
)
from orders.services.payments import (
    IN_STORE_GATEWAY,
    IN_STORE_METHODS,
    card_token_check,
    order_record_paid,
    payment_link_path,
    payment_link_ttl,
    payment_settle,
    payment_settle_fresh,
    terminal_reference_check,
)
from orders.webhook_payloads import order_payload

M = PaymentMethod
FM = FulfilmentMethod

# Which tenders each channel takes. Agents never hear a card number: they send a payment link,
# or enter the token a secure phone-payment service (the sandbox here) gave for the card — a card
# number in the token field is refused like everywhere else.
PAYMENT_METHODS_BY_CHANNEL: dict[str, frozenset[str]] = {
    Channel.WEB: frozenset({M.CARD_ONLINE}),
    Channel.APP: frozenset({M.CARD_ONLINE}),
    Channel.CALL_CENTRE: frozenset({M.PAY_BY_LINK, M.CARD_ONLINE}),
    Channel.STORE: frozenset({M.CASH, M.CARD_PRESENT, M.PAY_BY_LINK}),
}
FULFILMENT_BY_CHANNEL: dict[str, frozenset[str]] = {
    Channel.WEB: frozenset({FM.DELIVERY, FM.CLICK_AND_COLLECT}),
    Channel.APP: frozenset({FM.DELIVERY, FM.CLICK_AND_COLLECT}),
    Channel.CALL_CENTRE: frozenset({FM.DELIVERY, FM.CLICK_AND_COLLECT, FM.SHIP_FROM_STORE}),
    Channel.STORE: frozenset(FM),
}
SHOPPER_CHANNELS = frozenset({Channel.WEB, Channel.APP})
# A POS that was offline sends the time of the sale; older than this is not a replay.
OFFLINE_SALE_MAX_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)
ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
ORDER_NUMBER_ATTEMPTS = 3


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PaymentRequest:
    method: str
    token: str = ""
    amount_tendered: Decimal | None = None
    terminal_reference: str = ""


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    is_replay: bool
    change_due: Decimal | None = None
    payment_link: str = ""
    # What the checkout wrote, so a caller can show the order without reading it back.
    lines: tuple[OrderLine, ...] | None = None
    payments: tuple[Payment, ...] | None = None


@dataclass(frozen=True)
class _Written:
    order: Order
    lines: list[OrderLine]
    payment: Payment


@dataclass(frozen=True)
class _Plan:
    """A checkout request, validated: everything needed to write the order."""

    actor: User | None
    channel: Channel
    key: str
    fingerprint: str
    customer: Customer | None
    cart: Cart | None
    lines: tuple[tuple[Any, int], ...]  # (variant, quantity) for a checkout without a cart
    voucher: Voucher | None
    store: Location | None
    pickup_store: Location | None
    method: FulfilmentMethod
    address: dict[str, str]
    tax_country: str
    email: str
    phone: str
    payment: PaymentRequest
    placed_at: datetime


class _KeyTaken(Exception):
    """Another request with the same idempotency key got there first."""


def order_place(
    *,
    actor: AnyUser | None,
    channel: Channel,
    idempotency_key: str,
    payment: PaymentRequest,
    fulfilment_method: str,
    customer: Customer | None = None,
    cart: Cart | None = None,
    lines: Sequence[LineRequest] = (),
    store: Location | None = None,
    pickup_store: Location | None = None,
    delivery_address: dict[str, Any] | None = None,
    email: str = "",
    voucher_code: str = "",
    placed_at: datetime | None = None,
) -> PlacedOrder:
    """Place an order on ``channel`` for ``customer`` from their ``cart`` or from ``lines``.

    ``actor`` is who does it (a shopper for themselves, store staff at ``store``, an agent;
    ``None`` only for trusted system callers) and is checked against the permission rules.
    Totals are computed here. Raises InvalidInput, NotFound/NotAllowed (permissions),
    OutOfStock, VoucherNotApplicable, IdempotencyKeyReused, and for online card payments
    PaymentDeclined/PaymentFailed (order cancelled, stock back) or PaymentPending (repeat the
    call with the same key to finish)."""
    key = idempotency_key_check(idempotency_key)
    request_fingerprint = fingerprint(
        _fingerprint_content(
            channel=channel,
            customer=customer,
            cart=cart,
            lines=lines,
            store=store,
            pickup_store=pickup_store,
            fulfilment_method=fulfilment_method,
            delivery_address=delivery_address,
            email=email,
            payment=payment,
            voucher_code=voucher_code,
            placed_at=placed_at,
        )
    )
    # The common case is a new key: ask for the id alone, read the order only on a repeat.
    existing_id = Order.objects.filter(idempotency_key=key).values_list("pk", flat=True).first()
    if existing_id is not None:
        return _replay(
            existing=Order.objects.get(pk=existing_id),
            request_fingerprint=request_fingerprint,
            actor=actor,
            payment=payment,
        )
    plan = _plan(
        actor=actor,
        channel=channel,
        key=key,
        request_fingerprint=request_fingerprint,
        customer=customer,
        cart=cart,
        lines=lines,
        store=store,
        pickup_store=pickup_store,
        fulfilment_method=fulfilment_method,
        delivery_address=delivery_address,
        email=email,
        payment=payment,
        voucher_code=voucher_code,
        placed_at=placed_at,
    )
    try:
        written = _order_write(plan)
    except _KeyTaken:
        existing = Order.objects.get(idempotency_key=key)
        return _replay(
            existing=existing,
            request_fingerprint=request_fingerprint,
            actor=actor,
            payment=payment,
        )
    if written.payment.method == M.CARD_ONLINE:
        # Settling records the outcome on ``written.order`` too (it is the payment's order).
        payment_settle_fresh(payment=written.payment, lines=written.lines)
    placed = _placed(order=written.order, payment=payment, is_replay=False)
    return PlacedOrder(
        order=placed.order,
        is_replay=False,
        change_due=placed.change_due,
        payment_link=placed.payment_link,
        lines=tuple(written.lines),
        payments=(written.payment,),
    )


def _placed(*, order: Order, payment: PaymentRequest, is_replay: bool) -> PlacedOrder:
    change = None
    if payment.method == M.CASH and payment.amount_tendered is not None:
        change = payment.amount_tendered - order.total
    link = ""
    if order.status == OrderStatus.PENDING_PAYMENT and payment.method == M.PAY_BY_LINK:
        link = payment_link_path(order=order)
    return PlacedOrder(order=order, is_replay=is_replay, change_due=change, payment_link=link)


def _replay(
    *, existing: Order, request_fingerprint: str, actor: AnyUser | None, payment: PaymentRequest
) -> PlacedOrder:
    """The first result for a repeated key — finishing an online payment that was left
    pending — or a refusal when the content differs."""
    if existing.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    if actor is not None:
        require(actor, Action.ORDER_VIEW, existing)
    last_payment = existing.payments.order_by("-pk").first()
    is_unsettled_card = (
        last_payment is not None
        and last_payment.method == M.CARD_ONLINE
        and existing.status in {OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED}
    )
    if is_unsettled_card:
        assert last_payment is not None
        payment_settle(payment=last_payment)  # finishes it, or raises the first refusal again
        existing.refresh_from_db()
    return _placed(order=existing, payment=payment, is_replay=True)


def _fingerprint_content(
    *,
    channel: Channel,
    customer: Customer | None,
    cart: Cart | None,
    lines: Sequence[LineRequest],
    store: Location | None,
    pickup_store: Location | None,
    fulfilment_method: str,
    delivery_address: dict[str, Any] | None,
    email: str,
    payment: PaymentRequest,
    voucher_code: str,
    placed_at: datetime | None,
) -> dict[str, Any]:
    """What makes two requests "the same". Who sends it is not part of it: a POS sale replayed
    by the next shift's login is still the same sale."""
    return {
        "channel": str(channel),
        "customer": customer.pk if customer else None,
        "cart": cart.pk if cart else None,
        "lines": sorted([str(line.sku).upper(), str(line.quantity)] for line in lines),
        "store": store.pk if store else None,
        "pickup_store": pickup_store.pk if pickup_store else None,
        "fulfilment_method": str(fulfilment_method),
        "delivery_address": delivery_address or {},
        "email": email,
        "payment": [
            str(payment.method),
            payment.token,
            str(payment.amount_tendered),
            payment.terminal_reference,
        ],
        "voucher": voucher_code.strip().upper() if isinstance(voucher_code, str) else voucher_code,
        "placed_at": placed_at.isoformat() if placed_at else None,
    }


# --- validation: nothing is written until every check has passed -----------------------------


def _plan(
    *,
    actor: AnyUser | None,
    channel: Channel,
    key: str,
    request_fingerprint: str,
    customer: Customer | None,
    cart: Cart | None,
    lines: Sequence[LineRequest],
    store: Location | None,
    pickup_store: Location | None,
    fulfilment_method: str,
    delivery_address: dict[str, Any] | None,
    email: str,
    payment: PaymentRequest,
    voucher_code: str,
    placed_at: datetime | None,
) -> _Plan:
    customer = _customer_check(actor=actor, channel=channel, customer=customer, cart=cart)
    if store is not None or channel == Channel.STORE:
        _store_check(actor=actor, channel=channel, store=store)
    method = _fulfilment_check(channel=channel, method=fulfilment_method)
    basket_lines = _lines_check(cart=cart, lines=lines)
    voucher = None
    if voucher_code:
        if cart is not None:
            raise InvalidInput(
                "A cart's voucher is applied to the cart, not at checkout.",
                fields={"voucher_code": ["Apply it to the cart."]},
            )
        voucher = voucher_find(code=voucher_code)
    payment = _payment_check(channel=channel, payment=payment)
    if method == FM.CLICK_AND_COLLECT:
        pickup_store = _pickup_store_check(pickup_store)
    elif pickup_store is not None:
        raise InvalidInput(
            "A collection store is only for click & collect.",
            fields={"pickup_store": ["Only with click & collect."]},
        )
    address: dict[str, str] = {}
    if method in {FM.DELIVERY, FM.SHIP_FROM_STORE}:
        address = address_validate(delivery_address)
        tax_country = address["country"]
    elif delivery_address:
        raise InvalidInput(
            "A delivery address is only for delivery.",
            fields={"delivery_address": ["Only with delivery."]},
        )
    else:
        where = pickup_store if method == FM.CLICK_AND_COLLECT else store
        assert where is not None
        tax_country = country_rules(where.country).code
    if payment.method == M.CARD_ONLINE and method == FM.CARRY_OUT:
        raise InvalidInput("Carry-out is paid at the till.", fields={"payment": ["Pay in store."]})
    if method == FM.CARRY_OUT and payment.method not in IN_STORE_METHODS:
        raise InvalidInput(
            "Goods carried out of the store are paid at the till (cash or card).",
            fields={"payment.method": ["cash or card_present."]},
        )
    return _Plan(
        actor=actor if isinstance(actor, User) else None,
        channel=channel,
        key=key,
        fingerprint=request_fingerprint,
        customer=customer,
        cart=cart,
        lines=basket_lines,
        voucher=voucher,
        store=store,
        pickup_store=pickup_store,
        method=method,
        address=address,
        tax_country=tax_country,
        email=_email_check(email, customer),
        phone=address.get("phone", customer.phone if customer else ""),
        payment=payment,
        placed_at=_placed_at_check(channel=channel, placed_at=placed_at),
    )


def _customer_check(
    *, actor: AnyUser | None, channel: Channel, customer: Customer | None, cart: Cart | None
) -> Customer | None:
    if cart is not None:
        if actor is not None:
            require(actor, Action.CART_MANAGE, cart)
        if customer is not None and customer.pk != cart.customer_id:
            raise InvalidInput(
                "This cart belongs to another customer.", fields={"cart": ["Not theirs."]}
            )
        customer = cart.customer
    if actor is not None:
        require(actor, Action.ORDER_PLACE)
        is_shopper = isinstance(actor, User) and actor.role == Role.SHOPPER
        if is_shopper and channel not in SHOPPER_CHANNELS:
            raise NotAllowed("Shoppers order in the web store or the app.")
        if not is_shopper and customer is not None:
            require(actor, Action.ORDER_PLACE_FOR_CUSTOMER)
        if customer is not None:
            require(actor, Action.CUSTOMER_VIEW, customer)
    if customer is None:
        if channel != Channel.STORE:
            raise InvalidInput(
                "An order needs a customer.", fields={"customer": ["Required here."]}
            )
        return None
    customer = customer_resolve_merged(customer=customer)
    if customer.erased_at is not None:
        raise InvalidInput("This customer's data was erased.", fields={"customer": ["Erased."]})
    return customer


def _store_check(*, actor: AnyUser | None, channel: Channel, store: Location | None) -> None:
    if channel != Channel.STORE:
        raise InvalidInput(
            "Only a sale at the till names the selling store.",
            fields={"store": ["Not accepted on this channel."]},
        )
    if store is None or store.kind != LocationKind.STORE or not store.is_active:
        raise InvalidInput("A sale at the till needs its store.", fields={"store": ["Required."]})
    if actor is not None:
        require(actor, Action.STORE_ACT, store)


def _fulfilment_check(*, channel: Channel, method: str) -> FulfilmentMethod:
    allowed = FULFILMENT_BY_CHANNEL.get(channel, frozenset())
    if method not in allowed:
        raise InvalidInput(
            f"'{method}' is not a way to fulfil an order placed on {Channel(channel).label}.",
            fields={"fulfilment_method": [f"One of {', '.join(sorted(allowed))}."]},
        )
    return FulfilmentMethod(method)


def _lines_check(*, cart: Cart | None, lines: Sequence[LineRequest]) -> tuple[Any, ...]:
    if cart is not None:
        if lines:
            raise InvalidInput(
                "Send either a cart or lines, not both.", fields={"lines": ["Not with a cart."]}
            )
        return ()
    if not lines:
        raise InvalidInput(
            "An order needs at least one line.", code="empty_order", fields={"lines": ["Empty."]}
        )
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines.", fields={"lines": ["Too many lines."]})
    checked = []
    seen: dict[int, int] = {}
    for index, line in enumerate(lines):
        quantity = quantity_check(line.quantity, field=f"lines.{index}.quantity")
        variant = sellable_variant(sku=line.sku, field=f"lines.{index}.sku")
        if variant.pk in seen:
            raise InvalidInput(
                f"'{variant.sku}' is on two lines; put its whole quantity on one line.",
                code="duplicate_line",
                fields={f"lines.{index}.sku": [f"Same product as line {seen[variant.pk]}."]},
            )
        seen[variant.pk] = index
        checked.append((variant, quantity))
    return tuple(checked)


def _payment_check(*, channel: Channel, payment: PaymentRequest) -> PaymentRequest:
    allowed = PAYMENT_METHODS_BY_CHANNEL.get(channel, frozenset())
    if payment.method not in allowed:
        raise InvalidInput(
            f"'{payment.method}' is not taken on {Channel(channel).label}.",
            fields={"payment.method": [f"One of {', '.join(sorted(allowed))}."]},
        )
    if payment.method == M.CARD_ONLINE:
        card_token_check(payment.token, field="payment.token")
    elif payment.token:
        refuse_card_numbers(
            {"payment.token": payment.token}, token_fields=frozenset({"payment.token"})
        )
        raise InvalidInput("Only card payments carry a token.", fields={"payment.token": ["No."]})
    if payment.method == M.CARD_PRESENT:
        terminal_reference_check(payment.terminal_reference)
    elif payment.terminal_reference:
        raise InvalidInput(
            "Only card-present payments carry a terminal reference.",
            fields={"payment.terminal_reference": ["Only for card_present."]},
        )
    if payment.method == M.CASH:
        tendered = payment.amount_tendered
        if (
            tendered is None
            or not tendered.is_finite()
            or tendered <= 0
            or tendered != tendered.quantize(Decimal("0.01"))
            or tendered >= Decimal("1000000")
        ):
            raise InvalidInput(
                "Say how much cash was handed over.",
                fields={"payment.amount_tendered": ["A positive amount with at most 2 decimals."]},
            )
    elif payment.amount_tendered is not None:
        raise InvalidInput(
            "Only cash has an amount tendered; the total is computed by the server.",
            fields={"payment.amount_tendered": ["Only for cash."]},
        )
    return payment


def _pickup_store_check(pickup_store: Location | None) -> Location:
    if (
        pickup_store is None
        or pickup_store.kind != LocationKind.STORE
        or not pickup_store.is_active
        or not pickup_store.offers_click_and_collect
    ):
        raise InvalidInput(
            "Choose a store that offers click & collect.",
            fields={"pickup_store": ["A store offering click & collect."]},
        )
    return pickup_store


def _email_check(email: str, customer: Customer | None) -> str:
    if not email:
        return customer.email if customer else ""
    return normalise_email(email)


def _placed_at_check(*, channel: Channel, placed_at: datetime | None) -> datetime:
    now = timezone.now()
    if placed_at is None:
        return now
    if channel != Channel.STORE:
        raise InvalidInput(
            "Only a POS sale made offline carries its own time.",
            fields={"placed_at": ["Only for sales at the till."]},
        )
    if timezone.is_naive(placed_at) or placed_at > now + CLOCK_SKEW:
        raise InvalidInput(
            "The time of the sale is in the future or has no time zone.",
            fields={"placed_at": ["A past time with a time zone."]},
        )
    if placed_at < now - OFFLINE_SALE_MAX_AGE:
        raise InvalidInput(
            "This sale is too old to replay; register it in the back office.",
            fields={"placed_at": [f"At most {OFFLINE_SALE_MAX_AGE.days} days ago."]},
        )
    return placed_at


# --- the write ----------------------------------------------------------------------------------


def _new_order_number() -> str:
    return "NW" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(10))


def _order_write(plan: _Plan) -> _Written:
    """Write the order in one transaction; retried only when a random order number collided."""
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        number = _new_order_number()
        try:
            return _order_write_once(plan, number=number)
        except IntegrityError:
            # The transaction is rolled back: was it our key (a racing repeat), or the number?
            if Order.objects.filter(idempotency_key=plan.key).exists():
                raise _KeyTaken() from None
            if not Order.objects.filter(number=number).exists():
                raise
    raise RuntimeError("could not find a free order number")


@transaction.atomic
def _order_write_once(plan: _Plan, *, number: str) -> _Written:
    cart = None
    voucher = plan.voucher
    if plan.cart is not None:
        cart = locks.cart_lock(cart_id=plan.cart.pk)
        if Order.objects.filter(idempotency_key=plan.key).exists():
            raise _KeyTaken()
        if cart.status != CartStatus.OPEN:
            raise Conflict("This cart was already turned into an order.", code="cart_closed")
        basket = _cart_basket(cart)
        voucher = Voucher.objects.filter(pk=cart.voucher_id).first() if cart.voucher_id else None
    else:
        basket = list(plan.lines)
    currency = cart.currency if cart else (plan.customer.currency if plan.customer else "EUR")
    quote = _quote(plan, basket=basket, currency=currency, voucher=voucher)
    if plan.payment.method == M.CASH:
        assert plan.payment.amount_tendered is not None
        if plan.payment.amount_tendered < quote.total:
            raise InvalidInput(
                f"{money_text(plan.payment.amount_tendered)} does not cover the total of "
                f"{money_text(quote.total)}.",
                code="tender_too_low",
                fields={"payment.amount_tendered": [f"At least {money_text(quote.total)}."]},
            )
    quantities = {line.variant.pk: line.quantity for line in quote.lines}
    candidates = allocation_candidates(
        method=plan.method,
        quantities=quantities,
        store=plan.store,
        pickup_store=plan.pickup_store,
        country=plan.tax_country,
    )
    if not candidates:
        raise OutOfStock("Not every item of this order is in stock at one location.")
    order = _order_insert(plan, number=number, cart=cart, quote=quote, first=candidates[0])
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                variant=line.variant,
                sku=line.variant.sku,
                product_name=f"{line.variant.product.name} {line.variant.name}".strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                discount=line.discount,
                tax_amount=line.tax_amount,
                line_total=line.line_total,
            )
            for line in quote.lines
        ]
    )
    payment = _payment_insert(plan, order=order)
    webhook_emit(
        event_type="order.created",
        payload=order_payload(order=order, lines=lines),
        idempotency_key=f"order.created:{order.number}",
    )
    if cart is not None:
        Cart.objects.filter(pk=cart.pk).update(status=CartStatus.ORDERED, updated_at=timezone.now())
    # The hot rows come last, so their locks are held only for the end of the transaction: a
    # voucher's counter, then the stock levels. The touchpoints go before them when the
    # location is already certain (one candidate), after them when a fallback may change it.
    is_location_certain = len(candidates) == 1
    if is_location_certain:
        _touchpoints(plan, order=order, lines=lines)
    if voucher is not None:
        _voucher_redeem(voucher=voucher, order=order, customer=plan.customer)
    _reserve(plan, order=order, quantities=quantities, candidates=candidates)
    if not is_location_certain:
        _touchpoints(plan, order=order, lines=lines)
    return _Written(order=order, lines=lines, payment=payment)


def _cart_basket(cart: Cart) -> list[tuple[Any, int]]:
    cart_lines = list(
        CartLine.objects.filter(cart=cart).select_related("variant__product").order_by("pk")
    )
    if not cart_lines:
        raise InvalidInput(
            "The cart is empty: add something before checking out.",
            code="cart_empty",
            fields={"cart": ["Empty."]},
        )
    unavailable = [
        line.variant.sku
        for line in cart_lines
        if not (line.variant.is_published and line.variant.product.is_published)
    ]
    if unavailable:
        raise InvalidInput(
            f"No longer for sale: {', '.join(unavailable)}. Remove it from the cart.",
            code="unknown_variant",
            fields={"cart": [f"'{sku}' is no longer for sale." for sku in unavailable]},
        )
    return [(line.variant, line.quantity) for line in cart_lines]


def _quote(
    plan: _Plan, *, basket: list[tuple[Any, int]], currency: str, voucher: Voucher | None
) -> pricing.Quote:
    if plan.method in {FM.DELIVERY, FM.SHIP_FROM_STORE} and currency != "EUR":
        raise InvalidInput("Delivery is charged in EUR only.", fields={"currency": ["EUR."]})
    price_list, prices = catalog_selectors.channel_prices(
        variant_ids=[variant.pk for variant, _ in basket], channel=plan.channel, currency=currency
    )
    missing = [variant.sku for variant, _ in basket if variant.pk not in prices]
    if price_list is None or missing:
        raise InvalidInput(
            f"Not sold on {Channel(plan.channel).label} in {currency}: "
            f"{', '.join(missing) or 'anything'}.",
            code="not_for_sale_here",
            fields={"lines": [f"'{sku}' has no price here." for sku in missing]},
        )
    return pricing.quote(
        lines=[
            pricing.BasketLine(variant=variant, quantity=quantity, unit_price=prices[variant.pk])
            for variant, quantity in basket
        ],
        currency=currency,
        prices_include_tax=price_list.prices_include_tax,
        tax_country=plan.tax_country,
        voucher=voucher,
        is_delivered=plan.method in {FM.DELIVERY, FM.SHIP_FROM_STORE},
        now=timezone.now(),
    )


def _order_insert(
    plan: _Plan, *, number: str, cart: Cart | None, quote: pricing.Quote, first: Allocation
) -> Order:
    is_paid_at_till = plan.payment.method in IN_STORE_METHODS
    is_carried_out = plan.method == FM.CARRY_OUT
    now = timezone.now()
    if is_carried_out:
        status = OrderStatus.COMPLETED
    elif is_paid_at_till:
        status = OrderStatus.PAID
    else:
        status = OrderStatus.PENDING_PAYMENT
    selling_store = plan.pickup_store if plan.method == FM.CLICK_AND_COLLECT else plan.store
    return Order.objects.create(
        number=number,
        customer=plan.customer,
        cart=cart,
        channel=plan.channel,
        origin_channel=cart.origin_channel if cart else plan.channel,
        store=selling_store,
        fulfilment_location=first.location,
        placed_by=plan.actor if plan.actor and plan.actor.role != Role.SHOPPER else None,
        status=status,
        fulfilment_method=first.method,
        pickup_code=_pickup_code() if plan.method == FM.CLICK_AND_COLLECT else "",
        email=plan.email,
        phone=plan.phone,
        delivery_address=plan.address,
        currency=quote.currency,
        prices_include_tax=quote.prices_include_tax,
        tax_country=quote.tax_country,
        voucher=quote.voucher,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        shipping_total=quote.shipping_net,
        tax_total=quote.tax_total,
        total=quote.total,
        paid_total=quote.total if is_paid_at_till else Decimal("0"),
        idempotency_key=plan.key,
        request_fingerprint=plan.fingerprint,
        placed_at=plan.placed_at,
        completed_at=now if is_carried_out else None,
    )


def _pickup_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _payment_insert(plan: _Plan, *, order: Order) -> Payment:
    method = plan.payment.method
    if method in IN_STORE_METHODS:
        return Payment.objects.create(
            order=order,
            gateway=IN_STORE_GATEWAY,
            method=method,
            status=PaymentStatus.CAPTURED,
            currency=order.currency,
            amount=order.total,
            captured_amount=order.total,
            gateway_reference=plan.payment.terminal_reference,
            idempotency_key=f"{order.number}:till",
        )
    return Payment.objects.create(
        order=order,
        gateway=gateway_get().name,
        method=method,
        status=PaymentStatus.PENDING,
        currency=order.currency,
        amount=order.total,
        token=plan.payment.token,
        idempotency_key=f"{order.number}:{method}:1",
        expires_at=timezone.now() + payment_link_ttl() if method == M.PAY_BY_LINK else None,
    )


def _voucher_redeem(*, voucher: Voucher, order: Order, customer: Customer | None) -> None:
    """Use the voucher once, race-safely: the usage counter only grows while under the limit,
    and the customer's use number is unique (see VoucherRedemption)."""
    field = {"voucher_code": ["Not applicable."]}
    if voucher.usage_limit_per_customer is not None:
        if customer is None:
            raise VoucherNotApplicable(
                f"The voucher {voucher.code} is personal: identify the customer first.",
                fields=field,
            )
        used = VoucherRedemption.objects.filter(voucher=voucher, customer=customer).aggregate(
            count=Count("pk"), last=Max("use_number")
        )
        if used["count"] >= voucher.usage_limit_per_customer:
            raise VoucherNotApplicable(
                f"You have already used the voucher {voucher.code}.",
                code="voucher_used_by_customer",
                fields=field,
            )
        use_number = (used["last"] or 0) + 1
    else:
        use_number = (
            VoucherRedemption.objects.filter(voucher=voucher, customer=customer).count() + 1
        )
    taken = Voucher.objects.filter(
        Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")), pk=voucher.pk
    ).update(times_used=F("times_used") + 1)
    if taken != 1:
        raise VoucherNotApplicable(
            f"The voucher {voucher.code} has been used up.", code="voucher_used_up", fields=field
        )
    try:
        with transaction.atomic():
            VoucherRedemption.objects.create(
                voucher=voucher, customer=customer, order=order, use_number=use_number
            )
    except IntegrityError:
        raise VoucherNotApplicable(
            f"You have already used the voucher {voucher.code}.",
            code="voucher_used_by_customer",
            fields=field,
        ) from None


def _reserve(
    plan: _Plan, *, order: Order, quantities: dict[int, int], candidates: list[Allocation]
) -> None:
    """Reserve (or, for carry-out, take off the shelf) the units at the best location that
    still has them; the next candidate is tried when a race emptied one."""
    reserve = stock_sell_now if plan.method == FM.CARRY_OUT else stock_reserve
    last_error: OutOfStock | None = None
    for number, candidate in enumerate(candidates):
        moves = [
            StockMove(candidate.location.pk, variant, units)
            for variant, units in quantities.items()
        ]
        if len(candidates) == 1:
            reserve(moves=moves)
            return
        try:
            with transaction.atomic():
                reserve(moves=moves)
        except OutOfStock as error:
            last_error = error
            continue
        if number > 0:
            Order.objects.filter(pk=order.pk).update(
                fulfilment_location=candidate.location, fulfilment_method=candidate.method
            )
            order.fulfilment_location = candidate.location
            order.fulfilment_method = candidate.method
        return
    assert last_error is not None
    raise last_error


def _touchpoints(plan: _Plan, *, order: Order, lines: list[OrderLine]) -> None:
    if plan.channel != Channel.STORE:
        emit(
            order=order,
            event="Checkout Started",
            channel=plan.channel,
            message_id=f"checkout-started:{order.number}",
            properties={
                "total": money_text(order.total),
                "currency": order.currency,
                "fulfilment_method": order.fulfilment_method,
                "origin_channel": order.origin_channel,
            },
        )
    if order.status != OrderStatus.PENDING_PAYMENT:
        order_record_paid(order=order, lines=lines)
