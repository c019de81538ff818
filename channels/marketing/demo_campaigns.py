"""Demo segments, campaigns, QR codes and follow-ups, so every campaign page tells a story.

Deterministic (one seeded random generator) and written in bulk, after the demo history (a year
of orders in every channel). One e-mail campaign went out three weeks ago: recipients opened and
clicked it in the days before orders the history already holds, so the attribution credits real
orders in the web store, the app, the stores and the call centre. A direct-mail campaign waits as
a draft; a print campaign has a code per placement, with anonymous scans and scans by customers
who bought soon after. Basket reminders are recovered by the customers' own next orders. Counters
are rebuilt from the rows at the end, as the repair command does; the attribution cursor is moved
past the history so the beat task only reads new orders.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Location, LocationKind, Product
from channels.marketing.attribution import CURSOR_NAME as ATTRIBUTION_CURSOR
from channels.marketing.attribution import attribution_credit_orders, campaign_stats_rebuild
from channels.marketing.followup import followup_credit_recoveries
from channels.marketing.models import (
    AttributionCursor,
    Campaign,
    CampaignKind,
    CampaignSend,
    CampaignStats,
    CampaignStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    QrCode,
    QrPlacement,
    QrScan,
    Segment,
    SendStatus,
)
from customers.models import Customer
from interaction_platform.accounts.models import Role, User
from orders.models import Order, OrderStatus

DEMO_STORE_CODE = "ams-kalverstraat"
SENT_DAYS_AGO = 21
POSTERS_DAYS_AGO = 10
RECIPIENTS = 120
SCANNING_BUYERS = 15
BATCH_SIZE = 500


@transaction.atomic
def seed_campaigns(*, seed: str = "campaigns") -> dict[str, int]:
    """Create the demo campaigns. Returns how many rows of each kind were made."""
    rng = random.Random(seed)  # noqa: S311 - demo data, deterministic on purpose
    now = timezone.now()
    marketer = User.objects.filter(role=Role.MARKETER).order_by("pk").first()
    store = Location.objects.filter(code=DEMO_STORE_CODE).first() or (
        Location.objects.filter(kind=LocationKind.STORE).order_by("pk").first()
    )
    segments = [
        Segment(
            name="Amsterdam e-mail subscribers",
            description="Home store Kalverstraat, marketing e-mail allowed",
            rules={"consent": ["email"], "home_store": DEMO_STORE_CODE},
            created_by=marketer,
        ),
        Segment(
            name="Big spenders",
            description="Spent € 200 or more in total",
            rules={"min_spend": "200.00"},
            created_by=marketer,
        ),
        Segment(
            name="Not ordered in 90 days",
            description="Win-back: no order in any channel for three months",
            rules={"event": "Order Completed", "event_did": "no", "event_days": 90},
            created_by=marketer,
        ),
    ]
    Segment.objects.bulk_create(segments)
    email = Campaign.objects.create(
        name="Autumn rain jackets",
        kind=CampaignKind.EMAIL,
        segment=segments[0],
        subject="Rain is coming: new jackets are in",
        headline="Stay dry this autumn",
        body="Our new rain jackets are in, online and in the Kalverstraat store.\n\n"
        "Order online and collect in the store, or come and try one on.",
        call_to_action="See the jackets",
        landing_path="/",
        attribution_window_days=7,
        status=CampaignStatus.SENT,
        created_by=marketer,
        started_at=now - timedelta(days=SENT_DAYS_AGO),
        finished_at=now - timedelta(days=SENT_DAYS_AGO, minutes=-20),
    )
    mailing = Campaign.objects.create(
        name="Spring catalogue by post",
        kind=CampaignKind.DIRECT_MAIL,
        segment=segments[1],
        landing_path="/",
        attribution_window_days=30,
        created_by=marketer,
    )
    posters = Campaign.objects.create(
        name="Store windows, November",
        kind=CampaignKind.PRINT,
        landing_path="/",
        attribution_window_days=14,
        status=CampaignStatus.SENT,
        created_by=marketer,
        started_at=now - timedelta(days=POSTERS_DAYS_AGO),
    )
    CampaignStats.objects.bulk_create(
        [CampaignStats(campaign=campaign) for campaign in (email, mailing, posters)]
    )

    # Touches come before real orders of the demo history, so the attribution credits orders
    # the services wrote (in the web store, the app, the stores and the call centre).
    sent_at = now - timedelta(days=SENT_DAYS_AGO)
    next_order = _first_order_after(sent_at)
    recipients = list(
        Customer.objects.filter(
            email_consent=True, erased_at__isnull=True, merged_into__isnull=True
        ).order_by("pk")[:RECIPIENTS]
    )
    sends = []
    for customer in recipients:
        order_at = next_order.get(customer.pk)
        opened_at: datetime | None
        clicked_at: datetime | None
        if order_at is not None and rng.random() < 0.8:
            # opened (and often clicked) in the days before they bought
            opened_at = max(
                sent_at + timedelta(hours=1), order_at - timedelta(hours=rng.randrange(4, 96))
            )
            clicked_at = (
                opened_at + timedelta(minutes=rng.randrange(1, 30)) if rng.random() < 0.5 else None
            )
            if clicked_at is not None and clicked_at >= order_at:
                clicked_at = None
        elif rng.random() < 0.3:
            opened_at = sent_at + timedelta(hours=rng.randrange(1, 72))
            clicked_at = opened_at + timedelta(minutes=5) if rng.random() < 0.3 else None
        else:
            opened_at = clicked_at = None
        sends.append(
            CampaignSend(
                campaign=email,
                customer=customer,
                token=secrets.token_hex(16),
                status=SendStatus.SENT if rng.random() < 0.97 else SendStatus.FAILED,
                claimed_at=sent_at,
                sent_at=sent_at,
                opened_at=opened_at,
                clicked_at=clicked_at,
            )
        )
    CampaignSend.objects.bulk_create(sends)
    Campaign.objects.filter(pk=email.pk).update(audience_size=len(sends))

    codes = _seed_codes(posters, store)
    scans = _seed_scans(rng, codes, now, next_order)

    credited = _credit_recent_orders(since=sent_at)
    follow_ups = _seed_follow_ups(rng, now, store, next_order)
    for campaign in (email, mailing, posters):
        campaign_stats_rebuild(campaign_id=campaign.pk)
    return {
        "segments": len(segments),
        "campaigns": 3,
        "campaign_sends": len(sends),
        "qr_codes": len(codes),
        "qr_scans": scans,
        "campaign_orders": credited,
        "follow_ups": follow_ups,
    }


def _first_order_after(moment: datetime) -> dict[int, datetime]:
    """Each customer's first order (not cancelled) after ``moment``."""
    first: dict[int, datetime] = {}
    orders = (
        Order.objects.filter(placed_at__gt=moment, customer__isnull=False)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("placed_at")
        .values_list("customer_id", "placed_at")
    )
    for customer_id, placed_at in orders:
        first.setdefault(customer_id, placed_at)
    return first


