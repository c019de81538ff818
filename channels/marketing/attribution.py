"""Attribution: which campaign earned an order. The rule, last touch:

An order (in any channel, not cancelled when it is read, with a known customer) is credited to
the campaign of the customer's **latest touch before the order** that lies within that
campaign's attribution window (``placed_at - touched_at <= attribution_window_days``). Touches
are an e-mail opened, an e-mail link clicked, a personal direct-mail QR code scanned and a
printed QR code scanned (by a signed-in shopper, or by a consenting visitor whose visitor id
later joins their profile). A click counts at the click's time, so a click after an open is the
later touch. An order with no touch in any window is credited to no campaign. Each order is
credited at most once (``AttributedOrder.order`` is unique); an order cancelled after it was
credited loses the credit again (:func:`attribution_uncredit_cancelled`).

:func:`attribution_refresh` (celery beat) reads new orders in id order from a cursor, credits
them and moves the campaign counters in the same transaction as the cursor, so a re-run or two
concurrent runs credit nothing twice. Orders younger than :data:`SETTLE_S` wait for the next
run, so an order committed late with a lower id is not skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from channels.marketing.models import (
    AttributedOrder,
    AttributionCursor,
    Campaign,
    CampaignSend,
    CampaignStats,
    QrScan,
    SendStatus,
    TouchKind,
)
from customers.models import Customer, Identity, IdentityKind
from interaction_platform.choices import Channel
from orders.models import Order, OrderStatus

CURSOR_NAME = "orders"
BATCH_SIZE = 500
SETTLE_S = 60
MAX_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Touch:
    customer_id: int
    campaign_id: int
    kind: TouchKind
    at: datetime


def _touches_for(customer_ids: set[int], since: datetime, until: datetime) -> list[Touch]:
    """Every touch of these customers (and of profiles merged into them) in [since, until]."""
    survivor_of: dict[int, int] = {pk: pk for pk in customer_ids}
    for pk, survivor in Customer.objects.filter(merged_into__in=customer_ids).values_list(
        "pk", "merged_into"
    ):
        if survivor is not None:
            survivor_of[pk] = survivor
    touches: list[Touch] = []
    sends = CampaignSend.objects.filter(customer_id__in=survivor_of).filter(
        Q(opened_at__range=(since, until))
        | Q(clicked_at__range=(since, until))
        | Q(scanned_at__range=(since, until))
    )
    for customer_id, campaign_id, opened, clicked, scanned in sends.values_list(
        "customer_id", "campaign_id", "opened_at", "clicked_at", "scanned_at"
    ):
        for kind, at in (
            (TouchKind.EMAIL_OPEN, opened),
            (TouchKind.EMAIL_CLICK, clicked),
            (TouchKind.QR_SCAN, scanned),
        ):
            if at is not None and since <= at <= until:
                touches.append(Touch(survivor_of[customer_id], campaign_id, kind, at))
    anonymous_owner = dict(
        Identity.objects.filter(
            kind=IdentityKind.ANONYMOUS_ID, customer_id__in=survivor_of
        ).values_list("value", "customer_id")
    )
    scans = QrScan.objects.filter(scanned_at__range=(since, until)).filter(
        Q(customer_id__in=survivor_of) | Q(anonymous_id__in=anonymous_owner)
    )
    for customer_id, anonymous_id, campaign_id, at in scans.values_list(
        "customer_id", "anonymous_id", "qr_code__campaign_id", "scanned_at"
    ):
        owner = customer_id if customer_id is not None else anonymous_owner.get(anonymous_id)
        if owner in survivor_of:
            touches.append(Touch(survivor_of[owner], campaign_id, TouchKind.QR_SCAN, at))
    return touches


def attribution_last_touch(
    *, placed_at: datetime, touches: list[Touch], windows: dict[int, int]
) -> Touch | None:
    """The latest touch at or before ``placed_at`` inside its campaign's window."""
    best: Touch | None = None
    for touch in touches:
        if touch.at > placed_at:
            continue
        if placed_at - touch.at > timedelta(days=windows.get(touch.campaign_id, 0)):
            continue
        if best is None or (touch.at, touch.campaign_id) > (best.at, best.campaign_id):
            best = touch
    return best


def attribution_credit_orders(*, orders: list[Order]) -> int:
    """Credit ``orders`` (one batch, by the rule above); returns how many got a campaign. An
    order credited before is left alone, so this is safe to repeat."""
    customer_ids = {order.customer_id for order in orders if order.customer_id}
    if not customer_ids:
        return 0
    since = min(order.placed_at for order in orders) - timedelta(days=MAX_WINDOW_DAYS)
    until = max(order.placed_at for order in orders)
    touches_of: dict[int, list[Touch]] = defaultdict(list)
    for touch in _touches_for(customer_ids, since, until):
        touches_of[touch.customer_id].append(touch)
    windows = dict(Campaign.objects.values_list("pk", "attribution_window_days"))
    credited = 0
    for order in orders:
        if order.customer_id is None or order.status == OrderStatus.CANCELLED:
            continue
        last = attribution_last_touch(
            placed_at=order.placed_at, touches=touches_of[order.customer_id], windows=windows
        )
        if last is None:
            continue
        touch = last
        _, created = AttributedOrder.objects.get_or_create(
            order=order,
            defaults={
                "campaign_id": touch.campaign_id,
                "touch": touch.kind,
                "touched_at": touch.at,
                "placed_at": order.placed_at,
                "channel": order.channel,
                "revenue": order.total,
                "currency": order.currency,
            },
        )
        if created:
            CampaignStats.objects.filter(campaign_id=touch.campaign_id).update(
                orders=F("orders") + 1, revenue=F("revenue") + order.total
            )
            credited += 1
    return credited


