"""Selectors for the marketer dashboards. They read rollup tables only — never raw events,
orders or cases — so each answers in a few small queries whatever the size of the history.

Every selector takes a :class:`DashboardFilter` and returns plain data: a list of table rows
(dicts, in the order the page and the CSV show them) plus whatever the chart needs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, Sum

from catalog.models import Category, Location
from channels.marketing.models import (
    CategorySalesDay,
    ChannelDay,
    ChannelMixMonth,
    FunnelDay,
    ServiceDay,
)
from channels.marketing.rollups import CHANNEL_BITS, month_start
from interaction_platform.choices import Channel

ONLINE_CHANNELS = (Channel.WEB, Channel.APP)
FUNNEL_STEPS = (
    ("baskets", "Basket"),
    ("checkouts", "Checkout started"),
    ("details", "Details entered"),
    ("payments", "Payment entered"),
    ("orders", "Order placed"),
)
#: Up to this many days a chart shows one point per day; beyond, one per week (Monday).
DAILY_BUCKETS_UP_TO_DAYS = 62
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class DashboardFilter:
    date_from: date
    date_to: date
    channel: str = ""
    store_id: int | None = None
    touch_window_days: int = 30
    chart_metric: str = "revenue"  # the channel mix's chart: revenue, orders, active_customers

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


@dataclass
class Dashboard:
    """What a dashboard page, its chart and its CSV need."""

    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict[str, Any]]
    chart: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    extra_tables: list[tuple[str, list[tuple[str, str]], list[dict[str, Any]]]] = field(
        default_factory=list
    )


def _cents(amount: Any) -> Decimal:
    """Sums come back from SQLite with float noise: money is shown and compared to the cent."""
    return Decimal(amount or 0).quantize(_CENT, rounding=ROUND_HALF_UP)


def _ratio(numerator: Any, denominator: Any, places: str = "0.01") -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(places), rounding=ROUND_HALF_UP
    )


def _percent(numerator: Any, denominator: Any) -> Decimal | None:
    value = _ratio(Decimal(numerator) * 100, denominator, "0.1") if denominator else None
    return value


def _days(rows: Any, dashboard_filter: DashboardFilter, *, with_channel: bool = True) -> Any:
    rows = rows.filter(day__gte=dashboard_filter.date_from, day__lte=dashboard_filter.date_to)
    if with_channel and dashboard_filter.channel:
        rows = rows.filter(channel=dashboard_filter.channel)
    if dashboard_filter.store_id is not None:
        rows = rows.filter(store_id=dashboard_filter.store_id)
    return rows


def _bucket(day: date, dashboard_filter: DashboardFilter) -> date:
    """The first day of ``day``'s bucket: the day itself, or its 7-day week counted back from
    the range's last day (so the latest week is whole; the first may be shorter)."""
    if dashboard_filter.days <= DAILY_BUCKETS_UP_TO_DAYS:
        return day
    weeks_back = (dashboard_filter.date_to - day).days // 7
    start = dashboard_filter.date_to - timedelta(days=7 * weeks_back + 6)
    return max(start, dashboard_filter.date_from)


# --- 1. channel mix -----------------------------------------------------------------------------


