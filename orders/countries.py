"""What differs per country we sell to: VAT rates, the postcode format and delivery charges.

One table, in code, reviewed when the law or the shipping contract changes (a change is a
commit with its reason, like any other rule). A country not listed here is one we do not
deliver to; its stores can still sell over the counter only if it is added.

VAT: consumers pay the price on the price list, which includes VAT. The rate is the one of the
country the goods go to — the delivery address for deliveries, the store's country for click &
collect and sales at the till (EU rules for distance sales to consumers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from catalog.models import TaxClass
from interaction_platform.errors import InvalidInput


@dataclass(frozen=True)
class CountryRules:
    code: str
    name: str
    postcode_pattern: re.Pattern[str]
    postcode_example: str
    format_postcode: Callable[[re.Match[str]], str]
    vat_rates: dict[str, Decimal]
    # Delivery charge in EUR, tax included; free from a goods total (after discounts).
    shipping_fee: Decimal
    free_shipping_from: Decimal


def _as_matched(match: re.Match[str]) -> str:
    return match.group(0)


def _dutch(match: re.Match[str]) -> str:
    return f"{match.group(1)} {match.group(2)}"


def _luxembourg(match: re.Match[str]) -> str:
    return f"L-{match.group(1)}"


def _rates(standard: str, reduced: str) -> dict[str, Decimal]:
    return {
        TaxClass.STANDARD: Decimal(standard),
        TaxClass.REDUCED: Decimal(reduced),
        TaxClass.ZERO: Decimal("0"),
    }


COUNTRIES: dict[str, CountryRules] = {
    rules.code: rules
    for rules in [
        CountryRules(
            "NL",
            "the Netherlands",
            re.compile(r"^([1-9]\d{3}) ?([A-Z]{2})$"),
            "1012 LG",
            _dutch,
            _rates("0.21", "0.09"),
            Decimal("4.95"),
            Decimal("50.00"),
        ),
        CountryRules(
            "BE",
            "Belgium",
            re.compile(r"^[1-9]\d{3}$"),
            "1000",
            _as_matched,
            _rates("0.21", "0.06"),
            Decimal("6.95"),
            Decimal("75.00"),
        ),
        CountryRules(
            "LU",
            "Luxembourg",
            re.compile(r"^(?:L-?)?(\d{4})$"),
            "L-1009",
            _luxembourg,
            _rates("0.17", "0.08"),
            Decimal("6.95"),
            Decimal("75.00"),
        ),
        CountryRules(
            "DE",
            "Germany",
            re.compile(r"^\d{5}$"),
            "10115",
            _as_matched,
            _rates("0.19", "0.07"),
            Decimal("7.95"),
            Decimal("100.00"),
        ),
        CountryRules(
            "FR",
            "France",
            re.compile(r"^\d{5}$"),
            "75001",
            _as_matched,
            _rates("0.20", "0.055"),
            Decimal("7.95"),
            Decimal("100.00"),
        ),
        CountryRules(
            "AT",
            "Austria",
            re.compile(r"^[1-9]\d{3}$"),
            "1010",
            _as_matched,
            _rates("0.20", "0.10"),
            Decimal("7.95"),
            Decimal("100.00"),
        ),
    ]
}


def country_rules(code: str, *, field: str = "country") -> CountryRules:
    """The rules for ``code``; InvalidInput when we do not sell there."""
    rules = COUNTRIES.get(code)
    if rules is None:
        supported = ", ".join(sorted(COUNTRIES))
        raise InvalidInput(
            f"We do not deliver to '{code}'.",
            code="country_not_served",
            fields={field: [f"One of {supported}."]},
        )
    return rules


def vat_rate(*, country: str, tax_class: str) -> Decimal:
    """The VAT rate (a fraction, 0.21 for 21%) of ``tax_class`` goods in ``country``."""
    return country_rules(country).vat_rates[tax_class]


def shipping_fee(*, country: str, goods_total: Decimal) -> Decimal:
    """The delivery charge (tax included) for goods worth ``goods_total`` after discounts."""
    rules = country_rules(country)
    return Decimal("0.00") if goods_total >= rules.free_shipping_from else rules.shipping_fee
