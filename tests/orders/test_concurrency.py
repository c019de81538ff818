"""Races on PostgreSQL, with real threads and real transactions released together by a barrier:
the last units are sold once, replays of offline POS sales make each sale once, a single-use
voucher is used once, and opposite line orders never deadlock."""

from __future__ import annotations

import fcntl
import random
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from catalog.models import StockLevel
from interaction_platform.accounts.models import Role
from interaction_platform.choices import Channel
from orders import services
from orders.errors import VoucherNotApplicable
from orders.models import Order, OrderLine, OrderStatus, Payment, Voucher, VoucherRedemption
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, cash, make_shop, web_cart

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEADLINE_S = 120


@pytest.fixture(autouse=True)
def _one_crowd_at_a_time() -> Iterator[None]:
    """Up to 64 threads hold a connection each: two such tests on two test workers at once
    would pass PostgreSQL's connection limit, so they take turns (a lock file per database
    server, shared by the xdist workers)."""
    lock_path = Path(tempfile.gettempdir()) / "interaction-platform-commerce-races.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield
        fcntl.flock(lock_file, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _no_worker_wake_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    # Touchpoints stay in the inbox: these tests are about the checkout, not the pipeline.
    monkeypatch.setattr("customers.touchpoints._wake_workers", lambda shard: None)


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at once; the result or the exception of
    each, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=DEADLINE_S)
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_S)
    assert not any(thread.is_alive() for thread in threads), "a checkout hung"
    return results


def _kinds(results: list[Any]) -> Counter[str]:
    return Counter(
        type(result).__name__ if isinstance(result, Exception) else "placed" for result in results
    )


@pytest.mark.parametrize("units", [1, 2, 5])
def test_the_last_units_are_sold_once_across_channels(units: int) -> None:
    # given: K parkas left in one store; 64 buyers at once on the web, at the till, by phone
    shop = make_shop(stock=0, warehouse_stock=0)
    StockLevel.objects.filter(location=shop.store_a, variant=shop.parka).update(on_hand=units)
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(shop.store_a)
    agent = factories.UserFactory(role=Role.AGENT)
    calls: list[Callable[[], Any]] = []
    for number in range(64):
        channel = ("web", "pos", "agent")[number % 3]
        if channel == "web":
            shopper = factories.UserFactory(role=Role.SHOPPER)
            customer = factories.CustomerFactory(user=shopper)
            cart = web_cart(customer, (shop.parka, 1))
            calls.append(
                lambda s=shopper, c=cart, n=number: services.order_place(
                    actor=s,
                    channel=Channel.WEB,
                    idempotency_key=f"race-web-{n:04d}",
                    cart=c,
                    fulfilment_method="click_and_collect",
                    pickup_store=shop.store_a,
                    payment=card(),
                )
            )
        elif channel == "pos":
            calls.append(
                lambda n=number: services.order_place(
                    actor=staff,
                    channel=Channel.STORE,
                    idempotency_key=f"race-pos-{n:04d}",
                    lines=[services.LineRequest("PARKA-M", 1)],
                    store=shop.store_a,
                    fulfilment_method="carry_out",
                    payment=cash("100.00"),
                )
            )
        else:
            customer = factories.CustomerFactory()
            calls.append(
                lambda c=customer, n=number: services.order_place(
                    actor=agent,
                    channel=Channel.CALL_CENTRE,
                    idempotency_key=f"race-agent-{n:04d}",
                    customer=c,
                    lines=[services.LineRequest("PARKA-M", 1)],
                    fulfilment_method="click_and_collect",
                    pickup_store=shop.store_a,
                    payment=services.PaymentRequest(method="pay_by_link"),
                )
            )
    # when
    results = _race(calls)
    # then: exactly K sold, everyone else told it is out of stock; nothing is negative
    assert _kinds(results) == Counter({"placed": units, "OutOfStock": 64 - units})
    assert Order.objects.exclude(status=OrderStatus.CANCELLED).count() == units
    sold = OrderLine.objects.filter(order__status__in=["paid", "completed", "pending_payment"])
    assert sold.aggregate(units=Sum("quantity"))["units"] == units
    level = StockLevel.objects.get(location=shop.store_a, variant=shop.parka)
    assert level.on_hand - level.reserved == 0
    assert level.on_hand >= 0
    assert level.reserved >= 0
    assert not StockLevel.objects.filter(reserved__gt=F("on_hand")).exists()


def _offline_sales(shop: Shop, count: int) -> list[dict[str, Any]]:
    rng = random.Random(4)
    started = timezone.now() - timedelta(hours=6)
    sales = []
    for number in range(count):
        sku, price = rng.choice([("PARKA-M", "100.00"), ("BOOK-1", "20.00")])
        quantity = rng.randint(1, 2)
        is_cash = number % 2 == 0
        sales.append(
            {
                "channel": Channel.STORE,
                "idempotency_key": f"tablet-3:sale-{number:05d}",
                "lines": [services.LineRequest(sku, quantity)],
                "store": shop.store_a,
                "fulfilment_method": "carry_out",
                "placed_at": started + timedelta(seconds=30 * number),
                "payment": cash(str(Decimal(price) * quantity))
                if is_cash
                else services.PaymentRequest(
                    method="card_present", terminal_reference=f"T3-{number:06d}"
                ),
            }
        )
    return sales


