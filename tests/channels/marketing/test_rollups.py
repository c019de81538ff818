"""Rollups equal what the raw rows say, however they were reached: random histories (fixed
seeds), rebuilt in random overlapping ranges in random order, re-run, refreshed incrementally
while rows arrive and change."""

from __future__ import annotations

import random
import re
import threading
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from channels.marketing.models import (
    CategorySalesDay,
    ChannelDay,
    ChannelMixMonth,
    CustomerMonth,
    FunnelDay,
    RollupWatermark,
    ServiceDay,
)
from channels.marketing.rollups import (
    FUNNEL_STEPS,
    rollups_rebuild,
    rollups_rebuild_all,
    rollups_refresh,
)
from customers.models import Case, CaseResolution, CaseStatus, TimelineEvent
from customers.services import customer_merge, customer_unmerge
from interaction_platform.choices import Channel
from orders.models import Order, OrderStatus
from tests import factories
from tests.channels.marketing.shop import at, case, event, order

pytestmark = pytest.mark.django_db
TABLES = [ChannelDay, CategorySalesDay, FunnelDay, ServiceDay, CustomerMonth, ChannelMixMonth]
FIRST_DAY = date(2026, 2, 20)
DAYS = 20
EVENT_TYPES = [
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Order Completed",
    "Email Opened",
    "QR Scanned",
]
CHANNELS = [Channel.WEB, Channel.APP, Channel.STORE, Channel.CALL_CENTRE, Channel.EMAIL]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row, without ids, in a fixed order."""
    tables = {}
    for model in TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
        tables[model.__name__] = sorted(
            model.objects.values_list(*fields), key=lambda row: tuple(map(str, row))
        )
    return tables


def wipe() -> None:
    for model in TABLES:
        model.objects.all().delete()
    RollupWatermark.objects.all().delete()


class History:
    """Random raw rows: events, orders with lines, cases, over 20 days around a month end."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.stores = [factories.StoreFactory() for _ in range(2)]
        self.variants = [factories.VariantFactory() for _ in range(3)]
        self.customers = [
            factories.CustomerFactory(home_store=self.rng.choice([*self.stores, None]))
            for _ in range(8)
        ]

    def moment(self) -> Any:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
        return at(day, self.rng.randrange(8, 22), self.rng.randrange(60))

    def add(self, events: int, orders: int, cases: int) -> None:
        rng = self.rng
        for _ in range(events):
            channel = rng.choice(CHANNELS)
            store = rng.choice(self.stores) if channel == Channel.STORE else None
            event(
                rng.choice(self.customers), self.moment(), channel, rng.choice(EVENT_TYPES), store
            )
        for _ in range(orders):
            channel = rng.choice([Channel.WEB, Channel.APP, Channel.STORE, Channel.CALL_CENTRE])
            variants = rng.sample(self.variants, rng.randint(1, 3))
            lines = [
                (v, rng.randint(1, 3), f"{rng.randint(5, 90)}.{rng.randint(0, 99):02d}")
                for v in variants
            ]
            total = sum((Decimal(line[2]) for line in lines), Decimal(0))
            order(
                rng.choice(self.customers),
                self.moment(),
                channel,
                str(total),
                lines,
                rng.choice(self.stores) if channel == Channel.STORE else None,
                OrderStatus.CANCELLED if rng.random() < 0.15 else OrderStatus.PAID,
            )
        for _ in range(cases):
            opened = self.moment()
            resolved = rng.random() < 0.6
            case(
                rng.choice(self.customers),
                rng.choice(CHANNELS),
                opened,
                opened + timedelta(hours=rng.randint(1, 72)) if resolved else None,
                rng.choice(list(CaseResolution)) if resolved else "",
                resolved and rng.random() < 0.5,
            )

    def change_some(self) -> None:
        """What services do to older rows: cancel orders, resolve open cases (now)."""
        now = timezone.now()
        for placed in Order.objects.exclude(status=OrderStatus.CANCELLED).order_by("?")[:3]:
            Order.objects.filter(pk=placed.pk).update(
                status=OrderStatus.CANCELLED, cancelled_at=now, updated_at=now
            )
        for open_case in Case.objects.filter(status=CaseStatus.OPEN)[:2]:
            Case.objects.filter(pk=open_case.pk).update(
                status=CaseStatus.RESOLVED, resolution=CaseResolution.AGENT, resolved_at=now
            )


