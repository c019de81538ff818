"""Fixtures for the campaign tests: customers with and without consent, a segment, a client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from channels.marketing.campaigns import campaign_create
from channels.marketing.models import Campaign, CampaignKind, Segment
from channels.marketing.segments import SegmentRules, segment_save
from customers.inbox import inbox_process_batch
from interaction_platform.accounts.models import User


def drain_inbox() -> None:
    while inbox_process_batch():
        pass


@pytest.fixture
def marketer_client(marketer: User) -> Client:
    client = Client()
    client.force_login(marketer)
    return client


@pytest.fixture
def everyone(db: Any, marketer: User) -> Segment:
    """A segment of every identified customer."""
    return segment_save(name="Everyone", description="", rules=SegmentRules(), created_by=marketer)


@pytest.fixture
def email_campaign(everyone: Segment, marketer: User) -> Campaign:
    return campaign_create(
        name="Autumn jackets",
        kind=CampaignKind.EMAIL,
        segment=everyone,
        subject="New jackets for autumn",
        headline="Stay dry",
        body="Our new rain jackets are in.\n\nCome and try one on.",
        landing_path="/c/jackets/",
        attribution_window_days=7,
        created_by=marketer,
    )
