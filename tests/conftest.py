"""Shared fixtures and the rule that a test needing a missing service fails in CI.

Markers ``postgres`` and ``redis`` skip a test on the embedded default (SQLite, no broker).
With ``REQUIRE_SERVICES=1`` (set by ``.ci/run``) the same situation is a failure instead: CI
has PostgreSQL and Redis, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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
