"""After checkout: click & collect (ready → collected with the pickup code), shipping (from a
warehouse or a store), delivery, and cancelling — which releases the stock and refunds.

Every move follows the state machine in orders/states.py; a move that is not allowed is
refused (409) and changes nothing. Units leave the stock (``on_hand``) only when the goods
leave the building: when collected or shipped.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.models import Location
from catalog.services import stock_fulfil
from customers.commerce import customer_stats_record_refund
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from interaction_platform.permissions import Action, AnyUser, require
from orders import locks, states
from orders.cards import refuse_card_numbers
from orders.errors import InvalidTransition
from orders.gateways import GatewayError, GatewayTimeout, gateway_get
from orders.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from orders.services.common import emit, text_check
from orders.services.holds import order_release, order_stock_moves
from orders.services.payments import refunds_create, refunds_process

SHOPPER_CANCELLABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID})


def order_mark_ready(*, actor: AnyUser, order: Order) -> Order:
    """Click & collect: the order is on the collection shelf (staff of that store)."""
    require(actor, Action.ORDER_FULFIL, order)
    with transaction.atomic():
        order = locks.order_lock(order_id=order.pk)
        states.order_transition(
            order=order, to=OrderStatus.READY_FOR_PICKUP, ready_at=timezone.now()
        )
        emit(
            order=order,
            event="Order Ready For Pickup",
            channel=Channel.STORE,
            message_id=f"order-ready:{order.number}",
            store_id=order.store_id,
        )
    return order


def order_collect(*, actor: AnyUser, order: Order, pickup_code: str) -> Order:
    """The customer collects: the pickup code must match; the units leave the store's stock.
    Raises InvalidInput (wrong code), InvalidTransition (not ready)."""
    require(actor, Action.ORDER_FULFIL, order)
    if not isinstance(pickup_code, str) or len(pickup_code) > 12:
        raise InvalidInput("Enter the pickup code.", fields={"pickup_code": ["Required."]})
    with transaction.atomic():
        order = locks.order_lock(order_id=order.pk)
        states.transition_check(order=order, to=OrderStatus.COMPLETED)
        if not secrets.compare_digest(order.pickup_code.encode(), pickup_code.strip().encode()):
            raise InvalidInput(
                "That is not the pickup code of this order.",
                code="wrong_pickup_code",
                fields={"pickup_code": ["Does not match."]},
            )
        states.order_transition(order=order, to=OrderStatus.COMPLETED, completed_at=timezone.now())
        stock_fulfil(moves=order_stock_moves(order=order))
        emit(
            order=order,
            event="Order Collected",
            channel=Channel.STORE,
            message_id=f"order-collected:{order.number}",
            store_id=order.store_id,
        )
    return order


def order_ship(*, actor: AnyUser, order: Order, tracking_reference: str = "") -> Order:
    """Delivery and ship-from-store: the parcel left the fulfilment location (its staff)."""
    require(actor, Action.ORDER_FULFIL, order)
    reference = text_check(tracking_reference, field="tracking_reference", max_length=100)
    with transaction.atomic():
        order = locks.order_lock(order_id=order.pk)
        states.order_transition(
            order=order,
            to=OrderStatus.SHIPPED,
            shipped_at=timezone.now(),
            tracking_reference=reference,
        )
        stock_fulfil(moves=order_stock_moves(order=order))
        emit(
            order=order,
            event="Order Shipped",
            channel=order.channel,
            message_id=f"order-shipped:{order.number}",
            properties={"tracking_reference": reference},
            store_id=order.fulfilment_location_id,
        )
    return order


def order_mark_delivered(*, actor: AnyUser, order: Order) -> Order:
    """The carrier delivered the parcel."""
    require(actor, Action.ORDER_FULFIL, order)
    with transaction.atomic():
        order = locks.order_lock(order_id=order.pk)
        states.order_transition(order=order, to=OrderStatus.COMPLETED, completed_at=timezone.now())
    return order


def order_cancel(
    *, actor: AnyUser, order: Order, reason: str, store: Location | None = None
) -> Order:
    """Cancel an order that has not left yet: its stock goes back on sale, its voucher use is
    given back, everything paid is refunded (online payments through the gateway; money paid in
    a store is paid back at ``store``'s till, so staff must name one of theirs).

    Shoppers may cancel their own orders until fulfilment starts; staff the orders of their
    stores; agents any order. Raises NotFound/NotAllowed, InvalidTransition."""
    require(actor, Action.ORDER_VIEW, order)
    require(actor, Action.ORDER_CANCEL, order)
    reason = text_check(reason, field="reason", max_length=300)
    refuse_card_numbers({"reason": reason})
    is_shopper = isinstance(actor, User) and actor.role == Role.SHOPPER
    if store is not None:
        require(actor, Action.STORE_ACT, store)
    return order_cancel_unchecked(
        order=order,
        actor=actor if isinstance(actor, User) else None,
        reason=reason or "cancelled",
        store=store,
        cancellable=SHOPPER_CANCELLABLE if is_shopper else None,
    )


def order_cancel_unchecked(
    *,
    order: Order,
    actor: User | None,
    reason: str,
    store: Location | None = None,
    cancellable: frozenset[str] | None = None,
) -> Order:
    """The cancellation itself, for callers that have done the permission checks (and the
    sweeps, which act for the system). ``cancellable`` narrows the statuses it may leave."""
    with transaction.atomic():
        order = locks.order_lock(order_id=order.pk)
        if cancellable is not None and order.status not in cancellable:
            raise InvalidTransition(
                "This order is already being prepared; contact us to cancel it."
            )
        states.transition_check(order=order, to=OrderStatus.CANCELLED)
        was_paid = order.paid_total > 0
        refunds = refunds_create(
            order=order,
            amount=order.paid_total - order.refunded_total,
            actor=actor,
            reason=f"order cancelled: {reason}",
            key=f"cancel:{order.number}",
            location=store,
        )
        order_release(order=order, reason=reason)
        payments = locks.payments_lock(order_id=order.pk)
        to_void = [p for p in payments if p.status == PaymentStatus.AUTHORIZED]
        Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.VOIDED, updated_at=timezone.now()
        )
        if was_paid and order.customer_id is not None:
            customer_stats_record_refund(
                customer_id=order.customer_id, amount=Decimal("0"), is_order_cancelled=True
            )
        emit(
            order=order,
            event="Order Cancelled",
            channel=_channel_of(actor, order),
            message_id=f"order-cancelled:{order.number}",
            properties={"reason": reason, "currency": order.currency},
            store_id=store.pk if store else None,
        )
    refunds_process(refunds=refunds)
    for payment in to_void:
        _void(payment)
    order.refresh_from_db()
    return order


def _channel_of(actor: User | None, order: Order) -> Channel:
    if actor is None:
        return Channel.SYSTEM
    return {
        Role.STORE_STAFF: Channel.STORE,
        Role.AGENT: Channel.CALL_CENTRE,
        Role.SHOPPER: Channel(order.channel)
        if order.channel in {Channel.WEB, Channel.APP}
        else Channel.APP,
    }.get(Role(actor.role), Channel.SYSTEM)


def _void(payment: Payment) -> None:
    try:
        result = gateway_get(payment.gateway).void(
            authorization=payment.gateway_reference,
            idempotency_key=f"{payment.idempotency_key}:void",
        )
    except (GatewayTimeout, GatewayError):
        return
    if result.is_approved:
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.AUTHORIZED).update(
            status=PaymentStatus.VOIDED, updated_at=timezone.now()
        )


def payment_links_expire(*, now: datetime) -> int:
    """Cancel orders whose payment link expired unpaid, so their stock goes back on sale.
    Returns how many were cancelled."""
    expired = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT,
        payments__method=PaymentMethod.PAY_BY_LINK,
        payments__status=PaymentStatus.PENDING,
        payments__token="",
        payments__expires_at__lte=now,
    ).distinct()
    cancelled = 0
    for order in expired.order_by("pk")[:500]:
        try:
            order_cancel_unchecked(order=order, actor=None, reason="payment link expired")
        except InvalidTransition:
            continue  # paid or cancelled meanwhile
        cancelled += 1
    return cancelled
