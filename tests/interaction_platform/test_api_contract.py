"""The API keeps its published contract: every answer, including every refusal, is declared in
the OpenAPI schema with the body it really has. Schemathesis generates requests from the schema
(valid and invalid) and checks each response against it, in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from interaction_platform.accounts.models import Role
from interaction_platform.accounts.services import api_token_create
from interaction_platform.wsgi import application
from tests import factories

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(autouse=True)
def _keep_the_test_transaction() -> Iterator[None]:
    """Schemathesis calls the WSGI app directly; like Django's test client, keep the app from
    closing the database connection that holds the test's transaction at the end of a request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def catalog_data(db: Any) -> None:
    variant = factories.VariantFactory(sku="NW-000001", product__slug="harbour-parka")
    factories.StockLevelFactory(variant=variant)
    factories.PriceFactory(variant=variant)


@pytest.fixture(params=["anonymous", Role.SHOPPER, Role.AGENT, "integration"])
def auth_headers(request: pytest.FixtureRequest, db: Any) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    if request.param == "integration":
        # another system's API key with every scope: reaches the sync, export and webhook
        # endpoints' real answers
        from integrations.keys import api_key_create
        from integrations.models import Scope

        owner = factories.UserFactory(role=Role.ADMIN)
        _api_key, key = api_key_create(name="contract", scopes=list(Scope.values), owner=owner)
        return {"Authorization": f"ApiKey {key}"}
    user = factories.UserFactory(role=request.param)
    if request.param == Role.SHOPPER:
        factories.CustomerFactory(user=user)
    _token, key = api_token_create(user=user, name="contract test")
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_response_is_declared(
    case: schemathesis.Case, catalog_data: None, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


def test_the_schema_generates_without_warnings(tmp_path: Any) -> None:
    # drf-spectacular warns about anything it had to guess; a guess is an undocumented answer.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    document = yaml.safe_load(target.read_text())
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 12
    for path, method, operation in operations:
        declared = set(operation["responses"])
        # a bad token and an impossible Accept header can meet any operation
        assert {"401", "406"} <= declared, (method, path)
        for code in declared - {"200", "201", "204"}:
            body = operation["responses"][code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)
