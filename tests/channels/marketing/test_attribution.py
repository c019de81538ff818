"""Attribution, last touch within the campaign's window, checked on hand-made fixtures; the
incremental counters equal the raw rows after repeated and overlapping runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channels.marketing.attribution import (
    attribution_refresh,
    campaign_stats_from_raw,
    campaign_stats_rebuild,
)
from channels.marketing.campaigns import campaign_create
from channels.marketing.models import (
    AttributedOrder,
    Campaign,
    CampaignKind,
    CampaignSend,
    CampaignStats,
    QrCode,
    QrScan,
    Segment,
)
from customers.models import Customer, Identity, IdentityKind
from interaction_platform.accounts.models import User
from orders.models import Order, OrderStatus
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _at(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def world(marketer: User) -> dict[str, object]:
    segment = Segment.objects.create(name="All", rules={})
    email_a = campaign_create(
        name="A",
        kind=CampaignKind.EMAIL,
        segment=segment,
        subject="a",
        body="a",
        attribution_window_days=7,
        created_by=marketer,
    )
    email_b = campaign_create(
        name="B",
        kind=CampaignKind.EMAIL,
        segment=segment,
        subject="b",
        body="b",
        attribution_window_days=7,
        created_by=marketer,
    )
    posters = campaign_create(
        name="C", kind=CampaignKind.PRINT, attribution_window_days=14, created_by=marketer
    )
    code = QrCode.objects.create(
        code="c1", campaign=posters, label="poster", placement="poster", destination_path="/"
    )
    return {"A": email_a, "B": email_b, "C": posters, "code": code}


def _send(campaign: object, customer: Customer, **times: datetime) -> None:
    CampaignSend.objects.create(
        campaign=campaign, customer=customer, token=f"t{CampaignSend.objects.count()}", **times
    )


def _order(customer: Customer | None, days_ago: float, total: str, **fields: object) -> Order:
    return factories.OrderFactory(
        customer=customer,
        placed_at=_at(days_ago),
        subtotal=Decimal(total),
        tax_total=Decimal("0.00"),
        total=Decimal(total),
        **fields,
    )


def test_last_touch_within_the_window_gets_the_order(world: dict[str, object]) -> None:
    # given
    xavier = factories.CustomerFactory()
    _send(world["A"], xavier, opened_at=_at(10))
    _send(world["B"], xavier, opened_at=_at(4), clicked_at=_at(3))
    QrScan.objects.create(qr_code=world["code"], customer=xavier, scanned_at=_at(1))
    to_c = _order(xavier, 0, "100.00", channel="store")  # last touch: the scan, a day before

    yara = factories.CustomerFactory()
    _send(world["A"], yara, opened_at=_at(8))
    too_late = _order(yara, 0, "50.00")  # A's window is 7 days: no credit

    zed = factories.CustomerFactory()
    _send(world["A"], zed, opened_at=_at(5))
    to_a = _order(zed, 0, "30.00", channel="call_centre")
    cancelled = _order(zed, 0.5, "70.00", status=OrderStatus.CANCELLED)
    before_touch = _order(zed, 6, "20.00")

    visitor = factories.CustomerFactory()
    Identity.objects.create(customer=visitor, kind=IdentityKind.ANONYMOUS_ID, value="anon-1")
    QrScan.objects.create(qr_code=world["code"], anonymous_id="anon-1", scanned_at=_at(13))
    anonymous_scan_to_c = _order(visitor, 0, "15.50")
    walk_in = _order(None, 0, "9.99", channel="store", origin_channel="store")
    # when
    credited = attribution_refresh(now=NOW + timedelta(minutes=5))
    # then
    assert credited == 3
    assert {
        (row.order_id, row.campaign.name, row.touch, row.revenue)
        for row in AttributedOrder.objects.select_related("campaign")
    } == {
        (to_c.pk, "C", "qr_scan", Decimal("100.00")),
        (to_a.pk, "A", "email_open", Decimal("30.00")),
        (anonymous_scan_to_c.pk, "C", "qr_scan", Decimal("15.50")),
    }
    for uncredited in (too_late, cancelled, before_touch, walk_in):
        assert not AttributedOrder.objects.filter(order=uncredited).exists()
    stats = {
        s.campaign.name: (s.orders, s.revenue)
        for s in CampaignStats.objects.select_related("campaign")
    }
    assert stats == {
        "A": (1, Decimal("30.00")),
        "B": (0, Decimal("0.00")),
        "C": (2, Decimal("115.50")),
    }


def test_a_click_is_a_later_touch_than_the_open(world: dict[str, object]) -> None:
    ann = factories.CustomerFactory()
    _send(world["A"], ann, opened_at=_at(2))
    _send(world["B"], ann, opened_at=_at(3), clicked_at=_at(1))
    order = _order(ann, 0, "42.00")
    attribution_refresh(now=NOW + timedelta(minutes=5))
    credited = AttributedOrder.objects.get(order=order)
    assert (credited.campaign.name, credited.touch, credited.touched_at) == (
        "B",
        "email_click",
        _at(1),
    )


def test_fresh_orders_wait_for_the_next_run(world: dict[str, object]) -> None:
    ann = factories.CustomerFactory()
    _send(world["A"], ann, opened_at=_at(1))
    order = _order(ann, 0, "10.00")
    assert attribution_refresh(now=NOW + timedelta(seconds=30)) == 0
    assert attribution_refresh(now=NOW + timedelta(seconds=90)) == 1
    assert AttributedOrder.objects.get().order == order


def test_rerunning_changes_nothing_and_counters_equal_raw_rows(world: dict[str, object]) -> None:
    for index in range(12):
        customer = factories.CustomerFactory()
        _send(world["A" if index % 2 else "B"], customer, opened_at=_at(index % 9))
        _order(customer, 0, f"{10 + index}.00")
    for _ in range(3):
        attribution_refresh(now=NOW + timedelta(minutes=5))
    for name in ("A", "B"):
        campaign = world[name]
        assert isinstance(campaign, Campaign)
        stats = CampaignStats.objects.get(campaign=campaign)
        raw = campaign_stats_from_raw(campaign_id=campaign.pk)
        assert (stats.orders, stats.revenue) == (raw["orders"], raw["revenue"])
        # and a rebuild from raw rows agrees with the incremental figures
        rebuilt = campaign_stats_rebuild(campaign_id=campaign.pk)
        assert (rebuilt.orders, rebuilt.revenue) == (stats.orders, stats.revenue)
    # 7 days before is inside a 7-day window; only the order opened 8 days before is outside
    assert AttributedOrder.objects.count() == 11


def test_an_order_cancelled_after_its_credit_loses_it_once(world: dict[str, object]) -> None:
    from channels.marketing.attribution import attribution_uncredit_cancelled
    from channels.marketing.tasks import attribution_refresh as attribution_task

    ann = factories.CustomerFactory()
    _send(world["A"], ann, opened_at=_at(1))
    order = _order(ann, 0, "64.00")
    attribution_refresh(now=NOW + timedelta(minutes=5))
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    assert attribution_task.delay().get() == {"credited": 0, "taken_back": 1}
    assert attribution_uncredit_cancelled() == 0
    stats = CampaignStats.objects.get(campaign=world["A"])
    assert (stats.orders, stats.revenue) == (0, Decimal("0.00"))
    assert AttributedOrder.objects.count() == 0