def channel_mix(dashboard_filter: DashboardFilter) -> Dashboard:
    """Orders, revenue and active customers per channel, per day (or week) of the range.
    Active customers are counted per day and store; a bucket shows their daily average."""
    per_day = (
        _days(ChannelDay.objects.all(), dashboard_filter)
        .values("day", "channel")
        .annotate(orders=Sum("orders"), revenue=Sum("revenue"), active=Sum("active_customers"))
        .order_by("day", "channel")
    )
    buckets: dict[tuple[date, str], dict[str, Any]] = {}
    bucket_days: dict[date, set[date]] = defaultdict(set)
    for item in per_day:
        bucket = _bucket(item["day"], dashboard_filter)
        bucket_days[bucket].add(item["day"])
        target = buckets.setdefault(
            (bucket, item["channel"]),
            {"bucket": bucket, "channel": item["channel"], "orders": 0, "revenue": Decimal(0)}
            | {"active_days": 0},
        )
        target["orders"] += item["orders"]
        target["revenue"] += item["revenue"]
        target["active_days"] += item["active"]
    rows = []
    for (bucket, _channel), item in sorted(buckets.items()):
        span = _bucket_length(bucket, dashboard_filter)
        rows.append(
            {
                "period": bucket,
                "channel": item["channel"],
                "orders": item["orders"],
                "revenue": _cents(item["revenue"]),
                "active_customers": _ratio(item["active_days"], span, "0.1"),
            }
        )
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row["channel"], {"channel": row["channel"], "orders": 0, "revenue": Decimal(0)}
        )
        total["orders"] += row["orders"]
        total["revenue"] += row["revenue"]
    total_revenue = sum((total["revenue"] for total in totals.values()), Decimal(0))
    total_rows = [
        {**total, "revenue_share": _percent(total["revenue"], total_revenue)}
        for total in sorted(totals.values(), key=lambda total: -total["revenue"])
    ]
    periods = sorted({row["period"] for row in rows})
    metric = dashboard_filter.chart_metric
    series = []
    for channel in sorted({row["channel"] for row in rows}):
        by_period = {row["period"]: row[metric] for row in rows if row["channel"] == channel}
        if not any(by_period.values()):
            continue  # e.g. no orders by e-mail: a flat line at zero says nothing
        series.append((channel, [by_period.get(period, Decimal(0)) for period in periods]))
    return Dashboard(
        columns=[
            ("period", "Day" if dashboard_filter.days <= DAILY_BUCKETS_UP_TO_DAYS else "Week of"),
            ("channel", "Channel"),
            ("orders", "Orders"),
            ("revenue", "Revenue"),
            ("active_customers", "Active customers per day"),
        ],
        rows=rows,
        chart={
            "labels": periods,
            "series": series,
            "unit": "revenue" if metric == "revenue" else "",
        },
        summary={"orders": sum(r["orders"] for r in rows), "revenue": total_revenue},
        extra_tables=[
            (
                "Totals per channel",
                [
                    ("channel", "Channel"),
                    ("orders", "Orders"),
                    ("revenue", "Revenue"),
                    ("revenue_share", "Share of revenue (%)"),
                ],
                total_rows,
            )
        ],
    )


def _bucket_length(bucket: date, dashboard_filter: DashboardFilter) -> int:
    if dashboard_filter.days <= DAILY_BUCKETS_UP_TO_DAYS:
        return 1
    weeks_back = (dashboard_filter.date_to - bucket).days // 7
    end = dashboard_filter.date_to - timedelta(days=7 * weeks_back)
    return (end - bucket).days + 1


# --- 2. what the web site sells in stores -------------------------------------------------------


