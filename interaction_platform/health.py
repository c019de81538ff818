"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches nothing else, so a database outage does not kill it."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    """The process can serve: the database answers and, when configured, the broker does."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"error: {type(error).__name__}"
    if settings.REDIS_URL:
        checks["broker"] = _broker_status()
    is_ready = all(status == "ok" for status in checks.values())
    return JsonResponse(
        {"status": "ok" if is_ready else "unavailable", "checks": checks},
        status=200 if is_ready else 503,
    )


def _broker_status() -> str:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        client.ping()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}"
    return "ok"
