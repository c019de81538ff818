"""The durable inbox: accepting touchpoints and moving them onto the timeline.

:func:`inbox_accept` writes accepted tracking events to the inbox in one transaction and wakes a
worker once it commits. Workers (:func:`inbox_process_batch`) claim pending rows with
``SELECT … FOR UPDATE SKIP LOCKED`` so that any number of them can share the work, resolve each
event's identifiers to a customer (the rules are in :mod:`customers.identity`), append the
events to the timeline (``message_id`` is unique there: a conflict means "already done"), update
the customers' statistics, run the merges the events called for and mark the rows done — all in
one transaction. A repeated or redelivered task therefore changes nothing, and a worker killed
half-way leaves its rows pending for the next one (or for the periodic sweep).

Concurrency. A batch decides on an unlocked read of its customers, then writes the new
identifiers, then locks every customer it writes to (in id order, :mod:`customers.locks`) and
checks that nothing it decided on changed meanwhile: none was merged, none became a known
person. Holding the locks only for the writes lets two workers overlap. Two workers meeting the
same *new* identifier both try to insert it; the unique (kind, value) constraint lets one win and
makes the other wait for it. The loser notices, rolls its whole batch back and runs it again, now
seeing the winner's customer: concurrent events for one new person give one customer. A batch
whose check fails, or that meets a deadlock, is run again the same way.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers import bulk, identity
from customers.identity import (
    CustomerRef,
    EventIdentifiers,
    IdentityKey,
    PlannedConflict,
    ProfileHints,
    ResolutionPlan,
    ref_pk,
)
from customers.locks import CustomerState, customers_read_live
from customers.merging import merge_locked
from customers.models import (
    Customer,
    DroppedEventCount,
    DropReason,
    InboxEvent,
    InboxStatus,
    MergeReason,
    MergeReview,
    TimelineEvent,
)
from customers.webhook_payloads import customer_created_payload
from integrations.webhooks import webhook_emit_many
from interaction_platform.choices import Channel
from interaction_platform.db import insert_all
from interaction_platform.wakeups import wake

logger = logging.getLogger(__name__)

# Rows claimed per transaction: 2,000 placed ~10% more events per second than 1,000 in
# bench/ingest.py (fewer statements per event); a batch that loses a race re-runs whole.
BATCH_SIZE = 2000
# A batch that lost a race for a new identifier, or met a deadlock, is run again this often.
MAX_TRIES = 5
_TRANSIENT_PGCODES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
_TYPE_LENGTH = 100  # TimelineEvent.type
_TIMELINE_NAMES = {
    "identify": "Identified",
    "alias": "Aliased",
    "page": "Page Viewed",
    "screen": "Screen Viewed",
}


# --- accepting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedBatch:
    stored: int
    dropped_without_consent: int


def inbox_accept(
    *,
    events: Sequence[Mapping[str, Any]],
    source: str,
    channel: Channel | str,
    is_shared_device: bool,
    received_at: datetime,
) -> AcceptedBatch:
    """Write validated Segment-spec events (each with a ``messageId``) to the inbox in one
    transaction; once it commits, wake one worker. Events of anonymous visitors without
    analytics consent are not stored: they are counted per day in DroppedEventCount.
    Nothing is stored when anything fails."""
    channel = Channel(channel)
    kept: list[tuple[str, str, int]] = []
    dropped = 0
    for event in events:
        if identity.is_anonymous_event(event) and not identity.has_analytics_consent(event):
            dropped += 1
            continue
        kept.append(
            (event["messageId"], json.dumps(event, separators=(",", ":")), inbox_shard(event))
        )
    with transaction.atomic():
        bulk.inbox_insert(
            events=kept,
            source=source,
            channel=channel,
            is_shared_device=is_shared_device,
            received_at=received_at,
        )
        if dropped:
            _count_dropped(
                day=timezone.localdate(received_at),
                source=source,
                channel=channel,
                reason=DropReason.NO_ANALYTICS_CONSENT,
                count=dropped,
            )
        for shard in sorted({shard for _, _, shard in kept}):
            transaction.on_commit(partial(inbox_wake, shard))
    return AcceptedBatch(stored=len(kept), dropped_without_consent=dropped)


def inbox_shard(event: Mapping[str, Any]) -> int:
    """The inbox shard of an event: a hash of the person it is about, so that one person's
    events are claimed by one worker at a time and workers on different shards never wait for
    each other (identity resolution stays correct across shards either way; they only cost
    retries). The key is the ``userId`` when there is one, else the device's ``anonymousId``,
    else the customer an internal touchpoint names. So a known person's events, the identify
    that names them included, stay in one shard, in order; the one hand-over between shards is
    a visitor's anonymous events before they sign in, which join the person in either order
    without a merge (the identify names both ids)."""
    shards: int = settings.INBOX_SHARDS
    if shards <= 1:
        return 0
    key = event.get("userId") or event.get("anonymousId")
    if not key:
        internal = (event.get("context") or {}).get("internal") or {}
        key = f"customer:{internal.get('customer_id')}"
    return zlib.crc32(str(key).encode()) % shards


def _count_dropped(*, day: Any, source: str, channel: str, reason: str, count: int) -> None:
    """Add ``count`` to the day's counter: a conditional UPDATE, or the first row of the day
    (a concurrent first row is caught by the unique constraint and becomes an UPDATE)."""
    key = {"day": day, "source": source, "channel": channel, "reason": reason}
    if DroppedEventCount.objects.filter(**key).update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            DroppedEventCount.objects.create(**key, count=count)
    except IntegrityError:
        DroppedEventCount.objects.filter(**key).update(count=F("count") + count)


def inbox_wake_queue(shard: int | None) -> str:
    """The wake-up queue of a shard (``interaction_platform.wakeups``); None is every shard."""
    return "inbox" if shard is None else f"inbox:{shard}"


def inbox_wake(shard: int | None = None) -> None:
    """Ask a worker to drain ``shard`` of the inbox (None: every shard), unless a wake-up is
    already pending (coalesced: see ``interaction_platform.wakeups``). The broker only wakes
    workers: when it is unreachable the rows wait in the inbox for the periodic sweep, so the
    failure is logged, not raised (the request that stored them has committed and must still
    get its answer)."""
    from customers.tasks import inbox_process  # the task module imports this one

    try:
        wake(
            inbox_wake_queue(shard),
            lambda: inbox_process.apply_async(kwargs={"shard": shard}, retry=False),
        )
    except Exception:
        logger.warning("could not wake an inbox worker; the sweep will pick the rows up")


# --- processing --------------------------------------------------------------------------------


class _Unprocessable(Exception):
    """Bad data: recorded on the row, never retried."""


class InboxContention(Exception):
    """A batch kept losing races for new identifiers, or meeting deadlocks: try again later."""


class _RaceLost(Exception):
    """Another worker committed an identifier this batch meant to create: run it again."""


def inbox_process_batch(*, batch_size: int = BATCH_SIZE, shard: int | None = None) -> int:
    """Process up to ``batch_size`` pending inbox rows (of ``shard``, or of any) in one
    transaction. Returns how many rows were claimed (0 when the inbox is empty or every
    pending row is being worked on).

    A batch that lost a race for a new identifier or met a deadlock runs again (up to
    MAX_TRIES, then InboxContention is raised). A batch that fails on its data is processed
    again one row at a time, so that only the rows that fail on their own are marked failed.
    Raises OperationalError when the database fails. Either way the rows stay pending and the
    task retries later."""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            return _process(batch_size=batch_size, shard=shard)
        except _RaceLost:
            logger.info("inbox batch lost a race for a new identifier (try %d)", attempt)
        except OperationalError as error:
            if not _is_transient(error):
                raise
            logger.info("inbox batch met %s (try %d)", error, attempt)
        except (DatabaseError, ValueError, TypeError, KeyError, AttributeError):
            logger.exception("inbox batch failed; processing its rows one at a time")
            return _process_one_by_one(batch_size=batch_size, shard=shard)
    raise InboxContention(f"an inbox batch lost {MAX_TRIES} races or deadlocks in a row")


def inbox_drain(*, max_batches: int, shard: int | None = None) -> tuple[int, bool]:
    """Process batches until the inbox (``shard`` of it, when given) is empty or
    ``max_batches`` ran. Returns the rows processed and whether it was found empty."""
    processed = 0
    for _ in range(max_batches):
        claimed = inbox_process_batch(shard=shard)
        processed += claimed
        if claimed == 0:
            return processed, True
    return processed, False


def _is_transient(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) in _TRANSIENT_PGCODES


def _process(*, batch_size: int, ids: Sequence[int] | None = None, shard: int | None = None) -> int:
    with transaction.atomic():
        now = timezone.now()
        rows = bulk.inbox_claim(batch_size=batch_size, now=now, ids=ids, shard=shard)
        if rows:
            _Batch(rows, now=now).run()
    return len(rows)


def _process_one_by_one(*, batch_size: int, shard: int | None) -> int:
    pending = InboxEvent.objects.filter(status=InboxStatus.PENDING)
    if shard is not None:
        pending = pending.filter(shard=shard)
    with transaction.atomic():
        ids = list(
            pending.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("pk", flat=True)[:batch_size]
        )
    for pk in ids:
        try:
            _process(batch_size=1, ids=[pk])
        except (DatabaseError, ValueError, TypeError, KeyError, AttributeError) as error:
            if isinstance(error, OperationalError) and _is_transient(error):
                raise
            logger.exception("inbox row %s failed on its own", pk)
            InboxEvent.objects.filter(pk=pk, status=InboxStatus.PENDING).update(
                status=InboxStatus.FAILED,
                processed_at=timezone.now(),
                attempts=F("attempts") + 1,
                error=f"{type(error).__name__}: {error}"[:1000],
            )
    return len(ids)


@dataclass
class _Event:
    """An inbox row read and ready to place."""

    row: bulk.ClaimedRow
    occurred_at: datetime
    type: str
    properties: dict[str, Any]
    store_id: int | None = None
    store_code: str | None = None
    order_id: int | None = None
    internal_customer_id: int | None = None
    identifiers: EventIdentifiers | None = None
    hints: ProfileHints | None = None
    customer: CustomerRef | None = None


class _Batch:
    """One claimed batch, processed inside the caller's transaction."""

    def __init__(self, rows: list[bulk.ClaimedRow], *, now: datetime) -> None:
        self.rows = rows  # claimed, and marked done unless they fail
        self.failures: dict[int, str] = {}
        self.now = now

    def run(self) -> None:
        events = self._read()
        events = self._skip_known(events)
        owners = _identity_owners(key for event in events for key in _keys(event))
        states, live_of = customers_read_live(
            ids={
                *owners.values(),
                *(e.internal_customer_id for e in events if e.internal_customer_id),
            }
        )
        plan = ResolutionPlan(
            owners={key: live_of[pk] for key, pk in owners.items() if pk in live_of},
            identified={pk: state.is_identified for pk, state in states.items()},
        )
        placed = [event for event in events if self._place(event, plan, live_of)]
        self._write_fresh_customers(plan, placed)
        self._write_identities(plan)
        locked = self._lock(plan, placed, states)
        self._resolve_stores(placed)
        _append_to_timeline(placed)
        self._update_stats(plan, placed, locked)
        self._run_merges(plan)
        self._record_conflicts(plan)
        self._mark_failures()

    # reading

    def _read(self) -> list[_Event]:
        events = []
        for row in self.rows:
            try:
                events.append(_read_row(row))
            except _Unprocessable as error:
                self.failures[row.pk] = str(error)
        return events

    def _skip_known(self, events: list[_Event]) -> list[_Event]:
        """Drop events already on the timeline, and repeats within the batch (first wins)."""
        on_timeline = bulk.timeline_known(event.row.message_id for event in events)
        fresh: dict[str, _Event] = {}
        for event in events:
            if event.row.message_id not in on_timeline:
                fresh.setdefault(event.row.message_id, event)
        return list(fresh.values())

    # deciding

    def _place(self, event: _Event, plan: ResolutionPlan, live_of: Mapping[int, int]) -> bool:
        if event.internal_customer_id is not None:
            live = live_of.get(event.internal_customer_id)
            if live is None:
                self.failures[event.row.pk] = f"no customer {event.internal_customer_id}"
                return False
            event.customer = plan.resolve(live)
            return True
        assert event.identifiers is not None
        event.customer = plan.place(
            event.identifiers,
            is_shared_device=event.row.is_shared_device,
            message_id=event.row.message_id,
            source=event.row.source,
            hints=event.hints,
        )
        if event.customer is None:
            self.failures[event.row.pk] = "the event names nobody: no usable identifier"
            return False
        return True

    # writing

    def _lock(
        self, plan: ResolutionPlan, placed: list[_Event], states: Mapping[int, CustomerState]
    ) -> dict[int, bulk.LockedCustomer]:
        """Lock (in id order) every existing customer this batch writes to, and check that what
        the plan was decided on still holds: none of them was merged meanwhile, and the people
        in a planned merge are as known or anonymous as they were. Otherwise another worker got
        there first: run the batch again."""
        targets = {event.customer for event in placed if isinstance(event.customer, int)}
        in_merges = {
            ref
            for merge in plan.merges
            for ref in (merge.absorbed, merge.survivor)
            if isinstance(ref, int)
        }
        locked = bulk.customers_lock_for_stats(targets | in_merges)
        for pk in targets | in_merges:
            customer = locked.get(pk)
            if customer is None or customer.merged_into_id is not None:
                raise _RaceLost
            if pk in in_merges and customer.is_identified != states[pk].is_identified:
                raise _RaceLost
        return locked

    def _write_fresh_customers(self, plan: ResolutionPlan, placed: list[_Event]) -> None:
        if not plan.fresh:
            return
        by_customer = _events_by_customer(placed)
        customers = []
        for fresh in plan.fresh:
            hints = plan.hints.get(fresh, ProfileHints())
            mine = by_customer.get(fresh, [])
            channels = sorted({event.row.channel for event in mine})
            customers.append(
                Customer(
                    is_identified=plan.identified[fresh],
                    email=hints.email,
                    phone=hints.phone,
                    first_name=hints.first_name,
                    last_name=hints.last_name,
                    first_seen_at=min((e.occurred_at for e in mine), default=None),
                    last_seen_at=max((e.occurred_at for e in mine), default=None),
                    channels_used=channels,
                    channel_count=len(channels),
                )
            )
        insert_all(customers)  # one statement over arrays, not bulk_create
        for fresh, customer in zip(plan.fresh, customers, strict=True):
            fresh.pk = customer.pk
        # Systems that subscribe hear about new known people (not about anonymous visitors).
        webhook_emit_many(
            event_type="customer.created",
            items=[
                (
                    customer_created_payload(customer=customer),
                    f"customer.created:{customer.public_id}",
                )
                for customer in customers
                if customer.is_identified
            ],
        )

    def _write_identities(self, plan: ResolutionPlan) -> None:
        """Insert the new identifiers in (kind, value) order — so that two workers inserting
        overlapping sets wait for each other in one order — then check that every one is ours:
        a concurrent worker may have committed one first."""
        if not plan.new_identities:
            return
        wanted = {item.key: ref_pk(item.customer) for item in plan.new_identities}
        bulk.identities_insert(
            [
                bulk.IdentityRow(
                    customer_id=ref_pk(item.customer),
                    kind=item.key.kind,
                    value=item.key.value,
                    source=item.source[:100],
                )
                for item in sorted(plan.new_identities, key=lambda item: item.key)
            ],
            created_at=self.now,
        )
        if _identity_owners(wanted) != wanted:
            raise _RaceLost

    def _resolve_stores(self, placed: list[_Event]) -> None:
        """Physical touchpoints name their store by code (``properties.store_code``)."""
        codes = {event.store_code for event in placed if event.store_code}
        if not codes:
            return
        location = TimelineEvent._meta.get_field("store").related_model
        assert isinstance(location, type)
        ids = dict(location._default_manager.filter(code__in=codes).values_list("code", "pk"))
        for event in placed:
            if event.store_code and event.store_id is None:
                event.store_id = ids.get(event.store_code)

    def _update_stats(
        self,
        plan: ResolutionPlan,
        placed: list[_Event],
        locked: Mapping[int, bulk.LockedCustomer],
    ) -> None:
        """First/last seen, channels, known-ness and blank profile fields of the existing
        customers that got events or identifiers (fresh ones were written complete)."""
        changed: list[bulk.LockedCustomer] = []
        by_customer = _events_by_customer(placed)
        touched = {
            ref for ref in [*by_customer, *plan.identified, *plan.hints] if isinstance(ref, int)
        }
        for pk in sorted(touched):
            customer = locked.get(pk)
            if customer is None:
                continue
            before = _stats_of(customer)
            mine = by_customer.get(pk, [])
            if mine:
                first = min(event.occurred_at for event in mine)
                last = max(event.occurred_at for event in mine)
                customer.first_seen_at = min(filter(None, [customer.first_seen_at, first]))
                customer.last_seen_at = max(filter(None, [customer.last_seen_at, last]))
                channels = set(customer.channels_used) | {event.row.channel for event in mine}
                customer.channels_used = sorted(channels)
                customer.channel_count = len(channels)
            customer.is_identified = customer.is_identified or plan.identified.get(pk, False)
            hints = plan.hints.get(pk)
            if hints is not None:
                for name in ("email", "phone", "first_name", "last_name"):
                    if not getattr(customer, name):
                        setattr(customer, name, getattr(hints, name))
            if _stats_of(customer) != before:
                customer.updated_at = self.now
                changed.append(customer)
        bulk.customers_stats_save(changed)

    def _run_merges(self, plan: ResolutionPlan) -> None:
        """Run the planned merges in order (fresh customers were created by this transaction;
        the existing ones are locked). A merge that another app's rules refuse (a unique
        constraint on its rows) becomes a review for an agent instead of failing the batch."""
        for planned in plan.merges:
            absorbed_pk, survivor_pk = ref_pk(planned.absorbed), ref_pk(planned.survivor)
            # Whole rows for a merge (locked already, or created by this transaction), read
            # after this batch's statistics were written.
            absorbed = Customer.objects.get(pk=absorbed_pk)
            survivor = Customer.objects.get(pk=survivor_pk)
            try:
                with transaction.atomic():
                    merge_locked(
                        absorbed=absorbed,
                        survivor=survivor,
                        reason=MergeReason.EVENT,
                        message_id=planned.message_id,
                    )
            except IntegrityError:
                logger.warning(
                    "merge of customer %s into %s refused by a constraint; sent to review",
                    absorbed_pk,
                    survivor_pk,
                    exc_info=True,
                )
                plan.conflicts.append(
                    PlannedConflict(
                        placed_on=planned.survivor,
                        other=planned.absorbed,
                        identifiers=planned.identifiers,
                        message_id=planned.message_id,
                        source=planned.source,
                    )
                )

    def _record_conflicts(self, plan: ResolutionPlan) -> None:
        """One review per pair of people, however often they meet: new pairs are inserted,
        known ones counted."""
        if not plan.conflicts:
            return
        by_pair: dict[tuple[int, int], Any] = {}
        for conflict in plan.conflicts:
            low, high = sorted((ref_pk(conflict.placed_on), ref_pk(conflict.other)))
            if (low, high) in by_pair:
                by_pair[(low, high)]["occurrences"] += 1
                continue
            by_pair[(low, high)] = {
                "identifiers": [
                    {"kind": key.kind, "value": key.value} for key in conflict.identifiers
                ],
                "message_id": conflict.message_id,
                "source": conflict.source[:100],
                "occurrences": 1,
            }
        pairs = Q()
        for low, high in by_pair:
            pairs |= Q(first_customer_id=low, second_customer_id=high)
        existing = MergeReview.objects.filter(pairs).select_for_update().order_by("pk")
        for review in existing:
            seen = by_pair.pop((review.first_customer_id, review.second_customer_id))
            MergeReview.objects.filter(pk=review.pk).update(
                occurrences=F("occurrences") + seen["occurrences"], last_seen_at=self.now
            )
        MergeReview.objects.bulk_create(
            [
                MergeReview(
                    first_customer_id=low,
                    second_customer_id=high,
                    created_at=self.now,
                    last_seen_at=self.now,
                    **details,
                )
                for (low, high), details in sorted(by_pair.items())
            ],
            ignore_conflicts=True,
        )

    def _mark_failures(self) -> None:
        for pk, error in self.failures.items():
            InboxEvent.objects.filter(pk=pk).update(
                status=InboxStatus.FAILED,
                processed_at=self.now,
                attempts=F("attempts") + 1,
                error=error[:1000],
            )


