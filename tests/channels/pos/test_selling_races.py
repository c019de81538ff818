"""A sale sent twice at the same moment (a retry racing the first send, two tabs syncing) is
one order — also when it sells the customer's online basket. PostgreSQL, real threads."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from interaction_platform.accounts.models import Role
from orders.models import Cart, Order
from tests import factories
from tests.orders.conftest import make_shop, web_cart

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENDERS = 6
DEADLINE_S = 60


@pytest.fixture(autouse=True)
def _no_worker_wake_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("customers.touchpoints._wake_workers", lambda shard: None)


def _send_together(user: Any, body: dict[str, Any]) -> list[int]:
    barrier = threading.Barrier(SENDERS)
    statuses: list[int] = [0] * SENDERS

    def send(index: int) -> None:
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=DEADLINE_S)
            response = client.post("/pos/sales/", json.dumps(body), content_type="application/json")
            statuses[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_S)
    assert not any(thread.is_alive() for thread in threads), "a sale hung"
    return statuses


@pytest.mark.parametrize("with_basket", [False, True])
def test_one_sale_sent_at_once_from_several_places_is_one_order(with_basket: bool) -> None:
    shop = make_shop()
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(shop.store_a)
    customer = factories.CustomerFactory()
    cart = web_cart(customer, (shop.parka, 1)) if with_basket else None
    body = {
        "id": str(uuid.uuid4()),
        "store": shop.store_a.code,
        "lines": [{"sku": "PARKA-M", "quantity": 1}, {"sku": "BOOK-1", "quantity": 1}],
        "customer": str(customer.public_id),
        "cart": cart.pk if cart else None,
        "payment": {"method": "cash", "amount_tendered": "120.00"},
    }
    # when
    statuses = _send_together(staff, body)
    # then
    assert Counter(statuses) == Counter({201: 1, 200: SENDERS - 1})
    [order] = Order.objects.all()
    assert order.idempotency_key == body["id"]
    assert shop.stock(shop.parka, shop.store_a) == (4, 0)
    assert shop.stock(shop.book, shop.store_a) == (4, 0)
    if cart is not None:
        assert list(Cart.objects.values_list("status", flat=True)) == ["ordered"]
