"""The signed-in customer's profile, and staff lookup — with refusals and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import AccessLog, Customer, Identity
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

NOT_AUTHENTICATED = {
    "error": "not_authenticated",
    "message": "Sign in, or send a token: 'Authorization: Bearer <token>'.",
    "fields": {},
}


def _profile_row(customer: Customer) -> dict[str, Any]:
    return dict(Customer.objects.filter(pk=customer.pk).values().get())


class TestMe:
    def test_anonymous_gets_401_with_a_challenge(self, api_client: APIClient) -> None:
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    def test_a_shopper_reads_their_own_profile(self, api_client: APIClient, shopper: User) -> None:
        api_client.force_authenticate(shopper)
        response = api_client.get("/api/v1/me/")
        customer = shopper.customer
        assert response.status_code == 200
        assert response.json() == {
            "id": str(customer.public_id),
            "first_name": "Anna",
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
            "loyalty_number": None,
            "home_store": None,
            "address_line1": "",
            "address_line2": "",
            "postcode": "",
            "city": "",
            "country": "",
            "consent": {"analytics": False, "email": False, "sms": False, "direct_mail": False},
            "first_seen_at": customer.first_seen_at.astimezone(
                timezone.get_current_timezone()
            ).isoformat(),
            "last_seen_at": customer.last_seen_at.astimezone(
                timezone.get_current_timezone()
            ).isoformat(),
            "channels_used": [],
            "order_count": 0,
            "lifetime_revenue": "0.00",
            "currency": "EUR",
        }

    def test_staff_have_no_own_profile(self, api_client: APIClient, agent: User) -> None:
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 403
        assert response.json() == {
            "error": "not_allowed",
            "message": "Your role does not allow this.",
            "fields": {},
        }

    def test_a_shopper_without_a_customer_record_gets_404(self, api_client: APIClient) -> None:
        api_client.force_authenticate(factories.UserFactory(role=Role.SHOPPER))
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 404
        assert response.json()["message"] == "Your login has no customer profile."

    def test_update_name_and_phone(self, api_client: APIClient, shopper: User) -> None:
        api_client.force_authenticate(shopper)
        response = api_client.patch(
            "/api/v1/me/", {"first_name": "Anne", "phone": "06 1234 5678"}, format="json"
        )
        assert response.status_code == 200
        assert (response.json()["first_name"], response.json()["phone"]) == ("Anne", "+31612345678")
        assert Identity.objects.filter(
            customer=shopper.customer, kind="phone", value="+31612345678"
        ).exists()

    @pytest.mark.parametrize(
        ("body", "status", "fields"),
        [
            ({}, 400, {}),
            ({"phone": "not a phone"}, 400, {"phone": ["Not a phone number."]}),
            (
                {"phone": "+31 6 12"},
                400,
                {"phone": ["Not a valid phone number; include the country code."]},
            ),
            (
                {"country": "nl"},
                400,
                {"country": ["This value does not match the required pattern."]},
            ),
            ({"email": "new@example.com"}, 400, {"email": ["This field cannot be changed here."]}),
            (
                {"first_name": "x" * 101},
                400,
                {"first_name": ["Ensure this field has no more than 100 characters."]},
            ),
        ],
    )
    def test_refusals_change_nothing(
        self,
        api_client: APIClient,
        shopper: User,
        body: dict[str, str],
        status: int,
        fields: dict[str, list[str]],
    ) -> None:
        before = _profile_row(shopper.customer)
        identities_before = Identity.objects.count()
        api_client.force_authenticate(shopper)
        response = api_client.patch("/api/v1/me/", body, format="json")
        assert response.status_code == status
        assert response.json()["error"] == "invalid"
        assert response.json()["fields"] == fields
        assert _profile_row(shopper.customer) == before
        assert Identity.objects.count() == identities_before

    def test_someone_elses_phone_is_a_conflict_and_changes_nothing(
        self, api_client: APIClient, shopper: User
    ) -> None:
        factories.CustomerFactory(phone="+31687654321")
        before = _profile_row(shopper.customer)
        api_client.force_authenticate(shopper)
        response = api_client.patch(
            "/api/v1/me/", {"first_name": "Changed", "phone": "+31687654321"}, format="json"
        )
        assert response.status_code == 409
        assert response.json() == {
            "error": "identity_taken",
            "message": "This phone number already belongs to another customer.",
            "fields": {"phone": ["Already used by another customer."]},
        }
        assert _profile_row(shopper.customer) == before

    def test_a_body_that_is_not_json_is_refused(self, api_client: APIClient, shopper: User) -> None:
        api_client.force_authenticate(shopper)
        response = api_client.patch("/api/v1/me/", "{nope", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "malformed_body"
        form = api_client.patch("/api/v1/me/", "first_name=x", content_type="text/plain")
        assert form.status_code == 415
        assert form.json()["error"] == "unsupported_media_type"


class TestLookup:
    @pytest.fixture
    def anna(self) -> Customer:
        return factories.CustomerFactory(
            first_name="Anna",
            email="anna@example.com",
            phone="+31611111111",
            loyalty_number="NW00000042",
        )

    @pytest.mark.parametrize(
        "params",
        [
            {"email": "  Anna@Example.COM "},
            {"phone": "06-11111111"},
            {"phone": "+31 6 1111 1111"},
            {"loyalty": "nw 0000 0042"},
        ],
    )
    def test_an_agent_finds_a_customer_and_it_is_audited(
        self, api_client: APIClient, agent: User, anna: Customer, params: dict[str, str]
    ) -> None:
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/customers/lookup/", {**params, "reason": "inbound call"})
        assert response.status_code == 200
        [found] = response.json()
        assert found["id"] == str(anna.public_id)
        assert sorted((i["kind"], i["value"]) for i in found["identities"]) == [
            ("email", "anna@example.com"),
            ("loyalty", "NW00000042"),
            ("phone", "+31611111111"),
        ]
        assert list(
            AccessLog.objects.values_list("actor_id", "customer_id", "action", "via", "reason")
        ) == [(agent.pk, anna.pk, "lookup", "GET /api/v1/customers/lookup/", "inbound call")]

    def test_store_staff_may_look_up_too(
        self, api_client: APIClient, staff: User, anna: Customer
    ) -> None:
        api_client.force_authenticate(staff)
        response = api_client.get("/api/v1/customers/lookup/", {"loyalty": "NW00000042"})
        assert [c["id"] for c in response.json()] == [str(anna.public_id)]
        assert AccessLog.objects.get().reason == "lookup by loyalty"

    def test_a_merged_profile_leads_to_the_survivor(
        self, api_client: APIClient, agent: User
    ) -> None:
        survivor = factories.CustomerFactory(email="keep@example.com")
        absorbed = factories.CustomerFactory(email="old@example.com", merged_into=survivor)
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/customers/lookup/", {"email": "old@example.com"})
        assert [c["id"] for c in response.json()] == [str(survivor.public_id)]
        assert absorbed.pk != survivor.pk

    def test_an_erased_customer_is_not_found(
        self, api_client: APIClient, agent: User, anna: Customer
    ) -> None:
        Customer.objects.filter(pk=anna.pk).update(erased_at=timezone.now())
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/customers/lookup/", {"email": "anna@example.com"})
        assert response.json() == []
        assert AccessLog.objects.count() == 0

    def test_nobody_found_is_an_empty_list_and_no_audit_row(
        self, api_client: APIClient, agent: User
    ) -> None:
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/customers/lookup/", {"email": "who@example.com"})
        assert (response.status_code, response.json()) == (200, [])
        assert AccessLog.objects.count() == 0

    @pytest.mark.parametrize(
        ("params", "fields", "message"),
        [
            ({}, {}, "Give exactly one of email, phone or loyalty."),
            (
                {"email": "a@example.com", "phone": "+31611111111"},
                {},
                "Give exactly one of email, phone or loyalty.",
            ),
            (
                {"email": "not-an-email"},
                {"email": ["Not an e-mail address."]},
                "'not-an-email' is not an e-mail address.",
            ),
            (
                {"phone": "12"},
                {"phone": ["Not a valid phone number; include the country code."]},
                "'12' is not a valid phone number.",
            ),
            (
                {"loyalty": "!!"},
                {"loyalty": ["4 to 32 letters and digits."]},
                "'!!' is not a loyalty number.",
            ),
            ({"email": "null"}, {"email": ["Not usable."]}, "'null' cannot identify anyone."),
        ],
    )
    def test_bad_queries_are_400_and_audit_nothing(
        self,
        api_client: APIClient,
        agent: User,
        anna: Customer,
        params: dict[str, str],
        fields: object,
        message: str,
    ) -> None:
        api_client.force_authenticate(agent)
        response = api_client.get("/api/v1/customers/lookup/", params)
        assert response.status_code == 400
        assert response.json() == {"error": "invalid", "message": message, "fields": fields}
        assert AccessLog.objects.count() == 0

    @pytest.mark.parametrize("role", [Role.SHOPPER, Role.MARKETER])
    def test_shoppers_and_marketers_cannot_look_people_up(
        self, api_client: APIClient, anna: Customer, role: Role
    ) -> None:
        api_client.force_authenticate(factories.UserFactory(role=role))
        response = api_client.get("/api/v1/customers/lookup/", {"email": "anna@example.com"})
        assert response.status_code == 403
        assert response.json()["error"] == "not_allowed"
        assert "anna" not in response.content.decode()
        assert AccessLog.objects.count() == 0

    def test_anonymous_is_401(self, api_client: APIClient, anna: Customer) -> None:
        response = api_client.get("/api/v1/customers/lookup/", {"email": "anna@example.com"})
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
