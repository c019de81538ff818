"""Stock writes. Every change is one conditional ``UPDATE`` per (variant, location), so stock is
never sold twice and never goes negative, whatever the concurrency: the row lock PostgreSQL
takes for the update serialises competing buyers, and the ``WHERE`` clause re-checks the
availability under that lock. The database CHECKs (``0 <= reserved <= on_hand``) are the second
line.

These functions run inside the caller's transaction (the order services own it); rows are
always updated in one fixed order — by location, then variant — so two transactions touching the
same rows can never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.errors import OutOfStock
from catalog.models import StockLevel
from catalog.sync import stock_low_emit_if_crossed, stock_low_is_crossed


@dataclass(frozen=True, order=True)
class StockMove:
    """``quantity`` units of one variant at one location. Ordered by location, then variant:
    the one order in which stock rows are locked."""

    location_id: int
    variant_id: int
    quantity: int


def _in_lock_order(moves: Iterable[StockMove]) -> list[StockMove]:
    merged: dict[tuple[int, int], int] = {}
    for move in moves:
        if move.quantity <= 0:
            raise ValueError(f"a stock move needs a positive quantity, not {move.quantity}")
        key = (move.location_id, move.variant_id)
        merged[key] = merged.get(key, 0) + move.quantity
    return [
        StockMove(loc, variant, quantity) for (loc, variant), quantity in sorted(merged.items())
    ]


def stock_reserve(*, moves: Iterable[StockMove]) -> None:
    """Promise units to an order: ``reserved += n WHERE on_hand - reserved >= n``.

    Raises OutOfStock (naming the first variant short) when any move cannot be met; the caller's
    transaction must then be rolled back, which undoes the moves already made."""
    now = timezone.now()
    for move in _in_lock_order(moves):
        _take(move, _RESERVE, now=now)


def stock_sell_now(*, moves: Iterable[StockMove]) -> None:
    """Units leave the shelf at once (a carry-out sale): ``on_hand -= n WHERE on_hand -
    reserved >= n`` — units promised to other orders are never sold. Raises OutOfStock."""
    now = timezone.now()
    for move in _in_lock_order(moves):
        _take(move, _SELL_NOW, now=now)


# Taking units, as one statement that also hands back what is left: the row stays locked from
# this UPDATE until the caller commits, and on a hot SKU every buyer waits for that lock, so no
# second round trip (a read for the stock.low check) may sit inside it.
_RESERVE = "reserved = reserved + %(quantity)s"
_SELL_NOW = "on_hand = on_hand - %(quantity)s"
_TAKE_SQL = """
UPDATE {table} SET {change}, updated_at = %(now)s
WHERE variant_id = %(variant)s AND location_id = %(location)s
  AND on_hand >= reserved + %(quantity)s
RETURNING on_hand, reserved"""


def _take(move: StockMove, change: str, *, now: datetime) -> None:
    """``change`` units of ``move`` if that many are available (else OutOfStock), then tell
    the ERP when availability just fell under the threshold (``stock.low``)."""
    sql = _TAKE_SQL.format(table=StockLevel._meta.db_table, change=change)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "quantity": move.quantity,
                "now": connection.ops.adapt_datetimefield_value(now),
                "variant": move.variant_id,
                "location": move.location_id,
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise OutOfStock.for_variant(variant_id=move.variant_id)
    on_hand, reserved = row
    if stock_low_is_crossed(
        available_before=on_hand - reserved + move.quantity, available=on_hand - reserved
    ):
        sku, location = (
            StockLevel.objects.filter(variant_id=move.variant_id, location_id=move.location_id)
            .values_list("variant__sku", "location__code")
            .get()
        )
        stock_low_emit_if_crossed(
            sku=sku,
            location=location,
            available_before=on_hand - reserved + move.quantity,
            on_hand=on_hand,
            reserved=reserved,
        )


def stock_release(*, moves: Iterable[StockMove]) -> None:
    """Give reserved units back (an order cancelled before its goods left)."""
    now = timezone.now()
    for move in _in_lock_order(moves):
        updated = StockLevel.objects.filter(
            variant_id=move.variant_id,
            location_id=move.location_id,
            reserved__gte=move.quantity,
        ).update(reserved=F("reserved") - move.quantity, updated_at=now)
        if updated != 1:
            raise RuntimeError(f"releasing {move} that was never reserved")


def stock_fulfil(*, moves: Iterable[StockMove]) -> None:
    """Reserved units leave the building (shipped or collected): ``on_hand -= n, reserved -= n``."""
    now = timezone.now()
    for move in _in_lock_order(moves):
        updated = StockLevel.objects.filter(
            variant_id=move.variant_id,
            location_id=move.location_id,
            reserved__gte=move.quantity,
        ).update(
            on_hand=F("on_hand") - move.quantity,
            reserved=F("reserved") - move.quantity,
            updated_at=now,
        )
        if updated != 1:
            raise RuntimeError(f"fulfilling {move} that was never reserved")


def stock_restock(*, moves: Iterable[StockMove]) -> None:
    """Returned units go back on the shelf where they were received (``on_hand += n``); a
    location that never held the variant gets a stock level for it."""
    now = timezone.now()
    for move in _in_lock_order(moves):
        updated = StockLevel.objects.filter(
            variant_id=move.variant_id, location_id=move.location_id
        ).update(on_hand=F("on_hand") + move.quantity, updated_at=now)
        if updated == 1:
            continue
        try:
            with transaction.atomic():
                StockLevel.objects.create(
                    variant_id=move.variant_id, location_id=move.location_id, on_hand=move.quantity
                )
        except IntegrityError:
            # Another transaction created the row between our update and insert.
            StockLevel.objects.filter(
                variant_id=move.variant_id, location_id=move.location_id
            ).update(on_hand=F("on_hand") + move.quantity, updated_at=now)
