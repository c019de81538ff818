"""Sources in the back office: the write key is shown once, on the page that issues it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from channels.ingest.models import Source, hash_write_key
from channels.ingest.selectors import source_for_write_key
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _shown_key(html: str) -> str:
    match = re.search(r'<code id="write-key">([^<]+)</code>', html)
    assert match is not None, html
    return match.group(1)


def test_creating_a_source_shows_its_key_once(admin_client: Client) -> None:
    # when
    response = admin_client.post(
        "/admin/ingest/source/add/",
        {"name": "pos-amsterdam", "channel": "store", "is_shared_device": "on", "is_active": "on"},
    )
    # then: the key is on this page, works, and is stored only as a hash
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = _shown_key(response.content.decode())
    source = Source.objects.get()
    assert (source.name, source.channel, source.is_shared_device) == (
        "pos-amsterdam",
        "store",
        True,
    )
    assert (source.key_hash, source.key_prefix) == (hash_write_key(key), key[:8])
    assert source_for_write_key(key=key) == source
    # and it is nowhere to be seen afterwards
    for page in ("/admin/ingest/source/", f"/admin/ingest/source/{source.pk}/change/"):
        assert key not in admin_client.get(page).content.decode()


def test_issuing_a_new_key_retires_the_old_one(admin_client: Client) -> None:
    source = factories.SourceFactory(write_key="old-key-123")
    response = admin_client.post(
        "/admin/ingest/source/",
        {"action": "issue_new_key", "_selected_action": [source.pk]},
    )
    new_key = _shown_key(response.content.decode())
    assert source_for_write_key(key="old-key-123") is None
    assert source_for_write_key(key=new_key) == source


def test_a_key_is_issued_for_one_source_at_a_time(admin_client: Client) -> None:
    sources = [factories.SourceFactory(write_key=f"key-{n}") for n in range(2)]
    response = admin_client.post(
        "/admin/ingest/source/",
        {"action": "issue_new_key", "_selected_action": [s.pk for s in sources]},
        follow=True,
    )
    assert "Select exactly one source to issue a key for." in response.content.decode()
    assert [source_for_write_key(key=f"key-{n}") for n in range(2)] == sources


def test_the_admin_requires_staff(client: Client) -> None:
    response = client.get("/admin/ingest/source/add/")
    assert response.status_code == 302
