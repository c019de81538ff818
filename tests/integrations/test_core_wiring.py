"""The core's own flows announce themselves: the pipeline's new known people as
customer.created, every merge as customer.merged."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Merge
from integrations import webhooks
from integrations.models import WebhookDelivery, WebhookEvent
from tests.customers.test_pipeline import customer_of, event, process, send

pytestmark = pytest.mark.django_db


def _subscribe(*event_types: str) -> None:
    webhooks.webhook_endpoint_create(
        name="CRM", url="http://127.0.0.1:9/hooks", event_types=list(event_types)
    )


def test_new_known_people_from_the_pipeline_are_announced_in_one_batch(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: a system subscribed to customer.created
    _subscribe("customer.created")
    # when: one identified person and one anonymous visitor arrive
    send(
        event("identify", userId="u-1", traits={"email": "Ann@Example.com"}),
        event("page", anonymousId="anon-2", name="Home"),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process()
    # then: only the known person is announced, once, with one wake-up for the batch
    ann = customer_of("email", "ann@example.com")
    [announced] = WebhookEvent.objects.all()
    assert announced.event_type == "customer.created"
    assert announced.payload["id"] == str(ann.public_id)
    assert announced.payload["email"] == "ann@example.com"
    assert announced.idempotency_key == f"customer.created:{ann.public_id}"
    assert len([c for c in callbacks if "fan_out_many" in repr(c)]) == 1


def test_nothing_is_written_for_nobody() -> None:
    send(event("identify", userId="u-1", traits={"email": "ann@example.com"}))
    process()
    assert WebhookEvent.objects.count() == 0


def test_a_merge_is_announced_with_both_ids(django_capture_on_commit_callbacks: Any) -> None:
    # given: an anonymous visitor who later identifies as a known customer
    _subscribe("customer.merged")
    send(event("identify", userId="u-1", traits={"email": "ann@example.com"}))
    process()
    send(event("page", anonymousId="anon-9", name="Home", minute=1))
    process()
    # when: an event carries both identifiers
    send(event("identify", userId="u-1", anonymousId="anon-9", minute=2))
    with django_capture_on_commit_callbacks(execute=True):
        process()
    # then
    merge = Merge.objects.get()
    [announced] = WebhookEvent.objects.filter(event_type="customer.merged")
    assert announced.payload["id"] == str(merge.survivor.public_id)
    assert announced.payload["merged_ids"] == [str(merge.absorbed.public_id)]
    assert WebhookDelivery.objects.filter(event=announced).count() == 1
