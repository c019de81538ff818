"""The demo campaigns tell a story: a sent e-mail with opens, clicks and credited orders."""

from __future__ import annotations

import pytest

from channels.marketing.attribution import attribution_refresh, campaign_stats_from_raw
from channels.marketing.demo_campaigns import seed_campaigns
from channels.marketing.models import AttributedOrder, Campaign, CampaignStatus
from interaction_platform.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_seed_campaigns_makes_a_sent_campaign_with_results() -> None:
    factories.UserFactory(role=Role.MARKETER)
    factories.StoreFactory(code="ams-kalverstraat")
    for _ in range(60):
        factories.CustomerFactory(email_consent=True, analytics_consent=True)
    counts = seed_campaigns()
    assert counts["segments"] == 3
    assert counts["campaigns"] == 3
    email = Campaign.objects.get(name="Autumn rain jackets")
    assert email.status == CampaignStatus.SENT
    stats = email.stats
    assert stats.sent == 60
    assert 0 < stats.clicked < stats.opened < stats.sent
    assert stats.orders > 0
    assert AttributedOrder.objects.count() == sum(c.stats.orders for c in Campaign.objects.all())
    for campaign in Campaign.objects.all():
        raw = campaign_stats_from_raw(campaign_id=campaign.pk)
        assert {name: getattr(campaign.stats, name) for name in raw} == raw
    # the beat task later finds nothing more to credit
    before = AttributedOrder.objects.count()
    attribution_refresh()
    assert AttributedOrder.objects.count() == before