def test_offline_pos_sales_replayed_three_times_make_each_sale_once() -> None:
    # given: 500 sales made while the tablet was offline
    shop = make_shop(stock=2000)
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(shop.store_a)
    sales = _offline_sales(shop, 500)
    replays = []
    for seed in (1, 2, 3):
        shuffled = sales[:]
        random.Random(seed).shuffle(shuffled)
        replays.append(shuffled)

    def replay(batch: list[dict[str, Any]]) -> dict[str, str]:
        return {
            sale["idempotency_key"]: services.order_place(actor=staff, **sale).order.number
            for sale in batch
        }

    def replay_in_four(order: list[dict[str, Any]]) -> list[Callable[[], Any]]:
        return [lambda part=order[i::4]: replay(part) for i in range(4)]

    # when: two replays at the same time (4 threads each), then a third
    concurrent = _race(replay_in_four(replays[0]) + replay_in_four(replays[1]))
    last = _race(replay_in_four(replays[2]))
    # then: no replay failed, and every replay of a sale named the same order
    assert not [result for result in concurrent + last if isinstance(result, Exception)]
    numbers: dict[str, set[str]] = {}
    for result in concurrent + last:
        for key, number in result.items():
            numbers.setdefault(key, set()).add(number)
    assert len(numbers) == 500
    assert all(len(found) == 1 for found in numbers.values())
    assert Order.objects.count() == 500
    assert Order.objects.filter(status=OrderStatus.COMPLETED).count() == 500
    # stock and money agree with the sales
    for sku, variant in (("PARKA-M", shop.parka), ("BOOK-1", shop.book)):
        sold = sum(s["lines"][0].quantity for s in sales if s["lines"][0].sku == sku)
        assert shop.stock(variant, shop.store_a) == (2000 - sold, 0)
    assert Payment.objects.count() == 500
    assert Payment.objects.filter(status="captured").count() == 500
    totals = Order.objects.aggregate(total=Sum("total"), paid=Sum("paid_total"))
    captured = Payment.objects.aggregate(captured=Sum("captured_amount"))["captured"]
    assert totals["total"] == totals["paid"] == captured
    assert list(
        Order.objects.filter(idempotency_key="tablet-3:sale-00007").values_list("placed_at")
    ) == [(sales[7]["placed_at"],)]


def test_a_single_use_voucher_redeemed_by_50_checkouts_is_used_once() -> None:
    shop = make_shop(stock=100)
    Voucher.objects.create(code="ONLYONCE", kind="fixed", value=Decimal("5.00"), usage_limit=1)
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(shop.store_a)
    customers = [factories.CustomerFactory() for _ in range(50)]
    calls: list[Callable[[], Any]] = [
        lambda c=customer, n=number: services.order_place(
            actor=staff,
            channel=Channel.STORE,
            idempotency_key=f"voucher-race-{n:03d}",
            customer=c,
            lines=[services.LineRequest("BOOK-1", 1)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            voucher_code="ONLYONCE",
            payment=cash("20.00"),
        )
        for number, customer in enumerate(customers)
    ]
    results = _race(calls)
    assert _kinds(results) == Counter({"placed": 1, "VoucherNotApplicable": 49})
    assert {r.code for r in results if isinstance(r, VoucherNotApplicable)} == {"voucher_used_up"}
    voucher = Voucher.objects.get()
    assert (voucher.times_used, VoucherRedemption.objects.count()) == (1, 1)
    assert Order.objects.get().discount_total == Decimal("5.00")
    assert shop.stock(shop.book, shop.store_a) == (99, 0)


def test_a_personal_voucher_is_used_once_by_a_customer_in_a_hurry() -> None:
    shop = make_shop(stock=100)
    Voucher.objects.create(
        code="PERSONAL", kind="percentage", value=Decimal("10"), usage_limit_per_customer=1
    )
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(shop.store_a)
    customer = factories.CustomerFactory()
    calls: list[Callable[[], Any]] = [
        lambda n=number: services.order_place(
            actor=staff,
            channel=Channel.STORE,
            idempotency_key=f"personal-race-{n:03d}",
            customer=customer,
            lines=[services.LineRequest("PARKA-M", 1)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            voucher_code="PERSONAL",
            payment=cash("90.00"),
        )
        for number in range(20)
    ]
    results = _race(calls)
    assert _kinds(results) == Counter({"placed": 1, "VoucherNotApplicable": 19})
    assert VoucherRedemption.objects.get().customer == customer


def test_opposite_line_orders_never_deadlock() -> None:
    # given: 32 orders of the same two products, half listing them the other way round
    shop = make_shop(stock=0, warehouse_stock=500)
    agent = factories.UserFactory(role=Role.AGENT)
    customers = [factories.CustomerFactory() for _ in range(32)]
    both = [services.LineRequest("PARKA-M", 1), services.LineRequest("BOOK-1", 1)]
    calls: list[Callable[[], Any]] = [
        lambda c=customer, n=number: services.order_place(
            actor=agent,
            channel=Channel.CALL_CENTRE,
            idempotency_key=f"deadlock-{n:03d}",
            customer=c,
            lines=both if n % 2 else both[::-1],
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=services.PaymentRequest(method="pay_by_link"),
        )
        for number, customer in enumerate(customers)
    ]
    # when
    results = _race(calls)
    # then: every one went through (a deadlock would have failed one)
    assert _kinds(results) == Counter({"placed": 32})
    assert shop.stock(shop.parka, shop.warehouse) == (500, 32)
    assert shop.stock(shop.book, shop.warehouse) == (500, 32)
