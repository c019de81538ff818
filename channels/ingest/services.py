"""Writes for tracking sources."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from channels.ingest.models import Source, hash_write_key
from interaction_platform.choices import Channel

KEY_PREFIX_LENGTH = 8


@transaction.atomic
def source_create(
    *, name: str, channel: Channel | str, is_shared_device: bool = False
) -> tuple[Source, str]:
    """Create an active source and issue its write key. Returns the row and the key; the key is
    not stored and cannot be shown again."""
    source = Source.objects.create(
        name=name, channel=Channel(channel), is_shared_device=is_shared_device
    )
    return source, source_issue_key(source=source)


@transaction.atomic
def source_issue_key(*, source: Source) -> str:
    """Give ``source`` a new write key (saving it if it is new). The old key stops working at
    once. Returns the key, which is shown once and never stored."""
    key = secrets.token_urlsafe(24)
    source.key_hash = hash_write_key(key)
    source.key_prefix = key[:KEY_PREFIX_LENGTH]
    source.key_issued_at = timezone.now()
    source.save()
    return key
