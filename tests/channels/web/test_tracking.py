"""Web analytics go through the one pipeline, only with consent; what a customer looked at
anywhere (web, store, or asked of the call centre) comes back to them as "recently viewed"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from customers.inbox import inbox_process_batch
from customers.models import Customer, InboxEvent, TimelineEvent
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def parka() -> Any:
    jackets = factories.CategoryFactory(name="Jackets", slug="jackets")
    product = factories.ProductFactory(
        name="Harbour Wool Parka", slug="harbour-wool-parka", category=jackets
    )
    variant = factories.VariantFactory(product=product, sku="NW-P-M", name="Navy / M")
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.WEB),
        amount=Decimal("129.95"),
    )
    factories.ProductFactory(name="Dune Rain Jacket", slug="dune-rain-jacket", category=jackets)
    return variant


def _drain() -> None:
    while inbox_process_batch():
        pass


def test_without_consent_nothing_is_sent_and_no_visitor_cookie_is_set(
    client: Client, parka: Any
) -> None:
    for path in ("/", "/c/jackets/", "/p/harbour-wool-parka/", "/search?q=parka"):
        response = client.get(path)
        assert "visitor_id" not in response.cookies
    client.cookies["analytics_consent"] = "denied"
    client.get("/p/harbour-wool-parka/")
    assert InboxEvent.objects.count() == 0


def test_with_consent_page_and_product_views_reach_the_inbox(client: Client, parka: Any) -> None:
    # given: the visitor accepted the banner
    client.post("/consent/", {"choice": "accept"})
    # when
    first = client.get("/")
    client.get("/p/harbour-wool-parka/")
    # then: one visitor id, set once, carried by both events
    visitor = first.cookies["visitor_id"].value
    events = [row.payload for row in InboxEvent.objects.order_by("id")]
    assert [(e["type"], e.get("name") or e.get("event")) for e in events] == [
        ("page", "Home"),
        ("track", "Product Viewed"),
    ]
    assert {e["anonymousId"] for e in events} == {visitor}
    assert events[1]["properties"] == {
        "product_id": "harbour-wool-parka",
        "name": "Harbour Wool Parka",
        "brand": "Northwind",
        "category": "Jackets",
        "url": "http://testserver/p/harbour-wool-parka/",
        "currency": "EUR",
        "sku": "NW-P-M",
        "variant": "Navy / M",
        "price": "129.95",
    }
    assert all(
        row.channel == "web" and row.source == "web-store" for row in InboxEvent.objects.all()
    )


def test_browsing_before_signing_in_joins_the_shoppers_timeline(
    client: Client, shopper: User, parka: Any
) -> None:
    # given: an anonymous, consenting visitor looks at a product
    client.post("/consent/", {"choice": "accept"})
    client.get("/p/harbour-wool-parka/")
    _drain()
    # when: they sign in
    client.post("/accounts/login/", {"username": shopper.username, "password": factories.PASSWORD})
    _drain()
    # then: the earlier product view is on the shopper's own timeline
    customer = Customer.objects.get(user=shopper)
    assert TimelineEvent.objects.filter(customer=customer, type="Product Viewed").count() == 1


def test_what_staff_showed_them_in_a_store_is_recently_viewed_on_the_web(
    client: Client, shopper: User, staff: User, store: Any, parka: Any
) -> None:
    # given: in a store, staff identify the shopper and look up the parka for them
    shopper.customer.analytics_consent = True
    shopper.customer.save()
    shopper.customer.identities.create(kind="loyalty", value="NW00000042")
    pos = Client()
    pos.force_login(staff)
    pos.post("/pos/customers/identify/", {"q": "NW00000042"})
    pos.get("/pos/products/NW-P-M/")
    _drain()
    # when: the shopper opens the web store at home
    client.force_login(shopper)
    body = client.get("/").content.decode()
    # then: the parka is under "recently viewed", and the other jacket is suggested
    assert '<a class="chip" href="/p/harbour-wool-parka/">Harbour Wool Parka</a>' in body
    assert "Picked for you" in body
    assert "Dune Rain Jacket" in body
    viewed = TimelineEvent.objects.get(type="Product Viewed")
    assert (viewed.channel, viewed.store_id) == ("store", store.pk)


def test_what_they_asked_the_call_centre_about_is_suggested_on_the_web(
    client: Client, shopper: User, agent: User, parka: Any
) -> None:
    # given: the shopper (who allows personalisation) calls about the parka, and the agent
    # names it on the case
    shopper.customer.analytics_consent = True
    shopper.customer.save()
    console = Client()
    console.force_login(agent)
    console.post(
        f"/console/customers/{shopper.customer.public_id}/cases/",
        {"subject": "Is the parka waterproof?", "product": "nw-p-m"},
    )
    _drain()
    # when: the shopper opens the web store
    client.force_login(shopper)
    body = client.get("/").content.decode()
    # then: the parka is among what they looked at or asked about
    assert '<a class="chip" href="/p/harbour-wool-parka/">Harbour Wool Parka</a>' in body
    opened = TimelineEvent.objects.get(type="Case Opened")
    assert opened.channel == "call_centre"
    assert {k: opened.properties[k] for k in ("product_id", "sku", "subject")} == {
        "product_id": "harbour-wool-parka",
        "sku": "NW-P-M",
        "subject": "Is the parka waterproof?",
    }


def test_staff_signing_in_are_never_identified_as_shoppers(client: Client, agent: User) -> None:
    client.post("/consent/", {"choice": "accept"})
    client.get("/")
    client.post("/accounts/login/", {"username": agent.username, "password": factories.PASSWORD})
    assert [row.payload["type"] for row in InboxEvent.objects.all()] == ["page"]
