"""E-mail campaigns through a real SMTP server: audience by consent and audited, tracked link and
open pixel followed from the received e-mail, never twice to one recipient, unsubscribe."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from channels.marketing import campaigns as campaign_services
from channels.marketing.attribution import campaign_stats_from_raw
from channels.marketing.models import Campaign, CampaignSend, CampaignStatus, SendStatus
from channels.marketing.tasks import campaign_send
from customers.models import AccessAction, AccessLog, ConsentRecord, Customer, TimelineEvent
from interaction_platform.accounts.models import User
from tests import factories
from tests.channels.marketing.conftest import drain_inbox

pytestmark = pytest.mark.django_db


def _audience() -> dict[str, Customer]:
    return {
        "ada": factories.CustomerFactory(first_name="Ada", email_consent=True),
        "bo": factories.CustomerFactory(first_name="Bo", email_consent=True),
        "cy": factories.CustomerFactory(first_name="Cy", email_consent=False),
        "di": factories.CustomerFactory(
            first_name="Di", email_consent=True, erased_at=timezone.now()
        ),
        "ed": factories.CustomerFactory(first_name="Ed", email_consent=True, email=""),
    }


def _links(message: Any) -> dict[str, str]:
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    click = re.search(r'href="(http://[^"]+/m/c/[^"]+)"', html)
    pixel = re.search(r'src="(http://[^"]+/m/o/[^"]+\.gif)"', html)
    unsubscribe = re.search(r"Unsubscribe: (http://\S+/m/u/\S+)", text)
    assert click
    assert pixel
    assert unsubscribe
    return {
        "click": urlsplit(click.group(1)).path,
        "pixel": urlsplit(pixel.group(1)).path,
        "unsubscribe": urlsplit(unsubscribe.group(1)).path,
        "text": text,
    }


def test_the_audience_is_the_consenting_part_of_the_segment_and_is_audited(
    email_campaign: Campaign, marketer: User
) -> None:
    # given
    people = _audience()
    # when
    started = campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    # then
    recipients = set(CampaignSend.objects.values_list("customer__first_name", flat=True))
    assert recipients == {"Ada", "Bo"}
    assert started.status == CampaignStatus.SENDING
    assert started.audience_size == 2
    logs = AccessLog.objects.filter(actor=marketer)
    assert sorted(logs.values_list("customer_id", flat=True)) == sorted(
        [people["ada"].pk, people["bo"].pk]
    )
    assert set(logs.values_list("action", "via")) == {
        (AccessAction.EXPORT, f"marketing: campaign audience #{email_campaign.pk}")
    }


def test_starting_twice_builds_the_audience_once(email_campaign: Campaign, marketer: User) -> None:
    _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    again = campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    assert again.audience_size == 2
    assert CampaignSend.objects.count() == 2
    assert AccessLog.objects.count() == 2


def test_email_through_smtp_with_link_and_pixel_followed(
    email_campaign: Campaign, marketer: User, smtp_server: Any, client: Client
) -> None:
    # given
    people = _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    # when
    campaign_send.delay(email_campaign.pk)
    # then: one e-mail each, text and HTML, to the consenting customers only
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [people["ada"].email, people["bo"].email]
    )
    message = next(m for m in smtp_server.messages if m["To"] == people["ada"].email)
    assert message["Subject"] == "New jackets for autumn"
    assert message["List-Unsubscribe"].startswith("<http://")
    links = _links(message)
    assert "Hello Ada," in links["text"]
    assert "Come and try one on." in links["text"]
    email_campaign.refresh_from_db()
    assert email_campaign.status == CampaignStatus.SENT
    # when Ada opens the e-mail and follows the link, twice each
    for _ in range(2):
        pixel = client.get(links["pixel"])
        click = client.get(links["click"])
    # then
    assert pixel.status_code == 200
    assert pixel["Content-Type"] == "image/gif"
    assert pixel.content == campaign_services.PIXEL_GIF
    assert click.status_code == 302
    assert click["Location"] == "/c/jackets/"
    drain_inbox()
    ada_events = TimelineEvent.objects.filter(customer=people["ada"]).order_by("occurred_at", "id")
    assert [(e.type, e.channel) for e in ada_events] == [
        ("Email Sent", "email"),
        ("Email Opened", "email"),
        ("Email Clicked", "email"),
    ]
    clicked = ada_events.get(type="Email Clicked")
    assert clicked.properties["campaign_id"] == email_campaign.pk
    assert clicked.properties["link_url"] == "/c/jackets/"
    assert clicked.message_id == f"email-clicked:{email_campaign.pk}:{people['ada'].pk}"
    assert list(
        TimelineEvent.objects.filter(customer=people["bo"]).values_list("type", flat=True)
    ) == ["Email Sent"]
    stats = Campaign.objects.get(pk=email_campaign.pk).stats
    assert (stats.sent, stats.delivered, stats.opened, stats.clicked) == (2, 2, 1, 1)


def test_rerunning_the_task_sends_nothing_twice(
    email_campaign: Campaign, marketer: User, smtp_server: Any
) -> None:
    _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    campaign_send.delay(email_campaign.pk)
    campaign_send.delay(email_campaign.pk)
    campaign_services.campaign_send_batch(campaign_id=email_campaign.pk)
    assert len(smtp_server.messages) == 2
    assert list(CampaignSend.objects.values_list("status", flat=True)) == [SendStatus.SENT] * 2
    assert Campaign.objects.get(pk=email_campaign.pk).stats.sent == 2


def test_a_worker_killed_mid_batch_never_causes_a_second_email(
    email_campaign: Campaign, marketer: User, smtp_server: Any
) -> None:
    # given: a worker claimed the first recipient and died before (or while) sending
    _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    claimed = campaign_services._claim_next(email_campaign.pk)
    assert claimed is not None
    # when the task is delivered again (acks_late), twice
    first = campaign_services.campaign_send_batch(campaign_id=email_campaign.pk)
    second = campaign_services.campaign_send_batch(campaign_id=email_campaign.pk)
    # then the other recipient got one e-mail; the claimed one is not retried
    assert (first.sent, first.remaining, second.sent) == (1, 0, 0)
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] != claimed.customer.email
    progress = campaign_services.campaign_progress(campaign=email_campaign)
    assert (progress["sent"], progress["sending"], progress["pending"]) == (1, 1, 0)


def test_a_batch_stops_at_its_size_and_resumes(
    email_campaign: Campaign, marketer: User, smtp_server: Any
) -> None:
    _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    result = campaign_services.campaign_send_batch(campaign_id=email_campaign.pk, batch_size=1)
    assert (result.sent, result.remaining, len(smtp_server.messages)) == (1, 1, 1)
    assert Campaign.objects.get(pk=email_campaign.pk).status == CampaignStatus.SENDING
    result = campaign_services.campaign_send_batch(campaign_id=email_campaign.pk, batch_size=1)
    assert (result.sent, result.remaining, len(smtp_server.messages)) == (1, 0, 2)
    assert Campaign.objects.get(pk=email_campaign.pk).status == CampaignStatus.SENT


def test_unsubscribe_asks_first_then_withdraws_email_consent_once(
    email_campaign: Campaign, marketer: User, smtp_server: Any, client: Client
) -> None:
    # given
    people = _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    campaign_send.delay(email_campaign.pk)
    message = next(m for m in smtp_server.messages if m["To"] == people["bo"].email)
    path = _links(message)["unsubscribe"]
    # when a mail scanner follows the link
    page = client.get(path)
    # then nothing changes
    assert "Unsubscribe from marketing e-mail?" in page.content.decode()
    assert Customer.objects.get(pk=people["bo"].pk).email_consent is True
    # when Bo confirms, twice
    done = client.post(path)
    client.post(path)
    # then
    assert "You are unsubscribed" in done.content.decode()
    bo = Customer.objects.get(pk=people["bo"].pk)
    assert bo.email_consent is False
    records = ConsentRecord.objects.filter(customer=bo)
    assert [(r.purpose, r.is_granted, r.channel) for r in records] == [("email", False, "email")]
    assert Campaign.objects.get(pk=email_campaign.pk).stats.unsubscribed == 1
    drain_inbox()
    assert TimelineEvent.objects.filter(customer=bo, type="Email Unsubscribed").count() == 1


def test_unknown_tokens_change_nothing(client: Client, email_campaign: Campaign) -> None:
    assert client.get("/m/c/not-a-token").status_code == 404
    assert client.post("/m/u/not-a-token").status_code == 404
    pixel = client.get("/m/o/not-a-token.gif")
    assert (pixel.status_code, pixel.content) == (200, campaign_services.PIXEL_GIF)
    assert CampaignSend.objects.count() == 0
    assert Campaign.objects.get(pk=email_campaign.pk).stats.opened == 0


def test_counters_equal_the_raw_rows_after_repeats(
    email_campaign: Campaign, marketer: User, smtp_server: Any, client: Client
) -> None:
    _audience()
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    campaign_send.delay(email_campaign.pk)
    for send in CampaignSend.objects.all():
        for _ in range(3):
            client.get(f"/m/o/{send.token}.gif")
        client.get(f"/m/c/{send.token}")
    stats = Campaign.objects.get(pk=email_campaign.pk).stats
    raw = campaign_stats_from_raw(campaign_id=email_campaign.pk)
    assert {name: getattr(stats, name) for name in raw} == raw
    assert (raw["opened"], raw["clicked"]) == (2, 2)


def test_a_campaign_bigger_than_a_batch_is_sent_in_full(
    email_campaign: Campaign, marketer: User, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_services, "SEND_BATCH_SIZE", 2)
    for _ in range(5):
        factories.CustomerFactory(email_consent=True)
    campaign_services.campaign_start(campaign=email_campaign, actor=marketer)
    result = campaign_send.delay(email_campaign.pk).get()
    assert result == {"sent": 5, "failed": 0, "remaining": 0}
    assert len(smtp_server.messages) == 5
    assert Campaign.objects.get(pk=email_campaign.pk).status == CampaignStatus.SENT


def test_a_merge_keeps_one_send_per_campaign_and_an_unmerge_gives_them_back(
    email_campaign: Campaign, marketer: User
) -> None:
    from customers.services import customer_merge, customer_unmerge

    # given: two profiles of one person, both sent the autumn campaign; one also another one
    survivor, absorbed = factories.CustomerFactory(), factories.CustomerFactory()
    other = Campaign.objects.create(
        name="Winter", kind=email_campaign.kind, segment=email_campaign.segment
    )
    own = CampaignSend.objects.create(campaign=email_campaign, customer=survivor, token="t-own")
    twin = CampaignSend.objects.create(campaign=email_campaign, customer=absorbed, token="t-twin")
    winter = CampaignSend.objects.create(campaign=other, customer=absorbed, token="t-winter")
    # when
    merge = customer_merge(survivor=survivor, absorbed=absorbed)
    # then: one send per campaign for the person; the duplicate stays on the absorbed profile
    assert sorted(
        CampaignSend.objects.values_list("token", "customer_id", "campaign_id")
    ) == sorted(
        [
            ("t-own", survivor.pk, email_campaign.pk),
            ("t-twin", absorbed.pk, email_campaign.pk),
            ("t-winter", survivor.pk, other.pk),
        ]
    )
    assert merge.moved["marketing.campaignsend"] == [winter.pk]
    # and an unmerge puts the moved send back
    customer_unmerge(merge=merge)
    assert dict(CampaignSend.objects.values_list("pk", "customer_id")) == {
        own.pk: survivor.pk,
        twin.pk: absorbed.pk,
        winter.pk: absorbed.pk,
    }
