"""Row locks on customers, always taken in one order (by id) through these helpers, so that two
transactions locking overlapping sets of customers wait for each other instead of deadlocking.

Readers that decide before they lock (the inbox worker) use :func:`customers_read_live` and
check, once they hold the locks, that what they decided on still holds.

The lock is ``FOR NO KEY UPDATE``: it keeps other writers of the customer row out (the inbox
workers, merges, profile edits) but lets rows that merely point at the customer (identities,
timeline events) be inserted meanwhile. SQLite, the embedded default, has no row locks; its
single writer serialises everything anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from customers.models import Customer

# A chain of merges is short (each merge points at the survivor); the cap guards against a cycle.
MAX_MERGE_HOPS = 10


def customers_lock(*, ids: Iterable[int]) -> dict[int, Customer]:
    """Lock the customers ``ids`` (in id order) and return them by id. Unknown ids are absent.
    Call inside a transaction. (The inbox worker locks its thousands with
    ``customers.bulk.customers_lock_for_stats``, in the same order.)"""
    rows = Customer.objects.select_for_update(no_key=True).filter(pk__in=set(ids)).order_by("pk")
    return {customer.pk: customer for customer in rows}


@dataclass(frozen=True)
class CustomerState:
    merged_into_id: int | None
    is_identified: bool


def customers_read_live(*, ids: Iterable[int]) -> tuple[dict[int, CustomerState], dict[int, int]]:
    """Without locking: the state of the customers ``ids`` and of the profiles they were merged
    into, and for each id asked for the id of the live customer it leads to (unknown ids are
    absent). A caller that decides on this state locks the customers before writing and checks
    that it still holds (see :func:`customers.inbox.inbox_process_batch`)."""
    wanted = set(ids)
    states: dict[int, CustomerState] = {}
    missing = set(wanted)
    for _ in range(MAX_MERGE_HOPS):
        if not missing:
            break
        for pk, merged_into_id, is_identified in _states_of(missing):
            states[pk] = CustomerState(merged_into_id=merged_into_id, is_identified=is_identified)
        missing = {
            state.merged_into_id
            for state in states.values()
            if state.merged_into_id is not None and state.merged_into_id not in states
        }
    live_of: dict[int, int] = {}
    for pk in wanted:
        current = pk if pk in states else None
        for _ in range(MAX_MERGE_HOPS):
            if current is None or states[current].merged_into_id is None:
                break
            following = states[current].merged_into_id
            current = following if following in states else None
        if current is not None and states[current].merged_into_id is None:
            live_of[pk] = current
    return states, live_of


_STATES = "SELECT id, merged_into_id, is_identified FROM customers_customer WHERE id = ANY(%s)"


def _states_of(ids: set[int]) -> list[tuple[int, int | None, bool]]:
    """(id, merged into, identified) of the customers ``ids``: on PostgreSQL one fixed
    statement over an array (the inbox worker asks for a thousand at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_STATES, [sorted(ids)])
            return [
                (pk, merged_into_id, is_identified)
                for pk, merged_into_id, is_identified in cursor.fetchall()
            ]
    return list(
        Customer.objects.filter(pk__in=ids).values_list("pk", "merged_into_id", "is_identified")
    )
