"""The call-centre console: search, the 360° view, screen-pop, call logging and cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from customers.inbox import inbox_process_batch
from customers.models import AccessLog, Case, Customer, InboxEvent, TimelineEvent
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def anna() -> Customer:
    return factories.CustomerFactory(
        first_name="Anna",
        last_name="de Groot",
        email="anna@example.com",
        phone="+31611111111",
        loyalty_number="NW00000042",
    )


class TestSearch:
    @pytest.mark.parametrize("query", ["anna@example.com", "0611111111", "NW00000042"])
    def test_an_identifier_opens_the_customer(
        self, console: Client, anna: Customer, query: str
    ) -> None:
        response = console.get("/console/search", {"q": query})
        assert response["Location"] == f"/console/customers/{anna.public_id}/"

    def test_names_list_matches_and_each_shown_customer_is_audited(
        self, console: Client, agent: User, anna: Customer
    ) -> None:
        other = factories.CustomerFactory(first_name="Annabel", last_name="de Wit")
        factories.CustomerFactory(first_name="Bram", last_name="Bos")
        response = console.get("/console/search", {"q": "ann de"})
        body = response.content.decode()
        assert "Anna de Groot" in body
        assert "Annabel de Wit" in body
        assert "Bram" not in body
        assert sorted(AccessLog.objects.values_list("customer_id", "action", "via")) == sorted(
            [(anna.pk, "lookup", "console: search"), (other.pk, "lookup", "console: search")]
        )

    def test_an_order_number_opens_the_customer_who_placed_it(
        self, console: Client, anna: Customer
    ) -> None:
        order = factories.OrderFactory(customer=anna)
        response = console.get("/console/search", {"q": order.number.lower()})
        assert response["Location"] == f"/console/customers/{anna.public_id}/"
        assert list(AccessLog.objects.values_list("customer_id", "action", "via")) == [
            (anna.pk, "lookup", "console: search")
        ]

    def test_no_match_explains_what_to_try(self, console: Client) -> None:
        body = console.get("/console/search", {"q": "Zyx"}).content.decode()
        assert "Nobody matches “Zyx”." in body
        assert AccessLog.objects.count() == 0


class TestCustomer360:
    def test_profile_identities_consent_and_cases_and_the_view_is_audited(
        self, console: Client, agent: User, anna: Customer
    ) -> None:
        Case.objects.create(customer=anna, channel="web", subject="Where is my parcel?")
        body = console.get(f"/console/customers/{anna.public_id}/").content.decode()
        assert "<h1>Anna de Groot</h1>" in body
        assert '<span class="mono">NW00000042</span>' in body
        assert "Where is my parcel?" in body
        assert list(AccessLog.objects.values_list("actor_id", "customer_id", "action", "via")) == [
            (agent.pk, anna.pk, "view", "console: customer 360")
        ]

    @pytest.mark.parametrize("role", [Role.SHOPPER, Role.STORE_STAFF, Role.MARKETER])
    def test_only_agents_may_open_the_console(
        self, client: Client, anna: Customer, role: Role, store: Any
    ) -> None:
        user = factories.UserFactory(role=role)
        user.stores.add(store)
        client.force_login(user)
        assert client.get(f"/console/customers/{anna.public_id}/").status_code == 403
        assert client.get("/console/search", {"q": "anna@example.com"}).status_code == 403
        assert AccessLog.objects.count() == 0

    def test_an_unknown_customer_is_404(self, console: Client) -> None:
        assert (
            console.get("/console/customers/00000000-0000-0000-0000-000000000000/").status_code
            == 404
        )


class TestCalls:
    def test_screen_pop_opens_the_caller_and_logs_the_call_start(
        self, console: Client, anna: Customer
    ) -> None:
        response = console.get("/console/call", {"from": "+31611111111"})
        assert response["Location"] == f"/console/customers/{anna.public_id}/"
        page = console.get(response["Location"]).content.decode()
        assert "On a call from <strong>+31611111111</strong>" in page
        [start] = InboxEvent.objects.all()
        assert start.payload["event"] == "Call Started"
        assert start.payload["properties"]["from"] == "+31611111111"

    def test_an_unknown_number_opens_a_search(self, console: Client) -> None:
        response = console.get("/console/call", {"from": "+31699999999"})
        assert response["Location"] == "/console/search?q=%2B31699999999&list=1"
        assert InboxEvent.objects.count() == 0

    def test_no_number_is_a_clear_message(self, console: Client) -> None:
        response = console.get("/console/call", follow=True)
        assert "The telephone system sent no caller number." in response.content.decode()

    def test_logging_the_outcome_puts_call_completed_on_the_timeline_once(
        self, console: Client, anna: Customer
    ) -> None:
        console.get("/console/call", {"from": "+31611111111"})
        form = {"outcome": "resolved", "notes": "Explained the return policy."}
        assert console.post(f"/console/customers/{anna.public_id}/call/", form).status_code == 302
        inbox_process_batch()
        completed = TimelineEvent.objects.get(type="Call Completed")
        assert completed.channel == "call_centre"
        assert completed.properties["outcome"] == "resolved"
        assert completed.properties["notes"] == "Explained the return policy."
        assert completed.properties["duration_s"] >= 0
        assert "console_call" not in console.session

    def test_a_call_without_an_outcome_is_refused_and_nothing_is_logged(
        self, console: Client, anna: Customer
    ) -> None:
        response = console.post(f"/console/customers/{anna.public_id}/call/", {"outcome": "shrug"})
        assert response.status_code == 400
        assert "Select a valid choice." in response.content.decode()
        assert InboxEvent.objects.count() == 0


class TestCases:
    def test_open_and_resolve_on_first_contact(
        self, console: Client, agent: User, anna: Customer
    ) -> None:
        response = console.post(
            f"/console/customers/{anna.public_id}/cases/",
            {
                "subject": "Wrong size delivered",
                "description": "Ordered M, got L.",
                "resolve_now": "on",
            },
        )
        assert response.status_code == 302
        case = Case.objects.get()
        assert (
            case.subject,
            case.channel,
            case.opened_by,
            case.status,
            case.resolution,
            case.is_resolved_on_first_contact,
        ) == ("Wrong size delivered", "call_centre", agent, "resolved", "agent", True)
        inbox_process_batch()
        assert list(TimelineEvent.objects.order_by("type").values_list("type", flat=True)) == [
            "Case Opened",
            "Case Resolved",
        ]

    def test_resolve_later_and_a_second_resolve_changes_nothing(
        self, console: Client, anna: Customer
    ) -> None:
        console.post(f"/console/customers/{anna.public_id}/cases/", {"subject": "Refund question"})
        case = Case.objects.get()
        assert case.status == "open"
        console.post(f"/console/cases/{case.pk}/resolve/", {})
        case.refresh_from_db()
        resolved_at = case.resolved_at
        assert (case.status, case.is_resolved_on_first_contact) == ("resolved", False)
        response = console.post(
            f"/console/cases/{case.pk}/resolve/", {"is_first_contact": "on"}, follow=True
        )
        assert "was already resolved" in response.content.decode()
        case.refresh_from_db()
        assert (case.resolved_at, case.is_resolved_on_first_contact) == (resolved_at, False)

    def test_a_case_about_an_unknown_product_is_refused(
        self, console: Client, anna: Customer
    ) -> None:
        response = console.post(
            f"/console/customers/{anna.public_id}/cases/",
            {"subject": "Is it waterproof?", "product": "NO-SUCH-SKU"},
        )
        assert response.status_code == 400
        assert "No product has the SKU &#x27;NO-SUCH-SKU&#x27;." in response.content.decode()
        assert Case.objects.count() == 0
        assert InboxEvent.objects.count() == 0

    def test_a_case_without_a_subject_is_refused(self, console: Client, anna: Customer) -> None:
        response = console.post(f"/console/customers/{anna.public_id}/cases/", {"subject": ""})
        assert response.status_code == 400
        assert Case.objects.count() == 0
        assert InboxEvent.objects.count() == 0
