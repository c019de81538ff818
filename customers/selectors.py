"""Customer reads shared by the API and the channels."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet

from customers import identity
from customers.models import Case, CaseStatus, Customer, Identity, IdentityKind
from interaction_platform.errors import NotFound

# A chain of merges is short (each merge points at the survivor); the cap guards against a cycle.
MAX_MERGE_HOPS = 10


def customer_resolve_merged(*, customer: Customer) -> Customer:
    """Follow ``merged_into`` to the surviving profile."""
    for _ in range(MAX_MERGE_HOPS):
        if customer.merged_into_id is None:
            return customer
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_find_by_identity(*, kind: IdentityKind, value: str) -> Customer | None:
    """The live (not erased) customer an identifier leads to, following merges. ``value`` is
    normalised first; raises InvalidInput when it cannot be."""
    normalised = identity.normalise(kind, value)
    found = Identity.objects.filter(kind=kind, value=normalised).select_related("customer").first()
    if found is None:
        return None
    customer = customer_resolve_merged(customer=found.customer)
    return None if customer.erased_at else customer


def customer_for_user(*, user_id: int) -> Customer | None:
    return Customer.objects.filter(user_id=user_id, erased_at__isnull=True).first()


def customer_list_with_identities() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related("identities").select_related("home_store")


def customer_overview() -> dict[str, int]:
    """Aggregate counts for dashboards: no personal data leaves this function."""
    live = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    return live.aggregate(
        customers=Count("id"),
        identified=Count("id", filter=Q(is_identified=True)),
        with_login=Count("id", filter=Q(user__isnull=False)),
        loyalty_members=Count("id", filter=Q(loyalty_number__isnull=False)),
        analytics_consent=Count("id", filter=Q(analytics_consent=True)),
        email_consent=Count("id", filter=Q(email_consent=True)),
        sms_consent=Count("id", filter=Q(sms_consent=True)),
        direct_mail_consent=Count("id", filter=Q(direct_mail_consent=True)),
    )


def case_overview() -> dict[str, int]:
    return Case.objects.aggregate(
        open=Count("id", filter=~Q(status=CaseStatus.RESOLVED)),
        resolved=Count("id", filter=Q(status=CaseStatus.RESOLVED)),
    )


def customers_per_home_store() -> list[dict[str, Any]]:
    rows = (
        Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
        .values("home_store__name")
        .annotate(customers=Count("id"))
        .order_by("-customers", "home_store__name")
    )
    return [dict(row) for row in rows]


def customer_get_by_public_id(*, public_id: UUID | str) -> Customer:
    """A live customer by public id, following merges. Raises NotFound (also for erased)."""
    customer = Customer.objects.select_related("home_store").filter(public_id=public_id).first()
    if customer is not None:
        customer = customer_resolve_merged(customer=customer)
    if customer is None or customer.erased_at is not None:
        raise NotFound("There is no such customer.")
    return customer


def case_list_open() -> QuerySet[Case]:
    return (
        Case.objects.exclude(status=CaseStatus.RESOLVED)
        .select_related("customer")
        .order_by("opened_at", "id")
    )
