"""Returns anywhere: any order, from any channel, handed in at any store (or warehouse) or
sent by post and registered in the app or by the call centre.

* The goods go back on the shelf **where they were received** (unless marked not restockable).
* The money goes back to the **original payment** (online payments through their gateway);
  at a store the customer may take cash instead, and money paid in a store is always paid back
  at a store.
* A line refunds its share of what the customer paid for it (discount included); never more
  than was paid for the order, whatever refunds came before.
* ``Return Processed`` reaches the customer's timeline once the money is back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Location
from catalog.services import StockMove, stock_restock
from integrations.webhooks import webhook_emit
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotAllowed
from interaction_platform.permissions import Action, AnyUser, require
from orders import locks
from orders.cards import refuse_card_numbers
from orders.errors import IdempotencyKeyReused, InvalidTransition
from orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundMethod,
    RefundStatus,
    Return,
    ReturnKind,
    ReturnLine,
    ReturnStatus,
)
from orders.pricing import to_cents
from orders.services.common import (
    emit,
    fingerprint,
    idempotency_key_check,
    money_text,
    quantity_check,
    text_check,
)
from orders.services.payments import IN_STORE_GATEWAY, refunds_create, refunds_process
from orders.webhook_payloads import return_processed_payload

RETURNABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.COMPLETED})


@dataclass(frozen=True)
class ReturnLineRequest:
    order_line_id: int
    quantity: int
    restock: bool = True


@dataclass(frozen=True)
class ReturnResult:
    return_request: Return
    is_replay: bool


def return_create(
    *,
    actor: AnyUser,
    order: Order,
    lines: Sequence[ReturnLineRequest],
    channel: Channel,
    kind: str,
    idempotency_key: str,
    location: Location | None = None,
    refund_method: str = RefundMethod.ORIGINAL_PAYMENT,
    reason: str = "",
) -> ReturnResult:
    """Register a return. At a store (``kind=in_store``, store staff at ``location``) it is
    received, restocked and refunded at once; by post it waits for :func:`return_receive`.

    Idempotent per key (a changed repeat is refused). Raises NotFound/NotAllowed, InvalidInput
    (lines, quantities beyond what was bought and not yet returned), InvalidTransition (goods
    not handed over yet: cancel instead)."""
    key = idempotency_key_check(idempotency_key)
    request_fingerprint = fingerprint(
        {
            "order": order.pk,
            "lines": sorted(
                [str(line.order_line_id), str(line.quantity), str(line.restock)] for line in lines
            ),
            "kind": str(kind),
            "location": location.pk if location else None,
            "refund_method": str(refund_method),
            "reason": reason,
        }
    )
    existing = Return.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, request_fingerprint, actor)
    require(actor, Action.ORDER_VIEW, order)
    require(actor, Action.RETURN_CREATE)
    _where_check(
        actor=actor, order=order, kind=kind, location=location, refund_method=refund_method
    )
    reason = text_check(reason, field="reason", max_length=300)
    refuse_card_numbers({"reason": reason})
    checked = _lines_check(order=order, lines=lines)
    staff = actor if isinstance(actor, User) else None
    try:
        with transaction.atomic():
            locked = locks.order_lock(order_id=order.pk)
            if locked.status not in RETURNABLE:
                raise InvalidTransition(
                    "Only goods that were collected or delivered can be returned; cancel the "
                    "order instead."
                )
            return_request = Return.objects.create(
                order=locked,
                channel=channel,
                kind=kind,
                status=ReturnStatus.REQUESTED,
                reason=reason,
                refund_method=refund_method,
                currency=locked.currency,
                processed_by=staff,
                idempotency_key=key,
                request_fingerprint=request_fingerprint,
            )
            _return_lines_write(return_request=return_request, checked=checked)
            refunds = []
            if kind == ReturnKind.IN_STORE:
                assert location is not None
                refunds = _receive(
                    order=locked, return_request=return_request, location=location, actor=staff
                )
            else:
                emit(
                    order=locked,
                    event="Return Requested",
                    channel=channel,
                    message_id=f"return-requested:{return_request.pk}",
                    properties=_return_properties(return_request),
                )
    except IntegrityError:
        existing = Return.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, request_fingerprint, actor)
    refunds_process(refunds=refunds)
    return ReturnResult(return_request=_return_settle(return_request), is_replay=False)


def return_receive(*, actor: AnyUser, return_request: Return, location: Location) -> Return:
    """A postal return arrived at ``location`` (staff there): restock and refund. Raises
    NotAllowed, InvalidTransition (already received)."""
    require(actor, Action.RETURN_RECEIVE, location)
    with transaction.atomic():
        order = locks.order_lock(order_id=return_request.order_id)
        locked = Return.objects.select_for_update().get(pk=return_request.pk)
        if locked.status != ReturnStatus.REQUESTED:
            raise InvalidTransition(
                f"This return is already {ReturnStatus(locked.status).label.lower()}."
            )
        refunds = _receive(
            order=order,
            return_request=locked,
            location=location,
            actor=actor if isinstance(actor, User) else None,
        )
    refunds_process(refunds=refunds)
    return _return_settle(locked)


def _replay(existing: Return, request_fingerprint: str, actor: AnyUser) -> ReturnResult:
    if existing.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    require(actor, Action.ORDER_VIEW, existing.order)
    pending = list(existing.refunds.filter(status=RefundStatus.PENDING))
    refunds_process(refunds=pending)
    return ReturnResult(return_request=_return_settle(existing), is_replay=True)


def _where_check(
    *, actor: AnyUser, order: Order, kind: str, location: Location | None, refund_method: str
) -> None:
    if kind not in ReturnKind.values:
        raise InvalidInput("Say how the goods come back.", fields={"kind": ["in_store or postal."]})
    if refund_method not in RefundMethod.values:
        raise InvalidInput(
            "Say how to refund.", fields={"refund_method": ["original_payment or cash."]}
        )
    is_store_staff = isinstance(actor, User) and actor.role == Role.STORE_STAFF
    is_admin = isinstance(actor, User) and actor.is_admin
    if kind == ReturnKind.IN_STORE:
        if location is None:
            raise InvalidInput(
                "A return at a store names the store.", fields={"location": ["Required."]}
            )
        if not (is_store_staff or is_admin):
            raise NotAllowed("Returns handed in at a store are taken by that store's staff.")
        require(actor, Action.STORE_ACT, location)
        return
    if location is not None:
        raise InvalidInput(
            "A postal return is received where it arrives, later.",
            fields={"location": ["Not for a postal return."]},
        )
    if refund_method == RefundMethod.CASH:
        raise InvalidInput(
            "Cash is paid out only at a store.", fields={"refund_method": ["original_payment."]}
        )
    if Payment.objects.filter(order=order, gateway=IN_STORE_GATEWAY).exists():
        raise InvalidInput(
            "This order was paid in a store: bring it to any of our stores to get the money back.",
            code="return_at_store",
            fields={"kind": ["in_store."]},
        )


def _lines_check(
    *, order: Order, lines: Sequence[ReturnLineRequest]
) -> list[tuple[OrderLine, int, bool]]:
    if not lines:
        raise InvalidInput("Say what comes back.", fields={"lines": ["At least one line."]})
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    if len(lines) > len(order_lines):
        raise InvalidInput("More lines than the order has.", fields={"lines": ["Too many."]})
    checked = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        order_line = order_lines.get(line.order_line_id)
        if order_line is None:
            raise InvalidInput(
                "That line is not on this order.",
                fields={f"lines.{index}.line": ["Not a line of this order."]},
            )
        if order_line.pk in seen:
            raise InvalidInput(
                "The same order line twice; put its whole quantity on one line.",
                code="duplicate_line",
                fields={f"lines.{index}.line": ["Already listed."]},
            )
        seen.add(order_line.pk)
        quantity = quantity_check(line.quantity, field=f"lines.{index}.quantity")
        if not isinstance(line.restock, bool):
            raise InvalidInput(
                "Say whether the goods go back on sale.",
                fields={f"lines.{index}.restock": ["true or false."]},
            )
        checked.append((order_line, quantity, line.restock))
    return checked


def _line_refund(line: OrderLine, *, before: int, quantity: int) -> Decimal:
    """The line's paid amount for units ``before+1 … before+quantity``, so that returning every
    unit, in any number of returns, refunds exactly the line's total."""
    share_after = to_cents(line.line_total * (before + quantity) / line.quantity)
    share_before = to_cents(line.line_total * before / line.quantity)
    return share_after - share_before


