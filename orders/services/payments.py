"""Taking and giving back money.

Online payments (card, pay-by-link) go through a gateway (orders/gateways.py) **between** short
transactions, never inside one: the order and its stock are committed first, then the gateway
is asked, then the answer is recorded. Every gateway call carries a key derived from the
payment's own idempotency key, so whatever is repeated — a client retry, a sweep, a double
click — the provider moves the money once.

In-store tenders (cash, card on the store's terminal) are settled at the till: the POS sends
what was tendered or the terminal's approval reference, and the payment is recorded captured
in the sale's own transaction. Their refunds are paid out in cash at a store.

A refund first reserves its amount in ``Order.refunded_total`` with a conditional update (so
refunds can never add up to more than was paid), then goes to the gateway, then is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from catalog.models import Location
from customers.commerce import customer_stats_record_order, customer_stats_record_refund
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotAllowed
from interaction_platform.permissions import Action, AnyUser, require
from orders import locks, states
from orders.cards import refuse_card_numbers
from orders.errors import (
    IdempotencyKeyReused,
    InvalidTransition,
    PaymentDeclined,
    PaymentFailed,
    PaymentLinkExpired,
    PaymentLinkInvalid,
    PaymentPending,
    RefundTooLarge,
)
from orders.gateways import GatewayError, GatewayTimeout, gateway_get
from orders.models import (
    HALF_CENT,
    Cart,
    CartStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    Return,
)
from orders.services.common import (
    emit,
    fingerprint,
    idempotency_key_check,
    money_text,
    order_properties,
    text_check,
)
from orders.services.holds import order_release

IN_STORE_GATEWAY = "store"
IN_STORE_METHODS = frozenset({PaymentMethod.CASH, PaymentMethod.CARD_PRESENT})
ONLINE_METHODS = frozenset({PaymentMethod.CARD_ONLINE, PaymentMethod.PAY_BY_LINK})
CARD_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{4,100}$")
TERMINAL_REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{4,64}$")
PAYMENT_LINK_SALT = "orders.payment-link"
REFUND_KEY_MAX_LENGTH = 120


def card_token_check(token: object, *, field: str = "token") -> str:
    """A provider's token: 4 to 100 letters, digits, ``_`` or ``-`` — and never a card number."""
    if not isinstance(token, str):
        raise InvalidInput("Send the payment provider's token.", fields={field: ["Required."]})
    refuse_card_numbers({field: token}, token_fields=frozenset({field}))
    if not CARD_TOKEN_PATTERN.match(token):
        raise InvalidInput(
            "This is not a payment token.",
            code="invalid_payment_token",
            fields={field: ["4 to 100 letters, digits, '_' or '-' from the payment provider."]},
        )
    return token


def terminal_reference_check(reference: object) -> str:
    field = "terminal_reference"
    if not isinstance(reference, str):
        raise InvalidInput("Send the terminal's approval reference.", fields={field: ["Required."]})
    refuse_card_numbers({field: reference}, token_fields=frozenset({field}))
    if not TERMINAL_REFERENCE_PATTERN.match(reference):
        raise InvalidInput(
            "This is not a terminal approval reference.",
            fields={field: ["4 to 64 letters, digits, '_', '.', ':' or '-'."]},
        )
    return reference


# --- settling online payments -----------------------------------------------------------------


def payment_settle(*, payment: Payment) -> Payment:
    """Authorise and capture an online payment that is pending or authorised, and record the
    outcome (the order becomes paid). Safe to call any number of times, concurrently too: the
    gateway keys make the money move once and the status moves by conditional updates.

    Raises PaymentDeclined or PaymentFailed (nothing charged; a card checkout's order is then
    cancelled and its stock released, a payment link gets a fresh attempt), PaymentPending (no
    answer in time: call again later with the same payment)."""
    return payment_settle_fresh(payment=Payment.objects.get(pk=payment.pk))


