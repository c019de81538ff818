import pytest
from django.test import Client


def test_liveness_touches_nothing(client: Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readiness_checks_the_database(client: Client, settings: object) -> None:
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok"}},
    )


@pytest.mark.django_db
def test_readiness_is_503_when_the_broker_is_unreachable(client: Client, settings: object) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]  # nothing listens
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "error: ConnectionError"},
    }