def _seed_codes(posters: Campaign, store: Location | None) -> list[QrCode]:
    products = list(Product.objects.order_by("pk").values_list("slug", flat=True)[:2])
    codes = [
        QrCode(
            code=f"demo{index}",
            campaign=posters,
            label=label,
            placement=placement,
            store=store if placement in (QrPlacement.STORE, QrPlacement.SHELF_LABEL) else None,
            destination_path=f"/p/{products[index % len(products)]}/" if products else "/",
        )
        for index, (label, placement) in enumerate(
            [
                ("Poster, Amsterdam Centraal", QrPlacement.POSTER),
                ("Flyer, door to door", QrPlacement.FLYER),
                ("Shelf label, rain jackets", QrPlacement.SHELF_LABEL),
                ("Kalverstraat shop window", QrPlacement.STORE),
            ]
        )
    ]
    return QrCode.objects.bulk_create(codes)


def _seed_scans(
    rng: random.Random, codes: list[QrCode], now: datetime, next_order: dict[int, datetime]
) -> int:
    """Anonymous scans without consent (counted only) and scans by customers who bought soon
    after (on their timeline, so the attribution credits the print campaign)."""
    start = now - timedelta(days=POSTERS_DAYS_AGO)
    scans = [
        QrScan(qr_code=code, scanned_at=now - timedelta(hours=rng.randrange(2, 230)))
        for code in codes
        for _ in range(rng.randrange(15, 60))
    ]
    buyers = [
        (customer_id, placed_at)
        for customer_id, placed_at in sorted(next_order.items())
        if placed_at > start + timedelta(days=1)
    ]
    for customer_id, placed_at in buyers[-SCANNING_BUYERS:]:
        scans.append(
            QrScan(
                qr_code=rng.choice(codes),
                customer_id=customer_id,
                scanned_at=placed_at - timedelta(hours=rng.randrange(1, 24)),
            )
        )
    QrScan.objects.bulk_create(scans)
    for code in codes:
        QrCode.objects.filter(pk=code.pk).update(
            scan_count=sum(1 for scan in scans if scan.qr_code is code),
            attached_scan_count=sum(
                1 for scan in scans if scan.qr_code is code and scan.customer_id is not None
            ),
        )
    return len(scans)


def _credit_recent_orders(*, since: datetime) -> int:
    """Credit the orders placed since the first campaign touch, then move the attribution
    cursor past the history so that the beat task only reads new orders."""
    credited = 0
    recent = Order.objects.filter(placed_at__gte=since).order_by("pk")
    batch: list[Order] = []
    for order in recent.iterator(chunk_size=BATCH_SIZE):
        batch.append(order)
        if len(batch) == BATCH_SIZE:
            credited += attribution_credit_orders(orders=batch)
            batch = []
    if batch:
        credited += attribution_credit_orders(orders=batch)
    last = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    AttributionCursor.objects.update_or_create(
        name=ATTRIBUTION_CURSOR, defaults={"last_order_id": last}
    )
    return credited


def _seed_follow_ups(
    rng: random.Random, now: datetime, store: Location | None, next_order: dict[int, datetime]
) -> int:
    """Basket reminders (some followed by a real order: recovered) and open store tasks."""
    customers = list(
        Customer.objects.filter(email_consent=True, erased_at__isnull=True).order_by("pk")[100:130]
    )
    rows = []
    for index, customer in enumerate(customers[:20]):
        order_at = next_order.get(customer.pk)
        created = (
            order_at - timedelta(hours=rng.randrange(2, 48))
            if order_at is not None and order_at > now - timedelta(days=25)
            else now - timedelta(days=rng.randrange(1, 20))
        )
        rows.append(
            FollowUp(
                kind=FollowUpKind.EMAIL_REMINDER,
                status=FollowUpStatus.SENT,
                customer=customer,
                created_at=created,
                sent_at=created,
                note=f"demo reminder {index + 1}",
            )
        )
    for customer in customers[20:24]:
        rows.append(
            FollowUp(
                kind=FollowUpKind.STORE_TASK,
                status=FollowUpStatus.OPEN,
                customer=customer,
                store=store,
                note=f"{rng.randrange(1, 4)} item(s) left in a basket started in the store",
                created_at=now - timedelta(hours=rng.randrange(26, 72)),
            )
        )
    FollowUp.objects.bulk_create(rows)
    followup_credit_recoveries(now=now, since=now - timedelta(days=40))
    return len(rows)
