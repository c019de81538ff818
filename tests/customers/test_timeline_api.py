"""The customer and timeline API: newest first, keyset cursor, filters; every staff read of a
profile or timeline in the access log; the merge review queue and undoing merges."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from rest_framework.test import APIClient

from customers.models import AccessLog, Customer, Identity, Merge, MergeReview, TimelineEvent
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")


def _events(customer: Customer, count: int, **fields: Any) -> list[TimelineEvent]:
    return TimelineEvent.objects.bulk_create(
        TimelineEvent(
            customer=customer,
            occurred_at=T0 + timedelta(minutes=number),
            received_at=T0 + timedelta(days=1),
            channel=fields.get("channel", ("web", "store", "app")[number % 3]),
            type=fields.get("type", f"Step {number}"),
            source="test",
            message_id=f"{customer.pk}-{fields.get('prefix', 'e')}-{number}",
            properties={"n": number},
        )
        for number in range(count)
    )


def _ids(response: Any) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def anna() -> Customer:
    return factories.CustomerFactory(first_name="Anna", email="anna@example.com")


@pytest.fixture
def as_agent(api_client: APIClient, agent: User) -> APIClient:
    api_client.force_authenticate(agent)
    return api_client


class TestCustomerDetail:
    def test_an_agent_reads_identities_and_statistics_and_it_is_audited(
        self, as_agent: APIClient, agent: User, anna: Customer
    ) -> None:
        Customer.objects.filter(pk=anna.pk).update(
            channels_used=["store", "web"], channel_count=2, first_seen_at=T0, last_seen_at=T0
        )
        response = as_agent.get(f"/api/v1/customers/{anna.public_id}/")
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["email"], body["channels_used"], body["channel_count"]) == (
            str(anna.public_id),
            "anna@example.com",
            ["store", "web"],
            2,
        )
        assert sorted((i["kind"], i["value"]) for i in body["identities"]) == [
            ("email", "anna@example.com"),
            ("phone", anna.phone),
        ]
        assert list(AccessLog.objects.values_list("actor_id", "customer_id", "action", "via")) == [
            (agent.pk, anna.pk, "view", "GET /api/v1/customers/{id}/")
        ]

    def test_the_id_of_a_merged_profile_leads_to_the_survivor(
        self, as_agent: APIClient, anna: Customer
    ) -> None:
        absorbed = factories.CustomerFactory(merged_into=anna)
        response = as_agent.get(f"/api/v1/customers/{absorbed.public_id}/")
        assert response.json()["id"] == str(anna.public_id)
        assert AccessLog.objects.get().customer_id == anna.pk

    def test_a_shopper_sees_their_own_profile_unaudited_and_nobody_elses(
        self, api_client: APIClient, shopper: User, anna: Customer
    ) -> None:
        api_client.force_authenticate(shopper)
        own = api_client.get(f"/api/v1/customers/{shopper.customer.public_id}/")
        other = api_client.get(f"/api/v1/customers/{anna.public_id}/")
        assert own.status_code == 200
        assert (other.status_code, other.json()["error"]) == (404, "not_found")
        assert AccessLog.objects.count() == 0

    @pytest.mark.parametrize(("role", "status"), [(None, 401), (Role.MARKETER, 403)])
    def test_others_are_refused_and_nothing_is_audited(
        self, api_client: APIClient, anna: Customer, role: Role | None, status: int
    ) -> None:
        if role is not None:
            api_client.force_authenticate(factories.UserFactory(role=role))
        response = api_client.get(f"/api/v1/customers/{anna.public_id}/")
        assert response.status_code == status
        assert "anna" not in response.content.decode()
        assert AccessLog.objects.count() == 0

    def test_an_unknown_or_erased_customer_is_not_found(
        self, as_agent: APIClient, anna: Customer
    ) -> None:
        Customer.objects.filter(pk=anna.pk).update(erased_at=T0)
        for public_id in (uuid.uuid4(), anna.public_id):
            response = as_agent.get(f"/api/v1/customers/{public_id}/")
            assert response.json() == {
                "error": "not_found",
                "message": "No such customer.",
                "fields": {},
            }
        assert AccessLog.objects.count() == 0


class TestTimeline:
    def test_newest_first_in_keyset_pages_each_event_once(
        self, as_agent: APIClient, anna: Customer
    ) -> None:
        # given: 7 events, two of which happened at the same instant
        events = _events(anna, 6)
        TimelineEvent.objects.create(
            customer=anna,
            occurred_at=events[3].occurred_at,
            received_at=T0,
            channel="web",
            type="Same time",
            source="test",
            message_id="tie",
        )
        url = f"/api/v1/customers/{anna.public_id}/timeline/"
        # when: reading pages of 3
        pages = []
        cursor: str | None = None
        while True:
            params = {"page_size": 3, **({"cursor": cursor} if cursor else {})}
            response = as_agent.get(url, params)
            assert response.status_code == 200
            pages.append(_ids(response))
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        # then
        prefix = f"{anna.pk}-e-"
        assert pages == [
            [f"{prefix}5", f"{prefix}4", "tie"],
            [f"{prefix}3", f"{prefix}2", f"{prefix}1"],
            [f"{prefix}0"],
        ]
        assert AccessLog.objects.filter(action="timeline").count() == 3

    def test_one_event_in_full(self, as_agent: APIClient, anna: Customer, store: Any) -> None:
        order = factories.OrderFactory(customer=anna, number="NW00000042")
        TimelineEvent.objects.create(
            customer=anna,
            occurred_at=T0,
            received_at=T0 + timedelta(seconds=3),
            channel="store",
            type="POS Order Completed",
            source="pos-amsterdam",
            message_id="order-completed:NW00000042",
            store=store,
            order=order,
            properties={"total": "49.95", "currency": "EUR"},
        )
        response = as_agent.get(f"/api/v1/customers/{anna.public_id}/timeline/")
        assert response.json() == {
            "results": [
                {
                    "id": "order-completed:NW00000042",
                    "occurred_at": "2024-05-01T12:00:00+02:00",
                    "received_at": "2024-05-01T12:00:03+02:00",
                    "channel": "store",
                    "type": "POS Order Completed",
                    "source": "pos-amsterdam",
                    "store": store.code,
                    "order": "NW00000042",
                    "properties": {"total": "49.95", "currency": "EUR"},
                }
            ],
            "next_cursor": None,
        }

    def test_filters_by_channel_type_and_time(self, as_agent: APIClient, anna: Customer) -> None:
        _events(anna, 9)
        url = f"/api/v1/customers/{anna.public_id}/timeline/"
        p = f"{anna.pk}-e-"
        assert _ids(as_agent.get(url, {"channel": "store"})) == [f"{p}7", f"{p}4", f"{p}1"]
        assert _ids(as_agent.get(url, {"type": "Step 2"})) == [f"{p}2"]
        window = {
            "since": (T0 + timedelta(minutes=2)).isoformat(),
            "until": (T0 + timedelta(minutes=5)).isoformat(),
        }
        assert _ids(as_agent.get(url, window)) == [f"{p}4", f"{p}3", f"{p}2"]
        # filters and cursor together
        first = as_agent.get(url, {"channel": "web", "page_size": 2})
        assert _ids(first) == [f"{p}6", f"{p}3"]
        rest = as_agent.get(
            url, {"channel": "web", "page_size": 2, "cursor": first.json()["next_cursor"]}
        )
        assert (_ids(rest), rest.json()["next_cursor"]) == ([f"{p}0"], None)

    def test_a_deep_page_costs_the_queries_of_the_first(
        self, as_agent: APIClient, anna: Customer, django_assert_num_queries: Any
    ) -> None:
        _events(anna, 120)
        url = f"/api/v1/customers/{anna.public_id}/timeline/"
        deep = as_agent.get(url, {"page_size": 100}).json()["next_cursor"]
        with django_assert_num_queries(3):  # the customer, the page, the audit row
            first = as_agent.get(url, {"page_size": 10})
        with django_assert_num_queries(3):
            last = as_agent.get(url, {"page_size": 10, "cursor": deep})
        assert _ids(first) == [f"{anna.pk}-e-{n}" for n in range(119, 109, -1)]
        assert _ids(last) == [f"{anna.pk}-e-{n}" for n in range(19, 9, -1)]

    @pytest.mark.parametrize(
        ("params", "fields"),
        [
            (
                {"cursor": "garbage"},
                {"cursor": ["Not a cursor this API gave out; pass next_cursor unchanged."]},
            ),
            ({"channel": "fax"}, {"channel": ['"fax" is not a valid choice.']}),
            ({"since": "yesterday"}, None),
            (
                {"page_size": "0"},
                {"page_size": ["Ensure this value is greater than or equal to 1."]},
            ),
            (
                {"page_size": "101"},
                {"page_size": ["Ensure this value is less than or equal to 100."]},
            ),
            (
                {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"},
                {"until": ["Must be later than since."]},
            ),
            ({"type": ""}, {"type": ["Give a value, or leave the parameter out."]}),
        ],
    )
    def test_bad_parameters_are_400_and_not_audited(
        self,
        as_agent: APIClient,
        anna: Customer,
        params: dict[str, str],
        fields: dict[str, list[str]] | None,
    ) -> None:
        _events(anna, 2)
        response = as_agent.get(f"/api/v1/customers/{anna.public_id}/timeline/", params)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid"
        if fields is not None:
            assert response.json()["fields"] == fields
        else:
            assert list(response.json()["fields"]) == list(params)
        assert AccessLog.objects.count() == 0

    def test_a_tampered_cursor_is_refused(self, as_agent: APIClient, anna: Customer) -> None:
        _events(anna, 5)
        url = f"/api/v1/customers/{anna.public_id}/timeline/"
        cursor = as_agent.get(url, {"page_size": 2}).json()["next_cursor"]
        payload, signature = cursor.rsplit(":", 1)
        forged = signing.dumps(["2030-01-01T00:00:00+00:00", 1], salt="someone else")
        for bad in (f"{payload}:{signature[:-2]}xx", forged):
            response = as_agent.get(url, {"cursor": bad})
            assert response.status_code == 400
            assert list(response.json()["fields"]) == ["cursor"]

    @pytest.mark.parametrize("role", [Role.STORE_STAFF, Role.MARKETER, Role.SHOPPER])
    def test_only_agents_read_a_customers_timeline(
        self, api_client: APIClient, anna: Customer, role: Role, store: Any
    ) -> None:
        user = factories.UserFactory(role=role)
        user.stores.add(store)
        api_client.force_authenticate(user)
        _events(anna, 1)
        response = api_client.get(f"/api/v1/customers/{anna.public_id}/timeline/")
        assert (response.status_code, response.json()["error"]) == (403, "not_allowed")
        assert AccessLog.objects.count() == 0


class TestMyTimeline:
    def test_a_shopper_reads_their_own_timeline_only(
        self, api_client: APIClient, shopper: User, anna: Customer
    ) -> None:
        _events(shopper.customer, 2)
        _events(anna, 2)
        api_client.force_authenticate(shopper)
        response = api_client.get("/api/v1/me/timeline/")
        prefix = f"{shopper.customer.pk}-e-"
        assert _ids(response) == [f"{prefix}1", f"{prefix}0"]
        assert AccessLog.objects.count() == 0

    def test_staff_have_no_timeline_of_their_own(self, as_agent: APIClient) -> None:
        assert as_agent.get("/api/v1/me/timeline/").status_code == 403

    def test_a_shopper_without_a_profile_gets_404(self, api_client: APIClient) -> None:
        api_client.force_authenticate(factories.UserFactory(role=Role.SHOPPER))
        response = api_client.get("/api/v1/me/timeline/")
        assert response.json()["message"] == "Your login has no customer profile."


class TestReviewQueue:
    @pytest.fixture
    def review(self) -> MergeReview:
        first = factories.CustomerFactory(first_name="Anna", last_name="Visser")
        second = factories.CustomerFactory(first_name="Bob", last_name="Jansen")
        return MergeReview.objects.create(
            first_customer=first,
            second_customer=second,
            identifiers=[{"kind": "email", "value": first.email}],
            message_id="m-1",
            source="web-store",
            created_at=T0,
            last_seen_at=T0,
        )

    def test_agents_list_open_reviews_and_the_people_shown_are_audited(
        self, as_agent: APIClient, agent: User, review: MergeReview
    ) -> None:
        response = as_agent.get("/api/v1/merge-reviews/")
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        [item] = body["results"]
        assert [c["display_name"] for c in item["customers"]] == ["Anna Visser", "Bob Jansen"]
        assert (item["status"], item["occurrences"], item["merge"]) == ("open", 1, None)
        assert sorted(AccessLog.objects.values_list("customer_id", "reason")) == [
            (review.first_customer_id, "merge review"),
            (review.second_customer_id, "merge review"),
        ]
        assert as_agent.get("/api/v1/merge-reviews/", {"status": "merged"}).json()["count"] == 0

    def test_resolving_by_merge_then_undoing_it(
        self, as_agent: APIClient, review: MergeReview
    ) -> None:
        url = f"/api/v1/merge-reviews/{review.pk}/resolve/"
        survivor = review.second_customer
        response = as_agent.post(
            url, {"decision": "merge", "survivor": str(survivor.public_id)}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "merged"
        merge = Merge.objects.get()
        assert (merge.survivor_id, merge.absorbed_id) == (survivor.pk, review.first_customer_id)
        again = as_agent.post(url, {"decision": "keep_apart"}, format="json")
        assert (again.status_code, again.json()["error"]) == (409, "resolved_already")
        undo = as_agent.post(f"/api/v1/merges/{merge.pk}/undo/")
        assert undo.status_code == 200
        assert undo.json()["unmerged_at"] is not None
        assert undo.json()["moved"]["customers.identity"] == sorted(
            Identity.objects.filter(customer=review.first_customer).values_list("pk", flat=True)
        )
        assert as_agent.post(f"/api/v1/merges/{merge.pk}/undo/").status_code == 409

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ({}, {"decision": ["This field is required."]}),
            ({"decision": "maybe"}, {"decision": ['"maybe" is not a valid choice.']}),
            (
                {"decision": "merge", "survivor": str(uuid.uuid4())},
                {"survivor": ["Not one of the two customers."]},
            ),
        ],
    )
    def test_bad_decisions_change_nothing(
        self,
        as_agent: APIClient,
        review: MergeReview,
        body: dict[str, str],
        fields: dict[str, list[str]],
    ) -> None:
        response = as_agent.post(f"/api/v1/merge-reviews/{review.pk}/resolve/", body, format="json")
        assert (response.status_code, response.json()["fields"]) == (400, fields)
        review.refresh_from_db()
        assert review.status == "open"
        assert Merge.objects.count() == 0

    def test_only_agents_review(
        self, api_client: APIClient, review: MergeReview, staff: User
    ) -> None:
        api_client.force_authenticate(staff)
        assert api_client.get("/api/v1/merge-reviews/").status_code == 403
        response = api_client.post(
            f"/api/v1/merge-reviews/{review.pk}/resolve/", {"decision": "merge"}, format="json"
        )
        assert response.status_code == 403
        assert Merge.objects.count() == 0