def payment_settle_fresh(*, payment: Payment, lines: Sequence[OrderLine] | None = None) -> Payment:
    """:func:`payment_settle` for a payment row the caller has just read or written (and, if it
    holds them, the order's lines). The outcome is recorded on ``payment.order`` too."""
    if payment.status == PaymentStatus.CAPTURED:
        return payment
    if payment.status in {PaymentStatus.DECLINED, PaymentStatus.FAILED, PaymentStatus.VOIDED}:
        raise _refusal(payment)
    gateway = gateway_get(payment.gateway)
    authorization = payment.gateway_reference
    if payment.status == PaymentStatus.PENDING:
        if not payment.token:
            raise Conflict("This payment has no card yet.", code="payment_not_started")
        try:
            result = gateway.authorize(
                amount=payment.amount,
                currency=payment.currency,
                token=payment.token,
                idempotency_key=f"{payment.idempotency_key}:authorize",
            )
        except GatewayTimeout as error:
            _payment_note(payment=payment, message=str(error))
            raise PaymentPending() from error
        except GatewayError as error:
            _payment_refuse(payment=payment, status=PaymentStatus.FAILED, message=str(error))
            raise PaymentFailed() from error
        if not result.is_approved:
            _payment_refuse(payment=payment, status=PaymentStatus.DECLINED, message=result.message)
            raise PaymentDeclined()
        authorization = result.reference
    try:
        captured = gateway.capture(
            authorization=authorization,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=f"{payment.idempotency_key}:capture",
        )
    except (GatewayTimeout, GatewayError) as error:
        # Authorised but not captured: the money is held, not taken. The authorisation is
        # recorded (a cancellation can release it); a retry or the sweep captures it with the
        # same key.
        _payment_authorized(payment=payment, reference=authorization, message=str(error))
        raise PaymentPending() from error
    if not captured.is_approved:
        _payment_refuse(payment=payment, status=PaymentStatus.FAILED, message=captured.message)
        raise PaymentFailed()
    return _payment_captured(payment=payment, authorization=authorization, lines=lines)


def _refusal(payment: Payment) -> Conflict:
    if payment.status == PaymentStatus.DECLINED:
        return PaymentDeclined()
    if payment.status == PaymentStatus.FAILED:
        return PaymentFailed()
    return Conflict("This payment was cancelled.", code="payment_voided")


def _payment_note(*, payment: Payment, message: str) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        failure_message=message[:300], updated_at=timezone.now()
    )


@transaction.atomic
def _payment_refuse(*, payment: Payment, status: PaymentStatus, message: str) -> None:
    """Record a declined or failed payment. A card checkout's order is cancelled (stock and
    voucher given back, the cart reopened for another try); a payment link gets a new attempt."""
    order = locks.order_lock(order_id=payment.order_id)
    refused = Payment.objects.filter(
        pk=payment.pk, status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]
    ).update(status=status, failure_message=message[:300], updated_at=timezone.now())
    if refused != 1 or order.status != OrderStatus.PENDING_PAYMENT:
        return
    if payment.method == PaymentMethod.PAY_BY_LINK:
        _payment_link_next_attempt(order=order, previous=payment)
        return
    order_release(order=order, reason=f"payment {status}")
    _cart_reopen(order=order)


def _cart_reopen(*, order: Order) -> None:
    """Give the customer their cart back after a refused card, unless they started another."""
    if order.cart_id is None or order.customer_id is None:
        return
    has_open = Cart.objects.filter(customer_id=order.customer_id, status=CartStatus.OPEN)
    if not has_open.exists():
        Cart.objects.filter(pk=order.cart_id, status=CartStatus.ORDERED).update(
            status=CartStatus.OPEN, updated_at=timezone.now()
        )


def _payment_authorized(*, payment: Payment, reference: str, message: str) -> None:
    """Record an authorisation whose capture is still to come. A payment voided meanwhile
    (its order was cancelled) has its authorisation released at once."""
    moved = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.AUTHORIZED,
        gateway_reference=reference,
        failure_message=message[:300],
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    if moved != 1 and payment.status == PaymentStatus.VOIDED:
        payment.gateway_reference = reference
        _payment_void(payment=payment, from_status=PaymentStatus.VOIDED)


