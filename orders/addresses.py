"""Delivery addresses, checked per country: the fields a carrier needs, the country's postcode
format, and a phone number the driver can call (normalised to E.164 in that country)."""

from __future__ import annotations

from collections.abc import Mapping

from customers.identity import normalise_phone
from interaction_platform.errors import InvalidInput
from orders.cards import looks_like_card_number
from orders.countries import COUNTRIES

FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "line1": 200,
    "line2": 200,
    "postcode": 16,
    "city": 100,
    "country": 2,
    "phone": 32,
}
REQUIRED = ("first_name", "last_name", "line1", "postcode", "city", "country", "phone")
PREFIX = "delivery_address"


def address_validate(raw: object) -> dict[str, str]:
    """The address, cleaned: trimmed text, upper-case country, the country's postcode format,
    an E.164 phone. Raises InvalidInput naming every field that is wrong
    (``delivery_address.<field>``)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            "Send a delivery address.", fields={PREFIX: ["An object with the address fields."]}
        )
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - set(FIELD_LIMITS))
    for name in unknown:
        problems[f"{PREFIX}.{name}"] = ["Not an address field."]
    address: dict[str, str] = {}
    for name, limit in FIELD_LIMITS.items():
        value = raw.get(name, "")
        if not isinstance(value, str) or "\x00" in value or len(value) > limit:
            problems[f"{PREFIX}.{name}"] = [f"Text of at most {limit} characters."]
            continue
        address[name] = value.strip()
        if looks_like_card_number(address[name]):
            problems[f"{PREFIX}.{name}"] = ["This looks like a card number; never send one."]
    for name in REQUIRED:
        if name in address and not address[name]:
            problems[f"{PREFIX}.{name}"] = ["Required."]
    if not problems:
        _check_country_rules(address, problems)
    if problems:
        raise InvalidInput("The delivery address is not complete or not valid.", fields=problems)
    return address


def _check_country_rules(address: dict[str, str], problems: dict[str, list[str]]) -> None:
    address["country"] = address["country"].upper()
    rules = COUNTRIES.get(address["country"])
    if rules is None:
        problems[f"{PREFIX}.country"] = [f"We deliver to {', '.join(sorted(COUNTRIES))}."]
        return
    match = rules.postcode_pattern.match(address["postcode"].upper())
    if match is None:
        problems[f"{PREFIX}.postcode"] = [
            f"Not a postcode of {rules.name} (e.g. {rules.postcode_example})."
        ]
    else:
        address["postcode"] = rules.format_postcode(match)
    try:
        address["phone"] = normalise_phone(address["phone"], region=rules.code)
    except InvalidInput:
        problems[f"{PREFIX}.phone"] = [
            f"Not a valid phone number in {rules.name}; include the country code if abroad."
        ]
