"""A campaign sent by a real Celery worker through Redis to a real SMTP server; the worker is
killed (-9) mid-batch and the task sent again: nobody gets the e-mail twice."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection

from channels.marketing import campaigns as campaign_services
from channels.marketing.models import Campaign, CampaignSend, CampaignStatus, SendStatus
from interaction_platform.accounts.models import User
from tests import factories
from tests.processes import Service, process_env, start_redis, start_worker, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

RECIPIENTS = 30
SMTP_DELAY_S = 0.15
WAIT_S = 60


class SlowSmtp:
    """A real SMTP server that takes a moment per message, so a worker can die mid-batch."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        received = self.messages

        class Collect:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                await asyncio.sleep(SMTP_DELAY_S)
                received.append(message_from_bytes(envelope.content, policy=email_policy.default))
                return "250 OK"

        self.controller = Controller(Collect(), hostname="127.0.0.1", port=self.port)


@pytest.fixture
def smtp() -> Iterator[SlowSmtp]:
    server = SlowSmtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def worker_stack(smtp: SlowSmtp, tmp_path: Path) -> Iterator[dict[str, Any]]:
    redis = start_redis(tmp_path)
    env = process_env(
        database_name=connection.settings_dict["NAME"],
        redis_port=redis.port,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
    )
    services: list[Service] = [redis]
    try:
        yield {"env": env, "tmp_path": tmp_path, "redis": redis, "services": services}
    finally:
        for service in reversed(services):
            service.stop()


def _enqueue(redis_port: int, campaign_id: int) -> None:
    # Not the current app: shared tasks elsewhere in this process must keep their own broker
    # (this Redis stops with the test).
    client = Celery(broker=f"redis://127.0.0.1:{redis_port}/0", set_as_current=False)
    try:
        client.send_task("marketing.campaign_send", args=[campaign_id])
    finally:
        client.close()


def test_a_killed_worker_never_causes_a_second_email(
    email_campaign: Campaign, marketer: User, smtp: SlowSmtp, worker_stack: dict[str, Any]
) -> None:
    # given
    for _ in range(RECIPIENTS):
        factories.CustomerFactory(email_consent=True)
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    first = start_worker(worker_stack["env"], worker_stack["tmp_path"], name="sender-1")
    worker_stack["services"].append(first)
    # when the worker is killed part-way through the batch
    _enqueue(worker_stack["redis"].port, email_campaign.pk)
    wait_until(lambda: len(smtp.messages) >= 5, timeout_s=WAIT_S, what="the first e-mails")
    first.kill()
    # and the task is sent again to a fresh worker
    second = start_worker(worker_stack["env"], worker_stack["tmp_path"], name="sender-2")
    worker_stack["services"].append(second)
    _enqueue(worker_stack["redis"].port, email_campaign.pk)
    wait_until(
        lambda: Campaign.objects.get(pk=email_campaign.pk).status == CampaignStatus.SENT,
        timeout_s=WAIT_S,
        what="the second worker to finish the campaign",
    )
    # then nobody got two; only a recipient claimed at the moment of the kill may have none
    recipients = Counter(message["To"] for message in smtp.messages)
    assert set(recipients.values()) == {1}
    statuses = Counter(CampaignSend.objects.values_list("status", flat=True))
    assert statuses[SendStatus.SENT] + statuses[SendStatus.SENDING] == RECIPIENTS
    assert statuses[SendStatus.SENDING] <= 1
    assert len(recipients) >= RECIPIENTS - 1
    assert statuses[SendStatus.PENDING] == 0
