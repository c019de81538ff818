"""An agent takes a call: the screen-pop opens the caller, a case is opened and the call logged."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from customers.models import Case
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_take_a_call(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    anna = factories.CustomerFactory(
        first_name="Anna",
        last_name="de Groot",
        phone="+31611111111",
        loyalty_number="NW00000042",
        email_consent=True,
    )
    sign_in(agent)
    page.goto(f"{live_server.url}/console/call?from=%2B31611111111")
    expect(page.get_by_role("heading", name="Anna de Groot")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("On a call from +31611111111")
    page.get_by_text("Open a case").click()
    page.get_by_label("Subject").fill("Wrong size delivered")
    page.get_by_label("Solved during this call").check()
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_text("opened and resolved on first contact")).to_be_visible()
    page.get_by_label("Outcome").select_option("resolved")
    page.get_by_label("Notes").fill("Sent a return label.")
    screenshot("console-customer")
    page.get_by_role("button", name="Log call").click()
    expect(page.get_by_text("The call is logged on the customer's timeline.")).to_be_visible()
    assert Case.objects.get(customer=anna).is_resolved_on_first_contact


def test_search_by_name(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    for first, last in [("Anna", "de Groot"), ("Annabel", "de Wit"), ("Bram", "Bos")]:
        factories.CustomerFactory(first_name=first, last_name=last)
    sign_in(agent)
    page.get_by_role("searchbox", name="Find a customer").fill("ann")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Annabel de Wit")).to_be_visible()
    screenshot("console-search")


def test_an_agent_orders_for_the_caller_and_scrolls_the_timeline(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from customers.models import TimelineEvent
    from interaction_platform.choices import Channel
    from orders.models import Cart, CartLine, Order

    # given: a customer with a long history and a basket started on the web
    store = factories.StoreFactory(code="ams", name="Amsterdam Kalverstraat")
    variant = factories.VariantFactory(sku="NW-000001", product__name="Harbour Wool Parka")
    factories.StockLevelFactory(variant=variant, location=store, on_hand=5)
    factories.StockLevelFactory(variant=variant, location=factories.WarehouseFactory(), on_hand=50)
    for channel in Channel.selling():
        factories.PriceFactory(
            variant=variant,
            price_list=factories.PriceListFactory(channel=channel),
            amount=Decimal("149.95"),
        )
    anna = factories.CustomerFactory(
        first_name="Anna",
        last_name="de Groot",
        address_line1="Damrak 1",
        postcode="1012 LG",
        city="Amsterdam",
        country="NL",
    )
    start = timezone.now() - timedelta(days=40)
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                customer=anna,
                occurred_at=start + timedelta(hours=n),
                received_at=start,
                channel=["web", "store", "call_centre", "email"][n % 4],
                type=["Product Viewed", "Store Visited", "Call Completed", "Email Opened"][n % 4],
                source="demo",
                message_id=f"history-{n}",
                properties={"name": "Harbour Wool Parka"},
            )
            for n in range(60)
        ]
    )
    cart = Cart.objects.create(customer=anna, origin_channel="web")
    CartLine.objects.create(cart=cart, variant=variant, quantity=1, added_channel="web")
    sign_in(agent)
    page.goto(f"{live_server.url}/console/customers/{anna.public_id}/")
    # the timeline loads older touchpoints as the agent scrolls it
    timeline = page.locator("[data-timeline]")
    assert timeline.locator(".timeline-item").count() == 25
    timeline.locator("[data-timeline-more]").scroll_into_view_if_needed()
    expect(timeline.locator(".timeline-item")).to_have_count(50)
    screenshot("console-customer-360")
    # place the order from the web basket, paid by link
    page.get_by_role("link", name="Place an order for Anna").click()
    page.get_by_label("Their open basket").check()
    page.get_by_label("Send a payment link").check()
    screenshot("console-place-order")
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_text("is waiting for payment")).to_be_visible()
    order = Order.objects.get()
    assert (order.origin_channel, order.channel, order.status) == (
        "web",
        "call_centre",
        "pending_payment",
    )


def test_the_merge_review_queue(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    from django.utils import timezone

    from customers.models import Merge, MergeReview

    first = factories.CustomerFactory(first_name="Jan", last_name="Visser", email="jan@example.com")
    second = factories.CustomerFactory(
        first_name="Jan", last_name="Visser", email="j.visser@example.com"
    )
    now = timezone.now()
    MergeReview.objects.create(
        first_customer=first,
        second_customer=second,
        message_id="m-1",
        source="web-store",
        created_at=now,
        last_seen_at=now,
    )
    sign_in(agent)
    page.get_by_role("link", name="Merge reviews").click()
    expect(page.get_by_role("heading", name="Are these one person?")).to_be_visible()
    screenshot("console-merge-reviews")
    page.get_by_role("button", name="Merge into one").click()
    expect(page.get_by_text("Merged into one profile.")).to_be_visible()
    assert Merge.objects.count() == 1
