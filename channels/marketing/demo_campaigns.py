"""Demo segments, campaigns, QR codes and follow-ups, so every campaign page tells a story.

Deterministic (one seeded random generator) and written in bulk. One e-mail campaign was sent
two weeks ago: opened, clicked and followed by orders in the web store and in stores, which the
attribution credits; a direct-mail campaign waits as a draft; a print campaign has a QR code per
placement with scans. Counters are rebuilt from the rows at the end, as the repair command does.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Location, LocationKind, Product, Variant
from channels.marketing.attribution import attribution_credit_orders, campaign_stats_rebuild
from channels.marketing.models import (
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
from orders.models import (
    FulfilmentMethod,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

DEMO_STORE_CODE = "ams-kalverstraat"


def _order(
    *,
    customer: Customer,
    number: str,
    placed_at: datetime,
    total: Decimal,
    channel: str,
    store: Location | None,
) -> Order:
    tax = (total * Decimal("21") / Decimal("121")).quantize(Decimal("0.01"))
    return Order(
        number=number,
        customer=customer,
        channel=channel,
        origin_channel=channel,
        store=store if channel == "store" else None,
        status=OrderStatus.COMPLETED if channel == "store" else OrderStatus.PAID,
        fulfilment_method=FulfilmentMethod.CARRY_OUT
        if channel == "store"
        else FulfilmentMethod.DELIVERY,
        currency="EUR",
        subtotal=total - tax,
        tax_total=tax,
        total=total,
        paid_total=total,
        idempotency_key=f"demo-campaign-{number}",
        placed_at=placed_at,
    )


def _complete(rng: random.Random, orders: list[Order]) -> None:
    """Give each demo order what a real one has: a line that adds up to its total, its captured
    payment, and its place in the customer's figures."""
    variants = list(Variant.objects.select_related("product").order_by("pk")[:200])
    lines, payments = [], []
    for order in orders:
        if variants:  # (a shop without a catalog, in tests: orders without lines)
            variant = rng.choice(variants)
            lines.append(
                OrderLine(
                    order=order,
                    variant=variant,
                    sku=variant.sku,
                    product_name=f"{variant.product.name} {variant.name}".strip(),
                    quantity=1,
                    unit_price=order.total,
                    tax_rate=Decimal("0.21"),
                    tax_amount=order.tax_total,
                    line_total=order.total,
                )
            )
        payments.append(
            Payment(
                order=order,
                gateway="sandbox",
                method=PaymentMethod.CARD_PRESENT
                if order.channel == "store"
                else PaymentMethod.CARD_ONLINE,
                status=PaymentStatus.CAPTURED,
                currency="EUR",
                amount=order.total,
                captured_amount=order.total,
                gateway_reference=f"demo-{order.number}",
                idempotency_key=f"demo-payment:{order.number}",
            )
        )
        Customer.objects.filter(orders=order).update(
            order_count=F("order_count") + 1, lifetime_revenue=F("lifetime_revenue") + order.total
        )
    OrderLine.objects.bulk_create(lines)
    Payment.objects.bulk_create(payments)


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
        started_at=now - timedelta(days=14),
        finished_at=now - timedelta(days=14, minutes=-20),
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
        started_at=now - timedelta(days=10),
    )
    CampaignStats.objects.bulk_create(
        [CampaignStats(campaign=campaign) for campaign in (email, mailing, posters)]
    )

    recipients = list(
        Customer.objects.filter(
            email_consent=True, erased_at__isnull=True, merged_into__isnull=True
        ).order_by("pk")[:80]
    )
    sent_at = now - timedelta(days=14)
    sends = []
    for customer in recipients:
        opened = rng.random() < 0.45
        clicked = opened and rng.random() < 0.4
        sends.append(
            CampaignSend(
                campaign=email,
                customer=customer,
                token=secrets.token_hex(16),
                status=SendStatus.SENT if rng.random() < 0.97 else SendStatus.FAILED,
                claimed_at=sent_at,
                sent_at=sent_at,
                opened_at=sent_at + timedelta(hours=rng.randrange(1, 48)) if opened else None,
                clicked_at=sent_at + timedelta(hours=rng.randrange(49, 72)) if clicked else None,
            )
        )
    CampaignSend.objects.bulk_create(sends)
    Campaign.objects.filter(pk=email.pk).update(audience_size=len(sends))

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
    QrCode.objects.bulk_create(codes)
    scanners = list(
        Customer.objects.filter(analytics_consent=True, erased_at__isnull=True).order_by("-pk")[:12]
    )
    scans = []
    for code in codes:
        for _ in range(rng.randrange(15, 60)):
            scans.append(
                QrScan(qr_code=code, scanned_at=now - timedelta(hours=rng.randrange(2, 230)))
            )
    attached = []
    for customer in scanners:
        code = rng.choice(codes)
        attached.append(
            QrScan(
                qr_code=code,
                customer=customer,
                scanned_at=now - timedelta(days=rng.randrange(2, 9)),
            )
        )
    QrScan.objects.bulk_create(scans + attached)
    for code in codes:
        total = sum(1 for scan in scans + attached if scan.qr_code is code)
        linked = sum(1 for scan in attached if scan.qr_code is code)
        QrCode.objects.filter(pk=code.pk).update(scan_count=total, attached_scan_count=linked)

    # Orders after the touches: some in the web store, some in the store (the point of it all).
    orders = []
    touched = [send for send in sends if send.opened_at] + attached
    for index, touch in enumerate(touched):
        if rng.random() > 0.5:
            continue
        touch_time = (
            touch.clicked_at or touch.opened_at
            if isinstance(touch, CampaignSend)
            else touch.scanned_at
        )
        assert touch_time is not None
        channel = "store" if rng.random() < 0.55 else "web"
        orders.append(
            _order(
                customer=touch.customer,  # type: ignore[arg-type]
                number=f"DC{index + 1:06d}",
                placed_at=min(
                    touch_time + timedelta(hours=rng.randrange(2, 120)), now - timedelta(hours=1)
                ),
                total=Decimal(rng.choice(["49.95", "89.00", "129.00", "24.50", "179.95"])),
                channel=channel,
                store=store,
            )
        )
    Order.objects.bulk_create(orders)
    _complete(rng, orders)
    attribution_credit_orders(
        orders=list(Order.objects.filter(number__startswith="DC").order_by("pk"))
    )

    follow_ups = _seed_follow_ups(rng, now, store)
    for campaign in (email, mailing, posters):
        campaign_stats_rebuild(campaign_id=campaign.pk)
    return {
        "segments": len(segments),
        "campaigns": 3,
        "campaign_sends": len(sends),
        "qr_codes": len(codes),
        "qr_scans": len(scans) + len(attached),
        "campaign_orders": len(orders),
        "follow_ups": follow_ups,
    }


def _seed_follow_ups(rng: random.Random, now: datetime, store: Location | None) -> int:
    customers = list(
        Customer.objects.filter(email_consent=True, erased_at__isnull=True).order_by("pk")[100:130]
    )
    rows = []
    for index, customer in enumerate(customers[:20]):
        created = now - timedelta(days=rng.randrange(1, 20))
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
    recovered = [row for row in rows if row.kind == FollowUpKind.EMAIL_REMINDER][::3]
    for index, follow_up in enumerate(recovered):
        order = _order(
            customer=follow_up.customer,
            number=f"DF{index + 1:06d}",
            placed_at=min(
                follow_up.created_at + timedelta(hours=rng.randrange(3, 60)),
                now - timedelta(hours=1),
            ),
            total=Decimal(rng.choice(["39.95", "74.00", "112.50"])),
            channel="web",
            store=store,
        )
        order.save()
        _complete(rng, [order])
        FollowUp.objects.filter(pk=follow_up.pk).update(
            recovered_order=order, recovered_revenue=order.total, recovered_at=order.placed_at
        )
    return len(rows)
