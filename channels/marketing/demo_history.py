"""A year of cross-channel demo history, so that every marketer dashboard tells a story.

Each demo customer gets a set of channels (one, two, or three and more) and a span of months
in which they are active. In each session on one of their channels they leave touchpoints on
the timeline — page views and checkout steps on the web and in the app, opened and clicked
e-mails, scanned QR codes, store visits, calls — and sometimes buy, return, or open a support
case. The story the dashboards then show:

- customers who use more channels visit more often, buy more and stay longer (defect less);
- a web, app, e-mail or QR touch is often followed within days by a visit to a store, so stores
  sell to customers the site brought in;
- the checkout funnel loses people at every step, the app a little more than the web;
- most web cases are solved by self-service, most calls on the first contact.

Rows are made with ``bulk_create`` in chunks of customers, deterministic for a given seed.
The raw rows are written as the services would have written them (order totals that add up,
payments, carts, returns with refunds, case resolutions), straight into the tables: history is
imported, not replayed through the services one by one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from catalog.models import Location, LocationKind, Price, Variant
from customers.models import Case, CaseResolution, CaseStatus, Customer, TimelineEvent
from interaction_platform.choices import Channel
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
    RefundMethod,
    Return,
    ReturnKind,
    ReturnLine,
    ReturnStatus,
)

Progress = Callable[[str, int], Callable[[int], None]]
HISTORY_DAYS = 365
CHUNK_CUSTOMERS = 1_000
BATCH = 5_000
TAX_RATE = Decimal("0.21")
_CENT = Decimal("0.01")
#: How often a customer picks each channel (before the number of channels is drawn).
_CHANNEL_WEIGHTS = [
    (Channel.WEB, 0.85),
    (Channel.STORE, 0.7),
    (Channel.EMAIL, 0.45),
    (Channel.APP, 0.35),
    (Channel.PRINT, 0.15),
    (Channel.CALL_CENTRE, 0.15),
]
_SELLING = {Channel.WEB, Channel.APP, Channel.STORE, Channel.CALL_CENTRE}
_DIGITAL = {Channel.WEB, Channel.APP, Channel.EMAIL, Channel.PRINT}
#: Mean active span in days, by number of channels: multichannel customers stay.
_MEAN_SPAN_DAYS = {1: 110, 2: 220, 3: 420}
#: Sessions per week while active, by number of channels.
_SESSIONS_PER_WEEK = {1: 0.55, 2: 0.8, 3: 1.05}
#: Share of sessions that go on past each checkout step, per channel.
_FUNNEL: dict[str, tuple[float, ...]] = {
    Channel.WEB: (0.5, 0.6, 0.82, 0.86, 0.92),
    Channel.APP: (0.45, 0.55, 0.75, 0.8, 0.9),
}


@dataclass
class _Catalog:
    variants: list[tuple[int, str, str, Decimal]]  # id, sku, product name, price
    stores: list[Location]
    warehouse: Location | None


@dataclass
class _Chunk:
    """The rows of one chunk of customers, written together."""

    first_order_number: int
    orders: list[Order] = field(default_factory=list)
    order_lines: list[list[tuple[int, str, str, int, Decimal]]] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    order_events: list[tuple[TimelineEvent, int]] = field(default_factory=list)
    carts: list[tuple[Cart, int, int]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    returns: list[tuple[int, datetime]] = field(default_factory=list)


@dataclass
class _Stats:
    channels: set[str] = field(default_factory=set)
    orders: int = 0
    revenue: Decimal = Decimal(0)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def seed_history(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    progress: Progress,
    now: datetime | None = None,
    intensity: float = 1.0,
) -> dict[str, int]:
    """Write a year of history for ``customers`` (ending ``now``); ``intensity`` scales how
    often each customer comes. Returns row counts."""
    now = now or timezone.now()
    catalog = _load_catalog()
    counts = {"events": 0, "orders": 0, "cases": 0, "returns": 0, "carts": 0}
    if not catalog.variants or not catalog.stores:
        return counts
    advance = progress("history", len(customers))
    with _historic_timestamps():
        for start in range(0, len(customers), CHUNK_CUSTOMERS):
            chunk_customers = customers[start : start + CHUNK_CUSTOMERS]
            chunk = _Chunk(first_order_number=counts["orders"] + 1)
            stats = {
                customer.pk: _simulate(rng, customer, catalog, chunk, now, intensity)
                for customer in chunk_customers
            }
            for key, value in _write(rng, chunk, catalog, now).items():
                counts[key] += value
            _write_customer_stats(chunk_customers, stats)
            advance(len(chunk_customers))
    return counts


@contextmanager
def _historic_timestamps() -> Iterator[None]:
    """History carries its own creation times: switch off ``auto_now(_add)`` meanwhile."""
    fields = [
        field
        for model in (Case, Cart, CartLine, Order, Payment, Return)
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]
    for f in fields:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]


def _load_catalog() -> _Catalog:
    prices = dict(
        Price.objects.filter(price_list__channel=Channel.WEB).values_list("variant_id", "amount")
    )
    variants = [
        (variant_id, sku, name, prices[variant_id])
        for variant_id, sku, name in Variant.objects.values_list(
            "id", "sku", "product__name"
        ).order_by("id")
        if variant_id in prices
    ]
    locations = list(Location.objects.order_by("id"))
    return _Catalog(
        variants=variants,
        stores=[location for location in locations if location.kind == LocationKind.STORE],
        warehouse=next((loc for loc in locations if loc.kind == LocationKind.WAREHOUSE), None),
    )


def _pick_channels(rng: random.Random) -> list[str]:
    roll = rng.random()
    wanted = 1 if roll < 0.5 else 2 if roll < 0.8 else rng.choice((3, 3, 4))
    chosen: list[str] = []
    while len(chosen) < wanted:
        channel = rng.choices(
            [c for c, _w in _CHANNEL_WEIGHTS], weights=[w for _c, w in _CHANNEL_WEIGHTS]
        )[0]
        if channel not in chosen:
            chosen.append(channel)
    if not _SELLING & set(chosen):
        chosen[0] = rng.choice((Channel.WEB, Channel.STORE))
    return chosen


def _simulate(
    rng: random.Random,
    customer: Customer,
    catalog: _Catalog,
    chunk: _Chunk,
    now: datetime,
    intensity: float,
) -> _Stats:
    """Plan one customer's year: sessions on their channels, with what each one led to."""
    channels = _pick_channels(rng)
    breadth = min(len(channels), 3)
    # some were already customers before the year began, some join late in it
    year_start = now - timedelta(days=HISTORY_DAYS)
    joined = year_start + timedelta(days=rng.uniform(-_MEAN_SPAN_DAYS[breadth], HISTORY_DAYS - 20))
    end = min(now, joined + timedelta(days=rng.expovariate(1 / _MEAN_SPAN_DAYS[breadth]) + 14))
    start = max(joined, year_start)
    home_store = customer.home_store or catalog.stores[0]
    rate_per_day = intensity * _SESSIONS_PER_WEEK[breadth] / 7
    stats = _Stats()
    sessions: list[tuple[datetime, str]] = []
    moment = start
    while start < end:
        moment += timedelta(days=rng.expovariate(rate_per_day))
        if moment >= end:
            break
        channel = rng.choice(channels)
        sessions.append((moment, channel))
        # a digital touch often brings a store customer to the store within days
        if channel in _DIGITAL and Channel.STORE in channels and rng.random() < 0.3:
            visit = moment + timedelta(days=rng.uniform(0.1, 12))
            if visit < now:
                sessions.append((visit, Channel.STORE))
    sequence = 0
    for moment, channel in sorted(sessions):
        sequence = _session(
            rng, customer, catalog, chunk, stats, moment, channel, home_store, sequence, now
        )
    return stats