def _payment_void(
    *, payment: Payment, from_status: PaymentStatus = PaymentStatus.AUTHORIZED
) -> None:
    """Release an authorisation that will never be captured (outside any transaction)."""
    try:
        result = gateway_get(payment.gateway).void(
            authorization=payment.gateway_reference,
            idempotency_key=f"{payment.idempotency_key}:void",
        )
    except (GatewayTimeout, GatewayError) as error:
        _payment_note(payment=payment, message=str(error))
        return
    if result.is_approved:
        Payment.objects.filter(pk=payment.pk, status=from_status).update(
            status=PaymentStatus.VOIDED, updated_at=timezone.now()
        )


def _payment_captured(
    *, payment: Payment, authorization: str, lines: Sequence[OrderLine] | None = None
) -> Payment:
    """Record the capture; the order becomes paid. If it was cancelled meanwhile (an expired
    link swept away while the customer paid), the money goes straight back. ``lines`` spares a
    read when the caller holds them."""
    with transaction.atomic():
        # The order's row first, then the payment's (the lock order of orders/locks.py); the
        # rest of the order does not change after checkout, so the caller's copy will do.
        order = payment.order
        try:
            states.order_transition(
                order=order,
                to=OrderStatus.PAID,
                lines=lines,
                paid_total=F("paid_total") + payment.amount,
            )
            is_paid_now = True
        except InvalidTransition:
            Order.objects.filter(pk=order.pk).update(paid_total=F("paid_total") + payment.amount)
            is_paid_now = False
        # A payment voided meanwhile (its order cancelled) was captured all the same: it is
        # recorded, and the money goes back below.
        moved = Payment.objects.filter(
            pk=payment.pk,
            status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.VOIDED],
        ).update(
            status=PaymentStatus.CAPTURED,
            captured_amount=payment.amount,
            gateway_reference=authorization,
            updated_at=timezone.now(),
        )
        if moved != 1:  # someone else recorded it first: undo the order's side too
            transaction.set_rollback(True)
            order.refresh_from_db()
            payment.refresh_from_db()
            return payment
        payment.status, payment.captured_amount = PaymentStatus.CAPTURED, payment.amount
        payment.gateway_reference = authorization
        late_refunds: list[Refund] = []
        if is_paid_now:
            order.paid_total = payment.amount
            order_record_paid(order=order, lines=lines)
        else:
            order.refresh_from_db(fields=["status", "paid_total", "refunded_total"])
            late_refunds = refunds_create(
                order=order,
                amount=payment.amount,
                actor=None,
                reason="paid after the order was cancelled",
                key=f"late-payment:{payment.pk}",
            )
    for refund in late_refunds:
        refund_process(refund=refund)
    return payment


def order_record_paid(*, order: Order, lines: Sequence[OrderLine] | None = None) -> None:
    """A paid order counts: customer statistics and the ``Order Completed`` touchpoint (``POS
    Order Completed`` for a sale at the till). Runs in the caller's transaction."""
    if order.customer_id is not None:
        customer_stats_record_order(customer_id=order.customer_id, amount=order.paid_total)
    is_pos = order.channel == Channel.STORE
    emit(
        order=order,
        event="POS Order Completed" if is_pos else "Order Completed",
        channel=order.channel,
        message_id=f"order-completed:{order.number}",
        properties=order_properties(order, lines=lines),
        store_id=order.store_id if is_pos else None,
    )


# --- payment links ----------------------------------------------------------------------------


def payment_link_ttl() -> timedelta:
    return timedelta(hours=settings.PAYMENT_LINK_TTL_HOURS)


def payment_link_path(*, order: Order) -> str:
    """The signed path of the web store page where the customer pays ``order``. The signature
    covers the order number and the time it was made; it stops working after the TTL."""
    token = signing.dumps(order.number, salt=PAYMENT_LINK_SALT)
    return reverse("web:pay", kwargs={"token": token})


