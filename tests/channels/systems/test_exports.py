"""Exports of orders, customers and timeline events: streamed CSV / JSON Lines, filtered by
date, guarded by API-key scopes and roles, personal data written to the access log and never
given to marketers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import AccessLog, Customer, TimelineEvent
from interaction_platform.accounts.models import User
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

MakeKey = Callable[..., tuple[Any, str]]


def _key_client(make_api_key: MakeKey, *scopes: str) -> tuple[APIClient, Any]:
    api_key, key = make_api_key(*scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client, api_key


def _body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response))))


class TestOrders:
    @pytest.fixture
    def orders(self, store: Any) -> list[Order]:
        now = timezone.now()
        old = factories.OrderFactory(number="NW-OLD", store=store)
        new = factories.OrderFactory(
            number="NW-NEW",
            total=Decimal("10.00"),
            tax_total=Decimal("1.74"),
            subtotal=Decimal("8.26"),
        )
        Order.objects.filter(pk=old.pk).update(placed_at=now - timedelta(days=10))
        Order.objects.filter(pk=new.pk).update(placed_at=now - timedelta(days=1))
        return [old, new]

    def test_orders_as_csv_filtered_by_date(
        self, make_api_key: MakeKey, orders: list[Order]
    ) -> None:
        client, _ = _key_client(make_api_key, "read:orders")
        since = (timezone.now() - timedelta(days=3)).date().isoformat()
        response = client.get(f"/api/v1/exports/orders/?since={since}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="orders-')
        rows = _csv(response)
        new = orders[1]
        assert rows == [
            {
                "number": "NW-NEW",
                "customer_id": str(new.customer.public_id),
                "channel": "web",
                "origin_channel": "web",
                "store": "",
                "status": "paid",
                "fulfilment_method": "delivery",
                "currency": "EUR",
                "subtotal": "8.26",
                "discount_total": "0.00",
                "shipping_total": "0.00",
                "tax_total": "1.74",
                "total": "10.00",
                "placed_at": Order.objects.get(pk=new.pk).placed_at.isoformat(),
                "updated_at": Order.objects.get(pk=new.pk).updated_at.isoformat(),
            }
        ]
        assert AccessLog.objects.count() == 0  # no personal data in an order export

    def test_orders_as_json_lines(
        self, make_api_key: MakeKey, orders: list[Order], store: Any
    ) -> None:
        client, _ = _key_client(make_api_key, "read:orders")
        response = client.get("/api/v1/exports/orders/?format=jsonl")
        assert response["Content-Type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in _body(response).splitlines()]
        assert [(line["number"], line["store"]) for line in lines] == [
            ("NW-OLD", store.code),
            ("NW-NEW", None),
        ]

    def test_a_key_without_the_scope_and_other_roles_are_refused(
        self, make_api_key: MakeKey, agent: User, orders: list[Order]
    ) -> None:
        client, _ = _key_client(make_api_key, "read:customers")
        refused = client.get("/api/v1/exports/orders/")
        assert refused.status_code == 403
        assert refused["Content-Type"] == "application/json"
        assert refused.json()["error"] == "missing_scope"
        agent_client = APIClient()
        agent_client.force_authenticate(agent)
        assert agent_client.get("/api/v1/exports/orders/").status_code == 403
        assert APIClient().get("/api/v1/exports/orders/").status_code == 401

    @pytest.mark.parametrize(
        ("query", "field"),
        [("since=yesterday", "since"), ("until=", "until"), ("format=", "format")],
    )
    def test_a_bad_filter_is_400_in_json(self, admin_user: User, query: str, field: str) -> None:
        client = APIClient()
        client.force_authenticate(admin_user)
        response = client.get(f"/api/v1/exports/orders/?{query}")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert list(response.json()["fields"]) == [field]

    def test_an_unknown_format_is_404_in_json(self, admin_user: User) -> None:
        client = APIClient()
        client.force_authenticate(admin_user)
        response = client.get("/api/v1/exports/orders/?format=xml")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


class TestCustomers:
    @pytest.fixture
    def people(self) -> dict[str, Customer]:
        anna = factories.CustomerFactory(
            first_name="=HYPERLINK(1)", email="anna@example.com", email_consent=True
        )
        bram = factories.CustomerFactory(first_name="Bram", email="bram@example.com")
        erased = factories.CustomerFactory(first_name="Gone", erased_at=timezone.now())
        absorbed = factories.CustomerFactory(first_name="Absorbed")
        Customer.objects.filter(pk=absorbed.pk).update(merged_into=bram)
        return {"anna": anna, "bram": bram, "erased": erased}

    def test_a_key_gets_personal_data_and_every_customer_is_logged(
        self, make_api_key: MakeKey, people: dict[str, Customer]
    ) -> None:
        client, api_key = _key_client(make_api_key, "read:customers")
        rows = _csv(client.get("/api/v1/exports/customers/?reason=nightly%20CRM%20sync"))
        assert [(r["first_name"], r["email"]) for r in rows] == [
            ("'=HYPERLINK(1)", "anna@example.com"),  # a formula is never handed to Excel
            ("Bram", "bram@example.com"),
        ]
        assert rows[0]["id"] == str(people["anna"].public_id)
        logs = AccessLog.objects.order_by("customer_id")
        assert [(log.customer, log.actor, log.action, log.reason) for log in logs] == [
            (people["anna"], api_key.owner, "export", "nightly CRM sync"),
            (people["bram"], api_key.owner, "export", "nightly CRM sync"),
        ]
        assert logs[0].via == f"GET /api/v1/exports/customers/ with API key {api_key.prefix}… (ERP)"

    def test_the_consent_filter(self, make_api_key: MakeKey, people: dict[str, Customer]) -> None:
        client, _ = _key_client(make_api_key, "read:customers")
        rows = _csv(client.get("/api/v1/exports/customers/?consent=email"))
        assert [r["email"] for r in rows] == ["anna@example.com"]
        assert AccessLog.objects.count() == 1

    def test_a_marketer_gets_no_personal_data_and_nothing_is_logged(
        self, marketer: User, people: dict[str, Customer]
    ) -> None:
        client = APIClient()
        client.force_authenticate(marketer)
        response = client.get("/api/v1/exports/customers/?format=jsonl")
        body = _body(response)
        assert response.status_code == 200
        records = [json.loads(line) for line in body.splitlines()]
        assert list(records[0]) == [
            "home_store", "country", "email_consent", "sms_consent", "direct_mail_consent",
            "channels_used", "first_seen_at", "last_seen_at", "order_count", "lifetime_revenue",
            "currency",
        ]  # fmt: skip
        assert len(records) == 2
        for personal in ("anna@example.com", "Bram", "HYPERLINK", str(people["anna"].public_id)):
            assert personal not in body
        assert AccessLog.objects.count() == 0

    def test_an_agent_may_not_export_customers(self, agent: User, people: Any) -> None:
        client = APIClient()
        client.force_authenticate(agent)
        assert client.get("/api/v1/exports/customers/").status_code == 403
        assert AccessLog.objects.count() == 0

    def test_the_command_needs_an_actor_for_personal_data(
        self, people: dict[str, Customer], admin_user: User, marketer: User
    ) -> None:
        with pytest.raises(CommandError, match="--actor"):
            call_command("export_customers", "--personal-data", stdout=io.StringIO())
        with pytest.raises(CommandError, match="not an active user allowed"):
            call_command("export_customers", "--personal-data", "--actor", marketer.username)
        assert AccessLog.objects.count() == 0
        out = io.StringIO()
        call_command(
            "export_customers", "--personal-data", "--actor", admin_user.username, stdout=out
        )
        assert [r["email"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == [
            "anna@example.com",
            "bram@example.com",
        ]
        assert set(AccessLog.objects.values_list("actor", "via")) == {
            (admin_user.pk, "manage.py export_customers")
        }


class TestTimeline:
    def test_events_in_a_period_are_exported_and_each_customer_logged_once(
        self, admin_user: User, store: Any
    ) -> None:
        # given
        anna = factories.CustomerFactory()
        now = timezone.now()
        for index, days_ago in enumerate((1, 2, 40)):
            TimelineEvent.objects.create(
                customer=anna,
                occurred_at=now - timedelta(days=days_ago),
                received_at=now,
                channel="store",
                type="Store Visited",
                source="pos",
                message_id=f"m{index}",
                store=store,
                properties={"minutes": index},
            )
        client = APIClient()
        client.force_authenticate(admin_user)
        since = (now - timedelta(days=7)).isoformat()
        # when
        response = client.get("/api/v1/exports/timeline/", {"since": since, "format": "jsonl"})
        # then
        records = [json.loads(line) for line in _body(response).splitlines()]
        assert [(r["message_id"], r["store"], r["properties"]) for r in records] == [
            ("m1", store.code, {"minutes": 1}),
            ("m0", store.code, {"minutes": 0}),
        ]
        assert list(AccessLog.objects.values_list("customer", "actor", "action")) == [
            (anna.pk, admin_user.pk, "export")
        ]

    def test_the_command_writes_a_file(self, admin_user: User, tmp_path: Any) -> None:
        target = tmp_path / "timeline.csv"
        call_command("export_timeline", "--actor", admin_user.username, "--output", str(target))
        assert target.read_text().splitlines() == [
            "customer_id,occurred_at,received_at,channel,type,source,message_id,store,order,properties"
        ]
