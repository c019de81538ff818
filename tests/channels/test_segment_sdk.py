"""Done when: Segment's own Python SDK, pointed at our server unchanged, lands an anonymous
visit, an identify and a track in the right customer's timeline."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from segment.analytics import Client
from segment.analytics import request as segment_request
from segment.analytics.request import APIError

from customers.models import Customer, Identity, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CONSENT = {"consent": {"categoryPreferences": {"Analytics": True}}}


class _SessionPerRequest:
    """Stands in for the SDK's process-wide keep-alive session: each post gets a session of its
    own, closed once the answer is read. A kept-alive connection would leave the live server a
    request thread that outlives the test's shared in-memory database connection."""

    def post(self, url: str, **options: Any) -> requests.Response:
        with requests.Session() as session:
            return session.post(url, **options)


@pytest.fixture(autouse=True)
def _no_kept_alive_connections(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segment_request, "_session", _SessionPerRequest())


@pytest.mark.parametrize("compress", [False, True], ids=["json", "gzip"])
def test_the_segment_sdk_lands_identify_and_track_on_the_right_timeline(
    live_server: Any, compress: bool
) -> None:
    # given: a source, a customer the events are not about, and the SDK as a shop would set it up
    factories.SourceFactory(name="web-store", channel="web", write_key="sdk-write-key")
    bystander = factories.CustomerFactory(email="someone.else@example.com")
    errors: list[Any] = []
    sdk = Client(
        "sdk-write-key",
        host=live_server.url,
        sync_mode=True,
        gzip=compress,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    # when: a visitor browses, signs in and buys
    sdk.page(anonymous_id="anon-42", name="Home", context=CONSENT)
    sdk.identify(
        user_id="user-42",
        anonymous_id="anon-42",
        traits={"email": "Anna@Example.com", "firstName": "Anna"},
    )
    sdk.track(
        user_id="user-42",
        event="Order Completed",
        properties={"order_id": "NW00000042", "total": 49.95, "currency": "EUR"},
    )
    sdk.flush()
    # then
    assert errors == []
    anna = Identity.objects.get(kind="user_id", value="user-42").customer
    assert sorted(anna.identities.values_list("kind", "value")) == [
        ("anonymous_id", "anon-42"),
        ("email", "anna@example.com"),
        ("user_id", "user-42"),
    ]
    timeline = list(
        TimelineEvent.objects.filter(customer=anna)
        .order_by("occurred_at", "id")
        .values_list("type", "channel", "source")
    )
    assert timeline == [
        ("Page Viewed", "web", "web-store"),
        ("Identified", "web", "web-store"),
        ("Order Completed", "web", "web-store"),
    ]
    order = TimelineEvent.objects.get(type="Order Completed")
    assert order.properties == {"order_id": "NW00000042", "total": 49.95, "currency": "EUR"}
    assert (anna.first_name, anna.email) == ("Anna", "anna@example.com")
    assert not TimelineEvent.objects.filter(customer=bystander).exists()
    assert Customer.objects.count() == 2


def test_the_sdk_hears_a_refusal(live_server: Any) -> None:
    sdk = Client("not-a-key", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        sdk.track(user_id="user-42", event="Order Completed")
    assert refused.value.status == 401
    assert not TimelineEvent.objects.exists()