def _return_lines_write(
    *, return_request: Return, checked: list[tuple[OrderLine, int, bool]]
) -> None:
    rows = []
    for order_line, quantity, restock in checked:
        line = OrderLine.objects.get(pk=order_line.pk)
        counted = OrderLine.objects.filter(
            pk=line.pk, returned_quantity__lte=F("quantity") - quantity
        ).update(returned_quantity=F("returned_quantity") + quantity)
        if counted != 1:
            left = line.quantity - line.returned_quantity
            raise InvalidInput(
                f"Only {left} of '{line.sku}' can still be returned.",
                code="return_exceeds_bought",
                fields={"lines": [f"At most {left} of '{line.sku}'."]},
            )
        rows.append(
            ReturnLine(
                return_request=return_request,
                order_line=line,
                quantity=quantity,
                restock=restock,
                refund_amount=_line_refund(line, before=line.returned_quantity, quantity=quantity),
            )
        )
    ReturnLine.objects.bulk_create(rows)


def _receive(
    *, order: Order, return_request: Return, location: Location, actor: User | None
) -> list[Refund]:
    """Goods in at ``location`` (order and return locked by the caller): restock, refund."""
    lines = list(return_request.lines.select_related("order_line"))
    restock = [
        StockMove(location.pk, line.order_line.variant_id, line.quantity)
        for line in lines
        if line.restock
    ]
    if restock:
        stock_restock(moves=restock)
    owed = sum((line.refund_amount for line in lines), Decimal("0"))
    refundable = order.paid_total - order.refunded_total
    amount = min(owed, refundable)
    refunds = refunds_create(
        order=order,
        amount=amount,
        actor=actor,
        reason=f"return {return_request.pk}",
        key=f"return:{return_request.idempotency_key}",
        method=RefundMethod(return_request.refund_method),
        location=location if return_request.kind == ReturnKind.IN_STORE else None,
        return_request=return_request,
    )
    Return.objects.filter(pk=return_request.pk).update(
        status=ReturnStatus.RECEIVED,
        received_at_location=location,
        received_at=timezone.now(),
        refund_amount=amount,
        processed_by=actor,
        updated_at=timezone.now(),
    )
    return refunds


