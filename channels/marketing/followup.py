"""Follow-up of customers who did not buy (celery beat, every few minutes; idempotent).

- A **web or app basket** idle for ``FOLLOW_UP_IDLE_HOURS`` whose customer has an e-mail
  address and marketing e-mail consent gets exactly one reminder e-mail. The follow-up row is
  unique per (kind, cart) and is claimed (``open`` → ``sending``) in a committed transaction
  before the mail server is called, so a re-run or a killed sweep never sends a second one.
- A **basket left behind in a store** (started at the POS) becomes a task for that store,
  listed at ``/pos/follow-ups/``.
- An agent's **pay-by-link order still unpaid** after ``FOLLOW_UP_UNPAID_LINK_HOURS`` becomes a
  call-back task in the console (``/console/call-backs/``).
- **Recovered**: a basket follow-up whose customer orders (any channel, not cancelled) within
  ``FOLLOW_UP_RECOVERY_DAYS`` of it, and a call-back whose order gets paid, is credited with that
  order and its revenue (once: a conditional UPDATE on ``recovered_order IS NULL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from channels.marketing.campaigns import public_url
from channels.marketing.models import FollowUp, FollowUpKind, FollowUpStatus
from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, NotFound
from orders.models import (
    Cart,
    CartLine,
    CartStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

SOURCE = "follow-up"
SWEEP_LIMIT = 200
UNPAID_STATUSES = (OrderStatus.PENDING_PAYMENT,)


@dataclass(frozen=True)
class SweepResult:
    reminders_created: int
    reminders_sent: int
    store_tasks: int
    call_backs: int
    recovered: int


def _idle_carts(*, idle_before: datetime, channels: list[str]) -> QuerySet[Cart]:
    recent_line = CartLine.objects.filter(cart=OuterRef("pk"), updated_at__gt=idle_before)
    return (
        Cart.objects.filter(
            status=CartStatus.OPEN,
            origin_channel__in=channels,
            updated_at__lte=idle_before,
            customer__merged_into__isnull=True,
            customer__erased_at__isnull=True,
        )
        .filter(Exists(CartLine.objects.filter(cart=OuterRef("pk"))))
        .exclude(Exists(recent_line))
    )


def _create(**fields: Any) -> bool:
    try:
        with transaction.atomic():
            FollowUp.objects.create(**fields)
    except IntegrityError:
        return False
    return True


def _create_reminders(now: datetime, idle_before: datetime) -> int:
    carts = (
        _idle_carts(idle_before=idle_before, channels=[Channel.WEB, Channel.APP])
        .filter(customer__email_consent=True)
        .exclude(customer__email="")
        .exclude(
            Exists(FollowUp.objects.filter(kind=FollowUpKind.EMAIL_REMINDER, cart=OuterRef("pk")))
        )
        .order_by("pk")[:SWEEP_LIMIT]
    )
    return sum(
        _create(
            kind=FollowUpKind.EMAIL_REMINDER,
            status=FollowUpStatus.OPEN,
            customer_id=cart.customer_id,
            cart=cart,
            currency=cart.currency,
            created_at=now,
        )
        for cart in carts
    )


def _create_store_tasks(now: datetime, idle_before: datetime) -> int:
    carts = (
        _idle_carts(idle_before=idle_before, channels=[Channel.STORE])
        .filter(store__isnull=False)
        .exclude(Exists(FollowUp.objects.filter(kind=FollowUpKind.STORE_TASK, cart=OuterRef("pk"))))
        .annotate(items=Sum("lines__quantity"))
        .order_by("pk")[:SWEEP_LIMIT]
    )
    return sum(
        _create(
            kind=FollowUpKind.STORE_TASK,
            status=FollowUpStatus.OPEN,
            customer_id=cart.customer_id,
            cart=cart,
            store_id=cart.store_id,
            currency=cart.currency,
            note=f"{cart.items or 0} item(s) left in a basket started in the store",
            created_at=now,
        )
        for cart in carts
    )


def _create_call_backs(now: datetime) -> int:
    unpaid_before = now - timedelta(hours=settings.FOLLOW_UP_UNPAID_LINK_HOURS)
    link = Payment.objects.filter(
        order=OuterRef("pk"), method=PaymentMethod.PAY_BY_LINK, status=PaymentStatus.PENDING
    )
    orders = (
        Order.objects.filter(
            channel=Channel.CALL_CENTRE,
            status__in=UNPAID_STATUSES,
            placed_at__lte=unpaid_before,
            customer__isnull=False,
        )
        .filter(Exists(link))
        .exclude(Exists(FollowUp.objects.filter(kind=FollowUpKind.CALL_BACK, order=OuterRef("pk"))))
        .order_by("pk")[:SWEEP_LIMIT]
    )
    return sum(
        _create(
            kind=FollowUpKind.CALL_BACK,
            status=FollowUpStatus.OPEN,
            customer_id=order.customer_id,
            order=order,
            basket_value=order.total,
            currency=order.currency,
            note=f"Order {order.number}: the payment link is not paid yet",
            created_at=now,
        )
        for order in orders
    )


def _claim_reminder() -> FollowUp | None:
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(skip_locked=True)
            .filter(kind=FollowUpKind.EMAIL_REMINDER, status=FollowUpStatus.OPEN)
            .order_by("pk")
            .first()
        )
        if follow_up is None:
            return None
        FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUpStatus.SENDING)
        return follow_up


def reminder_message(*, follow_up: FollowUp) -> EmailMultiAlternatives:
    """The basket reminder: what is in the basket, with links to the products."""
    customer = follow_up.customer
    assert follow_up.cart is not None
    lines = [
        {
            "name": line.variant.product.name,
            "quantity": line.quantity,
            "url": public_url(f"/p/{line.variant.product.slug}/"),
        }
        for line in follow_up.cart.lines.select_related("variant__product").order_by("pk")
    ]
    context = {
        "first_name": customer.first_name,
        "lines": lines,
        "shop_url": public_url("/"),
        "consent_url": public_url("/account/consent/"),
        "shop_name": settings.SHOP_NAME,
    }
    message = EmailMultiAlternatives(
        subject="You left something in your basket",
        body=render_to_string("marketing/email/reminder.txt", context),
        to=[customer.email],
    )
    message.attach_alternative(
        render_to_string("marketing/email/reminder.html", context), "text/html"
    )
    return message


def _send_reminders(limit: int) -> int:
    sent = 0
    for _ in range(limit):
        follow_up = _claim_reminder()
        if follow_up is None:
            break
        follow_up = FollowUp.objects.select_related("customer", "cart").get(pk=follow_up.pk)
        try:
            reminder_message(follow_up=follow_up).send()
        except Exception as error:
            FollowUp.objects.filter(pk=follow_up.pk).update(
                status=FollowUpStatus.FAILED, note=str(error)[:300]
            )
            continue
        with transaction.atomic():
            now = timezone.now()
            FollowUp.objects.filter(pk=follow_up.pk, status=FollowUpStatus.SENDING).update(
                status=FollowUpStatus.SENT, sent_at=now
            )
            touchpoint_emit(
                customer=follow_up.customer,
                event="Email Sent",
                channel=Channel.EMAIL,
                source=SOURCE,
                properties={
                    "campaign_id": None,
                    "email_id": f"reminder-{follow_up.pk}",
                    "subject": "You left something in your basket",
                },
                occurred_at=now,
                message_id=f"basket-reminder:{follow_up.cart_id}",
            )
        sent += 1
    return sent


def followup_credit_recoveries(*, now: datetime, since: datetime | None = None) -> int:
    """Credit follow-ups (made since ``since``, by default within the recovery period) whose
    customer came back and bought (see the module docstring). Returns how many."""
    recovery = timedelta(days=settings.FOLLOW_UP_RECOVERY_DAYS)
    recovered = 0
    open_credit = FollowUp.objects.filter(
        recovered_order__isnull=True, created_at__gte=since or now - recovery
    ).exclude(status=FollowUpStatus.FAILED)
    for follow_up in open_credit.order_by("pk")[: SWEEP_LIMIT * 5]:
        order: Order | None
        if follow_up.kind == FollowUpKind.CALL_BACK:
            order = (
                Order.objects.filter(pk=follow_up.order_id or 0)
                .exclude(status__in=[*UNPAID_STATUSES, OrderStatus.CANCELLED])
                .first()
            )
        else:
            order = (
                Order.objects.filter(
                    customer_id=follow_up.customer_id,
                    placed_at__gt=follow_up.created_at,
                    placed_at__lte=follow_up.created_at + recovery,
                )
                .exclude(status=OrderStatus.CANCELLED)
                .order_by("placed_at", "pk")
                .first()
            )
        if order is None:
            continue
        recovered += FollowUp.objects.filter(pk=follow_up.pk, recovered_order__isnull=True).update(
            recovered_order=order, recovered_revenue=order.total, recovered_at=now
        )
    return recovered


def followup_sweep(*, now: datetime | None = None, send_limit: int = SWEEP_LIMIT) -> SweepResult:
    """Find non-converters, send the reminders due, credit recoveries. Never inside a
    transaction (it calls the mail server); safe to run any number of times, concurrently."""
    now = now or timezone.now()
    idle_before = now - timedelta(hours=settings.FOLLOW_UP_IDLE_HOURS)
    created = _create_reminders(now, idle_before)
    store_tasks = _create_store_tasks(now, idle_before)
    call_backs = _create_call_backs(now)
    sent = _send_reminders(send_limit)
    recovered = followup_credit_recoveries(now=now)
    return SweepResult(
        reminders_created=created,
        reminders_sent=sent,
        store_tasks=store_tasks,
        call_backs=call_backs,
        recovered=recovered,
    )


@transaction.atomic
def followup_task_complete(*, follow_up_id: int, kind: FollowUpKind, user: Any) -> FollowUp:
    """Mark a store task or a call-back done. Raises NotFound for an unknown task of that kind
    and Conflict when it was done already (nothing changes)."""
    follow_up = FollowUp.objects.select_for_update().filter(pk=follow_up_id, kind=kind).first()
    if follow_up is None:
        raise NotFound("There is no such task.")
    if follow_up.status == FollowUpStatus.DONE:
        raise Conflict("This task was already done.")
    follow_up.status = FollowUpStatus.DONE
    follow_up.done_at = timezone.now()
    follow_up.done_by = user
    follow_up.save(update_fields=["status", "done_at", "done_by"])
    return follow_up


# --- selectors ---------------------------------------------------------------------------------


def store_tasks_open(*, store_id: int) -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.filter(
            kind=FollowUpKind.STORE_TASK, status=FollowUpStatus.OPEN, store_id=store_id
        )
        .select_related("customer")
        .order_by("-created_at", "-id")
    )


def store_task_get(*, follow_up_id: int) -> FollowUp:
    task = (
        FollowUp.objects.select_related("store")
        .filter(pk=follow_up_id, kind=FollowUpKind.STORE_TASK)
        .first()
    )
    if task is None:
        raise NotFound("There is no such task.")
    return task


def call_backs_open() -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.filter(kind=FollowUpKind.CALL_BACK, status=FollowUpStatus.OPEN)
        .select_related("customer", "order")
        .order_by("created_at", "id")
    )


def followup_figures(*, since: datetime | None = None) -> list[dict[str, Any]]:
    """Dashboard 7 per kind: follow-ups, sent (reminders), recovered orders and revenue."""
    rows = FollowUp.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    figures: dict[str, dict[str, Any]] = {
        row["kind"]: dict(row)
        for row in rows.values("kind")
        .order_by()
        .annotate(
            follow_ups=Count("id"),
            sent=Count("id", filter=Q(status=FollowUpStatus.SENT) | Q(sent_at__isnull=False)),
            done=Count("id", filter=Q(status=FollowUpStatus.DONE)),
            recovered=Count("id", filter=Q(recovered_order__isnull=False)),
            revenue=Sum("recovered_revenue"),
        )
    }
    result = []
    for kind in FollowUpKind:
        row = figures.get(kind.value, {})
        result.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "follow_ups": row.get("follow_ups", 0),
                "sent": row.get("sent", 0),
                "done": row.get("done", 0),
                "recovered": row.get("recovered", 0),
                "revenue": Decimal(row.get("revenue") or 0).quantize(Decimal("0.01")),
            }
        )
    return result


def abandoned_basket_count(*, idle_before: datetime) -> int:
    """Open baskets with items, idle since ``idle_before`` (any channel)."""
    return _idle_carts(
        idle_before=idle_before, channels=[Channel.WEB, Channel.APP, Channel.STORE]
    ).count()
