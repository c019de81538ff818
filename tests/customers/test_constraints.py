"""The database keeps the customer record's invariants."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from customers.models import AccessLog, Identity, IdentityKind
from interaction_platform.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_identifier_leads_to_one_customer_only() -> None:
    first = factories.CustomerFactory(email="anna@example.com")
    second = factories.CustomerFactory(email="other@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Identity.objects.create(customer=second, kind=IdentityKind.EMAIL, value="anna@example.com")
    assert list(
        Identity.objects.filter(kind=IdentityKind.EMAIL, value="anna@example.com").values_list(
            "customer_id", flat=True
        )
    ) == [first.pk]


def test_the_same_value_may_be_two_kinds_of_identity() -> None:
    customer = factories.CustomerFactory(identities=False)
    Identity.objects.create(customer=customer, kind=IdentityKind.USER_ID, value="42")
    Identity.objects.create(customer=customer, kind=IdentityKind.EXTERNAL, value="42")
    assert customer.identities.count() == 2


def test_an_identity_value_cannot_be_empty() -> None:
    customer = factories.CustomerFactory(identities=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="")
    assert customer.identities.count() == 0


def test_loyalty_numbers_are_unique() -> None:
    factories.CustomerFactory(loyalty_number="NW00000001")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CustomerFactory(loyalty_number="NW00000001", identities=False)


def test_a_customer_cannot_be_merged_into_itself() -> None:
    customer = factories.CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET merged_into_id = id WHERE id = %s", [customer.pk]
        )
    customer.refresh_from_db()
    assert customer.merged_into_id is None


def test_a_resolved_case_needs_a_time_and_a_resolution() -> None:
    case = factories.CustomerFactory().cases.create(channel="web", subject="Where is my parcel?")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_case SET status = 'resolved' WHERE id = %s", [case.pk])
    case.refresh_from_db()
    assert case.status == "open"


@pytest.mark.postgres
def test_the_access_log_refuses_updates_and_deletes_on_postgresql() -> None:
    # given
    agent = factories.UserFactory(role=Role.AGENT)
    entry = AccessLog.objects.create(
        actor=agent, customer=factories.CustomerFactory(), action="view", via="console"
    )
    # when / then: neither the ORM nor raw SQL can rewrite the evidence
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(reason="nothing to see")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == ""
    assert AccessLog.objects.count() == 1