def _event(
    chunk: _Chunk,
    customer: Customer,
    stats: _Stats,
    when: datetime,
    channel: str,
    kind: str,
    sequence: int,
    store: Location | None = None,
    properties: dict[str, Any] | None = None,
) -> TimelineEvent:
    row = TimelineEvent(
        customer_id=customer.pk,
        occurred_at=when,
        received_at=when + timedelta(seconds=2),
        channel=channel,
        type=kind,
        source="demo-history",
        message_id=f"demo:{customer.pk}:{sequence}",
        store=store,
        properties=properties or {},
    )
    chunk.events.append(row)
    stats.channels.add(channel)
    stats.first_seen = min(stats.first_seen or when, when)
    stats.last_seen = max(stats.last_seen or when, when)
    return row


def _session(
    rng: random.Random,
    customer: Customer,
    catalog: _Catalog,
    chunk: _Chunk,
    stats: _Stats,
    moment: datetime,
    channel: str,
    home_store: Location,
    sequence: int,
    now: datetime,
) -> int:
    def emit(kind: str, minutes: float = 0, **kwargs: Any) -> TimelineEvent:
        nonlocal sequence
        sequence += 1
        return _event(
            chunk,
            customer,
            stats,
            moment + timedelta(minutes=minutes),
            channel,
            kind,
            sequence,
            **kwargs,
        )

    if channel in (Channel.WEB, Channel.APP):
        emit("Application Opened" if channel == Channel.APP else "Page Viewed")
        for step in range(rng.randint(1, 4)):
            emit("Product Viewed", 1 + step)
        rates = _FUNNEL[channel]
        steps = ["Product Added", "Checkout Started", "Checkout Step Completed"]
        steps += ["Payment Info Entered", "Order Completed"]
        reached = 0
        for rate, kind in zip(rates, steps, strict=True):
            if rng.random() >= rate:
                break
            reached += 1
            if kind == "Order Completed":
                break
            emit(kind, 6 + reached)
        if reached >= 1:
            _cart(rng, customer, catalog, chunk, moment, channel, ordered=reached == 5)
        if reached == 5:
            method = (
                FulfilmentMethod.CLICK_AND_COLLECT
                if rng.random() < 0.3
                else FulfilmentMethod.DELIVERY
            )
            store = home_store if method == FulfilmentMethod.CLICK_AND_COLLECT else None
            when = moment + timedelta(minutes=12)
            _order(rng, customer, catalog, chunk, stats, when, channel, store, method, now)
            emit("Order Completed", 12)
        elif rng.random() < 0.025:
            _case(rng, customer, chunk, moment, Channel.WEB, now)
    elif channel == Channel.EMAIL:
        emit("Email Opened")
        if rng.random() < 0.35:
            emit("Email Clicked", 1)
    elif channel == Channel.PRINT:
        emit("QR Scanned")
    elif channel == Channel.STORE:
        store = home_store if rng.random() < 0.8 else rng.choice(catalog.stores)
        emit("Store Visited", store=store)
        if rng.random() < 0.5:
            when = moment + timedelta(minutes=20)
            _order(
                rng,
                customer,
                catalog,
                chunk,
                stats,
                when,
                Channel.STORE,
                store,
                FulfilmentMethod.CARRY_OUT,
                now,
            )
            emit("POS Order Completed", 20, store=store)
        if rng.random() < 0.03:
            _case(rng, customer, chunk, moment, Channel.STORE, now)
    elif channel == Channel.CALL_CENTRE:
        emit("Call Started")
        if rng.random() < 0.35:
            when = moment + timedelta(minutes=8)
            method = FulfilmentMethod.DELIVERY
            _order(rng, customer, catalog, chunk, stats, when, channel, None, method, now)
            emit("Order Completed", 8)
        if rng.random() < 0.4:
            _case(rng, customer, chunk, moment, Channel.CALL_CENTRE, now)
        emit("Call Completed", 10)
    return sequence


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _order(
    rng: random.Random,
    customer: Customer,
    catalog: _Catalog,
    chunk: _Chunk,
    stats: _Stats,
    when: datetime,
    channel: str,
    store: Location | None,
    method: str,
    now: datetime,
) -> None:
    lines = []
    for variant_id, sku, name, price in rng.sample(catalog.variants, rng.choice((1, 1, 2, 3))):
        quantity = rng.choice((1, 1, 1, 2))
        lines.append((variant_id, sku, name, quantity, _money(price * quantity)))
    total = sum((line[4] for line in lines), Decimal(0))
    tax = _money(total * TAX_RATE / (1 + TAX_RATE))
    is_cancelled = rng.random() < 0.03
    age = now - when
    status = (
        OrderStatus.CANCELLED
        if is_cancelled
        else OrderStatus.COMPLETED
        if age > timedelta(days=10) or channel == Channel.STORE
        else OrderStatus.PAID
    )
    number = chunk.first_order_number + len(chunk.orders)
    chunk.orders.append(
        Order(
            number=f"DM{number:010d}",
            customer_id=customer.pk,
            channel=channel,
            origin_channel=channel,
            store=store,
            fulfilment_location=store if store is not None else catalog.warehouse,
            status=status,
            fulfilment_method=method,
            pickup_code=f"{rng.randrange(10**6):06d}"
            if method == FulfilmentMethod.CLICK_AND_COLLECT
            else "",
            email=customer.email,
            currency="EUR",
            tax_country="NL",
            subtotal=total - tax,
            tax_total=tax,
            total=total,
            paid_total=Decimal(0) if is_cancelled else total,
            idempotency_key=f"demo-order:{number}",
            placed_at=when,
            completed_at=when + timedelta(days=3) if status == OrderStatus.COMPLETED else None,
            cancelled_at=when + timedelta(hours=2) if is_cancelled else None,
            updated_at=when + timedelta(days=3) if not is_cancelled else when,
        )
    )
    chunk.order_lines.append(lines)
    if not is_cancelled:
        stats.orders += 1
        stats.revenue += total
        received_at = when + timedelta(days=rng.randint(2, 20))
        if received_at < now and rng.random() < 0.06:
            chunk.orders[-1].refunded_total = lines[0][4]
            chunk.returns.append((len(chunk.orders) - 1, received_at))


