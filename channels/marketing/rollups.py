"""Build and refresh the rollup tables the marketer dashboards read.

Two ways in, both idempotent and safe to run at the same time as each other:

- :func:`rollups_rebuild` recomputes a range of days from the raw rows (and the calendar months
  touching it): per table, one transaction deletes the range and inserts it again.
- :func:`rollups_refresh` (celery beat, every minute) finds what changed since its watermark —
  timeline events by id, orders and cases by their change time — and recomputes only the days,
  customer-months and months those rows fall in.

A day is a local calendar day (``settings.TIME_ZONE``). Raw rows are read, never written.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Variant
from channels.marketing.models import (
    CategorySalesDay,
    ChannelDay,
    ChannelMixMonth,
    CustomerMonth,
    FunnelDay,
    RollupWatermark,
    ServiceDay,
)
from channels.marketing.models.rollups import TOUCH_WINDOWS_DAYS
from customers.models import Case, CaseResolution, CaseStatus, Customer, Merge, TimelineEvent
from interaction_platform.choices import Channel
from orders.models import Order, OrderLine, OrderStatus

logger = logging.getLogger(__name__)

WATERMARK = "dashboards"
#: Channels whose touchpoints count as "the web site" for the store-influence dashboard.
DIGITAL_CHANNELS = (Channel.WEB, Channel.APP, Channel.EMAIL, Channel.PRINT)
REPEAT_WINDOW_DAYS = 90
#: One bit per channel in ``CustomerMonth.channels_mask``; never renumber.
CHANNEL_BITS = {channel.value: 1 << position for position, channel in enumerate(Channel)}
#: Checkout funnel: field on FunnelDay → the timeline event types that reach that step.
FUNNEL_STEPS = {
    "baskets": ("Product Added",),
    "checkouts": ("Checkout Started",),
    "details": ("Checkout Step Completed",),
    "payments": ("Payment Info Entered",),
    "orders": ("Order Completed", "POS Order Completed"),
}
#: Events (and cases) with an id this far below the watermark are looked at again: a
#: transaction that took an id early but committed late is still seen (a re-look changes
#: nothing).
EVENT_ID_OVERLAP = 2_000
CASE_ID_OVERLAP = 200  # cases come far less often than events
#: Orders and cases changed this long before the watermark are looked at again, for the same
#: reason.
CHANGE_OVERLAP = timedelta(minutes=5)
_BATCH = 2_000
_CUSTOMER_CHUNK = 2_000


@dataclass(frozen=True)
class RefreshResult:
    days: int
    customer_months: int
    months: int


# --- one writer at a time ------------------------------------------------------------------------

_TURN = "write-turn"
F_ = TypeVar("F_", bound=Callable[..., None])


def _one_writer_at_a_time(function: F_) -> F_:
    """Run ``function`` — which reads raw rows and replaces rollup rows — in one transaction
    that first locks one row: concurrent recomputes (the beat refresh, the nightly rebuild, a
    command) take turns, and each reads the raw rows only once it has its turn, so none can
    replace newer rows with older figures or leave two copies of a day."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            RollupWatermark.objects.select_for_update().get_or_create(name=_TURN)
            function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- dates --------------------------------------------------------------------------------------


