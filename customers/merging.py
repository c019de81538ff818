"""The mechanics of merging two customers and of undoing it.

A merge moves every row that points at the absorbed customer, found through the Customer
model's reverse relations, so this app needs no import of the apps that own those rows (orders,
carts…). The protocol with those apps:

- A related model may define a classmethod
  ``merge_customer_rows(cls, *, absorbed, survivor) -> list[int]``. It is called inside the
  merge's transaction *instead of* the generic move, does whatever its rows need (e.g. folding
  an anonymous open cart into the survivor's open cart), and returns the primary keys of its
  rows that are now attached to the survivor.
- Otherwise the foreign key is re-pointed and the moved primary keys are recorded.

The keys are recorded per model label in :attr:`customers.models.Merge.moved`; an unmerge moves
exactly those rows back with a plain foreign-key update. Rows that say something about one
particular profile never move: the access log (evidence of who read which profile) and the merge
and review records themselves.

These functions do not lock or open transactions: the services and the inbox worker call them
with both customers locked (see :mod:`customers.locks`).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import ForeignObjectRel, Max, Min
from django.db.models.functions import Greatest
from django.utils import timezone

from customers.models import Customer, Identity, IdentityKind, Merge, MergeReason, TimelineEvent
from customers.webhook_payloads import customer_merged_payload
from integrations.webhooks import webhook_emit

STAYS_WITH_ITS_CUSTOMER = frozenset(
    {"customers.accesslog", "customers.merge", "customers.mergereview"}
)
_PK_CHUNK = 5000
STATS_FIELDS = ("first_seen_at", "last_seen_at", "channels_used", "channel_count")


def customer_relations() -> list[tuple[type[models.Model], str]]:
    """Every (model, foreign-key name) that points at Customer and moves in a merge, in a stable
    order. Raises ImproperlyConfigured for a model with two keys to Customer and no
    ``merge_customer_rows``: the generic move could not tell which rows a merge moved."""
    by_model: dict[type[models.Model], list[str]] = defaultdict(list)
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or relation.many_to_many:
            continue
        model = relation.related_model
        if model._meta.label_lower in STAYS_WITH_ITS_CUSTOMER:
            continue
        by_model[model].append(relation.field.name)
    relations: list[tuple[type[models.Model], str]] = []
    for model, names in sorted(by_model.items(), key=lambda item: item[0]._meta.label_lower):
        if len(names) > 1 and not hasattr(model, "merge_customer_rows"):
            raise ImproperlyConfigured(
                f"{model._meta.label} has {len(names)} keys to Customer ({', '.join(names)}): "
                "define merge_customer_rows() so that a merge knows which rows to move."
            )
        relations.extend((model, name) for name in names)
    return relations


def _customer_key(model: type[models.Model]) -> str:
    names = [name for related, name in customer_relations() if related is model]
    if len(names) != 1:
        raise ImproperlyConfigured(f"{model._meta.label} has no single key to Customer.")
    return names[0]


def _move_by_foreign_key(
    model: type[models.Model], key: str, *, absorbed: Customer, survivor: Customer
) -> list[int]:
    manager = model._base_manager
    pks = sorted(manager.filter(**{key: absorbed.pk}).values_list("pk", flat=True))
    for start in range(0, len(pks), _PK_CHUNK):
        chunk = pks[start : start + _PK_CHUNK]
        manager.filter(pk__in=chunk, **{key: absorbed.pk}).update(**{key: survivor.pk})
    return pks


def customer_rows_move(*, absorbed: Customer, survivor: Customer) -> dict[str, list[int]]:
    """Re-point every row of ``absorbed`` at ``survivor``; returns what moved, by model label."""
    moved: dict[str, list[int]] = {}
    for model, key in customer_relations():
        hook = getattr(model, "merge_customer_rows", None)
        if hook is not None:
            pks = sorted(hook(absorbed=absorbed, survivor=survivor))
        else:
            pks = _move_by_foreign_key(model, key, absorbed=absorbed, survivor=survivor)
        if pks:
            moved[model._meta.label_lower] = pks
    return moved


def customer_rows_move_back(*, moved: dict[str, list[int]], absorbed: Customer) -> None:
    """Move the rows a merge recorded back to ``absorbed`` (a plain foreign-key update)."""
    for label, pks in moved.items():
        model = apps.get_model(label)
        key = _customer_key(model)
        for start in range(0, len(pks), _PK_CHUNK):
            chunk = pks[start : start + _PK_CHUNK]
            model._base_manager.filter(pk__in=chunk).update(**{key: absorbed.pk})


def merge_locked(
    *,
    absorbed: Customer,
    survivor: Customer,
    reason: MergeReason,
    message_id: str = "",
    actor: Any = None,
) -> Merge:
    """Fold ``absorbed`` into ``survivor``: move its rows, combine the statistics, point it at
    the survivor and record the merge. Both rows must be locked by the caller, live (not merged)
    and different."""
    absorbed.refresh_from_db()
    survivor.refresh_from_db()
    moved = customer_rows_move(absorbed=absorbed, survivor=survivor)
    channels = sorted(set(survivor.channels_used) | set(absorbed.channels_used))
    Customer.objects.filter(pk=survivor.pk).update(
        first_seen_at=_earliest(survivor.first_seen_at, absorbed.first_seen_at),
        last_seen_at=_latest(survivor.last_seen_at, absorbed.last_seen_at),
        channels_used=channels,
        channel_count=len(channels),
        is_identified=survivor.is_identified or absorbed.is_identified,
        order_count=models.F("order_count") + absorbed.order_count,
        lifetime_revenue=models.F("lifetime_revenue") + absorbed.lifetime_revenue,
        updated_at=timezone.now(),
    )
    Customer.objects.filter(pk=absorbed.pk).update(
        merged_into=survivor.pk, order_count=0, lifetime_revenue=0, updated_at=timezone.now()
    )
    merge = Merge.objects.create(
        survivor=survivor,
        absorbed=absorbed,
        reason=reason,
        message_id=message_id,
        moved=moved,
        order_count_moved=absorbed.order_count,
        revenue_moved=absorbed.lifetime_revenue,
        merged_by=actor,
        merged_at=timezone.now(),
    )
    webhook_emit(
        event_type="customer.merged",
        payload=customer_merged_payload(
            survivor=survivor, absorbed=[absorbed], merged_at=merge.merged_at
        ),
        idempotency_key=f"customer.merged:{merge.pk}",
    )
    return merge


def unmerge_locked(*, merge: Merge, actor: Any = None) -> Merge:
    """Undo ``merge``: its recorded rows go back to the absorbed customer, which is live again;
    both customers' statistics are recomputed. Both rows must be locked by the caller."""
    absorbed, survivor = merge.absorbed, merge.survivor
    customer_rows_move_back(moved=merge.moved, absorbed=absorbed)
    now = timezone.now()
    Customer.objects.filter(pk=absorbed.pk).update(
        merged_into=None,
        order_count=models.F("order_count") + merge.order_count_moved,
        lifetime_revenue=models.F("lifetime_revenue") + merge.revenue_moved,
        updated_at=now,
    )
    Customer.objects.filter(pk=survivor.pk).update(
        order_count=Greatest(models.F("order_count") - merge.order_count_moved, 0),
        lifetime_revenue=Greatest(
            models.F("lifetime_revenue") - merge.revenue_moved, Decimal("0.00")
        ),
        updated_at=now,
    )
    for customer in (absorbed, survivor):
        customer_stats_recompute(customer=customer)
    merge.unmerged_at = now
    merge.unmerged_by = actor
    merge.save(update_fields=["unmerged_at", "unmerged_by"])
    return merge


def customer_stats_recompute(*, customer: Customer) -> None:
    """First/last seen, channels and whether the person is known, from their rows."""
    events = TimelineEvent.objects.filter(customer=customer)
    span = events.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    channels = sorted(set(events.values_list("channel", flat=True).distinct()))
    is_identified = (
        Identity.objects.filter(customer=customer).exclude(kind=IdentityKind.ANONYMOUS_ID).exists()
        or customer.user_id is not None
    )
    Customer.objects.filter(pk=customer.pk).update(
        first_seen_at=span["first"],
        last_seen_at=span["last"],
        channels_used=channels,
        channel_count=len(channels),
        is_identified=is_identified,
    )


def _earliest(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return min(present) if present else None


def _latest(*values: Any) -> Any:
    present = [value for value in values if value is not None]
    return max(present) if present else None