def _cart(
    rng: random.Random,
    customer: Customer,
    catalog: _Catalog,
    chunk: _Chunk,
    when: datetime,
    channel: str,
    *,
    ordered: bool,
) -> None:
    variant_id = rng.choice(catalog.variants)[0]
    cart = Cart(
        customer_id=customer.pk,
        status=CartStatus.ORDERED if ordered else CartStatus.ABANDONED,
        origin_channel=channel,
        currency="EUR",
        created_at=when,
        updated_at=when + timedelta(minutes=12),
    )
    chunk.carts.append((cart, variant_id, 1))


def _case(
    rng: random.Random,
    customer: Customer,
    chunk: _Chunk,
    when: datetime,
    channel: str,
    now: datetime,
) -> None:
    if channel == Channel.WEB:
        resolution, first_contact = CaseResolution.SELF_SERVICE, True
        hours = rng.uniform(0.05, 6) if rng.random() < 0.75 else None
        if hours is None:
            resolution, first_contact, hours = CaseResolution.AGENT, False, rng.uniform(4, 96)
    elif channel == Channel.STORE:
        resolution, first_contact = CaseResolution.STORE, rng.random() < 0.7
        hours = rng.uniform(0.1, 48)
    else:
        first_contact = rng.random() < 0.68
        resolution = CaseResolution.AGENT
        hours = rng.uniform(0.1, 0.5) if first_contact else rng.uniform(6, 140)
    resolved_at = when + timedelta(hours=hours)
    is_resolved = resolved_at < now and rng.random() < 0.97
    chunk.cases.append(
        Case(
            customer_id=customer.pk,
            channel=channel,
            subject=rng.choice(
                ("Where is my order?", "Size exchange", "Invoice copy", "Damaged item")
            ),
            status=CaseStatus.RESOLVED if is_resolved else CaseStatus.OPEN,
            resolution=resolution if is_resolved else "",
            is_resolved_on_first_contact=is_resolved and first_contact,
            opened_at=when,
            resolved_at=resolved_at if is_resolved else None,
        )
    )


