"""The ERP's bulk stock and price sync: scoped keys, an Idempotency-Key, everything checked
first and written all or nothing, reserved stock never exceeded, stock.low emitted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import Price, StockLevel
from integrations.models import IdempotencyRecord, WebhookEvent
from tests import factories

pytestmark = pytest.mark.django_db

MakeKey = Callable[..., tuple[Any, str]]


@pytest.fixture
def stock_client(make_api_key: MakeKey) -> APIClient:
    _api_key, key = make_api_key("write:stock")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client


@pytest.fixture
def price_client(make_api_key: MakeKey) -> APIClient:
    _api_key, key = make_api_key("write:catalog")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client


@pytest.fixture
def shelf(store: Any) -> dict[str, Any]:
    """Two variants; the first has 10 on hand (3 reserved) in the store, the second none."""
    first = factories.VariantFactory(sku="NW-1")
    second = factories.VariantFactory(sku="NW-2")
    level = factories.StockLevelFactory(variant=first, location=store, on_hand=10, reserved=3)
    return {"store": store, "first": first, "second": second, "level": level}


def _stock(client: APIClient, body: dict[str, Any], key: str = "key-1") -> Any:
    return client.post("/api/v1/sync/stock/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _levels() -> list[tuple[str, str, int, int]]:
    return list(
        StockLevel.objects.order_by("variant__sku").values_list(
            "variant__sku", "location__code", "on_hand", "reserved"
        )
    )


class TestStock:
    def test_absolute_counts_update_and_create_rows(
        self, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        # when
        response = _stock(
            stock_client,
            {
                "mode": "absolute",
                "rows": [
                    {"sku": "NW-1", "location": code, "on_hand": 12},
                    {"sku": "NW-2", "location": code, "on_hand": 7},
                ],
            },
        )
        # then
        assert response.status_code == 200
        assert response.json() == {
            "mode": "absolute",
            "results": [
                {"sku": "NW-1", "location": code, "outcome": "updated", "on_hand": 12,
                 "reserved": 3, "available": 9},
                {"sku": "NW-2", "location": code, "outcome": "created", "on_hand": 7,
                 "reserved": 0, "available": 7},
            ],
        }  # fmt: skip
        assert _levels() == [("NW-1", code, 12, 3), ("NW-2", code, 7, 0)]

    def test_deltas_add_and_remove(self, stock_client: APIClient, shelf: dict[str, Any]) -> None:
        code = shelf["store"].code
        response = _stock(
            stock_client,
            {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": -4}]},
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["on_hand"] == 6
        assert _levels() == [("NW-1", code, 6, 3)]

    def test_a_row_below_reserved_is_refused_and_nothing_is_written(
        self, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        # when: row 1 would leave 2 on hand with 3 reserved
        response = _stock(
            stock_client,
            {
                "mode": "absolute",
                "rows": [
                    {"sku": "NW-2", "location": code, "on_hand": 5},
                    {"sku": "NW-1", "location": code, "on_hand": 2},
                ],
            },
        )
        # then
        assert response.status_code == 409
        assert response.json() == {
            "error": "stock_reserved",
            "message": (
                "Some rows would leave fewer units on hand than are reserved; nothing was written."
            ),
            "fields": {
                "rows.1": [
                    "This would leave 2 on hand, fewer than the 3 units reserved for open "
                    "orders; the row was not applied."
                ]
            },
        }
        assert _levels() == [("NW-1", code, 10, 3)]
        assert IdempotencyRecord.objects.count() == 0

    def test_unknown_skus_and_locations_are_listed_and_nothing_is_written(
        self, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        response = _stock(
            stock_client,
            {
                "mode": "delta",
                "rows": [
                    {"sku": "NW-1", "location": code, "delta": 1},
                    {"sku": "NOPE", "location": "nowhere", "delta": 1},
                    {"sku": "NW-1", "location": code, "delta": 2},
                ],
            },
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "rows.1": [
                "No product has SKU 'NOPE'.",
                "No active store or warehouse has the code 'nowhere'.",
            ],
            "rows.2": ["The same SKU and location are already in row 0: send each pair once."],
        }
        assert _levels() == [("NW-1", code, 10, 3)]

    def test_the_field_must_match_the_mode(self, stock_client: APIClient, shelf: Any) -> None:
        response = _stock(
            stock_client,
            {"mode": "delta", "rows": [{"sku": "NW-1", "location": "x", "on_hand": 1}]},
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "rows.0": ["Send 'delta' (and not 'on_hand') with mode=delta."]
        }

    def test_stock_low_is_emitted_when_available_falls_below_the_threshold(
        self, stock_client: APIClient, shelf: dict[str, Any], settings: Any
    ) -> None:
        # given: 7 available, threshold 5
        settings.STOCK_LOW_THRESHOLD = 5
        code = shelf["store"].code
        # when: down to 6 available (no event), then to 4 (event), then 3 (no new crossing)
        for key, delta in (("a", -1), ("b", -2), ("c", -1)):
            body = {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": delta}]}
            assert _stock(stock_client, body, key=key).status_code == 200
        # then
        event = WebhookEvent.objects.get()
        assert (event.event_type, event.payload) == (
            "stock.low",
            {"sku": "NW-1", "location": code, "on_hand": 7, "reserved": 3, "available": 4,
             "threshold": 5},
        )  # fmt: skip

    def test_the_same_key_and_body_answer_the_same_and_change_nothing_more(
        self, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        body = {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": 5}]}
        first = _stock(stock_client, body)
        second = _stock(stock_client, body)
        assert first.json() == second.json()
        assert "Idempotent-Replayed" not in first.headers
        assert second.headers["Idempotent-Replayed"] == "true"
        assert _levels() == [("NW-1", code, 15, 3)]

    def test_the_same_key_with_another_body_is_409_and_changes_nothing(
        self, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        _stock(
            stock_client, {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": 5}]}
        )
        response = _stock(
            stock_client, {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": 6}]}
        )
        assert response.status_code == 409
        assert response.json()["error"] == "idempotency_key_reused"
        assert _levels() == [("NW-1", code, 15, 3)]

    def test_another_key_may_use_the_same_idempotency_key(
        self, make_api_key: MakeKey, stock_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        body = {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": 1}]}
        _stock(stock_client, body)
        _other, key = make_api_key("write:stock", name="WMS")
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
        assert _stock(other, body).status_code == 200
        assert _levels() == [("NW-1", code, 12, 3)]

    def test_a_missing_idempotency_key_is_400(self, stock_client: APIClient, shelf: Any) -> None:
        response = stock_client.post(
            "/api/v1/sync/stock/",
            {
                "mode": "delta",
                "rows": [{"sku": "NW-1", "location": shelf["store"].code, "delta": 1}],
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"] == "idempotency_key_missing"
        assert _levels() == [("NW-1", shelf["store"].code, 10, 3)]

    def test_a_key_for_prices_may_not_write_stock(
        self, price_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        code = shelf["store"].code
        response = _stock(
            price_client, {"mode": "delta", "rows": [{"sku": "NW-1", "location": code, "delta": 1}]}
        )
        assert response.status_code == 403
        assert response.json()["error"] == "missing_scope"
        assert _levels() == [("NW-1", code, 10, 3)]


class TestPrices:
    def test_prices_are_created_updated_or_left(
        self, price_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        # given
        web = factories.PriceListFactory(channel="web", currency="EUR")
        factories.PriceListFactory(channel="store", currency="EUR")
        factories.PriceFactory(variant=shelf["first"], price_list=web, amount=Decimal("49.95"))
        # when
        response = price_client.post(
            "/api/v1/sync/prices/",
            {
                "rows": [
                    {"sku": "NW-1", "channel": "web", "currency": "EUR", "amount": "39.95",
                     "compare_at_amount": "49.95"},
                    {"sku": "NW-1", "channel": "store", "currency": "EUR", "amount": "49.95"},
                ]
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="prices-1",
        )  # fmt: skip
        # then
        assert response.status_code == 200
        assert [r["outcome"] for r in response.json()["results"]] == ["updated", "created"]
        assert set(
            Price.objects.values_list("price_list__channel", "amount", "compare_at_amount")
        ) == {("web", Decimal("39.95"), Decimal("49.95")), ("store", Decimal("49.95"), None)}

    def test_a_channel_without_a_price_list_refuses_the_whole_call(
        self, price_client: APIClient, shelf: dict[str, Any]
    ) -> None:
        factories.PriceListFactory(channel="web", currency="EUR")
        response = price_client.post(
            "/api/v1/sync/prices/",
            {
                "rows": [
                    {"sku": "NW-1", "channel": "web", "currency": "EUR", "amount": "10.00"},
                    {"sku": "NW-1", "channel": "app", "currency": "USD", "amount": "12.00"},
                ]
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="prices-2",
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "rows.1": ["There is no active app price list in USD."]
        }
        assert Price.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_apply_the_delta_once(
    make_api_key: MakeKey, store: Any
) -> None:
    # given
    factories.StockLevelFactory(variant=factories.VariantFactory(sku="NW-9"), location=store)
    _api_key, key = make_api_key("write:stock")
    body = {"mode": "delta", "rows": [{"sku": "NW-9", "location": store.code, "delta": 5}]}
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict[str, Any]]] = []

    def call() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
        barrier.wait(timeout=10)
        response = _stock(client, body, key="same-key")
        answers.append((response.status_code, response.json()))
        connection.close()

    # when
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert StockLevel.objects.get().on_hand == 15
    assert IdempotencyRecord.objects.count() == 1