def local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _ranges(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Contiguous runs of ``days`` as half-open ``(first, after_last)`` ranges."""
    ordered = sorted(set(days))
    if not ordered:
        return
    first = previous = ordered[0]
    for day in ordered[1:]:
        if day != previous + timedelta(days=1):
            yield first, previous + timedelta(days=1)
            first = day
        previous = day
    yield first, previous + timedelta(days=1)


def _months_between(first: date, last: date) -> list[date]:
    months = []
    month = month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


# --- public entry points ------------------------------------------------------------------------


def rollups_rebuild(*, day_from: date, day_to: date) -> RefreshResult:
    """Recompute every rollup for the days ``day_from``..``day_to`` (inclusive) and for the
    calendar months touching them, from the raw rows. Idempotent; safe to re-run, in any order,
    beside :func:`rollups_refresh`."""
    if day_to < day_from:
        raise ValueError("day_to is before day_from")
    days = day_to - day_from
    for first, after in _chunks(day_from, day_to + timedelta(days=1), size=timedelta(days=31)):
        _days_recompute(first, after)
    months = _months_between(day_from, day_to)
    for month in months:
        _customer_months_recompute(month=month, customer_ids=None)
    # a month's repeat figures look 90 days ahead: the months before the range change too
    mix_months = _months_between(day_from - timedelta(days=REPEAT_WINDOW_DAYS + 31), day_to)
    for month in mix_months:
        _channel_mix_recompute(month)
    return RefreshResult(days=days.days + 1, customer_months=len(months), months=len(mix_months))


def rollups_rebuild_all() -> RefreshResult:
    """Rebuild everything the raw rows cover and move the watermark to now."""
    started = timezone.now()
    last_event_id = TimelineEvent.objects.aggregate(last=Max("id"))["last"] or 0
    last_case_id = Case.objects.aggregate(last=Max("id"))["last"] or 0
    bounds = _raw_bounds()
    result = RefreshResult(days=0, customer_months=0, months=0)
    if bounds is not None:
        result = rollups_rebuild(day_from=bounds[0], day_to=bounds[1])
    RollupWatermark.objects.update_or_create(
        name=WATERMARK,
        defaults={
            "last_event_id": last_event_id,
            "last_case_id": last_case_id,
            "changed_up_to": started,
            "refreshed_at": timezone.now(),
        },
    )
    return result


def rollups_refresh() -> RefreshResult:
    """Recompute what changed since the watermark, then move the watermark. A first run (no
    watermark yet) rebuilds everything. Safe to run twice or concurrently: each recompute
    replaces its rows from the raw rows in one transaction."""
    watermark = RollupWatermark.objects.filter(name=WATERMARK).first()
    if watermark is None or watermark.changed_up_to is None:
        return rollups_rebuild_all()
    started = timezone.now()
    changed_since = watermark.changed_up_to - CHANGE_OVERLAP
    first_event_id = max(0, watermark.last_event_id - EVENT_ID_OVERLAP)

    days: set[date] = set()
    customer_months: set[tuple[int, date]] = set()
    last_event_id = watermark.last_event_id
    events = (
        TimelineEvent.objects.filter(id__gt=first_event_id)
        .values_list("id", "customer_id", "occurred_at")
        .order_by()
    )
    for event_id, customer_id, occurred_at in events.iterator(chunk_size=_BATCH):
        day = _local_date(occurred_at)
        days.add(day)
        customer_months.add((customer_id, month_start(day)))
        last_event_id = max(last_event_id, event_id)
    order_months: set[date] = set()
    for customer_id, placed_at in (
        Order.objects.filter(updated_at__gt=changed_since)
        .values_list("customer_id", "placed_at")
        .iterator(chunk_size=_BATCH)
    ):
        day = _local_date(placed_at)
        days.add(day)
        if customer_id is not None:
            customer_months.add((customer_id, month_start(day)))
            order_months.add(month_start(day))
    last_case_id = watermark.last_case_id
    first_case_id = max(0, watermark.last_case_id - CASE_ID_OVERLAP)
    for case_id, opened_at in Case.objects.filter(
        Q(id__gt=first_case_id) | Q(resolved_at__gt=changed_since)
    ).values_list("id", "opened_at"):
        days.add(_local_date(opened_at))
        last_case_id = max(last_case_id, case_id)

    merged_months = _merged_customer_months(since=changed_since)
    customer_months |= merged_months
    order_months |= {month for _, month in merged_months}

    for first, after in _ranges(days):
        _days_recompute(first, after)
    by_month: dict[date, set[int]] = defaultdict(set)
    for customer_id, month in customer_months:
        by_month[month].add(customer_id)
    for month, customer_ids in sorted(by_month.items()):
        _customer_months_recompute(month=month, customer_ids=customer_ids)
    mix_months = _mix_months_to_refresh(changed=set(by_month), with_orders=order_months)
    for month in mix_months:
        _channel_mix_recompute(month)
    # a refresh that started earlier and finished later must not move the watermark back
    RollupWatermark.objects.filter(pk=watermark.pk, changed_up_to__lt=started).update(
        last_event_id=last_event_id,
        last_case_id=last_case_id,
        changed_up_to=started,
        refreshed_at=timezone.now(),
    )
    return RefreshResult(
        days=len(days), customer_months=len(customer_months), months=len(mix_months)
    )


def _merged_customer_months(*, since: datetime) -> set[tuple[int, date]]:
    """A merge (or its undoing) moves orders and events between two customers without touching
    their times: every month either customer has a row for is recomputed for both."""
    customer_ids: set[int] = set()
    for survivor_id, absorbed_id in Merge.objects.filter(
        Q(merged_at__gt=since) | Q(unmerged_at__gt=since)
    ).values_list("survivor_id", "absorbed_id"):
        customer_ids |= {survivor_id, absorbed_id}
    months = set(
        CustomerMonth.objects.filter(customer_id__in=customer_ids).values_list("month", flat=True)
    )
    return {(customer_id, month) for customer_id in customer_ids for month in months}


def _mix_months_to_refresh(*, changed: set[date], with_orders: set[date]) -> list[date]:
    """The months whose channel-mix rows can move: each month with changed customer-months and,
    where orders changed, the months up to 90 days before it (their buyers' next order may be
    the changed one). That older buyers defect as their 90 days pass is picked up by the nightly
    rebuild of the recent days, which recomputes the months 90 days back."""
    months = set(changed)
    for month in with_orders:
        months.update(_months_between(month - timedelta(days=REPEAT_WINDOW_DAYS + 31), month))
    return sorted(months)


def _raw_bounds() -> tuple[date, date] | None:
    events = TimelineEvent.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    orders = Order.objects.aggregate(first=Min("placed_at"), last=Max("placed_at"))
    cases = Case.objects.aggregate(first=Min("opened_at"), last=Max("opened_at"))
    firsts = [b["first"] for b in (events, orders, cases) if b["first"] is not None]
    lasts = [b["last"] for b in (events, orders, cases) if b["last"] is not None]
    if not firsts:
        return None
    return _local_date(min(firsts)), _local_date(max(lasts))


def _chunks(first: date, after: date, *, size: timedelta) -> Iterator[tuple[date, date]]:
    while first < after:
        yield first, min(first + size, after)
        first += size


# --- day tables ---------------------------------------------------------------------------------


@_one_writer_at_a_time
def _days_recompute(first: date, after: date) -> None:
    """Replace every day table's rows for ``first`` <= day < ``after``."""
    start, end = local_day_start(first), local_day_start(after)
    channel_rows = _channel_days(start, end)
    category_rows = _category_days(start, end)
    funnel_rows = _funnel_days(start, end)
    service_rows = _service_days(start, end)
    with transaction.atomic():
        tables: list[tuple[Any, list[Any]]] = [
            (ChannelDay, channel_rows),
            (CategorySalesDay, category_rows),
            (FunnelDay, funnel_rows),
            (ServiceDay, service_rows),
        ]
        for model, rows in tables:
            model.objects.filter(day__gte=first, day__lt=after).delete()
            model.objects.bulk_create(rows, batch_size=_BATCH)


def _counted_orders(start: datetime, end: datetime) -> Any:
    return Order.objects.filter(placed_at__gte=start, placed_at__lt=end).exclude(
        status=OrderStatus.CANCELLED
    )


def _channel_days(start: datetime, end: datetime) -> list[ChannelDay]:
    rows: dict[tuple[date, str, int | None], ChannelDay] = {}

    def row(day: date, channel: str, store_id: int | None) -> ChannelDay:
        key = (day, channel, store_id)
        if key not in rows:
            rows[key] = ChannelDay(day=day, channel=channel, store_id=store_id)
        return rows[key]

    orders = (
        _counted_orders(start, end)
        .annotate(day=TruncDate("placed_at"))
        .values("day", "channel", "store_id")
        .annotate(count=Count("id"), revenue=Sum("total"))
        .order_by()
    )
    for item in orders:
        target = row(item["day"], item["channel"], item["store_id"])
        target.orders, target.revenue = item["count"], item["revenue"]
    active = (
        TimelineEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "channel", "store_id")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by()
    )
    for item in active:
        row(item["day"], item["channel"], item["store_id"]).active_customers = item["customers"]
    return list(rows.values())


