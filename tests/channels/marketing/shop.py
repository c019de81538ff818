"""A small hand-made history for the dashboard tests: four customers, two stores, two
categories, two days (Monday 2 and Tuesday 3 March 2026, Amsterdam time). Every expected
figure in the tests is worked out by hand from the rows below."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from catalog.models import Location
from customers.models import Case, CaseResolution, CaseStatus, Customer, TimelineEvent
from interaction_platform.choices import Channel
from orders.models import FulfilmentMethod, Order, OrderLine, OrderStatus
from tests import factories

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
_numbers = itertools.count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def event(
    customer: Customer,
    when: datetime,
    channel: str,
    kind: str,
    store: Location | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        customer=customer,
        occurred_at=when,
        received_at=when,
        channel=channel,
        type=kind,
        source="test",
        message_id=f"test-{next(_numbers)}",
        store=store,
    )


def order(
    customer: Customer | None,
    when: datetime,
    channel: str,
    total: str,
    lines: list[tuple[Any, int, str]] = (),  # type: ignore[assignment]
    store: Location | None = None,
    status: str = OrderStatus.PAID,
) -> Order:
    number = next(_numbers)
    amount = Decimal(total)
    placed = Order.objects.create(
        number=f"T{number:07d}",
        customer=customer,
        channel=channel,
        origin_channel=channel,
        store=store,
        status=status,
        fulfilment_method=FulfilmentMethod.CARRY_OUT
        if channel == Channel.STORE
        else FulfilmentMethod.DELIVERY,
        currency="EUR",
        subtotal=amount,
        tax_total=Decimal(0),
        total=amount,
        idempotency_key=f"test-order-{number}",
        placed_at=when,
    )
    for variant, quantity, line_total in lines:
        OrderLine.objects.create(
            order=placed,
            variant=variant,
            sku=variant.sku,
            product_name=variant.product.name,
            quantity=quantity,
            unit_price=Decimal(line_total) / quantity,
            tax_rate=Decimal(0),
            line_total=Decimal(line_total),
        )
    return placed


def case(
    customer: Customer,
    channel: str,
    opened_at: datetime,
    resolved_at: datetime | None = None,
    resolution: str = "",
    first_contact: bool = False,
) -> Case:
    created = Case.objects.create(customer=customer, channel=channel, subject="Where is it?")
    Case.objects.filter(pk=created.pk).update(
        opened_at=opened_at,
        resolved_at=resolved_at,
        status=CaseStatus.RESOLVED if resolved_at else CaseStatus.OPEN,
        resolution=resolution,
        is_resolved_on_first_contact=first_contact,
    )
    return created


@dataclass
class Shop:
    amsterdam: Location
    rotterdam: Location
    alice: Customer
    bob: Customer
    carol: Customer
    dave: Customer


def build_shop() -> Shop:
    amsterdam = factories.StoreFactory(name="Amsterdam")
    rotterdam = factories.StoreFactory(name="Rotterdam")
    jacket = factories.VariantFactory(product__category__name="Jackets")
    shoe = factories.VariantFactory(product__category__name="Shoes")
    alice = factories.CustomerFactory(home_store=amsterdam)
    bob = factories.CustomerFactory(home_store=rotterdam)
    carol = factories.CustomerFactory(home_store=amsterdam)
    dave = factories.CustomerFactory(home_store=None)

    # alice: buys on the web on Monday, in the Amsterdam store on Tuesday
    event(alice, at(MONDAY, 10, 0), Channel.WEB, "Product Viewed")
    event(alice, at(MONDAY, 10, 5), Channel.WEB, "Product Added")
    event(alice, at(MONDAY, 10, 10), Channel.WEB, "Checkout Started")
    event(alice, at(MONDAY, 10, 12), Channel.WEB, "Checkout Step Completed")
    event(alice, at(MONDAY, 10, 13), Channel.WEB, "Payment Info Entered")
    event(alice, at(MONDAY, 10, 14), Channel.WEB, "Order Completed")
    order(
        alice, at(MONDAY, 10, 14), Channel.WEB, "100.00", [(jacket, 1, "60.00"), (shoe, 2, "40.00")]
    )
    event(alice, at(TUESDAY, 15, 0), Channel.STORE, "POS Order Completed", store=amsterdam)
    order(alice, at(TUESDAY, 15, 0), Channel.STORE, "50.00", [(jacket, 1, "50.00")], amsterdam)
    # bob: opens an e-mail in the morning, buys in Rotterdam in the afternoon
    event(bob, at(MONDAY, 9, 0), Channel.EMAIL, "Email Opened")
    event(bob, at(MONDAY, 16, 0), Channel.STORE, "Store Visited", store=rotterdam)
    order(bob, at(MONDAY, 16, 0), Channel.STORE, "30.00", [(shoe, 3, "30.00")], rotterdam)
    # carol: starts an app checkout, her order is cancelled
    event(carol, at(MONDAY, 11, 0), Channel.APP, "Product Added")
    event(carol, at(MONDAY, 11, 5), Channel.APP, "Checkout Started")
    order(carol, at(MONDAY, 11, 30), Channel.APP, "20.00", status=OrderStatus.CANCELLED)
    # dave: two web orders 12 days apart, no events, outside the two days
    order(dave, at(date(2026, 2, 20), 12), Channel.WEB, "10.00")
    order(dave, at(date(2026, 3, 4), 12), Channel.WEB, "10.00")

    case(alice, Channel.WEB, at(MONDAY, 12), at(MONDAY, 14), CaseResolution.SELF_SERVICE, True)
    case(bob, Channel.CALL_CENTRE, at(MONDAY, 13), at(TUESDAY, 13), CaseResolution.AGENT)
    case(carol, Channel.CALL_CENTRE, at(TUESDAY, 9))
    return Shop(amsterdam, rotterdam, alice, bob, carol, dave)