def _write(rng: random.Random, chunk: _Chunk, catalog: _Catalog, now: datetime) -> dict[str, int]:
    orders = Order.objects.bulk_create(chunk.orders, batch_size=BATCH)
    returned = {index for index, _at in chunk.returns}
    lines: list[OrderLine] = []
    first_line_of_order: dict[int, int] = {}
    for index, (order, planned) in enumerate(zip(orders, chunk.order_lines, strict=True)):
        first_line_of_order[index] = len(lines)
        for position, (variant_id, sku, name, quantity, line_total) in enumerate(planned):
            lines.append(
                OrderLine(
                    order_id=order.pk,
                    variant_id=variant_id,
                    sku=sku,
                    product_name=name,
                    quantity=quantity,
                    unit_price=_money(line_total / quantity),
                    tax_rate=TAX_RATE,
                    tax_amount=_money(line_total * TAX_RATE / (1 + TAX_RATE)),
                    line_total=line_total,
                    returned_quantity=quantity if position == 0 and index in returned else 0,
                )
            )
    lines = OrderLine.objects.bulk_create(lines, batch_size=BATCH)
    Payment.objects.bulk_create(
        (_payment(order) for order in orders if order.status != OrderStatus.CANCELLED),
        batch_size=BATCH,
    )
    # events that closed a sale point at their order, in the order the sales were planned
    sales = iter(orders)
    for row in chunk.events:
        if row.type in ("Order Completed", "POS Order Completed"):
            sale = next(sales)
            row.order_id = sale.pk
            row.properties = {"order_id": sale.number, "total": str(sale.total), "currency": "EUR"}
    returns = _returns(rng, chunk, orders, lines, first_line_of_order, catalog)
    TimelineEvent.objects.bulk_create(chunk.events, batch_size=BATCH)
    carts = Cart.objects.bulk_create([cart for cart, _v, _q in chunk.carts], batch_size=BATCH)
    CartLine.objects.bulk_create(
        (
            CartLine(
                cart_id=cart.pk,
                variant_id=variant_id,
                quantity=quantity,
                added_channel=cart.origin_channel,
                added_at=cart.created_at,
                updated_at=cart.created_at,
            )
            for cart, (_c, variant_id, quantity) in zip(carts, chunk.carts, strict=True)
        ),
        batch_size=BATCH,
    )
    Case.objects.bulk_create(chunk.cases, batch_size=BATCH)
    return {
        "events": len(chunk.events),
        "orders": len(orders),
        "cases": len(chunk.cases),
        "returns": returns,
        "carts": len(carts),
    }


