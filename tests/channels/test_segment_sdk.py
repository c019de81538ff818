"""Done when: Segment's own Python SDK, pointed at our server unchanged, lands an anonymous
visit, an identify and a track in the right customer's timeline. The server is a gunicorn this
test starts on the test database (tasks run inside it: no broker needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from segment.analytics import Client
from segment.analytics.request import APIError

from customers.models import Customer, Identity, TimelineEvent
from tests import factories
from tests.processes import Service, process_env, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONSENT = {"consent": {"categoryPreferences": {"Analytics": True}}}


@pytest.fixture
def server(transactional_db: Any, tmp_path: Path) -> Iterator[Service]:
    env = process_env(database_name=connection.settings_dict["NAME"], redis_port=None)
    gunicorn = start_gunicorn(env, tmp_path, workers=1)
    yield gunicorn
    gunicorn.stop()


def _url(server: Service) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.mark.parametrize("compress", [False, True], ids=["json", "gzip"])
def test_the_segment_sdk_lands_identify_and_track_on_the_right_timeline(
    server: Service, compress: bool
) -> None:
    # given: a source, a customer the events are not about, and the SDK as a shop would set it up
    factories.SourceFactory(name="web-store", channel="web", write_key="sdk-write-key")
    bystander = factories.CustomerFactory(email="someone.else@example.com")
    errors: list[Any] = []
    sdk = Client(
        "sdk-write-key",
        host=_url(server),
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


def test_the_sdk_hears_a_refusal(server: Service) -> None:
    sdk = Client("not-a-key", host=_url(server), sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        sdk.track(user_id="user-42", event="Order Completed")
    assert refused.value.status == 401
    assert not TimelineEvent.objects.exists()
