"""Every dashboard figure against the hand-made history in ``shop.py``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from channels.marketing import dashboards
from channels.marketing.dashboards import DashboardFilter
from channels.marketing.rollups import rollups_rebuild_all
from tests.channels.marketing.shop import MONDAY, TUESDAY, Shop, build_shop

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def shop(db: Any) -> Shop:
    built = build_shop()
    rollups_rebuild_all()
    return built


def two_days(**kwargs: Any) -> DashboardFilter:
    return DashboardFilter(date_from=MONDAY, date_to=TUESDAY, **kwargs)


class TestChannelMix:
    def test_orders_revenue_and_active_customers_per_day_and_channel(self, shop: Shop) -> None:
        # when
        result = dashboards.channel_mix(two_days())
        # then: carol's cancelled app order counts nowhere; dave's orders are outside the days
        assert result.rows == [
            {
                "period": MONDAY,
                "channel": "app",
                "orders": 0,
                "revenue": D(0),
                "active_customers": D("1.0"),
            },
            {
                "period": MONDAY,
                "channel": "email",
                "orders": 0,
                "revenue": D(0),
                "active_customers": D("1.0"),
            },
            {
                "period": MONDAY,
                "channel": "store",
                "orders": 1,
                "revenue": D("30.00"),
                "active_customers": D("1.0"),
            },
            {
                "period": MONDAY,
                "channel": "web",
                "orders": 1,
                "revenue": D("100.00"),
                "active_customers": D("1.0"),
            },
            {
                "period": TUESDAY,
                "channel": "store",
                "orders": 1,
                "revenue": D("50.00"),
                "active_customers": D("1.0"),
            },
        ]
        assert result.extra_tables[0][2] == [
            {"channel": "web", "orders": 1, "revenue": D("100.00"), "revenue_share": D("55.6")},
            {"channel": "store", "orders": 2, "revenue": D("80.00"), "revenue_share": D("44.4")},
            {"channel": "app", "orders": 0, "revenue": D(0), "revenue_share": D("0.0")},
            {"channel": "email", "orders": 0, "revenue": D(0), "revenue_share": D("0.0")},
        ]

    def test_channel_and_store_filters(self, shop: Shop) -> None:
        result = dashboards.channel_mix(two_days(channel="store", store_id=shop.amsterdam.pk))
        assert result.rows == [
            {
                "period": TUESDAY,
                "channel": "store",
                "orders": 1,
                "revenue": D("50.00"),
                "active_customers": D("1.0"),
            }
        ]

    def test_a_long_range_is_shown_per_week_with_active_customers_averaged(
        self, shop: Shop
    ) -> None:
        result = dashboards.channel_mix(
            DashboardFilter(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), channel="web")
        )
        # weeks count back from Tuesday 31 March: ... 18-24 Feb, 25 Feb-3 Mar, 4-10 Mar ...;
        # alice was the only web visitor, on one day of her week
        assert result.rows == [
            {
                "period": date(2026, 2, 18),
                "channel": "web",
                "orders": 1,
                "revenue": D("10.00"),
                "active_customers": D("0.0"),
            },
            {
                "period": date(2026, 2, 25),
                "channel": "web",
                "orders": 1,
                "revenue": D("100.00"),
                "active_customers": D("0.1"),
            },
            {
                "period": date(2026, 3, 4),
                "channel": "web",
                "orders": 1,
                "revenue": D("10.00"),
                "active_customers": D("0.0"),
            },
        ]

    def test_the_first_week_of_a_range_may_be_short(self, shop: Shop) -> None:
        result = dashboards.channel_mix(
            DashboardFilter(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), channel="web")
        )
        # 90 days: 12 whole weeks back from 31 March and 6 days (1-6 January) before them
        assert result.chart["labels"] == [
            date(2026, 2, 18),
            date(2026, 2, 25),
            date(2026, 3, 4),
        ]
        assert dashboards._bucket(
            date(2026, 1, 3), DashboardFilter(date(2026, 1, 1), date(2026, 3, 31))
        ) == date(2026, 1, 1)
        assert (
            dashboards._bucket_length(
                date(2026, 1, 1), DashboardFilter(date(2026, 1, 1), date(2026, 3, 31))
            )
            == 6
        )


class TestStoreInfluence:
    def test_a_month_window_counts_both_store_sales(self, shop: Shop) -> None:
        result = dashboards.store_influence(two_days(touch_window_days=30))
        assert result.summary == {
            "online_revenue": D("100.00"),
            "influenced_revenue": D("80.00"),
            "store_revenue": D("80.00"),
            "ratio": D("0.80"),
            "window": 30,
        }
        assert result.rows == [
            {
                "store": "Amsterdam",
                "store_revenue": D("50.00"),
                "influenced_revenue": D("50.00"),
                "influenced_share": D("100.0"),
            },
            {
                "store": "Rotterdam",
                "store_revenue": D("30.00"),
                "influenced_revenue": D("30.00"),
                "influenced_share": D("100.0"),
            },
        ]
        assert result.extra_tables[0][2] == [
            {
                "category": "Jackets",
                "online_revenue": D("60.00"),
                "influenced_revenue": D("50.00"),
                "ratio": D("0.83"),
            },
            {
                "category": "Shoes",
                "online_revenue": D("40.00"),
                "influenced_revenue": D("30.00"),
                "ratio": D("0.75"),
            },
        ]

    def test_a_one_day_window_drops_alices_sale_29_hours_after_her_web_order(
        self, shop: Shop
    ) -> None:
        result = dashboards.store_influence(two_days(touch_window_days=1))
        assert result.summary["influenced_revenue"] == D("30.00")
        assert result.summary["ratio"] == D("0.30")
        assert [row["influenced_share"] for row in result.rows] == [D("0.0"), D("100.0")]

    def test_three_days_is_enough_for_alice(self, shop: Shop) -> None:
        assert dashboards.store_influence(two_days(touch_window_days=3)).summary[
            "influenced_revenue"
        ] == D("80.00")


class TestMultichannel:
    def test_customers_by_channels_used_with_repeat_and_defection(self, shop: Shop) -> None:
        result = dashboards.multichannel(
            DashboardFilter(date_from=date(2026, 2, 1), date_to=date(2026, 3, 31))
        )
        # 1 channel: carol (Mar, no purchase), dave (Feb: back 12 days later; Mar: gone)
        # 2 channels: alice (web + store, 2 orders, €150), bob (e-mail + store, €30): both gone
        assert result.rows == [
            {
                "channels": "1",
                "customers": 3,
                "buyers": 2,
                "revenue_per_buyer": D("10.00"),
                "orders_per_buyer": D("1.00"),
                "repeat_rate": D("50.0"),
                "defection_rate": D("50.0"),
            },
            {
                "channels": "2",
                "customers": 2,
                "buyers": 2,
                "revenue_per_buyer": D("90.00"),
                "orders_per_buyer": D("1.50"),
                "repeat_rate": D("0.0"),
                "defection_rate": D("100.0"),
            },
            {
                "channels": "3+",
                "customers": 0,
                "buyers": 0,
                "revenue_per_buyer": None,
                "orders_per_buyer": None,
                "repeat_rate": None,
                "defection_rate": None,
            },
        ]

    def test_channel_and_home_store_filters(self, shop: Shop) -> None:
        result = dashboards.multichannel(
            DashboardFilter(
                date_from=MONDAY, date_to=TUESDAY, channel="store", store_id=shop.rotterdam.pk
            )
        )
        assert [(row["channels"], row["customers"], row["buyers"]) for row in result.rows] == [
            ("1", 0, 0),
            ("2", 1, 1),
            ("3+", 0, 0),
        ]


class TestCheckoutFunnel:
    def test_steps_and_drop_off_per_channel(self, shop: Shop) -> None:
        result = dashboards.checkout_funnel(two_days(channel="app"))
        assert result.rows == [
            {
                "channel": "app",
                "step": "Basket",
                "customers": 1,
                "of_baskets": D("100.0"),
                "drop_off": None,
            },
            {
                "channel": "app",
                "step": "Checkout started",
                "customers": 1,
                "of_baskets": D("100.0"),
                "drop_off": D("0.0"),
            },
            {
                "channel": "app",
                "step": "Details entered",
                "customers": 0,
                "of_baskets": D("0.0"),
                "drop_off": D("100.0"),
            },
            {
                "channel": "app",
                "step": "Payment entered",
                "customers": 0,
                "of_baskets": D("0.0"),
                "drop_off": None,
            },
            {
                "channel": "app",
                "step": "Order placed",
                "customers": 0,
                "of_baskets": D("0.0"),
                "drop_off": None,
            },
        ]

    def test_every_channel_with_baskets(self, shop: Shop) -> None:
        result = dashboards.checkout_funnel(two_days())
        assert result.chart["series"] == [
            ("app", [1, 1, 0, 0, 0]),
            ("web", [1, 1, 1, 1, 1]),
        ]


class TestService:
    def test_cases_per_channel(self, shop: Shop) -> None:
        result = dashboards.service(two_days())
        assert result.rows == [
            {
                "channel": "call_centre",
                "cases": 2,
                "resolved": 1,
                "self_service_share": D("0.0"),
                "first_contact_rate": D("0.0"),
                "hours_to_resolve": D("24.0"),
            },
            {
                "channel": "web",
                "cases": 1,
                "resolved": 1,
                "self_service_share": D("100.0"),
                "first_contact_rate": D("100.0"),
                "hours_to_resolve": D("2.0"),
            },
        ]
        assert result.summary == {
            "channel": "",
            "cases": 3,
            "resolved": 2,
            "self_service_share": D("50.0"),
            "first_contact_rate": D("50.0"),
            "hours_to_resolve": D("13.0"),
        }

    def test_store_filter_is_the_customers_home_store(self, shop: Shop) -> None:
        result = dashboards.service(two_days(store_id=shop.amsterdam.pk))
        assert [(row["channel"], row["cases"]) for row in result.rows] == [
            ("call_centre", 1),
            ("web", 1),
        ]
