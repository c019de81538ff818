"""Customer writes. Each function is one transaction and raises domain errors only."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import identity
from customers.inbox import inbox_wake
from customers.locks import customers_lock
from customers.merging import merge_locked, unmerge_locked
from customers.models import (
    AccessAction,
    AccessLog,
    Customer,
    Identity,
    IdentityKind,
    InboxEvent,
    InboxStatus,
    Merge,
    MergeReason,
    MergeReview,
    MergeReviewStatus,
)
from interaction_platform.errors import Conflict, InvalidInput

PROFILE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "phone",
        "address_line1",
        "address_line2",
        "postcode",
        "city",
        "country",
    }
)


def access_log_record(
    *,
    actor: Any,
    customers: Iterable[Customer],
    action: AccessAction,
    via: str,
    reason: str = "",
) -> list[AccessLog]:
    """Write one audit row per customer that ``actor`` (a staff member) read, exported or
    edited. Append-only: rows are never changed afterwards."""
    rows = [
        AccessLog(actor=actor, customer=customer, action=action, via=via[:200], reason=reason[:300])
        for customer in customers
    ]
    return AccessLog.objects.bulk_create(rows)


@transaction.atomic
def customer_update_profile(*, customer: Customer, **changes: str) -> Customer:
    """Change profile fields. A new phone number is normalised to E.164 and becomes the
    customer's phone identity (refused with Conflict if it identifies someone else)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if changes.get("phone"):
        changes["phone"] = identity.normalise_phone(changes["phone"])
        _attach_identity(customer=customer, kind=IdentityKind.PHONE, value=changes["phone"])
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*changes, "updated_at"])
    return customer


def _attach_identity(*, customer: Customer, kind: IdentityKind, value: str) -> None:
    row, _created = Identity.objects.get_or_create(
        kind=kind, value=value, defaults={"customer": customer, "source": "profile"}
    )
    if row.customer_id != customer.pk:
        raise Conflict(
            "This phone number already belongs to another customer.",
            code="identity_taken",
            fields={kind.value: ["Already used by another customer."]},
        )


class ReviewDecision(StrEnum):
    MERGE = "merge"
    KEEP_APART = "keep_apart"


@transaction.atomic
def customer_merge(
    *,
    survivor: Customer,
    absorbed: Customer,
    actor: Any = None,
    reason: MergeReason = MergeReason.REVIEW,
    message_id: str = "",
) -> Merge:
    """Fold ``absorbed`` into ``survivor``: every row pointing at it moves (the merge protocol
    is in :mod:`customers.merging`) and the move is recorded for :func:`customer_unmerge`.
    Locks both customers.

    Raises InvalidInput when both are the same customer, Conflict when either is merged or
    erased already, when ``absorbed`` has a login (the profile with the login must survive;
    two logins are never merged), or when moving the rows breaks a constraint of their app
    (e.g. two open carts, while the cart model has no ``merge_customer_rows``)."""
    if survivor.pk == absorbed.pk:
        raise InvalidInput("A customer cannot be merged into itself.", code="same_customer")
    locked = customers_lock(ids=[survivor.pk, absorbed.pk])
    survivor, absorbed = locked[survivor.pk], locked[absorbed.pk]
    for customer in (survivor, absorbed):
        if customer.merged_into_id is not None:
            raise Conflict(f"{customer.display_name} was merged already.", code="merged_already")
        if customer.erased_at is not None:
            raise Conflict("An erased customer cannot be merged.", code="erased")
    if absorbed.user_id is not None:
        message = (
            "Both profiles have a login; they cannot be merged."
            if survivor.user_id is not None
            else "The profile with a login must be the one that stays."
        )
        raise Conflict(message, code="login_must_survive")
    try:
        with transaction.atomic():
            return merge_locked(
                absorbed=absorbed,
                survivor=survivor,
                reason=reason,
                message_id=message_id,
                actor=actor,
            )
    except IntegrityError as error:
        raise Conflict(
            f"The merge would break a rule of the customer's records: {error}",
            code="merge_refused",
        ) from error


@transaction.atomic
def customer_unmerge(*, merge: Merge, actor: Any = None) -> Merge:
    """Undo ``merge``: the identities, events, carts, orders… it moved go back to the absorbed
    customer, which is live again; rows that arrived after the merge stay with the survivor.
    A review that led to the merge is open again. Locks both customers, then the merge.

    Raises Conflict when the merge was undone already, or when the survivor has since been
    merged into someone else (undo that later merge first)."""
    locked = customers_lock(ids=[merge.survivor_id, merge.absorbed_id])
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.unmerged_at is not None:
        raise Conflict("This merge was undone already.", code="undone_already")
    merge.survivor, merge.absorbed = locked[merge.survivor_id], locked[merge.absorbed_id]
    if (
        merge.survivor.merged_into_id is not None
        or merge.absorbed.merged_into_id != merge.survivor_id
    ):
        raise Conflict(
            "The profiles were merged again since; undo the later merge first.",
            code="merged_again",
        )
    unmerge_locked(merge=merge, actor=actor)
    MergeReview.objects.filter(merge=merge).update(
        status=MergeReviewStatus.OPEN, resolved_at=None, resolved_by=None, merge=None
    )
    return merge


@transaction.atomic
def merge_review_resolve(
    *,
    review: MergeReview,
    decision: ReviewDecision,
    actor: Any,
    survivor: Customer | None = None,
) -> MergeReview:
    """An agent's decision on two people whose identifiers met: merge them (``survivor`` stays;
    by default the one with a login, else the older profile) or keep them apart. Locks the two
    customers, then the review.

    Raises Conflict when the review was resolved already (or the merge is refused, see
    :func:`customer_merge`), InvalidInput when ``survivor`` is not one of the two."""
    pair = customers_lock(ids=[review.first_customer_id, review.second_customer_id])
    review = MergeReview.objects.select_for_update().get(pk=review.pk)
    if review.status != MergeReviewStatus.OPEN:
        raise Conflict("This review was resolved already.", code="resolved_already")
    now = timezone.now()
    if decision == ReviewDecision.MERGE:
        first, second = pair[review.first_customer_id], pair[review.second_customer_id]
        if survivor is None:
            survivor = second if second.user_id is not None and first.user_id is None else first
        elif survivor.pk not in pair:
            raise InvalidInput(
                "The customer who stays must be one of the two under review.",
                fields={"survivor": ["Not one of the two customers."]},
            )
        survivor = pair[survivor.pk]
        absorbed = second if survivor.pk == first.pk else first
        review.merge = customer_merge(
            survivor=survivor,
            absorbed=absorbed,
            actor=actor,
            reason=MergeReason.REVIEW,
            message_id=review.message_id,
        )
        review.status = MergeReviewStatus.MERGED
    else:
        review.status = MergeReviewStatus.KEPT_APART
    review.resolved_at = now
    review.resolved_by = actor
    review.save(update_fields=["status", "resolved_at", "resolved_by", "merge"])
    return review


@transaction.atomic
def inbox_retry_failed(*, ids: Iterable[int]) -> int:
    """Put failed inbox rows back in the queue (after the bug or the data that failed them was
    fixed) and wake a worker. Returns how many rows will be processed again."""
    count = InboxEvent.objects.filter(pk__in=list(ids), status=InboxStatus.FAILED).update(
        status=InboxStatus.PENDING, error=""
    )
    if count:
        transaction.on_commit(inbox_wake)
    return count