def _stats_of(customer: bulk.LockedCustomer) -> tuple[Any, ...]:
    return tuple(getattr(customer, name) for name in bulk.STATS_FIELDS)


def _keys(event: _Event) -> tuple[IdentityKey, ...]:
    return event.identifiers.all_keys() if event.identifiers is not None else ()


def _events_by_customer(placed: list[_Event]) -> dict[CustomerRef, list[_Event]]:
    by_customer: dict[CustomerRef, list[_Event]] = defaultdict(list)
    for event in placed:
        assert event.customer is not None
        by_customer[event.customer].append(event)
    return by_customer


def _identity_owners(keys: Iterable[IdentityKey]) -> dict[IdentityKey, int]:
    """For each identifier that exists, the customer it is attached to (one query)."""
    rows = bulk.identity_owners((key.kind, key.value) for key in keys)
    return {IdentityKey(kind, value): customer_id for kind, value, customer_id in rows}


def _read_row(row: bulk.ClaimedRow) -> _Event:
    payload = row.payload
    if not isinstance(payload, dict):
        raise _Unprocessable("the payload is not an object")
    raw_context = payload.get("context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    properties = payload.get("properties")
    properties = dict(properties) if isinstance(properties, dict) else {}
    occurred_at = _parse_time(payload.get("timestamp")) or row.received_at
    internal = context.get("internal")
    if isinstance(internal, dict):
        return _Event(
            row=row,
            occurred_at=occurred_at,
            type=_text(payload.get("event")) or "Touchpoint",
            properties=properties,
            store_id=_int_or_none(internal.get("store_id")),
            order_id=_int_or_none(internal.get("order_id")),
            internal_customer_id=_required_customer_id(internal.get("customer_id")),
        )
    kind = payload.get("type")
    if kind == "track":
        name = _text(payload.get("event"))
    elif kind in _TIMELINE_NAMES:
        name = _TIMELINE_NAMES[str(kind)]
    else:
        raise _Unprocessable(f"unknown event type {kind!r}")
    if not name:
        raise _Unprocessable("a track event needs an event name")
    if kind in ("page", "screen") and _text(payload.get("name")):
        properties.setdefault("name", payload["name"])
    elif kind == "identify":
        properties = identity.event_traits(payload)
    elif kind == "alias":
        properties = {"previous_id": payload.get("previousId")}
    store_code = properties.get("store_code")
    return _Event(
        row=row,
        occurred_at=occurred_at,
        type=name,
        properties=properties,
        store_code=store_code if isinstance(store_code, str) else None,
        identifiers=identity.identifiers_from_event(payload, is_shared_device=row.is_shared_device),
        hints=identity.profile_hints_from_event(payload),
    )


def _append_to_timeline(placed: list[_Event]) -> None:
    """Insert the events in message-id order (concurrent workers meeting the same id wait for
    each other in one order); an id already on the timeline is skipped."""
    bulk.timeline_insert(
        [
            bulk.TimelineRow(
                customer_id=_customer_pk(event),
                occurred_at=event.occurred_at,
                received_at=event.row.received_at,
                channel=event.row.channel,
                type=event.type[:_TYPE_LENGTH],
                source=event.row.source,
                message_id=event.row.message_id,
                store_id=event.store_id,
                order_id=event.order_id,
                properties=event.properties,
            )
            for event in sorted(placed, key=lambda event: event.row.message_id)
        ]
    )


def _customer_pk(event: _Event) -> int:
    assert event.customer is not None, "only placed events reach the timeline"
    return ref_pk(event.customer)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        return timezone.make_aware(parsed, UTC)
    return parsed


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _required_customer_id(value: object) -> int:
    customer_id = _int_or_none(value)
    if customer_id is None:
        raise _Unprocessable(f"no customer {value!r}")
    return customer_id


def inbox_oldest_pending_at() -> datetime | None:
    """When the oldest pending row was received (None when nothing waits)."""
    return (
        InboxEvent.objects.filter(status=InboxStatus.PENDING)
        .order_by("id")
        .values_list("received_at", flat=True)
        .first()
    )


def inbox_is_stale(*, older_than: timedelta) -> bool:
    """True when a pending row has waited longer than ``older_than``: its wake-up was lost."""
    oldest = inbox_oldest_pending_at()
    return oldest is not None and oldest < timezone.now() - older_than
