"""Writes for logins and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from interaction_platform.accounts.models import ApiToken, User, hash_token_key
from interaction_platform.errors import NotAuthenticated, NotFound

TOKEN_PREFIX_LENGTH = 8


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for ``user``. Returns the row and the key; the key is not stored and
    cannot be shown again."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:TOKEN_PREFIX_LENGTH],
        key_hash=hash_token_key(key),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return token, key


def api_token_obtain(
    *, request: HttpRequest | None, username: str, password: str, name: str
) -> tuple[ApiToken, str]:
    """Exchange credentials for a token. Raises NotAuthenticated for wrong credentials or an
    inactive login, without telling which."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise NotAuthenticated("The user name or password is not right.", code="bad_credentials")
    assert isinstance(user, User)
    return api_token_create(user=user, name=name)


def api_tokens_revoke(*, tokens: QuerySet[ApiToken]) -> int:
    """Revoke tokens; already revoked ones keep their first revocation time. Returns how many
    were revoked now."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_revoke_by_id(*, user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens. Raises NotFound for someone else's (or no) token."""
    tokens = ApiToken.objects.filter(user=user, pk=token_id)
    if not tokens.exists():
        raise NotFound("You have no token with this id.")
    api_tokens_revoke(tokens=tokens)