def payment_link_open(*, token: str) -> tuple[Order, Payment | None]:
    """The order a payment link is for, and its open payment attempt (None once paid).
    Raises PaymentLinkInvalid (tampered or unknown), PaymentLinkExpired."""
    try:
        number = signing.loads(token, salt=PAYMENT_LINK_SALT, max_age=payment_link_ttl())
    except signing.SignatureExpired as error:
        raise PaymentLinkExpired() from error
    except signing.BadSignature as error:
        raise PaymentLinkInvalid() from error
    order = (
        Order.objects.select_related("customer")
        .prefetch_related("lines")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise PaymentLinkInvalid()
    attempt = (
        Payment.objects.filter(order=order, method=PaymentMethod.PAY_BY_LINK)
        .exclude(status__in=[PaymentStatus.DECLINED, PaymentStatus.FAILED])
        .order_by("-pk")
        .first()
    )
    if order.status == OrderStatus.CANCELLED:
        raise PaymentLinkExpired("This order was cancelled; the link no longer works.")
    if order.status == OrderStatus.PENDING_PAYMENT and attempt is None:
        raise PaymentLinkInvalid()
    if (
        attempt is not None
        and attempt.status == PaymentStatus.PENDING
        and attempt.expires_at is not None
        and attempt.expires_at <= timezone.now()
    ):
        raise PaymentLinkExpired()
    return order, attempt


def payment_link_pay(*, token: str, attempt_id: int, card_token: str) -> Payment:
    """Pay through a link with the provider's ``card_token``. Idempotent per attempt: a double
    submit settles the same payment once. Raises PaymentLinkInvalid/Expired, InvalidInput
    (never a card number), PaymentDeclined/Failed (try again on the page), PaymentPending."""
    _order, attempt = payment_link_open(token=token)
    card_token = card_token_check(card_token, field="card_token")
    if attempt is None or attempt.pk != attempt_id:
        if attempt is not None and attempt.status == PaymentStatus.CAPTURED:
            return attempt
        raise Conflict(
            "This page is out of date; open the link again.", code="payment_attempt_stale"
        )
    if attempt.status == PaymentStatus.CAPTURED:
        return attempt
    if not attempt.token:
        Payment.objects.filter(pk=attempt.pk, token="", status=PaymentStatus.PENDING).update(
            token=card_token, updated_at=timezone.now()
        )
        attempt.refresh_from_db()
    if attempt.token != card_token:
        raise Conflict(
            "A payment with another card is already under way for this order.",
            code="payment_in_progress",
        )
    return payment_settle(payment=attempt)


def _payment_link_next_attempt(*, order: Order, previous: Payment) -> Payment:
    attempts = Payment.objects.filter(order=order, method=PaymentMethod.PAY_BY_LINK).count()
    return Payment.objects.create(
        order=order,
        gateway=previous.gateway,
        method=PaymentMethod.PAY_BY_LINK,
        status=PaymentStatus.PENDING,
        currency=previous.currency,
        amount=previous.amount,
        idempotency_key=f"{order.idempotency_key}:link:{attempts + 1}"[:100],
        expires_at=previous.expires_at,
    )


# --- refunds ----------------------------------------------------------------------------------


def _refundable_by_payment(order: Order) -> list[tuple[Payment, Decimal]]:
    """The order's captured payments and what is left to refund on each (pending refunds
    count as spent)."""
    spent = dict(
        Refund.objects.filter(order=order, payment__isnull=False)
        .exclude(status=RefundStatus.FAILED)
        .values_list("payment_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "total")
    )
    payments = Payment.objects.filter(order=order, status__in=_REFUNDABLE).order_by("pk")
    return [
        (payment, payment.captured_amount - spent.get(payment.pk, Decimal("0")))
        for payment in payments
    ]


_REFUNDABLE = [
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
]


def refunds_create(
    *,
    order: Order,
    amount: Decimal,
    actor: User | None,
    reason: str,
    key: str,
    method: RefundMethod = RefundMethod.ORIGINAL_PAYMENT,
    location: Location | None = None,
    return_request: Return | None = None,
) -> list[Refund]:
    """Reserve and record refunds of ``amount`` for ``order`` (locked by the caller, inside its
    transaction). Cash refunds, and refunds of payments taken in a store, are paid out at
    ``location`` and succeed at once; the others are pending until :func:`refund_process`
    has been to the gateway. Raises RefundTooLarge (nothing reserved) or NotAllowed (in-store
    money without a store to pay it out)."""
    if amount <= 0:
        return []
    reserved = Order.objects.filter(
        pk=order.pk, refunded_total__lte=F("paid_total") - amount + HALF_CENT
    ).update(refunded_total=F("refunded_total") + amount, updated_at=timezone.now())
    if reserved != 1:
        left = order.paid_total - order.refunded_total
        raise RefundTooLarge(
            f"At most {money_text(left)} {order.currency} is left to refund on order "
            f"{order.number}.",
            fields={"amount": [f"At most {money_text(left)}."]},
        )
    order.refunded_total += amount
    if method == RefundMethod.CASH:
        return [_refund_cash(order, amount, actor, reason, f"{key}:1", location, return_request)]
    refunds = []
    remaining = amount
    for number, (payment, refundable) in enumerate(_refundable_by_payment(order), start=1):
        share = min(remaining, refundable)
        if share <= 0:
            continue
        refund_key = f"{key}:{number}"[:REFUND_KEY_MAX_LENGTH]
        if payment.gateway == IN_STORE_GATEWAY:
            refunds.append(
                _refund_cash(order, share, actor, reason, refund_key, location, return_request)
            )
        else:
            refunds.append(
                Refund.objects.create(
                    order=order,
                    payment=payment,
                    return_request=return_request,
                    method=RefundMethod.ORIGINAL_PAYMENT,
                    status=RefundStatus.PENDING,
                    currency=order.currency,
                    amount=share,
                    reason=reason,
                    issued_by=actor,
                    idempotency_key=refund_key,
                )
            )
        remaining -= share
    if remaining > 0:
        raise RefundTooLarge(f"Only {money_text(amount - remaining)} was paid by refundable means.")
    return refunds


def _refund_cash(
    order: Order,
    amount: Decimal,
    actor: User | None,
    reason: str,
    key: str,
    location: Location | None,
    return_request: Return | None,
) -> Refund:
    if location is None:
        raise NotAllowed(
            "This money was paid in a store (or is to be paid back in cash): it can only be "
            "refunded at a store's till.",
            code="refund_at_store",
        )
    refund = Refund.objects.create(
        order=order,
        return_request=return_request,
        method=RefundMethod.CASH,
        status=RefundStatus.SUCCEEDED,
        currency=order.currency,
        amount=amount,
        reason=reason,
        location=location,
        issued_by=actor,
        idempotency_key=key[:REFUND_KEY_MAX_LENGTH],
    )
    _refund_recorded(refund=refund, order=order)
    return refund


def refund_process(*, refund: Refund) -> Refund:
    """Send a pending refund to its payment's gateway (outside any transaction) and record the
    answer. Idempotent: the gateway key is the refund's own. A timeout leaves it pending for
    the sweep; a failure gives the reserved amount back to the order."""
    refund = Refund.objects.select_related("payment", "order").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING or refund.payment is None:
        return refund
    payment = refund.payment
    try:
        result = gateway_get(payment.gateway).refund(
            authorization=payment.gateway_reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=refund.idempotency_key,
        )
    except GatewayTimeout:
        return refund
    except GatewayError as error:
        _refund_fail(refund=refund, message=str(error))
    else:
        if result.is_approved:
            _refund_succeed(refund=refund, reference=result.reference)
        else:
            _refund_fail(refund=refund, message=result.message)
    refund.refresh_from_db()
    return refund


@transaction.atomic
def _refund_succeed(*, refund: Refund, reference: str) -> None:
    order = locks.order_lock(order_id=refund.order_id)
    locks.payments_lock(order_id=order.pk)
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.SUCCEEDED, gateway_reference=reference, updated_at=timezone.now()
    )
    if moved != 1 or refund.payment_id is None:
        return
    Payment.objects.filter(pk=refund.payment_id).update(
        refunded_amount=F("refunded_amount") + refund.amount, updated_at=timezone.now()
    )
    payment_id: int = refund.payment_id
    Payment.objects.filter(pk=payment_id, refunded_amount=F("captured_amount")).update(
        status=PaymentStatus.REFUNDED
    )
    Payment.objects.filter(Q(pk=payment_id) & ~Q(refunded_amount=F("captured_amount"))).update(
        status=PaymentStatus.PARTIALLY_REFUNDED
    )
    refund.refresh_from_db()
    _refund_recorded(refund=refund, order=order)


@transaction.atomic
def _refund_fail(*, refund: Refund, message: str) -> None:
    locks.order_lock(order_id=refund.order_id)
    moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.FAILED, failure_message=message[:300], updated_at=timezone.now()
    )
    if moved == 1:
        Order.objects.filter(pk=refund.order_id).update(
            refunded_total=F("refunded_total") - refund.amount, updated_at=timezone.now()
        )


