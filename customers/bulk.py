"""Bulk writes on the pipeline's hot path.

On PostgreSQL each is one fixed statement over arrays (``unnest``): the rows travel as a few
array parameters and nothing is compiled per row. Django's ``bulk_update`` builds a ``CASE``
expression per row and field, and ``bulk_create`` prepares every value of every model instance;
for a batch of 500 events that was most of a worker's time. Elsewhere (the embedded SQLite,
where volumes are small) the same functions use the ORM.

The statements name the tables; ``tests/customers/test_bulk.py`` checks they are the models'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from customers.models import Customer, Identity, InboxEvent, InboxStatus, TimelineEvent

# Claiming and marking done in one statement writes each row once. The rows stay locked by
# this transaction (SKIP LOCKED lets other workers pass them by); should it roll back, they are
# pending again. ``{where}`` narrows the claim to a shard, or to given rows.
_INBOX_CLAIM = """
UPDATE customers_inboxevent SET status = 'done', processed_at = %s
WHERE id IN (
    SELECT id FROM customers_inboxevent WHERE status = 'pending'{where}
    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
)
RETURNING id, message_id, source, channel, is_shared_device, payload, received_at
"""

_INBOX_INSERT = """
INSERT INTO customers_inboxevent
    (message_id, payload, shard, source, channel, is_shared_device, received_at, status,
     attempts, error)
SELECT event.message_id, event.payload::jsonb, event.shard, %s, %s, %s, %s, 'pending', 0, ''
FROM unnest(%s::varchar[], %s::text[], %s::smallint[]) AS event(message_id, payload, shard)
"""

_TIMELINE_INSERT = """
INSERT INTO customers_timelineevent
    (customer_id, occurred_at, received_at, channel, type, source, message_id, store_id,
     order_id, properties)
SELECT * FROM unnest(
    %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::varchar[], %s::varchar[],
    %s::varchar[], %s::varchar[], %s::bigint[], %s::bigint[], %s::jsonb[]
)
ON CONFLICT (message_id) DO NOTHING
"""

_IDENTITY_INSERT = """
INSERT INTO customers_identity (customer_id, kind, value, source, created_at)
SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[], %s::timestamptz[])
ON CONFLICT (kind, value) DO NOTHING
"""

_STATS_UPDATE = """
UPDATE customers_customer AS customer SET
    first_seen_at = stats.first_seen_at,
    last_seen_at = stats.last_seen_at,
    channels_used = stats.channels_used,
    channel_count = stats.channel_count,
    is_identified = stats.is_identified,
    email = stats.email,
    phone = stats.phone,
    first_name = stats.first_name,
    last_name = stats.last_name,
    updated_at = stats.updated_at
