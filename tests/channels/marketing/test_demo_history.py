"""The demo year tells the dashboards' story, and its rows are what the services would write."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from channels.marketing import dashboards
from channels.marketing.dashboards import DashboardFilter
from customers.models import Case, Customer, TimelineEvent
from interaction_platform import demo
from interaction_platform.choices import Channel
from orders.models import Order, OrderLine, Payment, Return

# Every test reads the one shop the module seeds (committed once, wiped at the end).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        counts = demo.seed(size="small")
        yield counts
        # the module's data goes with it, rollups included
        from tests.channels.marketing.test_rollups import wipe as wipe_rollups
        from tests.interaction_platform.test_seed_demo import _wipe

        _wipe()
        wipe_rollups()


def last_year() -> DashboardFilter:
    today = timezone.localdate()
    return DashboardFilter(date_from=today - timedelta(days=364), date_to=today)


def test_a_year_of_history_on_every_channel(seeded: dict[str, int]) -> None:
    assert 20_000 <= seeded["events"] <= 40_000
    assert seeded["orders"] >= 2_000
    assert set(Order.objects.values_list("channel", flat=True)) == {
        Channel.WEB,
        Channel.APP,
        Channel.STORE,
        Channel.CALL_CENTRE,
    }
    assert set(TimelineEvent.objects.values_list("channel", flat=True)) == {
        Channel.WEB,
        Channel.APP,
        Channel.STORE,
        Channel.CALL_CENTRE,
        Channel.EMAIL,
        Channel.PRINT,
    }
    oldest = TimelineEvent.objects.order_by("occurred_at").first()
    assert oldest is not None
    assert oldest.occurred_at >= timezone.now() - timedelta(days=366)
    assert Return.objects.count() == seeded["returns"] > 0
    assert Case.objects.filter(resolution="self_service").exists()


def test_the_rows_add_up_like_the_services_would_write_them() -> None:
    # every order's lines add up to its total, every paid order has its captured payment
    totals = dict(Order.objects.values_list("id", "total"))
    lines: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, line_total in OrderLine.objects.values_list("order_id", "line_total"):
        lines[order_id] += line_total
    assert lines == totals
    assert Payment.objects.count() == Order.objects.exclude(status="cancelled").count()
    assert OrderLine.objects.filter(returned_quantity__gt=0).count() == Return.objects.count()
    # the profiles' denormalised figures match their orders
    sam = Customer.objects.get(loyalty_number="NW00000001")
    assert sam.order_count == Order.objects.filter(customer=sam).exclude(status="cancelled").count()


def test_multichannel_customers_buy_more_and_defect_less() -> None:
    rows = {row["channels"]: row for row in dashboards.multichannel(last_year()).rows}
    assert (
        rows["1"]["revenue_per_buyer"]
        < rows["2"]["revenue_per_buyer"]
        < rows["3+"]["revenue_per_buyer"]
    )
    assert rows["1"]["defection_rate"] > rows["2"]["defection_rate"] > rows["3+"]["defection_rate"]


def test_the_site_brings_customers_to_the_stores() -> None:
    week = dashboards.store_influence(
        DashboardFilter(**{**last_year().__dict__, "touch_window_days": 7})
    )
    month = dashboards.store_influence(last_year())
    assert 0 < week.summary["influenced_revenue"] < month.summary["influenced_revenue"]
    assert month.summary["ratio"] > 1


def test_the_funnel_narrows_at_every_step() -> None:
    result = dashboards.checkout_funnel(last_year())
    for channel, steps in result.chart["series"]:
        assert steps == sorted(steps, reverse=True), channel
        assert steps[-1] > 0
