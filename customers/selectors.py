"""Customer reads shared by the API and the channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.utils.dateparse import parse_datetime

from customers import identity
from customers.models import (
    Case,
    CaseStatus,
    Customer,
    Identity,
    IdentityKind,
    Merge,
    MergeReview,
    MergeReviewStatus,
    TimelineEvent,
)
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
    """Like :func:`customer_get_live`, for pages: raises NotFound instead of returning None."""
    customer = customer_get_live(public_id=public_id)
    if customer is None:
        raise NotFound("There is no such customer.")
    return customer


def case_list_open() -> QuerySet[Case]:
    return (
        Case.objects.exclude(status=CaseStatus.RESOLVED)
        .select_related("customer")
        .order_by("opened_at", "id")
    )


def customer_get_live(*, public_id: UUID | str) -> Customer | None:
    """The live customer behind ``public_id`` (following merges); None when unknown or erased.
    One query unless the profile was merged."""
    found = Customer.objects.select_related("home_store").filter(public_id=public_id).first()
    if found is None:
        return None
    customer = customer_resolve_merged(customer=found)
    return None if customer.erased_at is not None else customer


@dataclass(frozen=True)
class TimelinePosition:
    """Where a page of a timeline ended: the last event's time and id (newest first)."""

    occurred_at: datetime
    event_id: int


TIMELINE_CURSOR_SALT = "customers.timeline.cursor"


def timeline_cursor_encode(position: TimelinePosition) -> str:
    """An opaque, signed cursor: a client can pass it back but not forge or alter it."""
    return signing.dumps(
        [position.occurred_at.isoformat(), position.event_id], salt=TIMELINE_CURSOR_SALT
    )


def timeline_cursor_decode(value: str) -> TimelinePosition:
    """Raises BadSignature for a cursor this API did not sign, ValueError for a bad one."""
    occurred_at, event_id = signing.loads(value, salt=TIMELINE_CURSOR_SALT)
    parsed = parse_datetime(occurred_at) if isinstance(occurred_at, str) else None
    if parsed is None:
        raise ValueError("no time in the cursor")
    return TimelinePosition(occurred_at=parsed, event_id=int(event_id))


TIMELINE_FIELDS = (
    "id",
    "message_id",
    "occurred_at",
    "received_at",
    "channel",
    "type",
    "source",
    "store__code",
    "order__number",
    "properties",
)


def timeline_list(
    *,
    customer: Customer,
    after: TimelinePosition | None = None,
    channel: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """A page of ``customer``'s timeline, newest first, as plain rows (``TIMELINE_FIELDS``).

    Keyset pagination: ``after`` is the position of the previous page's last row, so that a
    deep page costs what the first one does (the index is customer, occurred_at desc, id desc).
    ``since`` is inclusive, ``until`` exclusive."""
    events = TimelineEvent.objects.filter(customer=customer)
    if after is not None:
        # "(occurred_at, id) < (t, i)", written so the index range starts at t
        events = events.filter(occurred_at__lte=after.occurred_at).exclude(
            occurred_at=after.occurred_at, id__gte=after.event_id
        )
    if channel:
        events = events.filter(channel=channel)
    if event_type:
        events = events.filter(type=event_type)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return list(events.order_by("-occurred_at", "-id").values(*TIMELINE_FIELDS)[:limit])


def merge_review_list(*, status: MergeReviewStatus | None = None) -> QuerySet[MergeReview]:
    """The review queue, most recently seen first, with both customers and their identities."""
    reviews = MergeReview.objects.select_related(
        "first_customer", "second_customer"
    ).prefetch_related("first_customer__identities", "second_customer__identities")
    if status is not None:
        reviews = reviews.filter(status=status)
    return reviews.order_by("-last_seen_at", "-id")


RECENT_VIEWS_SCANNED = 100


# What tells of interest in a product: looking at it (web, app, a store's POS) or asking the call
# centre about it (a case opened with the product named).
INTEREST_EVENTS = ("Product Viewed", "Case Opened")


def customer_recently_viewed(*, customer: Customer, limit: int = 8) -> list[str]:
    """Product ids (slugs) the customer looked at on any channel — the web store, the app, a
    store's POS — or asked the call centre about, newest first, each once."""
    rows = (
        TimelineEvent.objects.filter(customer=customer, type__in=INTEREST_EVENTS)
        .order_by("-occurred_at", "-id")
        .values_list("properties", flat=True)[:RECENT_VIEWS_SCANNED]
    )
    seen: list[str] = []
    for properties in rows:
        product_id = properties.get("product_id") if isinstance(properties, dict) else None
        if isinstance(product_id, str) and product_id not in seen:
            seen.append(product_id)
            if len(seen) == limit:
                break
    return seen


def merge_list_recent(*, limit: int = 20) -> list[Merge]:
    """The latest merges (live and undone), both customers at hand: what an agent may undo."""
    return list(
        Merge.objects.select_related("survivor", "absorbed", "merged_by").order_by(
            "-merged_at", "-id"
        )[:limit]
    )