def _category_days(start: datetime, end: datetime) -> list[CategorySalesDay]:
    orders = _counted_orders(start, end)
    window_by_order = _store_touch_windows(orders)
    lines = (
        OrderLine.objects.filter(order__in=orders)
        .annotate(
            category_id=Subquery(
                Variant.objects.filter(pk=OuterRef("variant_id")).values("product__category_id")
            )
        )
        .values(
            "order_id",
            "order__placed_at",
            "order__channel",
            "order__store_id",
            "category_id",
        )
        .annotate(revenue=Sum("line_total"), units=Sum("quantity"))
        .order_by()
    )
    rows: dict[tuple[date, str, int | None, int], CategorySalesDay] = {}
    for item in lines.iterator(chunk_size=_BATCH):
        key = (
            _local_date(item["order__placed_at"]),
            item["order__channel"],
            item["order__store_id"],
            item["category_id"],
        )
        target = rows.get(key)
        if target is None:
            target = rows[key] = CategorySalesDay(
                day=key[0], channel=key[1], store_id=key[2], category_id=key[3], units=0
            )
            for days in TOUCH_WINDOWS_DAYS:
                setattr(target, CategorySalesDay.touched_field(days), Decimal(0))
            target.revenue = Decimal(0)
        target.revenue += item["revenue"]
        target.units += item["units"]
        window = window_by_order.get(item["order_id"])
        if window is not None:
            for days in TOUCH_WINDOWS_DAYS:
                if days >= window:
                    field = CategorySalesDay.touched_field(days)
                    setattr(target, field, getattr(target, field) + item["revenue"])
    return list(rows.values())


