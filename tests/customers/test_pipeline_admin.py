"""The pipeline's back-office screens: undo a merge, decide a review, retry failed rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from customers import services
from customers.models import InboxEvent, Merge, MergeReview, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2024-05-01T10:00:00+00:00")


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_undoing_a_merge_from_the_admin(admin_client: Client, admin_user: Any) -> None:
    survivor = factories.CustomerFactory()
    absorbed = factories.CustomerFactory(is_identified=False, identities=False)
    merge = services.customer_merge(survivor=survivor, absorbed=absorbed)
    response = admin_client.post(
        "/admin/customers/merge/", {"action": "undo", "_selected_action": [merge.pk]}, follow=True
    )
    assert "1 done." in response.content.decode()
    merge.refresh_from_db()
    assert (merge.unmerged_at is not None, merge.unmerged_by) == (True, admin_user)
    again = admin_client.post(
        "/admin/customers/merge/", {"action": "undo", "_selected_action": [merge.pk]}, follow=True
    )
    assert "This merge was undone already." in again.content.decode()


@pytest.mark.parametrize(("action", "status"), [("merge", "merged"), ("keep_apart", "kept_apart")])
def test_deciding_a_review_from_the_admin(admin_client: Client, action: str, status: str) -> None:
    first, second = factories.CustomerFactory(), factories.CustomerFactory()
    review = MergeReview.objects.create(
        first_customer=first,
        second_customer=second,
        message_id="m",
        source="s",
        created_at=T0,
        last_seen_at=T0,
    )
    admin_client.post(
        "/admin/customers/mergereview/", {"action": action, "_selected_action": [review.pk]}
    )
    review.refresh_from_db()
    assert review.status == status
    assert Merge.objects.count() == (1 if action == "merge" else 0)


def test_failed_inbox_rows_are_processed_again_from_the_admin(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    customer = factories.CustomerFactory()
    row = InboxEvent.objects.create(
        message_id="m-1",
        source="orders",
        channel="web",
        payload={
            "type": "track",
            "event": "Order Completed",
            "messageId": "m-1",
            "context": {"internal": {"customer_id": customer.pk}},
        },
        received_at=T0,
        status="failed",
        error="was broken",
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/customers/inboxevent/",
            {"action": "process_again", "_selected_action": [row.pk]},
        )
    row.refresh_from_db()
    assert (row.status, row.error) == ("done", "")
    assert TimelineEvent.objects.get().customer_id == customer.pk


@pytest.mark.parametrize(
    "page",
    [
        "/admin/customers/merge/",
        "/admin/customers/mergereview/",
        "/admin/customers/droppedeventcount/",
        "/admin/ingest/source/",
    ],
)
def test_the_pipeline_screens_open(admin_client: Client, page: str) -> None:
    assert admin_client.get(page).status_code == 200
