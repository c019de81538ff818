"""Printed QR codes (scan counted always, attached only with consent, redirect, SVG) and direct
mail (the audited mailing file with a personal QR code per recipient)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from channels.marketing import campaigns as campaign_services
from channels.marketing.campaigns import campaign_create
from channels.marketing.models import (
    Campaign,
    CampaignKind,
    CampaignSend,
    QrCode,
    QrPlacement,
    QrScan,
    Segment,
)
from channels.marketing.qr import qr_code_create
from channels.web.tracking import CONSENT_COOKIE, VISITOR_COOKIE
from customers.models import AccessLog, Identity, IdentityKind, InboxEvent, TimelineEvent
from interaction_platform.accounts.models import User
from tests import factories
from tests.channels.marketing.conftest import drain_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def print_campaign(marketer: User) -> Campaign:
    return campaign_create(
        name="Spring posters", kind=CampaignKind.PRINT, landing_path="/", created_by=marketer
    )


@pytest.fixture
def poster(print_campaign: Campaign) -> QrCode:
    return qr_code_create(
        campaign=print_campaign,
        label="Poster, station hall",
        placement=QrPlacement.POSTER,
        destination_path="/c/jackets/",
    )


def test_an_anonymous_scan_without_consent_is_counted_not_attached(
    client: Client, poster: QrCode
) -> None:
    response = client.get(f"/q/{poster.code}")
    assert response.status_code == 302
    assert response["Location"] == "/c/jackets/"
    assert VISITOR_COOKIE not in response.cookies
    scan = QrScan.objects.get()
    assert (scan.customer, scan.anonymous_id) == (None, "")
    poster.refresh_from_db()
    assert (poster.scan_count, poster.attached_scan_count) == (1, 0)
    assert poster.campaign.stats.qr_scans == 1
    assert InboxEvent.objects.count() == 0


def test_an_anonymous_scan_with_consent_joins_the_visitors_timeline(
    client: Client, poster: QrCode
) -> None:
    client.cookies[CONSENT_COOKIE] = "granted"
    response = client.get(f"/q/{poster.code}")
    visitor = response.cookies[VISITOR_COOKIE].value
    drain_inbox()
    event = TimelineEvent.objects.get(type="QR Scanned")
    assert event.channel == "print"
    assert event.message_id == f"qr:{QrScan.objects.get().pk}"
    assert event.properties == {
        "campaign_id": poster.campaign_id,
        "qr_code": poster.code,
        "destination_url": "/c/jackets/",
        "placement": "poster",
    }
    assert (
        Identity.objects.get(kind=IdentityKind.ANONYMOUS_ID, value=visitor).customer
        == event.customer
    )
    poster.refresh_from_db()
    assert (poster.scan_count, poster.attached_scan_count) == (1, 1)


def test_a_signed_in_shoppers_scan_is_on_their_timeline(
    client: Client, poster: QrCode, shopper: User
) -> None:
    customer = shopper.customer  # type: ignore[attr-defined]
    customer.analytics_consent = True
    customer.save(update_fields=["analytics_consent"])
    client.force_login(shopper)
    client.get(f"/q/{poster.code}")
    drain_inbox()
    assert list(TimelineEvent.objects.values_list("customer_id", "type")) == [
        (customer.pk, "QR Scanned")
    ]
    assert QrScan.objects.get().customer == customer


def test_an_unknown_code_is_not_found_and_counts_nothing(client: Client, poster: QrCode) -> None:
    assert client.get("/q/nope").status_code == 404
    assert QrScan.objects.count() == 0


def test_a_code_downloads_as_svg(marketer_client: Client, poster: QrCode) -> None:
    response = marketer_client.get(f"/marketing/qr/{poster.code}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == f'attachment; filename="qr-{poster.code}.svg"'
    body = response.content.decode()
    assert body.startswith("<?xml")
    assert "<svg" in body


def test_making_a_code_on_the_page(marketer_client: Client, print_campaign: Campaign) -> None:
    product = factories.ProductFactory(slug="trail-jacket")
    store = factories.StoreFactory()
    response = marketer_client.post(
        "/marketing/qr/",
        {
            "campaign": print_campaign.pk,
            "label": "Shelf, jackets",
            "placement": "shelf_label",
            "store": store.pk,
            "product": "trail-jacket",
            "landing_path": "/",
        },
    )
    assert response.status_code == 302
    code = QrCode.objects.get()
    assert (code.label, code.store, code.destination_path) == (
        "Shelf, jackets",
        store,
        f"/p/{product.slug}/",
    )


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"label": ""}, 400, "This field is required."),
        ({"product": "no-such-thing"}, 400, "There is no product with that address."),
        (
            {"landing_path": "https://evil.example/"},
            400,
            "Enter a path on this shop starting with /",
        ),
        ({"landing_path": "//evil.example/"}, 400, "Enter a path on this shop starting with /"),
    ],
)
def test_a_bad_code_is_refused_and_nothing_saved(
    marketer_client: Client,
    print_campaign: Campaign,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    data = {
        "campaign": print_campaign.pk,
        "label": "Flyer",
        "placement": "flyer",
        "landing_path": "/",
    }
    response = marketer_client.post("/marketing/qr/", {**data, **fields})
    assert response.status_code == status
    assert message in response.content.decode()
    assert QrCode.objects.count() == 0


# --- direct mail -------------------------------------------------------------------------------


@pytest.fixture
def mailing(marketer: User) -> Campaign:
    segment = Segment.objects.create(name="All", rules={})
    return campaign_create(
        name="Catalogue 2026",
        kind=CampaignKind.DIRECT_MAIL,
        segment=segment,
        landing_path="/c/new/",
        created_by=marketer,
    )


def _addressed(**fields: object) -> object:
    return factories.CustomerFactory(
        address_line1="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL", **fields
    )


def test_the_mailing_file_has_addresses_and_personal_codes_and_is_audited(
    mailing: Campaign, marketer: User, marketer_client: Client, client: Client
) -> None:
    # given
    reader = _addressed(first_name="Rosa", direct_mail_consent=True)
    _addressed(first_name="Nope", direct_mail_consent=False)
    factories.CustomerFactory(first_name="Homeless", direct_mail_consent=True)
    # when
    marketer_client.post(f"/marketing/campaigns/{mailing.pk}/start/")
    response = marketer_client.get(f"/marketing/campaigns/{mailing.pk}/mailing.csv")
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="mailing-{mailing.pk}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["first_name"], r["address_line1"], r["postcode"], r["city"]) for r in rows] == [
        ("Rosa", "Dorpsstraat 1", "1234 AB", "Utrecht")
    ]
    token = rows[0]["recipient_id"]
    assert rows[0]["qr_url"] == f"http://127.0.0.1:8000/m/q/{token}"
    assert rows[0]["qr_svg_data_uri"].startswith("data:image/svg+xml")
    vias = sorted(AccessLog.objects.filter(customer=reader).values_list("via", flat=True))
    assert vias == [
        f"marketing: campaign audience #{mailing.pk}",
        f"marketing: direct mail file, campaign #{mailing.pk}",
    ]
    stats = Campaign.objects.get(pk=mailing.pk).stats
    assert (stats.sent, stats.delivered) == (1, 1)
    # when the reader scans their personal code twice
    scan = client.get(f"/m/q/{token}")
    client.get(f"/m/q/{token}")
    # then
    assert (scan.status_code, scan["Location"]) == (302, "/c/new/")
    drain_inbox()
    assert sorted(TimelineEvent.objects.filter(customer=reader).values_list("type", "channel")) == [
        ("Direct Mail Sent", "direct_mail"),
        ("QR Scanned", "direct_mail"),
    ]
    assert Campaign.objects.get(pk=mailing.pk).stats.qr_scans == 1


def test_no_mailing_file_before_the_start(mailing: Campaign, marketer_client: Client) -> None:
    _addressed(direct_mail_consent=True)
    response = marketer_client.get(f"/marketing/campaigns/{mailing.pk}/mailing.csv")
    assert response.status_code == 400
    assert "Start the campaign first" in response.content.decode()
    assert AccessLog.objects.count() == 0


def test_public_base_url_makes_the_links(settings: object, mailing: Campaign) -> None:
    settings.PUBLIC_BASE_URL = "https://shop.example/"  # type: ignore[attr-defined]
    assert campaign_services.public_url("/m/q/x") == "https://shop.example/m/q/x"


def test_the_mailing_file_neutralises_spreadsheet_formulas(
    mailing: Campaign, marketer_client: Client
) -> None:
    _addressed(first_name="=HYPERLINK(1)", last_name="+31", direct_mail_consent=True)
    marketer_client.post(f"/marketing/campaigns/{mailing.pk}/start/")
    response = marketer_client.get(f"/marketing/campaigns/{mailing.pk}/mailing.csv")
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert (row["first_name"], row["last_name"]) == ("'=HYPERLINK(1)", "'+31")
    assert row["recipient_id"] == CampaignSend.objects.get().token