def _touch_window(elapsed: timedelta) -> int:
    """The shortest window (in days) that contains a touchpoint ``elapsed`` before the sale."""
    return next(days for days in TOUCH_WINDOWS_DAYS if elapsed <= timedelta(days=days))


def _store_touch_windows(orders: Any) -> dict[int, int]:
    """Store sale → the shortest window holding the customer's last web, app, e-mail or QR
    touchpoint before it. Sales without one in the longest window are left out."""
    last_touch = (
        TimelineEvent.objects.filter(
            customer_id=OuterRef("customer_id"),
            channel__in=DIGITAL_CHANNELS,
            occurred_at__lt=OuterRef("placed_at"),
            occurred_at__gte=OuterRef("touch_window_start"),
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    store_sales = (
        orders.filter(channel=Channel.STORE, customer_id__isnull=False)
        .annotate(touch_window_start=F("placed_at") - timedelta(days=TOUCH_WINDOWS_DAYS[-1]))
        .annotate(last_touch=Subquery(last_touch))
        .filter(last_touch__isnull=False)
        .values_list("id", "placed_at", "last_touch")
    )
    return {
        order_id: _touch_window(placed_at - touched_at)
        for order_id, placed_at, touched_at in store_sales.iterator(chunk_size=_BATCH)
    }


def _funnel_days(start: datetime, end: datetime) -> list[FunnelDay]:
    step_of_type = {kind: step for step, kinds in FUNNEL_STEPS.items() for kind in kinds}
    counts = (
        TimelineEvent.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, type__in=list(step_of_type)
        )
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "channel", "store_id", "type")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by()
    )
    rows: dict[tuple[date, str, int | None], FunnelDay] = {}
    for item in counts:
        key = (item["day"], item["channel"], item["store_id"])
        target = rows.get(key)
        if target is None:
            target = rows[key] = FunnelDay(day=key[0], channel=key[1], store_id=key[2])
        step = step_of_type[item["type"]]
        setattr(target, step, getattr(target, step) + item["customers"])
    return list(rows.values())


def _service_days(start: datetime, end: datetime) -> list[ServiceDay]:
    cases = (
        Case.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .values_list(
            "opened_at",
            "channel",
            "customer__home_store_id",
            "status",
            "resolution",
            "is_resolved_on_first_contact",
            "resolved_at",
        )
        .order_by()
    )
    rows: dict[tuple[date, str, int | None], ServiceDay] = {}
    for opened_at, channel, store_id, status, resolution, first_contact, resolved_at in cases:
        key = (_local_date(opened_at), channel, store_id)
        target = rows.get(key)
        if target is None:
            target = rows[key] = ServiceDay(day=key[0], channel=channel, store_id=store_id)
        target.cases += 1
        if status == CaseStatus.RESOLVED and resolved_at is not None:
            target.resolved += 1
            target.self_service += resolution == CaseResolution.SELF_SERVICE
            target.first_contact += bool(first_contact)
            target.resolve_seconds += int((resolved_at - opened_at).total_seconds())
    return list(rows.values())


# --- month tables -------------------------------------------------------------------------------


def _customer_months_recompute(*, month: date, customer_ids: set[int] | None) -> None:
    """Replace the CustomerMonth rows of ``month`` — of every customer, or of ``customer_ids``."""
    if customer_ids is None:
        _customer_months_replace(month=month, customer_ids=None)
        return
    ordered = sorted(customer_ids)
    for position in range(0, len(ordered), _CUSTOMER_CHUNK):
        _customer_months_replace(
            month=month, customer_ids=ordered[position : position + _CUSTOMER_CHUNK]
        )


