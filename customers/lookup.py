"""Finding a customer from whatever a person at a counter has: a loyalty card, a phone number,
an e-mail address, or the QR code on their web account."""

from __future__ import annotations

import re

from django.core import signing
from django.db.models import Q

from customers.identity import is_blocked
from customers.models import Customer, IdentityKind
from customers.selectors import customer_find_by_identity, customer_resolve_merged
from interaction_platform.errors import InvalidInput

CARD_SIGNING_SALT = "customers.card"
CARD_CODE_PREFIX = "NWC:"
CARD_CODE_MAX_AGE_S = 7 * 24 * 3600
_LOYALTY_LIKE = re.compile(r"^[A-Za-z]{1,4}[\s\-]?\d[\d\s\-]{3,}$")


def customer_card_token(*, customer: Customer) -> str:
    """What the QR code on the customer's web account encodes: a signed, dated reference that a
    scanner types into the POS. It expires, so a screenshot is useful for a week at most."""
    signed = signing.TimestampSigner(salt=CARD_SIGNING_SALT).sign(customer.public_id.hex)
    return f"{CARD_CODE_PREFIX}{signed}"


def _customer_from_card_token(token: str) -> Customer | None:
    try:
        public_hex = signing.TimestampSigner(salt=CARD_SIGNING_SALT).unsign(
            token.removeprefix(CARD_CODE_PREFIX), max_age=CARD_CODE_MAX_AGE_S
        )
    except signing.SignatureExpired as error:
        raise InvalidInput(
            "This QR code has expired. Ask the customer to open their account page again.",
            fields={"query": ["Expired QR code."]},
        ) from error
    except signing.BadSignature as error:
        raise InvalidInput(
            "This QR code is not one of ours.", fields={"query": ["Unknown QR code."]}
        ) from error
    customer = Customer.objects.filter(public_id=public_hex, erased_at__isnull=True).first()
    return customer_resolve_merged(customer=customer) if customer else None


def identifier_kind(query: str) -> IdentityKind:
    """What ``query`` looks like: an e-mail address, a loyalty number or a phone number."""
    if "@" in query:
        return IdentityKind.EMAIL
    if _LOYALTY_LIKE.match(query.strip()):
        return IdentityKind.LOYALTY
    return IdentityKind.PHONE


def customer_identify(*, query: str) -> Customer | None:
    """The customer that ``query`` identifies (card QR token, e-mail, loyalty number or phone),
    or None. Raises InvalidInput when ``query`` cannot identify anybody (too short, a blocked
    value, a malformed phone number, a forged or expired QR code)."""
    query = query.strip()
    if query.startswith(CARD_CODE_PREFIX):
        return _customer_from_card_token(query)
    if len(query) < 4 or is_blocked(query):
        raise InvalidInput(
            "Scan a loyalty card or QR code, or type a phone number or e-mail address.",
            fields={"query": ["Too short to identify anyone."]},
        )
    kind = identifier_kind(query)
    try:
        return customer_find_by_identity(kind=kind, value=query)
    except InvalidInput as error:
        raise InvalidInput(error.message, fields={"query": error.fields.popitem()[1]}) from error


SEARCH_LIMIT = 25


def customer_search(*, query: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """What an agent types: an e-mail, phone or loyalty number finds that customer exactly;
    words find customers whose first or last name start with them (every word must match)."""
    query = query.strip()
    if len(query) < 2:
        return []
    looks_like_identifier = "@" in query or any(char.isdigit() for char in query)
    if looks_like_identifier:
        try:
            found = customer_identify(query=query)
        except InvalidInput:
            found = None
        return [found] if found is not None else []
    customers = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    for word in query.split()[:4]:
        customers = customers.filter(
            Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        )
    return list(
        customers.select_related("home_store").order_by("last_name", "first_name", "id")[:limit]
    )
