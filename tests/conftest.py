"""Shared fixtures and the rule that a test needing a missing service fails in CI.

Markers ``postgres`` and ``redis`` skip a test on the embedded default (SQLite, no broker).
With ``REQUIRE_SERVICES=1`` (set by ``.ci/run``) the same situation is a failure instead: CI
has PostgreSQL and Redis, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from interaction_platform.accounts.models import Role, User
from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://...)"
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs Redis (set REDIS_URL=redis://...)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service(item)
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(role: Role = Role.SHOPPER, **kwargs: Any) -> User:
        return factories.UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def store(db: Any) -> Any:
    return factories.StoreFactory()


@pytest.fixture
def shopper(db: Any) -> User:
    """A shopper with their own customer record (``shopper.customer``)."""
    customer = factories.CustomerFactory()
    user = factories.UserFactory(role=Role.SHOPPER, email=customer.email)
    customer.user = user
    customer.save(update_fields=["user"])
    return user


@pytest.fixture
def staff(db: Any, store: Any) -> User:
    """Store staff bound to ``store``."""
    user = factories.UserFactory(role=Role.STORE_STAFF)
    user.stores.add(store)
    return user


@pytest.fixture
def agent(db: Any) -> User:
    return factories.UserFactory(role=Role.AGENT)


@pytest.fixture
def marketer(db: Any) -> User:
    return factories.UserFactory(role=Role.MARKETER)


@pytest.fixture
def admin_user(db: Any) -> User:
    return factories.UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Throttle counters and cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free local port; ``messages`` holds what it got."""

    host: str
    port: int
    messages: list[EmailMessage]


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """Point Django's SMTP backend at a real local SMTP server for the duration of a test."""
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []

    class Collect:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content, policy=email_policy.default))
            return "250 OK"

    # aiosmtpd cannot bind port 0 itself (STACK.md): find a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield SmtpServer(host="127.0.0.1", port=port, messages=received)
    finally:
        controller.stop()


@pytest.fixture
def make_api_key(db: Any) -> Callable[..., tuple[Any, str]]:
    """An integration API key (``integrations.models.ApiKey``) and its key, owned by an admin
    unless told otherwise: ``key, secret = make_api_key("write:stock")``."""
    from integrations.keys import api_key_create

    def make(*scopes: str, owner: User | None = None, name: str = "ERP") -> tuple[Any, str]:
        owner = owner or factories.UserFactory(role=Role.ADMIN)
        return api_key_create(name=name, scopes=list(scopes), owner=owner)

    return make
