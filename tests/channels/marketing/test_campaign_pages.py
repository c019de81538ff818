"""The marketer's campaign pages: who may open them, what they show (counts, never people),
how many queries they take, and refusals that save nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from channels.marketing.campaigns import campaign_create
from channels.marketing.models import Campaign, CampaignKind, CampaignSend, CampaignStats, Segment
from customers.models import AccessLog
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

MARKETING_PAGES = [
    "/marketing/segments/",
    "/marketing/segments/count",
    "/marketing/campaigns/",
    "/marketing/campaigns/new/",
    "/marketing/qr/",
    "/marketing/follow-up/",
]


@pytest.mark.parametrize("path", MARKETING_PAGES)
@pytest.mark.parametrize("role", [Role.SHOPPER, Role.STORE_STAFF, Role.AGENT])
def test_only_marketers_open_the_campaign_pages(path: str, role: Role, store: Any) -> None:
    user = factories.UserFactory(role=role)
    user.stores.add(store)
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 403
    assert "Your role does not allow this." in response.content.decode()


@pytest.mark.parametrize("path", MARKETING_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={path}")


def test_a_marketer_cannot_open_a_customer_profile(marketer_client: Client) -> None:
    customer = factories.CustomerFactory(first_name="Private")
    console = marketer_client.get(f"/console/customers/{customer.public_id}/")
    api = marketer_client.get(f"/api/v1/customers/{customer.public_id}/")
    pos = marketer_client.get(f"/pos/customers/{customer.public_id}/")
    assert (console.status_code, api.status_code, pos.status_code) == (403, 403, 403)
    assert "Private" not in console.content.decode() + api.content.decode()
    assert AccessLog.objects.count() == 0


@pytest.fixture
def sent_campaign(marketer: User) -> Campaign:
    segment = Segment.objects.create(name="All", rules={})
    campaign = campaign_create(
        name="Winter boots",
        kind=CampaignKind.EMAIL,
        segment=segment,
        subject="Boots",
        body="Warm feet.",
        created_by=marketer,
    )
    CampaignStats.objects.filter(campaign=campaign).update(
        sent=100, delivered=98, opened=40, clicked=12, orders=3, revenue=Decimal("245.50")
    )
    Campaign.objects.filter(pk=campaign.pk).update(status="sent")
    campaign_create(name="Posters", kind=CampaignKind.PRINT, created_by=marketer)
    return campaign


def test_the_campaigns_dashboard_table_and_csv(
    sent_campaign: Campaign, marketer_client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):  # session, user, campaigns with their stats
        page = marketer_client.get("/marketing/campaigns/")
    body = page.content.decode()
    cells = [
        '<td class="num">100</td>',
        '<td class="num">98</td>',
        '<td class="num">40</td>',
        '<td class="num">12</td>',
        '<td class="num">0</td>',
        '<td class="num">3</td>',
        '<td class="num">€245.50</td>',
    ]
    assert "\n        ".join(cells) in body
    csv_lines = (
        marketer_client.get("/marketing/campaigns/?format=csv").content.decode().splitlines()
    )
    assert csv_lines == [
        "Campaign,Kind,Status,Sent,Delivered,Opened,Clicked,QR scans,Orders (any channel),"
        "Revenue,Currency",
        "Posters,Print (QR codes),Draft,0,0,0,0,0,0,0.00,EUR",
        "Winter boots,E-mail,Sent,100,98,40,12,0,3,245.50,EUR",
    ]
    only_print = marketer_client.get("/marketing/campaigns/?kind=print&format=csv").content.decode()
    assert len(only_print.splitlines()) == 2


def test_empty_pages_say_what_to_do(marketer_client: Client) -> None:
    assert "No campaigns yet." in marketer_client.get("/marketing/campaigns/").content.decode()
    assert "No segments yet." in marketer_client.get("/marketing/segments/").content.decode()
    qr_page = marketer_client.get("/marketing/qr/").content.decode()
    assert "No QR codes yet." in qr_page
    assert "Create a print campaign" in qr_page


def test_the_segment_page_query_count(
    marketer_client: Client, marketer: User, django_assert_num_queries: Any
) -> None:
    Segment.objects.create(name="A", rules={"consent": ["email"]})
    Segment.objects.create(name="B", rules={"min_orders": 2})
    # session, user, stores for the form, segments, store names, one count per segment
    with django_assert_num_queries(7):
        marketer_client.get("/marketing/segments/")


def test_creating_and_starting_an_email_campaign_from_the_pages(
    marketer_client: Client, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    segment = Segment.objects.create(name="Everyone", rules={})
    factories.CustomerFactory(email_consent=True)
    created = marketer_client.post(
        "/marketing/campaigns/new/",
        {
            "name": "Rain",
            "kind": "email",
            "segment": segment.pk,
            "subject": "Rain jackets",
            "body": "Stay dry.",
            "call_to_action": "Shop now",
            "landing_path": "/",
            "attribution_window_days": "7",
        },
    )
    campaign = Campaign.objects.get()
    assert created["Location"] == f"/marketing/campaigns/{campaign.pk}/"
    detail = marketer_client.get(created["Location"]).content.decode()
    assert '<span class="value">1</span>' in detail
    assert (
        "Hello Anna,\n\nStay dry.\n\nShop now: http://127.0.0.1:8000/m/c/sample-recipient" in detail
    )
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(f"/marketing/campaigns/{campaign.pk}/start/")
    assert len(smtp_server.messages) == 1
    again = marketer_client.post(f"/marketing/campaigns/{campaign.pk}/start/", follow=True)
    assert "This campaign was already started." in again.content.decode()
    assert CampaignSend.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": ""}, "An e-mail needs a subject line."),
        ({"segment": ""}, "Choose the segment that receives this campaign."),
        (
            {"landing_path": "https://elsewhere.example/"},
            "Enter a path on this shop starting with /",
        ),
        ({"attribution_window_days": "365"}, "Ensure this value is less than or equal to 90."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_bad_campaign_is_refused_and_nothing_saved(
    marketer_client: Client, fields: dict[str, str], message: str
) -> None:
    segment = Segment.objects.create(name="Everyone", rules={})
    data = {
        "name": "Rain",
        "kind": "email",
        "segment": segment.pk,
        "subject": "Rain jackets",
        "body": "Stay dry.",
        "call_to_action": "Shop now",
        "landing_path": "/",
        "attribution_window_days": "7",
    }
    response = marketer_client.post("/marketing/campaigns/new/", {**data, **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Campaign.objects.count() == 0
    assert CampaignStats.objects.count() == 0


def test_a_taken_campaign_name_is_a_conflict(marketer_client: Client, marketer: User) -> None:
    campaign_create(name="Posters", kind=CampaignKind.PRINT, created_by=marketer)
    response = marketer_client.post(
        "/marketing/campaigns/new/",
        {
            "name": "posters",
            "kind": "print",
            "call_to_action": "Go",
            "landing_path": "/",
            "attribution_window_days": "7",
        },
    )
    assert response.status_code == 409
    assert Campaign.objects.count() == 1


def test_an_unknown_campaign_is_not_found(marketer_client: Client) -> None:
    assert marketer_client.get("/marketing/campaigns/999/").status_code == 404
    assert marketer_client.post("/marketing/campaigns/999/start/").status_code == 404


def test_the_campaign_page_shows_where_credited_orders_were_placed(
    sent_campaign: Campaign, marketer_client: Client, django_assert_num_queries: Any
) -> None:
    from channels.marketing.models import AttributedOrder

    for channel, total in [("store", "120.00"), ("store", "30.00"), ("web", "49.95")]:
        order = factories.OrderFactory(
            channel=channel,
            origin_channel=channel,
            subtotal=Decimal(total),
            tax_total=Decimal("0.00"),
            total=Decimal(total),
        )
        AttributedOrder.objects.create(
            order=order,
            campaign=sent_campaign,
            touch="email_click",
            touched_at=order.placed_at,
            placed_at=order.placed_at,
            channel=channel,
            revenue=order.total,
            currency="EUR",
        )
    # session, user, campaign with stats, send progress, credited orders by channel
    with django_assert_num_queries(5):
        body = marketer_client.get(f"/marketing/campaigns/{sent_campaign.pk}/").content.decode()
    assert (
        '<tr><td>Store (POS)</td><td class="num">2</td><td class="num">€150.00</td></tr>'
        '<tr><td>Web store</td><td class="num">1</td><td class="num">€49.95</td></tr>'
    ) in body


def test_the_qr_and_follow_up_pages_query_counts(
    marketer_client: Client, marketer: User, django_assert_num_queries: Any
) -> None:
    from channels.marketing.models import QrCode

    posters = campaign_create(name="Posters", kind=CampaignKind.PRINT, created_by=marketer)
    for index in range(3):
        QrCode.objects.create(
            code=f"c{index}",
            campaign=posters,
            label=f"Poster {index}",
            placement="poster",
            destination_path="/",
        )
    # session, user, print campaigns, stores for the form, codes with campaign and store
    with django_assert_num_queries(5):
        body = marketer_client.get("/marketing/qr/").content.decode()
    assert body.count('alt="QR code c') == 3
    # session, user, figures, idle baskets
    with django_assert_num_queries(4):
        marketer_client.get("/marketing/follow-up/")


def test_rebuild_command(sent_campaign: Campaign) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rebuild_campaign_stats", stdout=out)
    assert out.getvalue().strip() == "Credited 0 new order(s); rebuilt 2 campaign(s)."
    stats = CampaignStats.objects.get(campaign=sent_campaign)
    assert (stats.sent, stats.orders, stats.revenue) == (0, 0, Decimal("0.00"))


def test_the_dashboard_filters_by_channel_and_start_date(
    sent_campaign: Campaign, marketer_client: Client
) -> None:
    from datetime import UTC, datetime

    from channels.marketing.models import AttributedOrder

    Campaign.objects.filter(pk=sent_campaign.pk).update(
        started_at=datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    )
    for channel, total in [("store", "120.00"), ("store", "30.00"), ("web", "49.95")]:
        order = factories.OrderFactory(
            channel=channel,
            origin_channel=channel,
            subtotal=Decimal(total),
            tax_total=Decimal("0.00"),
            total=Decimal(total),
        )
        AttributedOrder.objects.create(
            order=order,
            campaign=sent_campaign,
            touch="email_open",
            touched_at=order.placed_at,
            placed_at=order.placed_at,
            channel=channel,
            revenue=order.total,
            currency="EUR",
        )
    in_store = marketer_client.get(
        "/marketing/campaigns/?channel=store&from=2026-10-01&until=2026-10-31&format=csv"
    )
    assert in_store.content.decode().splitlines()[1:] == [
        "Winter boots,E-mail,Sent,100,98,40,12,0,2,150.00,EUR"
    ]
    before = marketer_client.get("/marketing/campaigns/?until=2026-10-04&format=csv")
    assert before.content.decode().splitlines()[1:] == []


def test_a_bad_dashboard_filter_is_a_400_with_the_reason(
    sent_campaign: Campaign, marketer_client: Client
) -> None:
    response = marketer_client.get("/marketing/campaigns/?from=last-week&channel=fax")
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a date like 2026-11-01." in body
    assert "Choose a channel from the list." in body
    assert "Winter boots" not in body
