"""The right of access (download my data) and the right to erasure."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import AccessLog, Case, Customer, Identity, TimelineEvent
from customers.privacy import customer_data_export, customer_erase
from integrations.models import WebhookEvent
from interaction_platform.accounts.models import ApiToken, User
from interaction_platform.accounts.services import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper_with_history(shopper: User) -> Customer:
    customer = shopper.customer
    customer.loyalty_number = "NW00000042"
    customer.save()
    TimelineEvent.objects.create(
        customer=customer,
        occurred_at=timezone.now(),
        received_at=timezone.now(),
        channel="web",
        type="Product Viewed",
        source="web",
        message_id="m-1",
        properties={"sku": "NW-1", "query": "anna's coat"},
    )
    Case.objects.create(
        customer=customer, channel="web", subject="Parcel for Anna", description="Call 0612345678"
    )
    return customer


class TestDownload:
    def test_the_file_holds_profile_identities_consent_cases_and_timeline(
        self, client: Client, shopper: User, shopper_with_history: Customer
    ) -> None:
        client.force_login(shopper)
        response = client.get("/account/data/")
        assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
        data = json.loads(response.content)
        assert data["id"] == str(shopper_with_history.public_id)
        assert data["profile"]["email"] == shopper_with_history.email
        assert {"kind": "loyalty", "value": "NW00000042"} not in data[
            "identities"
        ]  # set after creation
        assert [event["type"] for event in data["timeline"]] == ["Product Viewed"]
        assert [case["subject"] for case in data["cases"]] == ["Parcel for Anna"]
        # and the download itself counts as a request resolved by self-service
        assert Case.objects.filter(
            subject="Downloaded their data", resolution="self_service"
        ).exists()

    def test_only_the_shopper_themselves(self, client: Client, agent: User) -> None:
        client.force_login(agent)
        assert client.get("/account/data/").status_code == 403


class TestRequest:
    def test_asking_opens_one_erasure_request(self, client: Client, shopper: User) -> None:
        client.force_login(shopper)
        client.post("/account/erasure/", {"confirm": "yes"})
        client.post("/account/erasure/", {"confirm": "yes"})
        assert list(Case.objects.values_list("subject", "status", "channel")) == [
            ("Erasure request", "open", "web")
        ]
        assert Customer.objects.get(user=shopper).erased_at is None

    def test_without_confirmation_nothing_happens(self, client: Client, shopper: User) -> None:
        client.force_login(shopper)
        response = client.post("/account/erasure/", {})
        assert response.status_code == 400
        assert Case.objects.count() == 0


class TestErase:
    def test_personal_data_goes_and_the_erasure_is_recorded(
        self, shopper: User, shopper_with_history: Customer, agent: User
    ) -> None:
        # given: an order that must stay for accounting, and a live API token
        order = factories.OrderFactory(customer=shopper_with_history)
        api_token_create(user=shopper, name="phone")
        # when
        erased = customer_erase(customer=shopper_with_history, actor=agent, reason="case #7")
        # then: the profile, identities, event properties, case text and login are gone
        assert (erased.first_name, erased.email, erased.phone, erased.loyalty_number) == (
            "",
            "",
            "",
            None,
        )
        assert erased.erased_at is not None
        assert erased.display_name.startswith("Erased customer ")
        assert Identity.objects.filter(customer=erased).count() == 0
        assert list(
            TimelineEvent.objects.filter(customer=erased).values_list("type", "properties")
        ) == [("Product Viewed", {})]
        assert list(Case.objects.filter(customer=erased).values_list("subject", "description")) == [
            ("(erased)", "")
        ]
        login = User.objects.get(pk=shopper.pk)
        assert (login.is_active, login.email, login.has_usable_password()) == (False, "", False)
        assert ApiToken.objects.filter(user=login).count() == 0
        assert erased.user is None
        # the order stays, under the customer's pseudonymous id
        order.refresh_from_db()
        assert order.customer_id == erased.pk
        # the erasure is itself recorded and announced
        assert list(AccessLog.objects.values_list("actor_id", "action", "via", "reason")) == [
            (agent.pk, "edit", "erasure", "case #7")
        ]
        [announced] = WebhookEvent.objects.filter(event_type="customer.erased")
        assert announced.payload == {
            "id": str(erased.public_id),
            "erased_at": erased.erased_at.isoformat(),
        }

    def test_erasing_twice_changes_nothing(
        self, shopper_with_history: Customer, agent: User
    ) -> None:
        first = customer_erase(customer=shopper_with_history, actor=agent, reason="x")
        second = customer_erase(customer=shopper_with_history, actor=agent, reason="again")
        assert second.erased_at == first.erased_at
        assert AccessLog.objects.count() == 1
        assert WebhookEvent.objects.filter(event_type="customer.erased").count() == 1


class TestConsoleErase:
    def test_an_agent_erases_after_confirming(
        self, client: Client, agent: User, shopper_with_history: Customer
    ) -> None:
        client.force_login(agent)
        url = f"/console/customers/{shopper_with_history.public_id}/erase/"
        refused = client.post(url, {"reason": "asked"}, follow=True)
        assert "nothing was erased" in refused.content.decode()
        assert Customer.objects.get(pk=shopper_with_history.pk).erased_at is None
        assert client.post(url, {"reason": "asked", "confirm": "yes"})["Location"] == "/console/"
        assert Customer.objects.get(pk=shopper_with_history.pk).erased_at is not None
        # and the erased profile is gone from the console
        assert (
            client.get(f"/console/customers/{shopper_with_history.public_id}/").status_code == 404
        )

    def test_store_staff_cannot_erase(
        self, client: Client, staff: User, shopper_with_history: Customer
    ) -> None:
        client.force_login(staff)
        response = client.post(
            f"/console/customers/{shopper_with_history.public_id}/erase/", {"confirm": "yes"}
        )
        assert response.status_code == 403
        assert Customer.objects.get(pk=shopper_with_history.pk).erased_at is None


def test_orders_keep_their_amounts_but_lose_contact_details_and_addresses(
    shopper_with_history: Customer, agent: User
) -> None:
    # given: an order with the shopper's contact details and delivery address
    order = factories.OrderFactory(
        customer=shopper_with_history,
        email="anna@example.com",
        phone="+31611111111",
        delivery_address={"line1": "Damrak 1", "postcode": "1012 LG", "city": "Amsterdam"},
    )
    exported = customer_data_export(customer=shopper_with_history)
    assert [(row["number"], row["email"]) for row in exported["orders"]] == [
        (order.number, "anna@example.com")
    ]
    # when
    customer_erase(customer=shopper_with_history, actor=agent, reason="x")
    # then
    order.refresh_from_db()
    assert (order.email, order.phone, order.delivery_address, order.total) == (
        "",
        "",
        {},
        Decimal("49.95"),
    )