def _payment(order: Order) -> Payment:
    methods: dict[str, str] = {
        Channel.STORE: PaymentMethod.CARD_PRESENT,
        Channel.CALL_CENTRE: PaymentMethod.PAY_BY_LINK,
    }
    method = methods.get(order.channel, PaymentMethod.CARD_ONLINE)
    return Payment(
        order_id=order.pk,
        gateway="sandbox",
        method=method,
        status=PaymentStatus.PARTIALLY_REFUNDED if order.refunded_total else PaymentStatus.CAPTURED,
        currency="EUR",
        amount=order.total,
        captured_amount=order.total,
        refunded_amount=order.refunded_total,
        gateway_reference=f"demo-{order.number}",
        idempotency_key=f"demo-payment:{order.number}",
        created_at=order.placed_at,
        updated_at=order.placed_at,
    )


def _returns(
    rng: random.Random,
    chunk: _Chunk,
    orders: list[Order],
    lines: list[OrderLine],
    first_line_of_order: dict[int, int],
    catalog: _Catalog,
) -> int:
    """The orders that come back (decided when they were planned): the first line, refunded
    to the original payment, received in a store or, by post, at the warehouse."""
    made: list[tuple[Return, OrderLine, Order]] = []
    for order_index, received_at in chunk.returns:
        order = orders[order_index]
        line = lines[first_line_of_order[order_index]]
        in_store = order.channel == Channel.STORE or catalog.warehouse is None
        if not in_store and rng.random() < 0.4:
            in_store = True
        location = (order.store or rng.choice(catalog.stores)) if in_store else catalog.warehouse
        item = Return(
            order_id=order.pk,
            channel=Channel.STORE if in_store else Channel.WEB,
            kind=ReturnKind.IN_STORE if in_store else ReturnKind.POSTAL,
            received_at_location=location,
            status=ReturnStatus.REFUNDED,
            reason=rng.choice(("Too small", "Too big", "Not as pictured", "Changed mind")),
            refund_method=RefundMethod.ORIGINAL_PAYMENT,
            refund_amount=line.line_total,
            currency="EUR",
            idempotency_key=f"demo-return:{order.number}",
            received_at=received_at,
            created_at=received_at,
            updated_at=received_at,
        )
        made.append((item, line, order))
    if not made:
        return 0
    returns = Return.objects.bulk_create([item for item, _line, _order in made], batch_size=BATCH)
    ReturnLine.objects.bulk_create(
        ReturnLine(
            return_request_id=item.pk,
            order_line_id=line.pk,
            quantity=line.quantity,
            refund_amount=line.line_total,
        )
        for item, (_r, line, _o) in zip(returns, made, strict=True)
    )
    for item, _line, order in made:
        customer_id = order.customer_id
        assert item.received_at is not None
        assert customer_id is not None
        chunk.events.append(
            TimelineEvent(
                customer_id=customer_id,
                occurred_at=item.received_at,
                received_at=item.received_at,
                channel=item.channel,
                type="Return Received",
                source="demo-history",
                message_id=f"demo-return:{order.number}",
                store=item.received_at_location if item.kind == ReturnKind.IN_STORE else None,
                order_id=order.pk,
                properties={"order_id": order.number, "refund": str(item.refund_amount)},
            )
        )
    return len(made)


def _write_customer_stats(customers: Sequence[Customer], stats: dict[int, _Stats]) -> None:
    """The profile's denormalised figures, as the pipeline would have kept them."""
    changed = []
    for customer in customers:
        figures = stats[customer.pk]
        if figures.first_seen is None:
            continue
        customer.channels_used = sorted(figures.channels)
        customer.channel_count = len(figures.channels)
        customer.order_count = figures.orders
        customer.lifetime_revenue = figures.revenue
        customer.first_seen_at = min(
            customer.first_seen_at or figures.first_seen, figures.first_seen
        )
        customer.last_seen_at = figures.last_seen
        changed.append(customer)
    Customer.objects.bulk_update(
        changed,
        [
            "channels_used",
            "channel_count",
            "order_count",
            "lifetime_revenue",
            "first_seen_at",
            "last_seen_at",
        ],
        batch_size=BATCH,
    )
