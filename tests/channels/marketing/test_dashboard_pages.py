"""The dashboard pages and CSV downloads: who may open them, what they show, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from channels.marketing.dashboard_views import PAGES
from channels.marketing.models import ChannelDay
from channels.marketing.rollups import rollups_rebuild_all
from interaction_platform.accounts.models import Role, User
from tests import factories
from tests.channels.marketing.shop import Shop, build_shop

pytestmark = pytest.mark.django_db
RANGE = "date_from=2026-03-02&date_to=2026-03-03"
SLUGS = [page.slug for page in PAGES]


@pytest.fixture
def shop(db: Any) -> Shop:
    built = build_shop()
    rollups_rebuild_all()
    return built


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("role", [Role.SHOPPER, Role.STORE_STAFF, Role.AGENT])
def test_only_marketers_open_dashboards(slug: str, role: Role) -> None:
    user = factories.UserFactory(role=role)
    client = client_for(user)
    page = client.get(f"/marketing/dashboards/{slug}/")
    download = client.get(f"/marketing/dashboards/{slug}.csv?{RANGE}")
    assert (page.status_code, download.status_code) == (403, 403)
    assert b"Date" not in download.content


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/marketing/dashboards/channel-mix/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/marketing/dashboards/channel-mix/"


def test_a_marketer_cannot_open_a_customer_profile(marketer: User, shop: Shop) -> None:
    response = client_for(marketer).get(f"/console/customers/{shop.alice.public_id}/")
    assert response.status_code == 403
    assert shop.alice.last_name.encode() not in response.content


def test_the_marketing_home_links_every_dashboard_and_the_marketing_tools(
    marketer: User,
) -> None:
    body = client_for(marketer).get("/marketing/").content.decode()
    for slug in SLUGS:
        assert f'href="/marketing/dashboards/{slug}/"' in body
    for path in ("segments", "campaigns", "qr", "follow-up"):
        assert f'href="/marketing/{path}/"' in body


@pytest.mark.parametrize("slug", SLUGS)
def test_each_dashboard_page_in_a_fixed_number_of_queries(
    slug: str, marketer: User, shop: Shop, django_assert_num_queries: Any
) -> None:
    client = client_for(marketer)
    # session + user, stores for the filter, the rollup query (+ names for store influence), the
    # watermark
    expected = {"web-in-stores": 7}.get(slug, 5)
    with django_assert_num_queries(expected):
        response = client.get(f"/marketing/dashboards/{slug}/?{RANGE}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    assert "<table>" in body
    assert shop.alice.last_name not in body
    assert shop.alice.email not in body


def test_the_channel_mix_page_shows_the_figures(marketer: User, shop: Shop) -> None:
    body = client_for(marketer).get(f"/marketing/dashboards/channel-mix/?{RANGE}").content
    assert b'name="date_from" value="2026-03-02"' in body
    assert b'name="date_to" value="2026-03-03"' in body
    assert b'<th scope="col">Channel</th><th scope="col" class="num">Orders</th>' in body
    assert (
        b'<tr><td>2026-03-02</td><td>Web store</td><td class="num">1</td>'
        b'<td class="num">\xe2\x82\xac100.00</td><td class="num">1.0</td></tr>'
    ) in body


def test_the_store_influence_page_states_the_ratio(marketer: User, shop: Shop) -> None:
    body = (
        client_for(marketer)
        .get(f"/marketing/dashboards/web-in-stores/?{RANGE}&window=1")
        .content.decode()
    )
    assert '<span class="value">0.30×</span>' in body


def test_an_empty_range_says_so(marketer: User, shop: Shop) -> None:
    body = (
        client_for(marketer)
        .get("/marketing/dashboards/funnel/?date_from=2025-01-01&date_to=2025-01-31")
        .content.decode()
    )
    assert "No activity in this range" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-03-05&date_to=2026-03-01", "The end date is before the start date."),
        ("date_from=2020-01-01&date_to=2026-03-01", "Pick at most two years at a time."),
        ("date_from=yesterday", "Enter a valid date."),
        ("channel=carrier-pigeon", "Select a valid choice."),
        ("window=5", "Select a valid choice."),
        ("store=999999", "Select a valid choice."),
    ],
)
def test_bad_filters_are_refused_in_plain_words(
    query: str, message: str, marketer: User, shop: Shop
) -> None:
    rollup_rows = ChannelDay.objects.count()
    client = client_for(marketer)
    page = client.get(f"/marketing/dashboards/web-in-stores/?{query}")
    download = client.get(f"/marketing/dashboards/web-in-stores.csv?{query}")
    assert page.status_code == 400
    assert message in page.content.decode()
    assert download.status_code == 400
    assert message in download.content.decode()
    assert ChannelDay.objects.count() == rollup_rows


def test_an_unknown_dashboard_is_not_found(marketer: User) -> None:
    assert client_for(marketer).get("/marketing/dashboards/nope/").status_code == 404


def test_channel_mix_csv(marketer: User, shop: Shop) -> None:
    response = client_for(marketer).get(f"/marketing/dashboards/channel-mix.csv?{RANGE}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="channel-mix.csv"'
    assert response.content.decode() == (
        "Day,Channel,Orders,Revenue,Active customers per day\n"
        "2026-03-02,app,0,0.00,1.0\n"
        "2026-03-02,email,0,0.00,1.0\n"
        "2026-03-02,store,1,30.00,1.0\n"
        "2026-03-02,web,1,100.00,1.0\n"
        "2026-03-03,store,1,50.00,1.0\n"
        "\n"
        "Totals per channel\n"
        "Channel,Orders,Revenue,Share of revenue (%)\n"
        "web,1,100.00,55.6\n"
        "store,2,80.00,44.4\n"
        "app,0,0.00,0.0\n"
        "email,0,0.00,0.0\n"
    )


def test_store_influence_csv(marketer: User, shop: Shop) -> None:
    response = client_for(marketer).get(f"/marketing/dashboards/web-in-stores.csv?{RANGE}&window=1")
    assert response.content.decode() == (
        "Store,Store revenue,After a digital touch (≤ 1 days),Share (%)\n"
        "Amsterdam,50.00,0.00,0.0\n"
        "Rotterdam,30.00,30.00,100.0\n"
        "\n"
        "Per category\n"
        "Category,Online revenue,Store revenue after a digital touch (≤ 1 d),Ratio (×)\n"
        "Jackets,60.00,0.00,0.00\n"
        "Shoes,40.00,30.00,0.75\n"
    )


def test_service_csv(marketer: User, shop: Shop) -> None:
    response = client_for(marketer).get(f"/marketing/dashboards/service.csv?{RANGE}")
    assert response.content.decode() == (
        "Opened on,Cases,Resolved,Self-service (%),First-contact resolution (%),"
        "Average hours to resolve\n"
        "call_centre,2,1,0.0,0.0,24.0\n"
        "web,1,1,100.0,100.0,2.0\n"
    )


def test_multichannel_and_funnel_csv(marketer: User, shop: Shop) -> None:
    client = client_for(marketer)
    mix = client.get(f"/marketing/dashboards/multichannel.csv?{RANGE}").content.decode()
    funnel = client.get(f"/marketing/dashboards/funnel.csv?{RANGE}&channel=web").content.decode()
    assert mix == (
        "Channels used,Customer-months,Buying customer-months,Revenue per buyer,"
        "Orders per buyer,90-day repeat (%),90-day defection (%)\n"
        "1,2,1,10.00,1.00,0.0,100.0\n"
        "2,2,2,90.00,1.50,0.0,100.0\n"
        "3+,0,0,,,,\n"
    )
    assert funnel == (
        "Channel,Step,Customers,Of baskets (%),Drop-off from previous step (%)\n"
        "web,Basket,1,100.0,\n"
        "web,Checkout started,1,100.0,0.0\n"
        "web,Details entered,1,100.0,0.0\n"
        "web,Payment entered,1,100.0,0.0\n"
        "web,Order placed,1,100.0,0.0\n"
    )
