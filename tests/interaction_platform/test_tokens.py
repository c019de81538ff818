"""Bearer tokens for apps and devices: issued once, hashed at rest, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from interaction_platform.accounts.models import ApiToken, Role, User, hash_token_key
from tests import factories

pytestmark = pytest.mark.django_db

BAD_TOKEN = {
    "error": "authentication_failed",
    "message": "The token is unknown, expired or revoked.",
    "fields": {},
}


def _obtain(client: APIClient, user: User, password: str = factories.PASSWORD) -> object:
    return client.post(
        "/api/v1/auth/tokens/",
        {"username": user.username, "password": password, "name": "POS tablet 2"},
        format="json",
    )


def test_obtain_a_token_and_use_it(api_client: APIClient, shopper: User) -> None:
    # when
    response = _obtain(api_client, shopper)
    # then
    assert response.status_code == 201
    body = response.json()
    key = body["token"]
    token = ApiToken.objects.get()
    assert body["id"] == token.pk
    assert body["name"] == "POS tablet 2"
    assert body["prefix"] == key[:8] == token.prefix
    assert token.key_hash == hash_token_key(key)
    assert key not in token.key_hash  # only the hash is stored
    assert round((token.expires_at - token.created_at).total_seconds()) == 90 * 24 * 3600
    # and the key opens the API
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == shopper.customer.email
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_password_is_401_and_issues_nothing(api_client: APIClient, shopper: User) -> None:
    response = _obtain(api_client, shopper, password="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error": "bad_credentials",
        "message": "The user name or password is not right.",
        "fields": {},
    }
    assert ApiToken.objects.count() == 0


def test_an_inactive_login_gets_no_token(api_client: APIClient) -> None:
    user = factories.UserFactory(is_active=False)
    assert _obtain(api_client, user).status_code == 401
    assert ApiToken.objects.count() == 0


def test_missing_fields_are_400(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/tokens/", {"username": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "password": ["This field is required."],
        "name": ["This field is required."],
    }
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer", "Bearer two parts", "Token expired-or-revoked"],
)
def test_bad_tokens_are_401(api_client: APIClient, header: str) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_a_bad_token_is_refused_even_on_public_endpoints(api_client: APIClient) -> None:
    # A client sending a broken token should learn that, not silently act anonymously.
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    response = api_client.get("/api/v1/stores/")
    assert (response.status_code, response.json()) == (401, BAD_TOKEN)


def test_an_expired_token_is_401(api_client: APIClient, shopper: User) -> None:
    key = _obtain(api_client, shopper).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/v1/me/").json() == BAD_TOKEN


def test_revoke_a_token(api_client: APIClient, shopper: User) -> None:
    # given
    issued = _obtain(api_client, shopper).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued['token']}")
    # when
    response = api_client.delete(f"/api/v1/auth/tokens/{issued['id']}/")
    # then
    assert response.status_code == 204
    assert ApiToken.objects.get().revoked_at is not None
    assert api_client.get("/api/v1/me/").status_code == 401


def test_list_shows_live_tokens_without_keys(api_client: APIClient, shopper: User) -> None:
    first = _obtain(api_client, shopper).json()
    second = _obtain(api_client, shopper).json()
    ApiToken.objects.filter(pk=first["id"]).update(revoked_at=timezone.now())
    api_client.force_authenticate(shopper)
    listed = api_client.get("/api/v1/auth/tokens/").json()
    assert [token["id"] for token in listed] == [second["id"]]
    assert "token" not in listed[0]


def test_nobody_can_revoke_someone_elses_token(api_client: APIClient, shopper: User) -> None:
    issued = _obtain(api_client, shopper).json()
    api_client.force_authenticate(factories.UserFactory(role=Role.AGENT))
    response = api_client.delete(f"/api/v1/auth/tokens/{issued['id']}/")
    assert response.status_code == 404
    assert response.json()["message"] == "You have no token with this id."
    assert ApiToken.objects.get().revoked_at is None


def test_a_deactivated_user_token_stops_working(api_client: APIClient, shopper: User) -> None:
    key = _obtain(api_client, shopper).json()["token"]
    User.objects.filter(pk=shopper.pk).update(is_active=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_token_requests_are_throttled(api_client: APIClient, shopper: User) -> None:
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "2/min"}
    try:
        statuses = [_obtain(api_client, shopper, password="wrong").status_code for _ in range(3)]
        throttled = _obtain(api_client, shopper)
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert statuses == [401, 401, 429]
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert ApiToken.objects.count() == 0