def _refund_recorded(*, refund: Refund, order: Order) -> None:
    """A refund reached the customer: revenue goes down; a refund that is not part of a return
    (those are reported by ``Return Processed``) is on the timeline as ``Order Refunded``."""
    if order.customer_id is not None:
        customer_stats_record_refund(customer_id=order.customer_id, amount=refund.amount)
    if refund.return_request_id is None:
        emit(
            order=order,
            event="Order Refunded",
            channel=Channel.STORE if refund.method == RefundMethod.CASH else order.channel,
            message_id=f"order-refunded:{refund.pk}",
            properties={
                "total": money_text(refund.amount),
                "currency": refund.currency,
                "method": refund.method,
                "reason": refund.reason,
            },
            store_id=refund.location_id,
        )


def refunds_process(*, refunds: Sequence[Refund]) -> list[Refund]:
    return [refund_process(refund=refund) for refund in refunds]


def order_refund(
    *,
    actor: AnyUser,
    order: Order,
    amount: object,
    reason: str,
    idempotency_key: str,
) -> list[Refund]:
    """A refund without a return (goodwill, a price adjustment), to the original payment: an
    agent's decision. Never more than is left of what was paid (409 ``refund_too_large``, and
    nothing changes). Idempotent per key."""
    require(actor, Action.ORDER_VIEW, order)
    require(actor, Action.REFUND_ISSUE)
    key = idempotency_key_check(idempotency_key)
    amount = _amount_check(amount)
    reason = text_check(reason, field="reason", max_length=300)
    refuse_card_numbers({"reason": reason})
    request_fingerprint = fingerprint({"order": order.pk, "amount": str(amount), "reason": reason})
    prefix = f"refund:{key}:"
    with transaction.atomic():
        locked = locks.order_lock(order_id=order.pk)
        # Through the order's index: a prefix match alone would scan every refund.
        existing = list(Refund.objects.filter(order=locked, idempotency_key__startswith=prefix))
        if existing:
            if existing[0].request_fingerprint != request_fingerprint:
                raise IdempotencyKeyReused()
            refunds = [r for r in existing if r.status == RefundStatus.PENDING]
        else:
            refunds = refunds_create(
                order=locked,
                amount=amount,
                actor=actor if isinstance(actor, User) else None,
                reason=reason,
                key=prefix.rstrip(":"),
            )
            Refund.objects.filter(pk__in=[r.pk for r in refunds]).update(
                request_fingerprint=request_fingerprint
            )
            existing = refunds
    refunds_process(refunds=refunds)
    return list(Refund.objects.filter(pk__in=[r.pk for r in existing]).order_by("pk"))


def _amount_check(amount: object) -> Decimal:
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount <= 0
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(
            "Send a positive amount with at most two decimals.",
            fields={"amount": ["A positive amount, e.g. 12.50."]},
        )
    return amount


# --- sweeps -----------------------------------------------------------------------------------


def payments_reconcile(*, settled_before: datetime) -> int:
    """Finish online payments left pending or authorised before ``settled_before`` (a client
    that never retried after a timeout, a worker that died mid-way) and retry pending refunds.
    Returns how many were looked at. Each is settled with its own keys: nothing moves twice."""
    stale = Payment.objects.filter(
        status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED],
        updated_at__lt=settled_before,
    ).exclude(token="", status=PaymentStatus.PENDING)
    count = 0
    for payment in stale.order_by("pk")[:500]:
        count += 1
        try:
            payment_settle(payment=payment)
        except (PaymentDeclined, PaymentFailed, PaymentPending, Conflict):
            continue
    pending_refunds = Refund.objects.filter(
        status=RefundStatus.PENDING, updated_at__lt=settled_before
    ).order_by("pk")[:500]
    for refund in pending_refunds:
        count += 1
        refund_process(refund=refund)
    return count