@_one_writer_at_a_time
def _customer_months_replace(*, month: date, customer_ids: list[int] | None) -> None:
    start, end = local_day_start(month), local_day_start(next_month(month))
    events = TimelineEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    orders = _counted_orders(start, end).filter(customer_id__isnull=False)
    if customer_ids is not None:
        events = events.filter(customer_id__in=customer_ids)
        orders = orders.filter(customer_id__in=customer_ids)
    masks: dict[int, int] = defaultdict(int)
    for customer_id, channel in events.values_list("customer_id", "channel").distinct().order_by():
        masks[customer_id] |= CHANNEL_BITS.get(channel, 0)
    order_figures = {}
    for item in (
        orders.values("customer_id")
        .annotate(
            count=Count("id"), revenue=Sum("total"), first=Min("placed_at"), last=Max("placed_at")
        )
        .order_by()
    ):
        order_figures[item["customer_id"]] = item
    for customer_id, channel in orders.values_list("customer_id", "channel").distinct().order_by():
        masks[customer_id] |= CHANNEL_BITS.get(channel, 0)
    home_stores = dict(
        Customer.objects.filter(pk__in=list(masks)).values_list("pk", "home_store_id")
    )
    rows = []
    for customer_id, mask in masks.items():
        figures = order_figures.get(customer_id)
        rows.append(
            CustomerMonth(
                customer_id=customer_id,
                month=month,
                home_store_id=home_stores.get(customer_id),
                channels_mask=mask,
                orders=figures["count"] if figures else 0,
                revenue=figures["revenue"] if figures else Decimal(0),
                first_order_at=figures["first"] if figures else None,
                last_order_at=figures["last"] if figures else None,
            )
        )
    with transaction.atomic():
        stale = CustomerMonth.objects.filter(month=month)
        if customer_ids is not None:
            stale = stale.filter(customer_id__in=customer_ids)
        stale.delete()
        CustomerMonth.objects.bulk_create(rows, batch_size=_BATCH)


@_one_writer_at_a_time
def _channel_mix_recompute(month: date) -> None:
    """Replace the ChannelMixMonth rows of ``month`` from its CustomerMonth rows, aggregated in
    the database. A buyer repeats when their next order (in a later month) comes within 90 days
    of their last order of this month; defects when those 90 days have passed without one."""
    now = timezone.now()
    window = timedelta(days=REPEAT_WINDOW_DAYS)
    next_order = (
        CustomerMonth.objects.filter(
            customer_id=OuterRef("customer_id"), month__gt=OuterRef("month"), orders__gt=0
        )
        .order_by("month")
        .values("first_order_at")[:1]
    )
    window_end = ExpressionWrapper(F("last_order_at") + window, output_field=DateTimeField())
    is_buyer = Q(orders__gt=0, last_order_at__isnull=False)
    repeats = Q(next_order_at__isnull=False, next_order_at__lte=F("window_end"))
    groups = (
        CustomerMonth.objects.filter(month=month)
        .annotate(next_order_at=Subquery(next_order), window_end=window_end)
        .values("channels_mask", "home_store_id")
        .annotate(
            customers=Count("id"),
            buyers=Count("id", filter=is_buyer),
            order_count=Sum("orders"),
            revenue_total=Sum("revenue"),
            repeat_buyers=Count("id", filter=is_buyer & repeats),
            defected_buyers=Count("id", filter=is_buyer & ~repeats & Q(window_end__lte=now)),
        )
        .order_by()
    )
    rows = [
        ChannelMixMonth(
            month=month,
            channels_mask=group["channels_mask"],
            channel_count=group["channels_mask"].bit_count(),
            store_id=group["home_store_id"],
            customers=group["customers"],
            buyers=group["buyers"],
            orders=group["order_count"] or 0,
            revenue=group["revenue_total"] or Decimal(0),
            repeat_buyers=group["repeat_buyers"],
            defected_buyers=group["defected_buyers"],
        )
        for group in groups
    ]
    with transaction.atomic():
        ChannelMixMonth.objects.filter(month=month).delete()
        ChannelMixMonth.objects.bulk_create(rows, batch_size=_BATCH)
