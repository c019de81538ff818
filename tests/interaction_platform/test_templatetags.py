from decimal import Decimal

import pytest

from interaction_platform.templatetags import money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("39.9500000000000"), "EUR", "€39.95"),
        (Decimal("1234.5"), "GBP", "£1,234.50"),
        (Decimal("0.005"), "EUR", "€0.01"),
        (Decimal("19.9"), "SEK", "19.90 SEK"),
        (None, "EUR", ""),
        ("not money", "EUR", ""),
    ],
)
def test_money(amount: object, currency: str, expected: str) -> None:
    assert money(amount, currency) == expected
