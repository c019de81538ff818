"""Writes for logins and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from customers.consent import consent_set
from customers.identity import normalise_email
from customers.models import ConsentPurpose
from customers.registration import customer_create_for_login
from interaction_platform.accounts.models import ApiToken, Role, User, hash_token_key
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotAuthenticated, NotFound

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


@transaction.atomic
def shopper_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    marketing_email: bool,
    channel: Channel,
) -> User:
    """Create a shopper's login and their customer record (or adopt the customer record that
    already carries this e-mail, e.g. from a store purchase). Raises Conflict when the e-mail
    already has a login; InvalidInput for an unusable e-mail or a weak password."""
    email = normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            "There is already an account with this e-mail address. Sign in, or reset the password.",
            code="account_exists",
            fields={"email": ["Already has an account."]},
        )
    user = User(
        username=email, email=email, first_name=first_name, last_name=last_name, role=Role.SHOPPER
    )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(
            "Choose a stronger password.", fields={"password": error.messages}
        ) from error
    user.set_password(password)
    user.save()
    customer = customer_create_for_login(
        user=user, email=email, first_name=first_name, last_name=last_name, channel=channel
    )
    if marketing_email:
        consent_set(
            customer=customer,
            purpose=ConsentPurpose.EMAIL,
            is_granted=True,
            channel=channel,
            source="sign-up form",
        )
    return user