def attribution_refresh(*, now: datetime | None = None, max_batches: int = 20) -> int:
    """Credit the orders placed since the last run (see the module's rule). Idempotent and safe
    to run concurrently: the cursor row is locked for each batch, which commits with it.
    Returns how many orders were credited."""
    settled_before = (now or timezone.now()) - timedelta(seconds=SETTLE_S)
    credited = 0
    for _ in range(max_batches):
        with transaction.atomic():
            cursor, _ = AttributionCursor.objects.select_for_update().get_or_create(
                name=CURSOR_NAME
            )
            batch = list(
                Order.objects.filter(pk__gt=cursor.last_order_id)
                .order_by("pk")
                .only("pk", "customer_id", "placed_at", "status", "channel", "total", "currency")[
                    :BATCH_SIZE
                ]
            )
            ready = []
            for order in batch:
                if order.placed_at > settled_before:
                    break
                ready.append(order)
            if not ready:
                return credited
            credited += attribution_credit_orders(orders=ready)
            cursor.last_order_id = ready[-1].pk
            cursor.save(update_fields=["last_order_id", "updated_at"])
            if len(ready) < len(batch) or len(batch) < BATCH_SIZE:
                return credited
    return credited


def attribution_uncredit_cancelled() -> int:
    """Take back the credit of orders cancelled after they were credited, and their counters
    (each row is deleted once, so a repeat or a concurrent run takes nothing back twice).
    Returns how many were taken back."""
    taken_back = 0
    cancelled = AttributedOrder.objects.filter(order__status=OrderStatus.CANCELLED)
    for row in cancelled.only("pk", "campaign_id", "revenue"):
        with transaction.atomic():
            deleted, _ = AttributedOrder.objects.filter(pk=row.pk).delete()
            if deleted:
                CampaignStats.objects.filter(campaign_id=row.campaign_id).update(
                    orders=F("orders") - 1, revenue=F("revenue") - row.revenue
                )
                taken_back += 1
    return taken_back


# --- rebuilding and checking the rollup --------------------------------------------------------


def campaign_stats_from_raw(*, campaign_id: int) -> dict[str, object]:
    """The campaign's figures computed from the raw rows (sends, scans, credited orders): what
    the incremental counters must equal."""
    sends = CampaignSend.objects.filter(campaign_id=campaign_id).aggregate(
        attempted=Count("id", filter=Q(status__in=[SendStatus.SENT, SendStatus.FAILED])),
        delivered=Count("id", filter=Q(status=SendStatus.SENT)),
        failed=Count("id", filter=Q(status=SendStatus.FAILED)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        mail_scans=Count("id", filter=Q(scanned_at__isnull=False)),
    )
    print_scans = QrScan.objects.filter(qr_code__campaign_id=campaign_id).count()
    credited = AttributedOrder.objects.filter(campaign_id=campaign_id).aggregate(
        orders=Count("id"), revenue=Sum("revenue")
    )
    return {
        "sent": sends["attempted"],
        "delivered": sends["delivered"],
        "failed": sends["failed"],
        "opened": sends["opened"],
        "clicked": sends["clicked"],
        "unsubscribed": sends["unsubscribed"],
        "qr_scans": sends["mail_scans"] + print_scans,
        "orders": credited["orders"],
        "revenue": Decimal(credited["revenue"] or 0).quantize(Decimal("0.01")),
    }


@transaction.atomic
def campaign_stats_rebuild(*, campaign_id: int) -> CampaignStats:
    """Recompute one campaign's counters from raw rows (a repair). Locks the stats row."""
    stats, _ = CampaignStats.objects.select_for_update().get_or_create(campaign_id=campaign_id)
    for name, value in campaign_stats_from_raw(campaign_id=campaign_id).items():
        setattr(stats, name, value)
    stats.save()
    return stats


def attributed_orders_by_channel(*, campaign_id: int) -> list[dict[str, object]]:
    """Credited orders and revenue per channel the order was placed in (an e-mail that sells in
    the stores shows here), largest revenue first."""
    rows = (
        AttributedOrder.objects.filter(campaign_id=campaign_id)
        .values("channel")
        .order_by()
        .annotate(orders=Count("id"), revenue=Sum("revenue"))
    )
    result = [
        {
            "channel": row["channel"],
            "label": Channel(row["channel"]).label
            if row["channel"] in Channel.values
            else row["channel"],
            "orders": row["orders"],
            "revenue": Decimal(row["revenue"] or 0).quantize(Decimal("0.01")),
        }
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row["revenue"], str(row["channel"])))


def attributed_totals_by_campaign(*, channel: str) -> dict[int, tuple[int, Decimal]]:
    """Credited orders and revenue per campaign, for orders placed in ``channel`` only."""
    rows = (
        AttributedOrder.objects.filter(channel=channel)
        .values("campaign_id")
        .order_by()
        .annotate(orders=Count("id"), revenue=Sum("revenue"))
    )
    return {
        row["campaign_id"]: (row["orders"], Decimal(row["revenue"] or 0).quantize(Decimal("0.01")))
        for row in rows
    }
