"""Reads for logins and API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from interaction_platform.accounts.models import ApiToken, hash_token_key

# Writing last_used_at on every request would turn each read into a write; once a minute is
# precise enough to see which tokens are alive.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The live token for ``key`` (not revoked, not expired, active user), or None."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token_key(key), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return token