FROM unnest(
    %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::jsonb[], %s::smallint[],
    %s::boolean[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
    %s::timestamptz[]
) AS stats(id, first_seen_at, last_seen_at, channels_used, channel_count, is_identified,
           email, phone, first_name, last_name, updated_at)
WHERE customer.id = stats.id
"""

STATS_FIELDS = (
    "first_seen_at",
    "last_seen_at",
    "channels_used",
    "channel_count",
    "is_identified",
    "email",
    "phone",
    "first_name",
    "last_name",
    "updated_at",
)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """An inbox row claimed by a worker: what processing reads of it (a model instance per
    row cost more than the rest of reading it)."""

    pk: int
    message_id: str
    source: str
    channel: str
    is_shared_device: bool
    payload: Any
    received_at: datetime


def inbox_claim(
    *,
    batch_size: int,
    now: datetime,
    ids: Sequence[int] | None = None,
    shard: int | None = None,
) -> list[ClaimedRow]:
    """Claim up to ``batch_size`` pending rows (of ``ids``, or of ``shard``, when given) for
    this transaction, oldest first, skipping rows other workers hold, and mark them done as of
    ``now``: the caller marks the ones that fail. Call inside a transaction."""
    if _is_postgresql():
        where, params = "", list[Any]([now])
        if ids is not None:
            where = " AND id = ANY(%s)"
            params.append(list(ids))
        if shard is not None:
            where += " AND shard = %s"
            params.append(shard)
        with connection.cursor() as cursor:
            cursor.execute(_INBOX_CLAIM.format(where=where), [*params, batch_size])
            rows = [
                ClaimedRow(
                    pk,
                    message_id,
                    source,
                    channel,
                    is_shared_device,
                    json.loads(payload) if isinstance(payload, str) else payload,
                    received_at,
                )
                for pk, message_id, source, channel, is_shared_device, payload, received_at in (
                    cursor.fetchall()
                )
            ]
        return sorted(rows, key=lambda row: row.pk)
    pending = InboxEvent.objects.select_for_update(skip_locked=True).filter(
        status=InboxStatus.PENDING
    )
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    if shard is not None:
        pending = pending.filter(shard=shard)
    claimed = list(pending.order_by("id")[:batch_size])
    InboxEvent.objects.filter(pk__in=[row.pk for row in claimed]).update(
        status=InboxStatus.DONE, processed_at=now
    )
    return [
        ClaimedRow(
            row.pk,
            row.message_id,
            row.source,
            row.channel,
            row.is_shared_device,
            row.payload,
            row.received_at,
        )
        for row in claimed
    ]


_KNOWN_MESSAGE_IDS = """
SELECT message_id FROM customers_timelineevent WHERE message_id = ANY(%s::varchar[])
"""

_IDENTITY_OWNERS = """
SELECT identity.kind, identity.value, identity.customer_id
FROM customers_identity AS identity
JOIN unnest(%s::varchar[], %s::varchar[]) AS wanted(kind, value)
  ON identity.kind = wanted.kind AND identity.value = wanted.value
"""


def timeline_known(message_ids: Iterable[str]) -> set[str]:
    """Which of ``message_ids`` are on the timeline already."""
    wanted = list(set(message_ids))
    if not wanted:
        return set()
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(_KNOWN_MESSAGE_IDS, [wanted])
            return {message_id for (message_id,) in cursor.fetchall()}
    return set(
        TimelineEvent.objects.filter(message_id__in=wanted).values_list("message_id", flat=True)
    )


def identity_owners(keys: Iterable[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(kind, value, customer id) of each identifier of ``keys`` (kind, value) that exists."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _IDENTITY_OWNERS, [[kind for kind, _ in wanted], [value for _, value in wanted]]
            )
            return [(kind, value, customer_id) for kind, value, customer_id in cursor.fetchall()]
    by_kind: dict[str, set[str]] = {}
    for kind, value in wanted:
        by_kind.setdefault(kind, set()).add(value)
    condition = Q()
    for kind, kind_values in by_kind.items():
        condition |= Q(kind=kind, value__in=kind_values)
    return list(Identity.objects.filter(condition).values_list("kind", "value", "customer_id"))


def inbox_insert(
    *,
    events: Sequence[tuple[str, str, int]],
    source: str,
    channel: str,
    is_shared_device: bool,
    received_at: datetime,
) -> None:
    """Insert pending inbox rows from (message id, payload as JSON text, shard) triples."""
    if not events:
        return
    if _is_postgresql():
        message_ids, payloads, shards = zip(*events, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                _INBOX_INSERT,
                [
                    source,
                    channel,
                    is_shared_device,
                    received_at,
                    list(message_ids),
                    list(payloads),
                    list(shards),
                ],
            )
        return
    InboxEvent.objects.bulk_create(
        InboxEvent(
            message_id=message_id,
            payload=json.loads(payload),
            shard=shard,
            source=source,
            channel=channel,
            is_shared_device=is_shared_device,
            received_at=received_at,
            status=InboxStatus.PENDING,
        )
        for message_id, payload, shard in events
    )


@dataclass(frozen=True)
class TimelineRow:
    customer_id: int
    occurred_at: datetime
    received_at: datetime
    channel: str
    type: str
    source: str
    message_id: str
    store_id: int | None
    order_id: int | None
    properties: dict[str, Any]


def timeline_insert(rows: Sequence[TimelineRow]) -> None:
    """Append rows to the timeline in the order given; a message id already there is skipped."""
    if not rows:
        return
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _TIMELINE_INSERT,
                [
                    [row.customer_id for row in rows],
                    [row.occurred_at for row in rows],
                    [row.received_at for row in rows],
                    [row.channel for row in rows],
                    [row.type for row in rows],
                    [row.source for row in rows],
                    [row.message_id for row in rows],
                    [row.store_id for row in rows],
                    [row.order_id for row in rows],
                    [json.dumps(row.properties) for row in rows],
                ],
            )
        return
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                customer_id=row.customer_id,
                occurred_at=row.occurred_at,
                received_at=row.received_at,
                channel=row.channel,
                type=row.type,
                source=row.source,
                message_id=row.message_id,
                store_id=row.store_id,
                order_id=row.order_id,
                properties=row.properties,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


@dataclass(frozen=True)
class IdentityRow:
    customer_id: int
    kind: str
    value: str
    source: str


def identities_insert(rows: Sequence[IdentityRow], *, created_at: datetime) -> None:
    """Insert identities in the order given; one whose (kind, value) exists is skipped (the
    caller checks who owns it afterwards). Inserting in one order lets concurrent writers of
    overlapping identities wait for each other instead of deadlocking."""
    if not rows:
        return
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _IDENTITY_INSERT,
                [
                    [row.customer_id for row in rows],
                    [row.kind for row in rows],
                    [row.value for row in rows],
                    [row.source for row in rows],
                    [created_at] * len(rows),
                ],
            )
        return
    Identity.objects.bulk_create(
        [
            Identity(customer_id=row.customer_id, kind=row.kind, value=row.value, source=row.source)
            for row in rows
        ],
        ignore_conflicts=True,
    )


@dataclass(slots=True)
class LockedCustomer:
    """What the inbox worker reads of a customer it locks: the checks it makes and the
    statistics (``STATS_FIELDS``) it updates. Changed in place, then saved."""

    pk: int
    merged_into_id: int | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels_used: list[str]
    channel_count: int
    is_identified: bool
    email: str
    phone: str
    first_name: str
    last_name: str
    updated_at: datetime


_LOCK_FOR_STATS = """
SELECT id, merged_into_id, first_seen_at, last_seen_at, channels_used, channel_count,
       is_identified, email, phone, first_name, last_name, updated_at
FROM customers_customer WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE
"""


def customers_lock_for_stats(ids: Iterable[int]) -> dict[int, LockedCustomer]:
    """Lock the customers ``ids`` in id order (the order of ``customers.locks``) and read
    what the inbox worker needs of them. Unknown ids are absent. Call inside a transaction."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_FOR_STATS, [wanted])
            rows = cursor.fetchall()
        return {row[0]: _locked(row) for row in rows}
    customers = (
        Customer.objects.select_for_update(no_key=True)
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", "merged_into_id", *STATS_FIELDS)
    )
    return {row[0]: _locked(row) for row in customers}


def _locked(row: Sequence[Any]) -> LockedCustomer:
    """From (id, merged_into_id, *STATS_FIELDS); jsonb may arrive as text (Django leaves
    decoding to its JSONField)."""
    channels = row[4]
    return LockedCustomer(
        pk=row[0],
        merged_into_id=row[1],
        first_seen_at=row[2],
        last_seen_at=row[3],
        channels_used=json.loads(channels) if isinstance(channels, str) else list(channels),
        channel_count=row[5],
        is_identified=row[6],
        email=row[7],
        phone=row[8],
        first_name=row[9],
        last_name=row[10],
        updated_at=row[11],
    )


def customers_stats_save(customers: Sequence[LockedCustomer]) -> None:
    """Write STATS_FIELDS of ``customers`` (locked by the caller)."""
    if not customers:
        return
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _STATS_UPDATE,
                [
                    [customer.pk for customer in customers],
                    [customer.first_seen_at for customer in customers],
                    [customer.last_seen_at for customer in customers],
                    [json.dumps(customer.channels_used) for customer in customers],
                    [customer.channel_count for customer in customers],
                    [customer.is_identified for customer in customers],
                    [customer.email for customer in customers],
                    [customer.phone for customer in customers],
                    [customer.first_name for customer in customers],
                    [customer.last_name for customer in customers],
                    [customer.updated_at for customer in customers],
                ],
            )
        return
    Customer.objects.bulk_update(
        [
            Customer(pk=customer.pk, **{name: getattr(customer, name) for name in STATS_FIELDS})
            for customer in customers
        ],
        list(STATS_FIELDS),
    )
