"""A marketer walks through every dashboard on the demo shop's year of history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from interaction_platform import demo

pytestmark = pytest.mark.django_db(transaction=True)
DASHBOARDS = [
    ("channel-mix", "Channel mix"),
    ("web-in-stores", "What the web site sells in stores"),
    ("multichannel", "Multichannel customers"),
    ("funnel", "Checkout funnel"),
    ("service", "Service"),
]


def _sign_in_as_marketer(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill("marketer")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_every_dashboard_with_its_chart_table_and_csv(
    page: Page, live_server: Any, screenshot: Any
) -> None:
    # given: the demo shop and its year
    demo.seed(size="small")
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in_as_marketer(page, live_server)
    expect(page.get_by_role("heading", name="Dashboards")).to_be_visible()
    screenshot("marketing-dashboards-home")

    # when / then: each dashboard from the home page, over the last year
    for slug, title in DASHBOARDS:
        page.goto(f"{live_server.url}/marketing/")
        page.get_by_role("link", name=title).first.click()
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        page.get_by_label("From", exact=True).fill(_year_ago())
        page.get_by_role("button", name="Show").click()
        expect(page.locator("svg.chart")).to_be_visible()
        expect(page.locator("table").first).to_be_visible()
        screenshot(f"marketing-dashboard-{slug}")

    # the same figures as a CSV
    page.goto(f"{live_server.url}/marketing/dashboards/service/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "service.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == [
        "Opened on",
        "Cases",
        "Resolved",
        "Self-service (%)",
        "First-contact resolution (%)",
        "Average hours to resolve",
    ]
    assert {row[0] for row in rows[1:]} == {"call_centre", "store", "web"}


def test_the_touchpoint_window_and_refusals(page: Page, live_server: Any, screenshot: Any) -> None:
    demo.seed(size="small")
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in_as_marketer(page, live_server)
    page.goto(f"{live_server.url}/marketing/dashboards/web-in-stores/")
    page.get_by_label("Touchpoint within").select_option("7")
    page.get_by_label("Store", exact=True).select_option(label="Utrecht Oudegracht")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("store revenue ≤ 7 days after a digital touch")).to_be_visible()
    screenshot("marketing-dashboard-web-in-stores-7-days-utrecht")

    page.get_by_label("From", exact=True).fill("2026-12-31")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    screenshot("marketing-dashboard-refused-range")

    page.goto(
        f"{live_server.url}/marketing/dashboards/funnel/?date_from=2020-01-01&date_to=2020-01-31"
    )
    expect(page.get_by_text("No activity in this range")).to_be_visible()
    screenshot("marketing-dashboard-empty")


def _year_ago() -> str:
    return (timezone.localdate() - timedelta(days=364)).isoformat()
