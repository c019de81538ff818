"""Reads for tracking sources."""

from __future__ import annotations

from channels.ingest.models import Source, hash_write_key


def source_for_write_key(*, key: str) -> Source | None:
    """The active source whose write key is ``key``, or None."""
    if not key:
        return None
    return Source.objects.filter(key_hash=hash_write_key(key), is_active=True).first()