def _return_settle(return_request: Return) -> Return:
    """A received return whose refunds all succeeded is refunded: ``Return Processed`` goes on
    the timeline (once: its message id is the return's)."""
    with transaction.atomic():
        order = locks.order_lock(order_id=return_request.order_id)
        current = Return.objects.select_for_update().get(pk=return_request.pk)
        refunds = list(current.refunds.all())
        is_settled = all(refund.status == RefundStatus.SUCCEEDED for refund in refunds)
        if current.status == ReturnStatus.RECEIVED and is_settled:
            Return.objects.filter(pk=current.pk).update(
                status=ReturnStatus.REFUNDED, updated_at=timezone.now()
            )
            current.refresh_from_db()
            emit(
                order=order,
                event="Return Processed",
                channel=Channel(current.channel),
                message_id=f"return-processed:{current.pk}",
                properties=_return_properties(current),
                store_id=current.received_at_location_id,
            )
            webhook_emit(
                event_type="return.processed",
                payload=return_processed_payload(return_request=current),
                idempotency_key=f"return.processed:{current.pk}",
            )
    return current


def _return_properties(return_request: Return) -> dict[str, object]:
    return {
        "return_id": return_request.pk,
        "kind": return_request.kind,
        "refund_method": return_request.refund_method,
        "total": money_text(return_request.refund_amount),
        "currency": return_request.currency,
        "received_at": getattr(return_request.received_at_location, "code", ""),
        "products": [
            {"sku": line.order_line.sku, "quantity": line.quantity, "restocked": line.restock}
            for line in return_request.lines.select_related("order_line")
        ],
    }
