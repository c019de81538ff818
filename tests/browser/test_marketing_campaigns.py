"""A marketer builds a segment with the live count, creates and sends a campaign, makes a QR
code, and reads the campaign and follow-up dashboards. Screenshots of each screen."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from channels.marketing.campaigns import campaign_create
from channels.marketing.models import (
    CampaignKind,
    CampaignStats,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    QrCode,
    Segment,
)
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _people() -> None:
    store = factories.StoreFactory(code="utrecht", name="Utrecht Oudegracht")
    for index in range(6):
        factories.CustomerFactory(
            email_consent=index % 2 == 0,
            home_store=store,
            order_count=index,
            channels_used=["web", "store"] if index > 2 else ["web"],
            channel_count=2 if index > 2 else 1,
        )


def test_build_a_segment_with_the_live_count(
    page: Page, live_server: Any, marketer: Any, sign_in: Any, screenshot: Any
) -> None:
    _people()
    sign_in(marketer)
    page.goto(f"{live_server.url}/marketing/segments/")
    page.get_by_label("Marketing e-mail").check()
    expect(page.locator("#segment-count")).to_have_text("3 customers match")
    page.get_by_label("Orders, at least").fill("2")
    expect(page.locator("#segment-count")).to_have_text("2 customers match")
    page.get_by_label("Orders, at most").fill("1")
    expect(page.locator("#segment-count")).to_contain_text("The maximum is below the minimum.")
    screenshot("marketing-segment-refused")
    page.get_by_label("Orders, at most").fill("")
    expect(page.locator("#segment-count")).to_have_text("2 customers match")
    page.locator("#id_name").fill("Regulars with e-mail")
    screenshot("marketing-segment-builder")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Segment “Regulars with e-mail” saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="Regulars with e-mail")).to_be_visible()
    screenshot("marketing-segments")
    assert Segment.objects.get().rules == {"consent": ["email"], "min_orders": 2}


def test_create_and_start_an_email_campaign(
    page: Page, live_server: Any, marketer: Any, sign_in: Any, screenshot: Any
) -> None:
    _people()
    Segment.objects.create(name="Everyone", rules={})
    sign_in(marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/")
    expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Rain jackets")
    page.get_by_label("Segment").select_option(label="Everyone")
    page.get_by_label("E-mail subject").fill("New rain jackets")
    page.get_by_label("Body").fill("They are in.\n\nCome and try one on.")
    screenshot("marketing-campaign-new")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("saved as a draft")).to_be_visible()
    screenshot("marketing-campaign-draft")
    page.get_by_role("button", name="Start sending").click()
    expect(page.get_by_text("Started: 3 recipient(s) with consent.")).to_be_visible()
    screenshot("marketing-campaign-sent")


def test_campaign_dashboard_qr_codes_and_follow_up(
    page: Page, live_server: Any, marketer: Any, sign_in: Any, screenshot: Any
) -> None:
    segment = Segment.objects.create(name="Everyone", rules={})
    for name, kind, figures in [
        ("Autumn rain jackets", CampaignKind.EMAIL, (1200, 1188, 530, 212, 0, 41, "3480.55")),
        ("Spring catalogue", CampaignKind.DIRECT_MAIL, (800, 800, 0, 0, 96, 18, "1325.00")),
        ("Store windows", CampaignKind.PRINT, (0, 0, 0, 0, 312, 9, "612.40")),
    ]:
        campaign = campaign_create(
            name=name,
            kind=kind,
            segment=segment if kind != CampaignKind.PRINT else None,
            subject="s",
            body="b",
            created_by=marketer,
        )
        sent, delivered, opened, clicked, scans, orders, revenue = figures
        CampaignStats.objects.filter(campaign=campaign).update(
            sent=sent,
            delivered=delivered,
            opened=opened,
            clicked=clicked,
            qr_scans=scans,
            orders=orders,
            revenue=Decimal(revenue),
        )
    store = factories.StoreFactory(name="Amsterdam Kalverstraat")
    sign_in(marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/")
    expect(page.get_by_role("cell", name="€3,480.55")).to_be_visible()
    screenshot("marketing-campaigns-dashboard")
    page.get_by_role("link", name="QR codes").click()
    page.get_by_label("Label").fill("Shop window, Kalverstraat")
    page.get_by_label("Placement").select_option(label="Store window / counter")
    page.locator("#id_store").select_option(label=store.name)
    page.get_by_label("Landing page").fill("/c/jackets/")
    page.get_by_role("button", name="Make QR code").click()
    code = QrCode.objects.get()
    expect(page.get_by_text(f"/q/{code.code}").first).to_be_visible()
    expect(page.get_by_role("img", name=f"QR code {code.code}")).to_be_visible()
    screenshot("marketing-qr-codes")
    _follow_ups(store)
    page.get_by_role("link", name="Follow-up").click()
    expect(
        page.get_by_role("heading", name="Follow-up of baskets and unpaid links")
    ).to_be_visible()
    expect(page.get_by_role("cell", name="€80.00").first).to_be_visible()
    screenshot("marketing-follow-up")


def _follow_ups(store: Any) -> None:
    now = timezone.now()
    for index in range(3):
        customer = factories.CustomerFactory(first_name=f"Fay{index}")
        order = factories.OrderFactory(
            customer=customer,
            subtotal=Decimal("80.00"),
            tax_total=Decimal("0.00"),
            total=Decimal("80.00"),
        )
        FollowUp.objects.create(
            kind=FollowUpKind.EMAIL_REMINDER,
            status=FollowUpStatus.SENT,
            customer=customer,
            created_at=now - timedelta(days=2),
            sent_at=now - timedelta(days=2),
            recovered_order=order if index == 0 else None,
            recovered_revenue=Decimal("80.00") if index == 0 else Decimal("0.00"),
        )
    FollowUp.objects.create(
        kind=FollowUpKind.STORE_TASK,
        status=FollowUpStatus.OPEN,
        customer=factories.CustomerFactory(first_name="Stan", last_name="Winkel"),
        store=store,
        note="2 item(s) left in a basket started in the store",
        created_at=now - timedelta(hours=30),
    )


def test_store_staff_and_agents_see_their_follow_ups(
    page: Page, live_server: Any, staff: Any, store: Any, sign_in: Any, screenshot: Any
) -> None:
    _follow_ups(store)
    sign_in(staff)
    page.goto(f"{live_server.url}/pos/follow-ups/")
    expect(page.get_by_role("link", name="Stan Winkel")).to_be_visible()
    screenshot("pos-follow-ups")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_text("No baskets to follow up.")).to_be_visible()
    assert FollowUp.objects.get(kind=FollowUpKind.STORE_TASK).status == FollowUpStatus.DONE


def test_an_agent_sees_the_call_backs(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    customer = factories.CustomerFactory(first_name="Carla", last_name="Bel")
    order = factories.OrderFactory(
        customer=customer,
        channel="call_centre",
        status="pending_payment",
        subtotal=Decimal("129.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("129.00"),
    )
    FollowUp.objects.create(
        kind=FollowUpKind.CALL_BACK,
        status=FollowUpStatus.OPEN,
        customer=customer,
        order=order,
        basket_value=order.total,
        note="unpaid",
        created_at=timezone.now(),
    )
    sign_in(agent)
    page.get_by_role("link", name="Call-backs").click()
    expect(page.get_by_role("link", name="Carla Bel")).to_be_visible()
    expect(page.get_by_role("cell", name="€129.00")).to_be_visible()
    screenshot("console-call-backs")


def test_the_demo_campaign_tells_its_story(
    page: Page, live_server: Any, sign_in: Any, screenshot: Any
) -> None:
    from interaction_platform import demo
    from interaction_platform.accounts.models import User

    demo.seed()
    marketer = User.objects.get(username="marketer")
    marketer.set_password(factories.PASSWORD)
    marketer.save(update_fields=["password"])
    sign_in(marketer)
    page.goto(f"{live_server.url}/marketing/campaigns/")
    page.get_by_role("link", name="Autumn rain jackets").click()
    expect(
        page.get_by_role("heading", name="Where the credited orders were placed")
    ).to_be_visible()
    expect(page.get_by_role("cell", name="Store (POS)")).to_be_visible()
    screenshot("marketing-demo-campaign")
    page.goto(f"{live_server.url}/marketing/campaigns/")
    screenshot("marketing-demo-campaigns-dashboard")
    page.goto(f"{live_server.url}/marketing/segments/")
    screenshot("marketing-demo-segments")
