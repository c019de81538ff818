"""The payload builders the lead wires into the order, return and customer services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from customers.webhook_payloads import (
    customer_created_payload,
    customer_erased_payload,
    customer_merged_payload,
)
from integrations.webhooks import webhook_emit
from orders.models import OrderLine, Return, ReturnLine
from orders.webhook_payloads import order_payload, return_processed_payload
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_order_payload_has_no_personal_data_and_serialises(store: Any) -> None:
    order = factories.OrderFactory(number="NW00000042", store=store, email="anna@example.com")
    OrderLine.objects.create(
        order=order,
        variant=factories.VariantFactory(),
        sku="NW-1",
        product_name="Harbour Parka",
        quantity=1,
        unit_price=Decimal("49.95"),
        tax_rate=Decimal("0.21"),
        line_total=Decimal("49.95"),
    )
    payload = order_payload(order=order)
    assert payload["number"] == "NW00000042"
    assert payload["store"] == store.code
    assert payload["total"] == "49.95"
    assert payload["lines"] == [
        {
            "sku": "NW-1",
            "product_name": "Harbour Parka",
            "quantity": 1,
            "unit_price": "49.95",
            "discount": "0.00",
            "line_total": "49.95",
        }
    ]
    assert "anna@example.com" not in str(payload)
    event = webhook_emit(event_type="order.created", payload=payload)
    assert event.payload == payload


def test_a_return_payload() -> None:
    order = factories.OrderFactory(number="NW7")
    line = OrderLine.objects.create(
        order=order,
        variant=factories.VariantFactory(),
        sku="NW-1",
        product_name="Parka",
        quantity=2,
        unit_price=Decimal("10.00"),
        tax_rate=Decimal("0.21"),
        line_total=Decimal("20.00"),
    )
    returned = Return.objects.create(
        order=order,
        channel="store",
        status="refunded",
        received_at_location=factories.StoreFactory(code="ams"),
        received_at=timezone.now(),
        refund_method="cash",
        refund_amount=Decimal("10.00"),
        currency="EUR",
        idempotency_key="r1",
    )
    ReturnLine.objects.create(
        return_request=returned, order_line=line, quantity=1, refund_amount=Decimal("10.00")
    )
    payload = return_processed_payload(return_request=returned)
    assert (payload["order_number"], payload["refund_amount"], payload["lines"]) == (
        "NW7",
        "10.00",
        [{"sku": "NW-1", "quantity": 1, "restock": True, "refund_amount": "10.00"}],
    )


def test_customer_payloads() -> None:
    anna = factories.CustomerFactory(first_name="Anna", email="anna@example.com")
    absorbed = factories.CustomerFactory()
    now = timezone.now()
    assert customer_created_payload(customer=anna)["email"] == "anna@example.com"
    assert customer_merged_payload(survivor=anna, absorbed=[absorbed], merged_at=now) == {
        "id": str(anna.public_id),
        "merged_ids": [str(absorbed.public_id)],
        "merged_at": now.isoformat(),
    }
    anna.erased_at = now
    assert customer_erased_payload(customer=anna) == {
        "id": str(anna.public_id),
        "erased_at": now.isoformat(),
    }
