"""Segments: rules, counts (never people), the live count endpoint, refusals that save nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from channels.marketing.models import Segment
from channels.marketing.segments import SegmentRules, segment_count, segment_rules_parse
from customers.models import TimelineEvent
from interaction_platform.errors import InvalidInput
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def base() -> dict[str, object]:
    store = factories.StoreFactory(code="utrecht")
    now = timezone.now()
    people = {
        "ada": factories.CustomerFactory(
            loyalty_number="NW00000001",
            email_consent=True,
            country="NL",
            home_store=store,
            order_count=5,
            lifetime_revenue=Decimal("400.00"),
            channels_used=["web", "store"],
            channel_count=2,
        ),
        "bo": factories.CustomerFactory(
            email_consent=False,
            direct_mail_consent=True,
            country="BE",
            order_count=1,
            lifetime_revenue=Decimal("40.00"),
            channels_used=["web"],
            channel_count=1,
        ),
        "cy": factories.CustomerFactory(
            email_consent=True, country="NL", channels_used=["store"], channel_count=1
        ),
    }
    factories.CustomerFactory(is_identified=False, email_consent=True, country="NL")  # anonymous
    factories.CustomerFactory(email_consent=True, country="NL", erased_at=now)
    TimelineEvent.objects.create(
        customer=people["ada"],  # type: ignore[misc]
        occurred_at=now - timedelta(days=3),
        received_at=now,
        channel="web",
        type="Product Viewed",
        source="test",
        message_id="seg-1",
    )
    TimelineEvent.objects.create(
        customer=people["bo"],  # type: ignore[misc]
        occurred_at=now - timedelta(days=40),
        received_at=now,
        channel="web",
        type="Product Viewed",
        source="test",
        message_id="seg-2",
    )
    return {"store": store, **people}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, 3),
        ({"consent": ["email"]}, 2),
        ({"consent": ["email", "direct_mail"]}, 0),
        ({"channels": ["web"]}, 2),
        ({"channels": ["web", "store"]}, 1),
        ({"min_channel_count": "2"}, 1),
        ({"home_store": "utrecht"}, 1),
        ({"country": "nl"}, 2),
        ({"min_orders": "1", "max_orders": "4"}, 1),
        ({"min_spend": "100"}, 1),
        ({"max_spend": "40"}, 2),
        ({"event": "Product Viewed", "event_days": "30"}, 1),
        ({"event": "Product Viewed", "event_days": "60"}, 2),
        ({"event": "Product Viewed", "event_did": "no", "event_days": "30"}, 2),
        ({"has_account": "yes"}, 0),
        ({"has_account": "no"}, 3),
        ({"is_loyalty_member": "yes"}, 1),
        ({"is_loyalty_member": "no"}, 2),
    ],
)
def test_rules_count_exactly(base: object, rules: dict[str, object], expected: int) -> None:
    assert segment_count(rules=segment_rules_parse(rules)) == expected


@pytest.mark.parametrize(
    ("rules", "field", "message"),
    [
        ({"consent": ["telepathy"]}, "consent", "Choose consent purposes from the list."),
        ({"channels": ["fax"]}, "channels", "Choose channels from the list."),
        ({"min_orders": "many"}, "min_orders", "Enter a whole number."),
        ({"min_orders": "5", "max_orders": "2"}, "max_orders", "The maximum is below the minimum."),
        ({"min_spend": "-3"}, "min_spend", "Enter an amount from 0 to 10,000,000."),
        ({"min_spend": "NaN"}, "min_spend", "Enter an amount from 0 to 10,000,000."),
        ({"country": "Netherlands"}, "country", "Use a two-letter country code, e.g. NL."),
        ({"home_store": "atlantis"}, "home_store", "Choose a store from the list."),
        ({"event": "Danced", "event_days": "5"}, "event", "Choose an event from the list."),
        ({"is_loyalty_member": "perhaps"}, "is_loyalty_member", "Choose yes, no or either."),
        ({"event": "Product Viewed"}, "event_days", "Say how many days back to look."),
        ({"event_days": "3"}, "event", "Choose the event the number of days refers to."),
        (
            {"event": "Product Viewed", "event_days": "0"},
            "event_days",
            "Enter a number from 1 to 730.",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_reason(
    base: object, rules: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        segment_rules_parse(rules)
    assert refused.value.fields == {field: [message]}


def test_rules_round_trip_through_storage() -> None:
    rules = segment_rules_parse(
        {"consent": ["email"], "min_spend": "99.5", "event": "Order Completed", "event_days": "90"}
    )
    assert rules.as_json() == {
        "consent": ["email"],
        "min_spend": "99.50",
        "event": "Order Completed",
        "event_did": "yes",
        "event_days": 90,
    }
    assert segment_rules_parse(rules.as_json()) == rules
    assert SegmentRules().describe() == ["every identified customer"]


def test_the_count_endpoint_answers_a_count_and_no_people(
    base: object, marketer_client: Client
) -> None:
    response = marketer_client.get("/marketing/segments/count?consent=email&country=NL")
    assert response.status_code == 200
    assert response.json() == {"count": 2}


def test_the_count_endpoint_refuses_a_bad_rule(base: object, marketer_client: Client) -> None:
    response = marketer_client.get("/marketing/segments/count?min_orders=lots")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "message": "Some rules are not valid: see the marked fields.",
        "fields": {"min_orders": ["Enter a whole number."]},
    }


def test_count_works_without_javascript(base: object, marketer_client: Client) -> None:
    response = marketer_client.get("/marketing/segments/?count=1&consent=email")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong> customers match" in body
    assert base["ada"].last_name not in body  # type: ignore[index, attr-defined]


def test_saving_a_segment(base: object, marketer_client: Client, marketer: object) -> None:
    response = marketer_client.post(
        "/marketing/segments/",
        {"name": "Loyal Dutch", "consent": ["email"], "country": "NL", "min_orders": "2"},
    )
    assert response.status_code == 302
    segment = Segment.objects.get(name="Loyal Dutch")
    assert segment.created_by == marketer
    assert segment.rules == {"consent": ["email"], "country": "NL", "min_orders": 2}
    factories.StoreFactory(code="delft", name="Delft Markt")
    marketer_client.post("/marketing/segments/", {"name": "Delft", "home_store": "delft"})
    page = marketer_client.get("/marketing/segments/").content.decode()
    assert "Loyal Dutch" in page
    assert "home store Delft Markt" in page
    assert '<td class="num">1</td>' in page


def test_a_bad_rule_is_a_400_and_saves_nothing(base: object, marketer_client: Client) -> None:
    response = marketer_client.post("/marketing/segments/", {"name": "Broken", "min_spend": "lots"})
    assert response.status_code == 400
    assert "Enter an amount, e.g. 150 or 99.50." in response.content.decode()
    assert Segment.objects.count() == 0


def test_a_taken_name_is_refused_and_saves_nothing(base: object, marketer_client: Client) -> None:
    marketer_client.post("/marketing/segments/", {"name": "VIP", "min_orders": "3"})
    response = marketer_client.post("/marketing/segments/", {"name": "vip", "min_orders": "9"})
    assert response.status_code == 409
    assert "This name is taken; choose another." in response.content.decode()
    assert list(Segment.objects.values_list("name", "rules")) == [("VIP", {"min_orders": 3})]


def test_a_segment_needs_a_name(base: object, marketer_client: Client) -> None:
    response = marketer_client.post("/marketing/segments/", {"name": " ", "country": "NL"})
    assert response.status_code == 400
    assert "Enter a name of up to 120 characters." in response.content.decode()
    assert Segment.objects.count() == 0
