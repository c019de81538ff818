"""Several workers sending one campaign at once, with real threads and transactions on
PostgreSQL: every recipient gets exactly one e-mail (rows are claimed with SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from channels.marketing import campaigns as campaign_services
from channels.marketing.models import Campaign, CampaignSend, SendStatus
from interaction_platform.accounts.models import User
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 4
RECIPIENTS = 24
DEADLINE_S = 60


@pytest.fixture(autouse=True)
def _no_worker_wake_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    # Touchpoints stay in the inbox: this test is about sending, not the pipeline.
    monkeypatch.setattr("customers.touchpoints._wake_workers", lambda shard: None)


def test_concurrent_workers_send_each_email_once(
    email_campaign: Campaign, marketer: User, smtp_server: Any
) -> None:
    # given
    for _ in range(RECIPIENTS):
        factories.CustomerFactory(email_consent=True)
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    barrier = threading.Barrier(WORKERS)
    errors: list[Exception] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=DEADLINE_S)
            campaign_services.campaign_send_batch(
                campaign_id=email_campaign.pk, batch_size=RECIPIENTS
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_S)
    # then
    assert errors == []
    recipients = Counter(message["To"] for message in smtp_server.messages)
    assert len(recipients) == RECIPIENTS
    assert set(recipients.values()) == {1}
    assert set(CampaignSend.objects.values_list("status", flat=True)) == {SendStatus.SENT}
    assert Campaign.objects.get(pk=email_campaign.pk).stats.sent == RECIPIENTS
