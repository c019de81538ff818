"""The campaign counters are kept incrementally; after any mix of repeated opens, clicks,
unsubscribes, scans, orders, cancellations and attribution runs, in random order, they equal
the figures computed from the raw rows."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.marketing import campaigns as campaign_services
from channels.marketing.attribution import (
    attribution_refresh,
    attribution_uncredit_cancelled,
    campaign_stats_from_raw,
)
from channels.marketing.models import Campaign, CampaignSend, CampaignStats, QrCode
from channels.marketing.qr import qr_scan_record
from interaction_platform.accounts.models import User
from orders.models import Order, OrderStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counters_equal_raw_rows_after_random_replays(
    seed: int, email_campaign: Campaign, marketer: User
) -> None:
    rng = random.Random(seed)
    people = [factories.CustomerFactory(email_consent=True) for _ in range(8)]
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    campaign_services.campaign_send_batch(campaign_id=email_campaign.pk, batch_size=5)
    posters = campaign_services.campaign_create(
        name="Posters", kind="print", created_by=marketer, attribution_window_days=14
    )
    code = QrCode.objects.create(
        code="p1", campaign=posters, label="Poster", placement="poster", destination_path="/"
    )
    tokens = list(CampaignSend.objects.values_list("token", flat=True))
    orders: list[Order] = []
    later = timezone.now() + timedelta(minutes=5)
    for _ in range(60):
        action = rng.choice(
            ["open", "click", "unsubscribe", "scan", "order", "cancel", "run", "send"]
        )
        if action == "open":
            campaign_services.email_open_record(token=rng.choice(tokens))
        elif action == "click":
            campaign_services.email_click_record(token=rng.choice(tokens))
        elif action == "unsubscribe":
            campaign_services.email_unsubscribe(token=rng.choice(tokens))
        elif action == "scan":
            qr_scan_record(
                code=code.code,
                customer=rng.choice(people),
                anonymous_id="",
                is_tracking_allowed=rng.random() < 0.5,
            )
        elif action == "order":
            total = Decimal(rng.choice(["10.00", "25.50", "99.99"]))
            orders.append(
                factories.OrderFactory(
                    customer=rng.choice(people),
                    subtotal=total,
                    tax_total=Decimal("0.00"),
                    total=total,
                )
            )
        elif action == "cancel" and orders:
            Order.objects.filter(pk=rng.choice(orders).pk).update(status=OrderStatus.CANCELLED)
        elif action == "run":
            attribution_refresh(now=later)
            attribution_uncredit_cancelled()
        else:
            campaign_services.campaign_send_batch(campaign_id=email_campaign.pk, batch_size=2)
    attribution_refresh(now=later)
    attribution_uncredit_cancelled()
    for campaign in (email_campaign, posters):
        stats = CampaignStats.objects.get(campaign=campaign)
        raw = campaign_stats_from_raw(campaign_id=campaign.pk)
        assert {name: getattr(stats, name) for name in raw} == raw
