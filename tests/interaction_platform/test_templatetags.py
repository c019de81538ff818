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


def test_channel_labels() -> None:
    from interaction_platform.templatetags import channel_label, channel_labels

    assert channel_label("call_centre") == "Call centre"
    assert channel_label("mystery") == "mystery"
    assert channel_labels(["web", "store"]) == "Web store, Store (POS)"
    assert channel_labels([]) == ""
