"""API keys for other systems: issue (shown once), find by key, revoke."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import ApiKey, Scope, hash_api_key
from interaction_platform.errors import InvalidInput

KEY_PREFIX = "ipk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
# Writing last_used_at on every request would turn each read into a write; once a minute is
# precise enough to see which keys are alive.
LAST_USED_PRECISION = timedelta(minutes=1)


def _checked_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(
            f"Unknown scopes: {', '.join(unknown)}.",
            fields={"scopes": [f"Choose from {', '.join(Scope.values)}."]},
        )
    if not scopes:
        raise InvalidInput("Give the key at least one scope.", fields={"scopes": ["Required."]})
    return sorted(set(scopes))


def api_key_create(*, name: str, scopes: list[str], owner: Any) -> tuple[ApiKey, str]:
    """Issue a key. Returns the row and the key; the key is not stored and cannot be shown
    again. Raises InvalidInput for an unknown scope."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        scopes=_checked_scopes(scopes),
        owner=owner,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_api_key(key),
    )
    return api_key, key


def api_keys_revoke(*, keys: QuerySet[ApiKey]) -> int:
    """Revoke keys; a revoked key keeps its first revocation time. Returns how many were
    revoked now."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_for_key(*, key: str) -> ApiKey | None:
    """The live key for ``key`` (not revoked, its owner active), or None. Notes the use."""
    now = timezone.now()
    api_key = (
        ApiKey.objects.select_related("owner")
        .filter(key_hash=hash_api_key(key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not api_key.owner.is_active:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return api_key
