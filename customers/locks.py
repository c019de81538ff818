"""Row locks on customers, always taken in one order (by id) through these helpers, so that two
transactions locking overlapping sets of customers wait for each other instead of deadlocking.

The lock is ``FOR NO KEY UPDATE``: it keeps other writers of the customer row out (the inbox
workers, merges, profile edits) but lets rows that merely point at the customer (identities,
timeline events) be inserted meanwhile. SQLite, the embedded default, has no row locks; its
single writer serialises everything anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from customers.models import Customer

# A chain of merges is short (each merge points at the survivor); the cap guards against a cycle.
MAX_MERGE_HOPS = 10


def customers_lock(*, ids: Iterable[int]) -> dict[int, Customer]:
    """Lock the customers ``ids`` (in id order) and return them by id. Unknown ids are absent.
    Call inside a transaction."""
    rows = Customer.objects.select_for_update(no_key=True).filter(pk__in=set(ids)).order_by("pk")
    return {customer.pk: customer for customer in rows}


def customers_lock_live(*, ids: Iterable[int]) -> tuple[dict[int, Customer], dict[int, int]]:
    """Lock the customers ``ids`` and, following ``merged_into``, the profiles they were merged
    into. Returns every locked customer by id, and for each id asked for the id of the live
    customer it leads to (unknown ids are absent).

    The survivors of merges are locked after the first set, out of id order; should that ever
    meet another transaction doing the same the other way round, the database refuses one of
    them with a deadlock error, which callers treat as transient."""
    wanted = set(ids)
    locked = customers_lock(ids=wanted)
    for _ in range(MAX_MERGE_HOPS):
        survivors = {
            customer.merged_into_id
            for customer in locked.values()
            if customer.merged_into_id is not None and customer.merged_into_id not in locked
        }
        if not survivors:
            break
        locked.update(customers_lock(ids=survivors))
    live_of: dict[int, int] = {}
    for pk in wanted:
        current = locked.get(pk)
        for _ in range(MAX_MERGE_HOPS):
            if current is None or current.merged_into_id is None:
                break
            current = locked.get(current.merged_into_id)
        if current is not None and current.merged_into_id is None:
            live_of[pk] = current.pk
    return locked, live_of
