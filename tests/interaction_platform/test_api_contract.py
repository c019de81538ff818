"""The API keeps its published contract: every answer, including every refusal, is declared in
the OpenAPI schema with the body it really has. Schemathesis generates requests from the schema
(valid and invalid) and checks each response against it, in process."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
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

from catalog.models import Price, Variant
from integrations.keys import api_key_create
from integrations.models import Scope
from interaction_platform.accounts.models import Role, User
from interaction_platform.accounts.services import api_token_create
from interaction_platform.choices import Channel
from interaction_platform.wsgi import application
from orders import services
from orders.models import Cart, CartLine, Order, OrderStatus
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


@pytest.fixture(params=["anonymous", Role.SHOPPER, Role.AGENT, Role.STORE_STAFF, "integration"])
def caller(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def auth_user(caller: str, db: Any) -> User | None:
    if caller in {"anonymous", "integration"}:
        return None
    user = factories.UserFactory(role=caller)
    if caller == Role.SHOPPER:
        factories.CustomerFactory(user=user)
    return user


@pytest.fixture
def auth_headers(caller: str, auth_user: User | None) -> dict[str, str]:
    if caller == "integration":
        # another system's API key with every scope: reaches the sync, export and webhook
        # endpoints' real answers
        owner = factories.UserFactory(role=Role.ADMIN)
        _api_key, key = api_key_create(name="contract", scopes=list(Scope.values), owner=owner)
        return {"Authorization": f"ApiKey {key}"}
    if auth_user is None:
        return {}
    _token, key = api_token_create(user=auth_user, name="contract test")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def commerce_data(catalog_data: None, auth_user: User | None) -> dict[str, object]:
    """A cart, an order waiting in a store and a postal return that belong to the caller (a
    shopper) or that the caller may handle (staff of that store, agents): path parameters
    point at them, so the operations answer with real bodies, not only with 404."""
    customer = getattr(auth_user, "customer", None) or factories.CustomerFactory()
    store = factories.StoreFactory(code="contract-store")
    variant = Variant.objects.get(sku="NW-000001")
    factories.StockLevelFactory(variant=variant, location=store, on_hand=50)
    for channel in Channel.selling():
        Price.objects.get_or_create(
            price_list=factories.PriceListFactory(channel=channel),
            variant=variant,
            defaults={"amount": Decimal("49.95")},
        )
    if auth_user is not None and auth_user.role == Role.STORE_STAFF:
        auth_user.stores.add(store)
    collected = services.order_place(
        actor=None,
        channel=Channel.WEB,
        idempotency_key="contract-collected",
        customer=customer,
        lines=[services.LineRequest("NW-000001", 2)],
        fulfilment_method="click_and_collect",
        pickup_store=store,
        payment=services.PaymentRequest(method="card_online", token="tok_sandbox_approve"),
    ).order
    Order.objects.filter(pk=collected.pk).update(status=OrderStatus.COMPLETED)
    returned = services.return_create(
        actor=factories.UserFactory(role=Role.AGENT),
        order=collected,
        lines=[services.ReturnLineRequest(collected.lines.get().pk, 1)],
        channel=Channel.CALL_CENTRE,
        kind="postal",
        idempotency_key="contract-return",
    ).return_request
    waiting = services.order_place(
        actor=None,
        channel=Channel.WEB,
        idempotency_key="contract-waiting",
        customer=customer,
        lines=[services.LineRequest("NW-000001", 1)],
        fulfilment_method="click_and_collect",
        pickup_store=store,
        payment=services.PaymentRequest(method="card_online", token="tok_sandbox_approve"),
    ).order
    cart = Cart.objects.create(customer=customer, origin_channel=Channel.APP)
    CartLine.objects.create(cart=cart, variant=variant, quantity=1, added_channel=Channel.APP)
    return {
        "cart_id": cart.pk,
        "number": waiting.number,
        "return_id": returned.pk,
        "sku": "NW-000001",
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_response_is_declared(
    case: schemathesis.Case, commerce_data: dict[str, object], auth_headers: dict[str, str]
) -> None:
    _point_at_known_objects(case, commerce_data)
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


def _point_at_known_objects(case: schemathesis.Case, known: dict[str, object]) -> None:
    """In a request meant to be valid, path parameters name real objects (a random id is only
    ever 404). Assigning the container makes schemathesis validate the new values."""
    meta = case.meta
    if meta is not None and (
        meta.generation.mode.is_negative
        or any(info.mode.is_negative for info in meta.components.values())
    ):
        return
    current = dict(case.path_parameters or {})
    if any(name in known for name in current):
        # in the type the schema gives the parameter (an id in a regex route is text)
        case.path_parameters = {
            name: type(value)(known[name]) if name in known else value
            for name, value in current.items()
        }


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