def store_influence(dashboard_filter: DashboardFilter) -> Dashboard:
    """Store revenue from customers with a web, app, e-mail or QR touchpoint in the N days
    before the sale, beside online (web + app) revenue, per store and per category."""
    window = dashboard_filter.touch_window_days
    rows = _days(CategorySalesDay.objects.all(), dashboard_filter, with_channel=False)
    if dashboard_filter.channel:
        rows = rows.filter(channel__in=[dashboard_filter.channel])
    per_store_category = (
        rows.values("store_id", "category_id")
        .annotate(
            store_revenue=Sum("revenue", filter=Q(channel=Channel.STORE)),
            influenced_revenue=Sum(
                CategorySalesDay.touched_field(window), filter=Q(channel=Channel.STORE)
            ),
            online_revenue=Sum("revenue", filter=Q(channel__in=ONLINE_CHANNELS)),
        )
        .order_by()
    )
    stores = dict(Location.objects.values_list("id", "name"))
    categories = {
        category_id: f"{parent} › {name}" if parent else name
        for category_id, name, parent in Category.objects.values_list("id", "name", "parent__name")
    }
    by_store: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_category: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in per_store_category:
        for key in ("store_revenue", "influenced_revenue", "online_revenue"):
            amount = _cents(item[key])
            totals[key] += amount
            by_category[item["category_id"]][key] += amount
            if item["store_id"] is not None and key != "online_revenue":
                by_store[item["store_id"]][key] += amount
    store_rows = [
        {
            "store": stores.get(store_id, "?"),
            "store_revenue": figures["store_revenue"],
            "influenced_revenue": figures["influenced_revenue"],
            "influenced_share": _percent(figures["influenced_revenue"], figures["store_revenue"]),
        }
        for store_id, figures in sorted(by_store.items(), key=lambda item: stores.get(item[0], ""))
        if figures["store_revenue"]
    ]
    category_rows = [
        {
            "category": categories.get(category_id, "?"),
            "online_revenue": figures["online_revenue"],
            "influenced_revenue": figures["influenced_revenue"],
            "ratio": _ratio(figures["influenced_revenue"], figures["online_revenue"]),
        }
        for category_id, figures in sorted(
            by_category.items(), key=lambda item: categories.get(item[0], "")
        )
    ]
    ratio = _ratio(totals["influenced_revenue"], totals["online_revenue"])
    return Dashboard(
        columns=[
            ("store", "Store"),
            ("store_revenue", "Store revenue"),
            ("influenced_revenue", f"After a digital touch (≤ {window} days)"),
            ("influenced_share", "Share (%)"),
        ],
        rows=store_rows,
        chart={
            "labels": [row["category"] for row in category_rows],
            "series": [
                ("Online revenue", [row["online_revenue"] for row in category_rows]),
                (
                    "Store revenue after a digital touch",
                    [row["influenced_revenue"] for row in category_rows],
                ),
            ],
            "unit": "revenue",
        },
        summary={
            "online_revenue": totals["online_revenue"],
            "influenced_revenue": totals["influenced_revenue"],
            "store_revenue": totals["store_revenue"],
            "ratio": ratio,
            "window": window,
        },
        extra_tables=[
            (
                "Per category",
                [
                    ("category", "Category"),
                    ("online_revenue", "Online revenue"),
                    ("influenced_revenue", f"Store revenue after a digital touch (≤ {window} d)"),
                    ("ratio", "Ratio (×)"),
                ],
                category_rows,
            )
        ],
    )


# --- 3. multichannel customers ------------------------------------------------------------------


def multichannel(dashboard_filter: DashboardFilter) -> Dashboard:
    """Customers by the number of channels they used in a month (1, 2, 3+), summed over the
    months of the range: revenue and orders per buying customer, and what buyers did in the
    90 days after their last order of the month (repeat, or defect)."""
    months = ChannelMixMonth.objects.filter(
        month__gte=month_start(dashboard_filter.date_from), month__lte=dashboard_filter.date_to
    )
    if dashboard_filter.store_id is not None:
        months = months.filter(store_id=dashboard_filter.store_id)
    per_mask = (
        months.values("channels_mask", "channel_count")
        .annotate(
            customers=Sum("customers"),
            buyers=Sum("buyers"),
            orders=Sum("orders"),
            revenue=Sum("revenue"),
            repeat=Sum("repeat_buyers"),
            defected=Sum("defected_buyers"),
        )
        .order_by()
    )
    channel_bit = CHANNEL_BITS.get(dashboard_filter.channel, 0)
    groups: dict[str, dict[str, Any]] = {
        label: {"channels": label, "customers": 0, "buyers": 0, "orders": 0}
        | {"revenue": Decimal(0), "repeat": 0, "defected": 0}
        for label in ("1", "2", "3+")
    }
    for item in per_mask:
        if channel_bit and not item["channels_mask"] & channel_bit:
            continue
        label = "3+" if item["channel_count"] >= 3 else str(max(item["channel_count"], 1))
        for key in ("customers", "buyers", "orders", "revenue", "repeat", "defected"):
            groups[label][key] += _cents(item[key]) if key == "revenue" else item[key]
    rows = [
        {
            "channels": label,
            "customers": group["customers"],
            "buyers": group["buyers"],
            "revenue_per_buyer": _ratio(group["revenue"], group["buyers"]),
            "orders_per_buyer": _ratio(group["orders"], group["buyers"]),
            "repeat_rate": _percent(group["repeat"], group["repeat"] + group["defected"]),
            "defection_rate": _percent(group["defected"], group["repeat"] + group["defected"]),
        }
        for label, group in groups.items()
    ]
    return Dashboard(
        columns=[
            ("channels", "Channels used"),
            ("customers", "Customer-months"),
            ("buyers", "Buying customer-months"),
            ("revenue_per_buyer", "Revenue per buyer"),
            ("orders_per_buyer", "Orders per buyer"),
            ("repeat_rate", "90-day repeat (%)"),
            ("defection_rate", "90-day defection (%)"),
        ],
        rows=rows,
        chart={
            "labels": [
                f"{row['channels']} channel{'s' if row['channels'] != '1' else ''}" for row in rows
            ],
            "series": [("Revenue per buyer", [row["revenue_per_buyer"] or 0 for row in rows])],
            "unit": "revenue",
        },
    )


