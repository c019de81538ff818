"""Integration API keys: scoped, hashed at rest, shown once, revocable, last use noted,
managed in the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from integrations.keys import api_key_for_key
from integrations.models import ApiKey, WebhookEndpoint, hash_api_key
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

MakeKey = Callable[..., tuple[ApiKey, str]]


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client


ENDPOINT = {"name": "ERP", "url": "https://erp.example.com/hooks", "event_types": ["stock.low"]}


def test_only_the_hash_is_stored(make_api_key: MakeKey) -> None:
    api_key, key = make_api_key("write:stock")
    assert key.startswith("ipk_")
    assert api_key.key_hash == hash_api_key(key)
    assert api_key.prefix == key[:12]
    assert not ApiKey.objects.filter(key_hash__contains=key[4:]).exists()
    assert api_key_for_key(key=key) == api_key


def test_a_key_with_the_scope_may_call_and_its_use_is_noted(make_api_key: MakeKey) -> None:
    # given
    api_key, key = make_api_key("manage:webhooks")
    assert api_key.last_used_at is None
    # when
    response = _client(key).post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.get().name == "ERP"
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_a_key_without_the_scope_gets_403_and_nothing_changes(make_api_key: MakeKey) -> None:
    # given
    _api_key, key = make_api_key("write:stock", "read:orders")
    # when
    response = _client(key).post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json")
    # then
    assert response.status_code == 403
    assert response.json() == {
        "error": "missing_scope",
        "message": "This API key does not have the 'manage:webhooks' scope.",
        "fields": {},
    }
    assert WebhookEndpoint.objects.count() == 0


def test_a_revoked_key_gets_401_and_nothing_changes(
    make_api_key: MakeKey, admin_client: Client
) -> None:
    # given: revoked in the admin
    api_key, key = make_api_key("manage:webhooks")
    admin_client.post(
        "/admin/integrations/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
    )
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    # when
    response = _client(key).post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json")
    # then
    assert response.status_code == 401
    assert response.json() == {
        "error": "authentication_failed",
        "message": "The API key is unknown or revoked.",
        "fields": {},
    }
    assert WebhookEndpoint.objects.count() == 0


def test_an_unknown_key_gets_401() -> None:
    response = _client("ipk_not-a-key").get("/api/v1/webhooks/endpoints/")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_a_key_whose_owner_left_stops_working(make_api_key: MakeKey) -> None:
    owner = factories.UserFactory(role=Role.ADMIN)
    _api_key, key = make_api_key("manage:webhooks", owner=owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert _client(key).get("/api/v1/webhooks/endpoints/").status_code == 401


def test_a_key_brings_no_role_with_it(make_api_key: MakeKey) -> None:
    # the owner is an admin, but the key acts only within its scopes
    _api_key, key = make_api_key("manage:webhooks")
    response = _client(key).get("/api/v1/customers/lookup/?email=a@example.com")
    assert response.status_code == 403
    assert response.json()["error"] == "not_allowed"


def test_the_admin_issues_a_key_and_shows_it_once(admin_client: Client) -> None:
    # given
    owner = factories.UserFactory(role=Role.ADMIN)
    # when
    response = admin_client.post(
        "/admin/integrations/apikey/add/",
        {"name": "Warehouse", "scopes": ["write:stock", "read:orders"], "owner": owner.pk},
        follow=True,
    )
    # then
    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) >= 1
    key = shown[0].split("API key for Warehouse: ")[1].split(" ")[0]
    assert api_key.key_hash == hash_api_key(key)
    assert (api_key.name, api_key.scopes, api_key.owner) == (
        "Warehouse",
        ["read:orders", "write:stock"],
        owner,
    )
    # and the change page never shows it again
    page = admin_client.get(f"/admin/integrations/apikey/{api_key.pk}/change/")
    assert key not in page.content.decode()


def test_webhook_endpoints_are_for_admins_not_other_roles(
    api_client: APIClient, marketer: User, admin_user: User
) -> None:
    api_client.force_authenticate(marketer)
    refused = api_client.post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json")
    assert refused.status_code == 403
    assert WebhookEndpoint.objects.count() == 0
    api_client.force_authenticate(admin_user)
    assert (
        api_client.post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json").status_code == 201
    )


def test_the_endpoint_api_shows_the_secret_only_when_created(make_api_key: MakeKey) -> None:
    _api_key, key = make_api_key("manage:webhooks")
    client = _client(key)
    created = client.post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json").json()
    endpoint_id = created["id"]
    listed = client.get("/api/v1/webhooks/endpoints/").json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert "secret" not in client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/").json()
    rotated = client.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret/").json()
    assert rotated["secret"] != created["secret"]
    assert WebhookEndpoint.objects.get().secret == rotated["secret"]


def test_an_endpoint_with_an_unknown_event_type_is_refused(make_api_key: MakeKey) -> None:
    _api_key, key = make_api_key("manage:webhooks")
    response = _client(key).post(
        "/api/v1/webhooks/endpoints/",
        {**ENDPOINT, "event_types": ["order.exploded"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "event_types.0": ['"order.exploded" is not a valid choice.']
    }
    assert WebhookEndpoint.objects.count() == 0


def test_the_delivery_log_and_replay_over_the_api(
    make_api_key: MakeKey, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from integrations import webhooks
    from integrations.models import WebhookDelivery

    # given: a delivery that failed for good
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    _api_key, key = make_api_key("manage:webhooks")
    client = _client(key)
    endpoint_id = client.post("/api/v1/webhooks/endpoints/", ENDPOINT, format="json").json()["id"]
    event = webhooks.webhook_emit(event_type="stock.low", payload={"sku": "NW-1"})
    webhooks.webhook_event_fan_out(event_pk=event.pk)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(status="failed", last_error="gave up")
    # when
    log = client.get(f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/").json()
    replay = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay/")
    # then
    assert log["count"] == 1
    assert log["results"][0]["event_id"] == event.event_id
    assert log["results"][0]["status"] == "failed"
    assert replay.status_code == 200
    assert replay.json()["status"] == "pending"
