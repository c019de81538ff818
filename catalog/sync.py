"""Stock and price changes sent by another system (the ERP's bulk sync API, stock and price
imports): validated together, written under row locks taken in one fixed order.

Stock comes as an absolute count (``on_hand``) or a change (``delta``). ``reserved`` units
belong to open orders and are never touched here: a change that would leave fewer units on
hand than are reserved is refused for that row. When the units available (on hand minus
reserved) fall below ``STOCK_LOW_THRESHOLD``, a ``stock.low`` webhook is emitted in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from catalog.models import Location, Price, PriceList, StockLevel, Variant
from integrations.webhooks import webhook_emit
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput

MAX_ROWS = 5000


class StockMode(StrEnum):
    ABSOLUTE = "absolute"
    DELTA = "delta"


class ChangeOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class StockChange:
    sku: str
    location: str
    quantity: int  # the new on_hand (absolute) or the change (delta)


@dataclass(frozen=True)
class StockResult:
    sku: str
    location: str
    outcome: ChangeOutcome
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "location": self.location,
            "outcome": self.outcome.value,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
        }


@dataclass(frozen=True)
class PriceChange:
    sku: str
    channel: str
    currency: str
    amount: Decimal
    compare_at_amount: Decimal | None = None


@dataclass(frozen=True)
class PriceResult:
    sku: str
    channel: str
    currency: str
    outcome: ChangeOutcome
    amount: Decimal
    compare_at_amount: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "channel": self.channel,
            "currency": self.currency,
            "outcome": self.outcome.value,
            "amount": str(self.amount),
            "compare_at_amount": None
            if self.compare_at_amount is None
            else str(self.compare_at_amount),
        }


# Per row (by index): what is wrong with it. Empty when every row may be written.
RowErrors = dict[int, list[str]]


def stock_low_payload(
    *, sku: str, location: str, on_hand: int, reserved: int, threshold: int
) -> dict[str, Any]:
    """The ``data`` of a ``stock.low`` webhook (docs/webhooks.md)."""
    return {
        "sku": sku,
        "location": location,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "threshold": threshold,
    }


# --- stock ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ResolvedStock:
    index: int
    change: StockChange
    variant_id: int
    location_id: int


def _resolve_stock(
    changes: Sequence[StockChange], mode: StockMode
) -> tuple[list[_ResolvedStock], RowErrors]:
    errors: RowErrors = {}
    variants = dict(
        Variant.objects.filter(sku__in={c.sku for c in changes}).values_list("sku", "pk")
    )
    locations = dict(
        Location.objects.filter(code__in={c.location for c in changes}, is_active=True).values_list(
            "code", "pk"
        )
    )
    seen: dict[tuple[str, str], int] = {}
    resolved = []
    for index, change in enumerate(changes):
        problems = []
        if change.sku not in variants:
            problems.append(f"No product has SKU '{change.sku}'.")
        if change.location not in locations:
            problems.append(f"No active store or warehouse has the code '{change.location}'.")
        if mode == StockMode.ABSOLUTE and change.quantity < 0:
            problems.append("on_hand cannot be negative.")
        pair = (change.sku, change.location)
        if pair in seen:
            problems.append(
                f"The same SKU and location are already in row {seen[pair]}: send each pair once."
            )
        seen.setdefault(pair, index)
        if problems:
            errors[index] = problems
            continue
        resolved.append(
            _ResolvedStock(index, change, variants[change.sku], locations[change.location])
        )
    return resolved, errors


def stock_changes_apply(
    *, changes: Sequence[StockChange], mode: StockMode
) -> tuple[list[StockResult | None], RowErrors]:
    """Apply stock changes row by row, inside the caller's transaction: rows with an error
    (unknown SKU or location, a repeat, a negative count, fewer on hand than reserved) are
    not written and come back in the errors; the others are written. Locks the stock rows
    in (variant, location) order. Emits ``stock.low`` for every row whose available units
    fall below the threshold."""
    resolved, errors = _resolve_stock(changes, mode)
    results: list[StockResult | None] = [None] * len(changes)
    existing = _lock_stock(resolved)
    creatable = []
    for item in resolved:
        level = existing.get((item.variant_id, item.location_id))
        before_on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
        after = (
            item.change.quantity
            if mode == StockMode.ABSOLUTE
            else before_on_hand + item.change.quantity
        )
        if after < reserved or after < 0:
            errors[item.index] = [
                f"This would leave {after} on hand, fewer than the {reserved} units reserved "
                "for open orders; the row was not applied."
                if after >= 0
                else f"This would leave {after} on hand; stock cannot go below zero."
            ]
            continue
        if level is None:
            creatable.append(item)
            results[item.index] = StockResult(
                item.change.sku, item.change.location, ChangeOutcome.CREATED, after, 0
            )
            continue
        outcome = ChangeOutcome.UNCHANGED if after == before_on_hand else ChangeOutcome.UPDATED
        if outcome == ChangeOutcome.UPDATED:
            _write_on_hand(level, mode=mode, change=item.change.quantity, expected_after=after)
            stock_low_emit_if_crossed(
                sku=item.change.sku,
                location=item.change.location,
                available_before=before_on_hand - reserved,
                on_hand=after,
                reserved=reserved,
            )
        results[item.index] = StockResult(
            item.change.sku, item.change.location, outcome, after, reserved
        )
    StockLevel.objects.bulk_create(
        [
            StockLevel(
                variant_id=item.variant_id,
                location_id=item.location_id,
                on_hand=results[item.index].on_hand,  # type: ignore[union-attr]
            )
            for item in creatable
        ]
    )
    return results, errors


def _lock_stock(resolved: list[_ResolvedStock]) -> dict[tuple[int, int], StockLevel]:
    if not resolved:
        return {}
    pairs = {(item.variant_id, item.location_id) for item in resolved}
    rows = (
        StockLevel.objects.select_for_update()
        .filter(
            variant_id__in={v for v, _ in pairs},
            location_id__in={loc for _, loc in pairs},
        )
        .order_by("variant_id", "location_id")
    )
    return {
        (row.variant_id, row.location_id): row
        for row in rows
        if (row.variant_id, row.location_id) in pairs
    }


def _write_on_hand(level: StockLevel, *, mode: StockMode, change: int, expected_after: int) -> None:
    rows = StockLevel.objects.filter(pk=level.pk, reserved__lte=expected_after)
    if mode == StockMode.ABSOLUTE:
        updated = rows.update(on_hand=change)
    else:
        updated = rows.update(on_hand=F("on_hand") + change)
    # The row is locked, so the condition cannot have changed since it was read.
    assert updated == 1


def stock_low_emit_if_crossed(
    *, sku: str, location: str, available_before: int, on_hand: int, reserved: int
) -> bool:
    """Emit ``stock.low`` (inside the caller's transaction) when the units available fall
    from at least ``STOCK_LOW_THRESHOLD`` to below it. Returns True when it emitted. Any
    service that lowers availability (a sync, an import, a reservation) calls this."""
    if not stock_low_is_crossed(available_before=available_before, available=on_hand - reserved):
        return False
    webhook_emit(
        event_type="stock.low",
        payload=stock_low_payload(
            sku=sku,
            location=location,
            on_hand=on_hand,
            reserved=reserved,
            threshold=settings.STOCK_LOW_THRESHOLD,
        ),
    )
    return True


def stock_low_is_crossed(*, available_before: int, available: int) -> bool:
    """Whether availability just fell from at least ``STOCK_LOW_THRESHOLD`` to below it."""
    threshold: int = settings.STOCK_LOW_THRESHOLD
    return available < threshold <= available_before


@transaction.atomic
def stock_sync(*, changes: Sequence[StockChange], mode: StockMode) -> list[StockResult]:
    """All-or-nothing stock sync (the ERP API): every row is checked first; if any row is
    wrong nothing is written and InvalidInput (unknown SKU/location, bad numbers, repeats)
    or Conflict (reserved stock) lists each bad row under ``rows.<index>``."""
    _check_size(changes)
    _resolved, problems = _resolve_stock(changes, mode)
    if problems:
        raise InvalidInput(
            "Some rows are not valid; nothing was written.", fields=_fields(problems)
        )
    results, conflicts = stock_changes_apply(changes=changes, mode=mode)
    if conflicts:
        raise Conflict(
            "Some rows would leave fewer units on hand than are reserved; nothing was written.",
            code="stock_reserved",
            fields=_fields(conflicts),
        )
    return [result for result in results if result is not None]


def _fields(errors: RowErrors) -> dict[str, list[str]]:
    return {f"rows.{index}": messages for index, messages in sorted(errors.items())}


def _check_size(rows: Sequence[Any]) -> None:
    if not rows:
        raise InvalidInput("Send at least one row.", fields={"rows": ["Empty."]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            f"At most {MAX_ROWS} rows per call.", fields={"rows": [f"More than {MAX_ROWS}."]}
        )


# --- prices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ResolvedPrice:
    index: int
    change: PriceChange
    variant_id: int
    price_list_id: int


def _resolve_prices(changes: Sequence[PriceChange]) -> tuple[list[_ResolvedPrice], RowErrors]:
    errors: RowErrors = {}
    variants = dict(
        Variant.objects.filter(sku__in={c.sku for c in changes}).values_list("sku", "pk")
    )
    price_lists = {
        (channel, currency): pk
        for pk, channel, currency in PriceList.objects.filter(is_active=True).values_list(
            "pk", "channel", "currency"
        )
    }
    selling = {channel.value for channel in Channel.selling()}
    seen: dict[tuple[str, str, str], int] = {}
    resolved = []
    for index, change in enumerate(changes):
        problems = []
        if change.sku not in variants:
            problems.append(f"No product has SKU '{change.sku}'.")
        if change.channel not in selling:
            problems.append(
                f"'{change.channel}' is not a selling channel ({', '.join(sorted(selling))})."
            )
        elif (change.channel, change.currency) not in price_lists:
            problems.append(f"There is no active {change.channel} price list in {change.currency}.")
        problems.extend(_money_problems(change))
        key = (change.sku, change.channel, change.currency)
        if key in seen:
            problems.append(f"The same SKU, channel and currency are already in row {seen[key]}.")
        seen.setdefault(key, index)
        if problems:
            errors[index] = problems
            continue
        resolved.append(
            _ResolvedPrice(
                index,
                change,
                variants[change.sku],
                price_lists[(change.channel, change.currency)],
            )
        )
    return resolved, errors


def _money_problems(change: PriceChange) -> list[str]:
    problems = []
    for name, value in (("amount", change.amount), ("compare_at_amount", change.compare_at_amount)):
        if value is None:
            continue
        if not value.is_finite() or value < 0:
            problems.append(f"{name} must be zero or more.")
        elif value.as_tuple().exponent < -2:  # type: ignore[operator]
            problems.append(f"{name} has at most 2 decimals.")
        elif value >= Decimal("1e10"):
            problems.append(f"{name} is too large.")
    return problems


def price_changes_apply(
    *, changes: Sequence[PriceChange]
) -> tuple[list[PriceResult | None], RowErrors]:
    """Upsert prices row by row, inside the caller's transaction; bad rows are not written
    and come back in the errors. Locks the existing price rows in id order."""
    resolved, errors = _resolve_prices(changes)
    results: list[PriceResult | None] = [None] * len(changes)
    existing = {
        (price.variant_id, price.price_list_id): price
        for price in Price.objects.select_for_update()
        .filter(
            variant_id__in={item.variant_id for item in resolved},
            price_list_id__in={item.price_list_id for item in resolved},
        )
        .order_by("pk")
    }
    to_create, to_update = [], []
    for item in resolved:
        change = item.change
        price = existing.get((item.variant_id, item.price_list_id))
        if price is None:
            to_create.append(
                Price(
                    variant_id=item.variant_id,
                    price_list_id=item.price_list_id,
                    amount=change.amount,
                    compare_at_amount=change.compare_at_amount,
                )
            )
            outcome = ChangeOutcome.CREATED
        elif price.amount == change.amount and price.compare_at_amount == change.compare_at_amount:
            outcome = ChangeOutcome.UNCHANGED
        else:
            price.amount = change.amount
            price.compare_at_amount = change.compare_at_amount
            to_update.append(price)
            outcome = ChangeOutcome.UPDATED
        results[item.index] = PriceResult(
            change.sku,
            change.channel,
            change.currency,
            outcome,
            change.amount,
            change.compare_at_amount,
        )
    Price.objects.bulk_create(to_create)
    Price.objects.bulk_update(to_update, ["amount", "compare_at_amount"])
    return results, errors


@transaction.atomic
def price_sync(*, changes: Sequence[PriceChange]) -> list[PriceResult]:
    """All-or-nothing price sync (the ERP API): if any row is wrong nothing is written and
    InvalidInput lists each bad row under ``rows.<index>``."""
    _check_size(changes)
    results, errors = price_changes_apply(changes=changes)
    if errors:
        raise InvalidInput("Some rows are not valid; nothing was written.", fields=_fields(errors))
    return [result for result in results if result is not None]
