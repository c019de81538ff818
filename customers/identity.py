"""Normalising identifiers, so that the same person's e-mail or phone always looks the same.

Identity resolution and merging (the pipeline's rules in ARCHITECTURE.md) build on these.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from customers.models import IdentityKind
from interaction_platform.errors import InvalidInput

# Values that SDKs and forms send when they mean "nobody": never an identity.
BLOCKED_VALUES = frozenset({"null", "none", "nil", "anonymous", "undefined", "unknown", "0", "-1"})
_ALL_ZERO = re.compile(r"^[0\-]+$")
_LOYALTY = re.compile(r"^[A-Z0-9]{4,32}$")


def is_blocked(value: str) -> bool:
    """True for values that must never identify anyone (empty, 'null', '0', all zeros…)."""
    stripped = value.strip()
    return not stripped or stripped.lower() in BLOCKED_VALUES or bool(_ALL_ZERO.match(stripped))


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise InvalidInput(
            f"'{value}' is not an e-mail address.", fields={"email": ["Not an e-mail address."]}
        ) from error
    return email


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """E.164 form of a phone number; national numbers are read in ``region`` (default country)."""
    try:
        number = phonenumbers.parse(value, region or settings.DEFAULT_COUNTRY)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(
            f"'{value}' is not a phone number.", fields={"phone": ["Not a phone number."]}
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            f"'{value}' is not a valid phone number.",
            fields={"phone": ["Not a valid phone number; include the country code."]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_loyalty(value: str) -> str:
    number = re.sub(r"[\s\-]", "", value).upper()
    if not _LOYALTY.match(number):
        raise InvalidInput(
            f"'{value}' is not a loyalty number.",
            fields={"loyalty": ["4 to 32 letters and digits."]},
        )
    return number


def normalise(kind: IdentityKind | str, value: str) -> str:
    """The stored form of ``value`` for an identity of ``kind``. Raises InvalidInput."""
    if is_blocked(value):
        raise InvalidInput(f"'{value}' cannot identify anyone.", fields={kind: ["Not usable."]})
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind == IdentityKind.PHONE:
        return normalise_phone(value)
    if kind == IdentityKind.LOYALTY:
        return normalise_loyalty(value)
    return value.strip()
