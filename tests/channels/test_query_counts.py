"""Every page the page benchmark measures costs a fixed number of queries, however much data
there is (bench/pages.py measures their speed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from tests import factories

pytestmark = pytest.mark.django_db


def _catalog(products: int) -> None:
    category = factories.CategoryFactory(slug="jackets")
    web = factories.PriceListFactory(channel=Channel.WEB)
    for number in range(products):
        product = factories.ProductFactory(name=f"Merino Parka {number}", category=category)
        for size in ("S", "M"):
            factories.PriceFactory(
                variant=factories.VariantFactory(product=product, name=size),
                price_list=web,
                amount=Decimal("99.95"),
            )


@pytest.mark.parametrize("products", [3, 30])
def test_search(client: Client, products: int, django_assert_num_queries: Any) -> None:
    _catalog(products)
    # nav, the exact-code probe, count, page of products with prices
    with django_assert_num_queries(4):
        response = client.get("/search", {"q": "merino parka"})
    assert response.status_code == 200


@pytest.mark.parametrize("products", [3, 30])
def test_pos_lookup(
    client: Client, staff: User, products: int, django_assert_num_queries: Any
) -> None:
    _catalog(products)
    client.force_login(staff)
    # session, user, permission (bound stores), exact-variant probe, the current store, the
    # search's exact-code probe, products, their variants
    with django_assert_num_queries(8):
        response = client.get("/pos/lookup/", {"q": "merino parka"})
    assert response.status_code == 200


@pytest.mark.parametrize("history", [1, 40])
def test_console_customer(
    client: Client, agent: User, history: int, django_assert_num_queries: Any
) -> None:
    customer = factories.CustomerFactory()
    for number in range(history):
        order = factories.OrderFactory(customer=customer)
        customer.cases.create(channel="web", subject=f"Question {number}")
        factories.PaymentFactory(order=order, idempotency_key=f"pay-{number}")
    client.force_login(agent)
    # the session, the agent, the customer and its reads (identities, consent, cases, basket,
    # orders with lines and returns, a timeline page) and the audit row: the same
    # however long the history
    with django_assert_num_queries(12):
        response = client.get(f"/console/customers/{customer.public_id}/")
    assert response.status_code == 200