def fresh_rebuild() -> dict[str, list[tuple[Any, ...]]]:
    wipe()
    rollups_rebuild_all()
    return snapshot()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_ranges_in_random_order_give_the_full_rebuild(seed: int) -> None:
    # given
    history = History(seed)
    history.add(events=160, orders=50, cases=15)
    expected = fresh_rebuild()
    rng = random.Random(seed)
    wipe()
    # when: random overlapping ranges, some twice, then whatever is left uncovered
    covered: set[date] = set()
    for _ in range(8):
        first = FIRST_DAY + timedelta(days=rng.randrange(-2, DAYS))
        last = first + timedelta(days=rng.randrange(0, 8))
        rollups_rebuild(day_from=first, day_to=last)
        covered.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    missing = [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    rng.shuffle(missing)
    for day in missing:
        if day not in covered:
            rollups_rebuild(day_from=day, day_to=day)
    rollups_rebuild(day_from=FIRST_DAY + timedelta(days=3), day_to=FIRST_DAY + timedelta(days=5))
    # then
    assert snapshot() == expected


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_incremental_refreshes_while_rows_arrive_give_the_full_rebuild(seed: int) -> None:
    # given: part of the history, rolled up
    history = History(seed)
    history.add(events=80, orders=25, cases=8)
    rollups_refresh()  # no watermark yet: a full build
    # when: more rows arrive and older ones change, with refreshes in between (some twice)
    history.add(events=40, orders=10, cases=4)
    rollups_refresh()
    history.change_some()
    history.add(events=40, orders=10, cases=4)
    rollups_refresh()
    rollups_refresh()
    incremental = snapshot()
    # then
    assert incremental == fresh_rebuild()


def test_a_merge_and_its_undoing_reach_the_customer_months() -> None:
    # given: rolled-up history of several customers
    history = History(9)
    history.add(events=80, orders=30, cases=0)
    rollups_refresh()
    survivor, absorbed = history.customers[:2]
    # when: two of them turn out to be one person, and the refresh runs
    merge = customer_merge(survivor=survivor, absorbed=absorbed)
    rollups_refresh()
    # then: the months are those of a fresh rebuild (the absorbed profile has none left)
    merged = snapshot()
    assert merged == fresh_rebuild()
    assert not CustomerMonth.objects.filter(customer=absorbed).exists()
    # and when the merge is undone, the next refresh gives each their months back
    rollups_refresh()
    customer_unmerge(merge=merge)
    rollups_refresh()
    assert snapshot() == fresh_rebuild()
    assert CustomerMonth.objects.filter(customer=absorbed).exists()


@pytest.mark.parametrize("seed", [7, 8])
def test_day_rollups_equal_figures_counted_from_raw_rows(seed: int) -> None:
    # given
    history = History(seed)
    history.add(events=200, orders=60, cases=20)
    # when
    rollups_rebuild_all()
    # then: ChannelDay orders, revenue and active customers
    raw: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal(0), set()])
    for placed in Order.objects.exclude(status=OrderStatus.CANCELLED):
        key = (timezone.localtime(placed.placed_at).date(), placed.channel, placed.store_id)
        raw[key][0] += 1
        raw[key][1] += placed.total
    for row in TimelineEvent.objects.all():
        key = (timezone.localtime(row.occurred_at).date(), row.channel, row.store_id)
        raw[key][2].add(row.customer_id)
    assert {
        (r.day, r.channel, r.store_id): (r.orders, r.revenue, r.active_customers)
        for r in ChannelDay.objects.all()
    } == {key: (value[0], value[1], len(value[2])) for key, value in raw.items()}
    # FunnelDay: distinct customers per step and day
    step_of = {kind: step for step, kinds in FUNNEL_STEPS.items() for kind in kinds}
    funnel: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for row in TimelineEvent.objects.filter(type__in=list(step_of)):
        day = timezone.localtime(row.occurred_at).date()
        funnel[(day, row.channel, row.store_id, step_of[row.type])].add(row.customer_id)
    counted = {
        (r.day, r.channel, r.store_id, step): getattr(r, step)
        for r in FunnelDay.objects.all()
        for step in FUNNEL_STEPS
        if getattr(r, step)
    }
    assert counted == {key: len(customers) for key, customers in funnel.items()}
    # ServiceDay: cases and resolution time
    cases = Case.objects.all()
    assert sum(ServiceDay.objects.values_list("cases", flat=True)) == cases.count()
    assert sum(ServiceDay.objects.values_list("resolve_seconds", flat=True)) == sum(
        int((c.resolved_at - c.opened_at).total_seconds()) for c in cases if c.resolved_at
    )
    # CategorySalesDay: every counted order line once
    assert sum(CategorySalesDay.objects.values_list("revenue", flat=True)) == sum(
        line.line_total
        for placed in Order.objects.exclude(status=OrderStatus.CANCELLED)
        for line in placed.lines.all()
    )


def test_the_rebuild_command(capsys: Any) -> None:
    History(9).add(events=30, orders=10, cases=3)
    call_command("rollups_rebuild", "--from", "2026-02-20", "--to", "2026-03-11")
    assert "Rolled up 20 days, 2 customer-months and 6 months" in capsys.readouterr().out
    assert ChannelDay.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-03-05", "--to", "2026-03-01"], "--to is before --from."),
        (["--from", "March", "--to", "2026-03-01"], "'March' is not a date like 2026-01-31."),
        (["--from", "2026-03-05"], "Give --from and --to (or --all)."),
    ],
)
def test_the_rebuild_command_refuses_bad_dates(arguments: list[str], message: str) -> None:
    History(10).add(events=10, orders=3, cases=1)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("rollups_rebuild", *arguments)
    assert not ChannelDay.objects.exists()


def test_the_beat_schedule_runs_the_refresh() -> None:
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["marketing.rollups_refresh"]["task"] == (
        "marketing.rollups_refresh"
    )


def test_the_refresh_task_is_safe_to_run_twice() -> None:
    from channels.marketing.tasks import rollups_refresh_task

    History(11).add(events=30, orders=10, cases=3)
    rollups_refresh_task.delay()
    first = snapshot()
    again = rollups_refresh_task.delay().get()
    assert snapshot() == first
    assert again["days"] >= 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rebuilds_of_the_same_days_take_turns() -> None:
    # given: a history, and its rollups built once
    History(12).add(events=120, orders=40, cases=10)
    expected = fresh_rebuild()
    barrier = threading.Barrier(3)
    failures: list[BaseException] = []

    def rebuild() -> None:
        try:
            barrier.wait(timeout=10)
            rollups_rebuild(day_from=FIRST_DAY, day_to=FIRST_DAY + timedelta(days=DAYS))
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    # when: three rebuilds of the same days at once
    threads = [threading.Thread(target=rebuild) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then: no errors, and exactly one copy of every row
    assert failures == []
    assert snapshot() == expected