# --- 4. checkout funnel -------------------------------------------------------------------------


def checkout_funnel(dashboard_filter: DashboardFilter) -> Dashboard:
    """Per channel with baskets (web, app), customers reaching each step (counted per day),
    and the drop-off from the step before."""
    per_channel = (
        _days(FunnelDay.objects.all(), dashboard_filter)
        .values("channel")
        .annotate(**{step: Sum(step) for step, _label in FUNNEL_STEPS})
        .order_by("channel")
    )
    rows = []
    series = []
    for item in per_channel:
        if not item["baskets"]:
            continue  # sales without a basket step (a store till, a phone order) have no funnel
        previous = None
        for step, label in FUNNEL_STEPS:
            count = item[step]
            rows.append(
                {
                    "channel": item["channel"],
                    "step": label,
                    "customers": count,
                    "of_baskets": _percent(count, item["baskets"]),
                    "drop_off": None if previous is None else _percent(previous - count, previous),
                }
            )
            previous = count
        series.append((item["channel"], [item[step] for step, _label in FUNNEL_STEPS]))
    return Dashboard(
        columns=[
            ("channel", "Channel"),
            ("step", "Step"),
            ("customers", "Customers"),
            ("of_baskets", "Of baskets (%)"),
            ("drop_off", "Drop-off from previous step (%)"),
        ],
        rows=rows,
        chart={"labels": [label for _step, label in FUNNEL_STEPS], "series": series, "unit": ""},
    )


# --- 5. service ---------------------------------------------------------------------------------


def service(dashboard_filter: DashboardFilter) -> Dashboard:
    """Cases per channel they were opened on: how many, the share resolved by self-service,
    the first-contact resolution rate and the average time to resolve."""
    per_channel = (
        _days(ServiceDay.objects.all(), dashboard_filter)
        .values("channel")
        .annotate(
            cases=Sum("cases"),
            resolved=Sum("resolved"),
            self_service=Sum("self_service"),
            first_contact=Sum("first_contact"),
            resolve_seconds=Sum("resolve_seconds"),
        )
        .order_by("channel")
    )
    rows = []
    totals: dict[str, int] = defaultdict(int)
    for item in per_channel:
        for key in ("cases", "resolved", "self_service", "first_contact", "resolve_seconds"):
            totals[key] += item[key]
        rows.append(_service_row(item["channel"], item))
    return Dashboard(
        columns=[
            ("channel", "Opened on"),
            ("cases", "Cases"),
            ("resolved", "Resolved"),
            ("self_service_share", "Self-service (%)"),
            ("first_contact_rate", "First-contact resolution (%)"),
            ("hours_to_resolve", "Average hours to resolve"),
        ],
        rows=rows,
        chart={
            "labels": [row["channel"] for row in rows],
            "series": [("Cases", [row["cases"] for row in rows])],
            "unit": "",
            "label_channels": True,
        },
        summary=_service_row("", totals),
    )


def _service_row(channel: str, figures: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "cases": figures["cases"],
        "resolved": figures["resolved"],
        "self_service_share": _percent(figures["self_service"], figures["resolved"]),
        "first_contact_rate": _percent(figures["first_contact"], figures["resolved"]),
        "hours_to_resolve": _ratio(figures["resolve_seconds"], figures["resolved"] * 3600, "0.1"),
    }
