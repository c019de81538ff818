"""Server-side analytics of the web store, only with the visitor's consent.

Page views, product views and basket adds go through the same road as every other touchpoint:
Segment-spec events into the durable inbox (``customers.inbox.inbox_accept``), then the
unified timeline. Without consent nothing is sent and no visitor cookie is set.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from customers.inbox import inbox_accept
from customers.selectors import customer_for_user
from interaction_platform.accounts.models import Role
from interaction_platform.choices import Channel

CONSENT_COOKIE = "analytics_consent"
VISITOR_COOKIE = "visitor_id"
VISITOR_COOKIE_MAX_AGE_S = 365 * 24 * 3600
SOURCE = "web-store"


def is_tracking_allowed(request: HttpRequest) -> bool:
    """The visitor's answer in the cookie banner wins; without one, a signed-in shopper's
    account preference decides."""
    answer = request.COOKIES.get(CONSENT_COOKIE)
    if answer:
        return answer == "granted"
    user = request.user
    if user.is_authenticated and getattr(user, "role", None) == Role.SHOPPER:
        customer = customer_for_user(user_id=user.pk or 0)
        return bool(customer and customer.analytics_consent)
    return False


def visitor_id(request: HttpRequest) -> str:
    """This browser's anonymous id (made on first use; :func:`remember_visitor` stores it)."""
    existing = request.COOKIES.get(VISITOR_COOKIE) or getattr(request, "_new_visitor_id", None)
    if existing:
        return str(existing)
    new_id = uuid.uuid4().hex
    request._new_visitor_id = new_id  # type: ignore[attr-defined]
    return new_id


def remember_visitor(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    new_id = getattr(request, "_new_visitor_id", None)
    if new_id:
        response.set_cookie(
            VISITOR_COOKIE,
            new_id,
            max_age=VISITOR_COOKIE_MAX_AGE_S,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response


def _event(request: HttpRequest, kind: str, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "messageId": f"web-{uuid.uuid4().hex}",
        "timestamp": timezone.now().isoformat(),
        "anonymousId": visitor_id(request),
        "context": {
            "consent": {"categoryPreferences": {"Analytics": True}},
            "page": {"path": request.path, "referrer": request.headers.get("Referer", "")[:500]},
            "userAgent": request.headers.get("User-Agent", "")[:300],
        },
        **fields,
    }
    user = request.user
    if user.is_authenticated and getattr(user, "role", None) == Role.SHOPPER:
        event["userId"] = str(user.pk)
    return event


def _send(request: HttpRequest, *events: dict[str, Any]) -> None:
    inbox_accept(
        events=list(events),
        source=SOURCE,
        channel=Channel.WEB,
        is_shared_device=False,
        received_at=timezone.now(),
    )


def page_viewed(request: HttpRequest, response: HttpResponse, *, name: str) -> HttpResponse:
    if is_tracking_allowed(request):
        _send(request, _event(request, "page", name=name, properties={"path": request.path}))
        remember_visitor(request, response)
    return response


def product_viewed(
    request: HttpRequest, response: HttpResponse, *, properties: dict[str, Any]
) -> HttpResponse:
    """``Product Viewed`` (Segment e-commerce v2 properties: product_id, sku, name, price…)."""
    if is_tracking_allowed(request):
        _send(request, _event(request, "track", event="Product Viewed", properties=properties))
        remember_visitor(request, response)
    return response


def track(
    request: HttpRequest, response: HttpResponse, *, event: str, properties: dict[str, Any]
) -> HttpResponse:
    """Any other web store event of the tracking plan (``Product Added``, checkout steps)."""
    if is_tracking_allowed(request):
        _send(request, _event(request, "track", event=event, properties=properties))
        remember_visitor(request, response)
    return response


def identify(request: HttpRequest, response: HttpResponse, *, user: Any) -> HttpResponse:
    """A visitor who signs up or in: the anonymous browsing so far joins their profile (the
    pipeline merges the anonymous profile into the known one)."""
    is_shopper = getattr(user, "role", None) == Role.SHOPPER
    if (
        is_shopper
        and request.COOKIES.get(CONSENT_COOKIE) == "granted"
        and request.COOKIES.get(VISITOR_COOKIE)
    ):
        event = _event(request, "identify", traits={"email": user.email})
        event["userId"] = str(user.pk)
        _send(request, event)
    return response
