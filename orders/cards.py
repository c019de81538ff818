"""Card numbers never enter the system: they are refused on input and redacted from logs.

Payment forms send a token from the payment provider (a real provider's hosted fields, or the
sandbox's documented test tokens); a card number (PAN) anywhere in what a client sends is
refused with ``card_number_refused``, so it is never stored, processed or logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from orders.errors import CardNumberRefused

# 12 to 19 digits, optionally grouped by spaces or dashes, not part of a longer digit run.
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ \-]?\d){11,18}(?!\d)")
_REDACTED = "[card number removed]"


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_like_runs(text: str) -> list[str]:
    runs = []
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _passes_luhn(digits):
            runs.append(match.group(0))
    return runs


def looks_like_card_number(text: str) -> bool:
    """True when ``text`` holds a 13-19 digit run that passes the Luhn check (a PAN)."""
    return bool(_card_like_runs(text))


def looks_like_digits_only_card(text: str) -> bool:
    """For token fields: any 12-19 digit run is refused, Luhn or not — no provider's token is
    a bare card-length number, and a mistyped card number is still a card number."""
    return bool(_DIGIT_RUN.search(text))


def refuse_card_numbers(
    fields: Mapping[str, str], *, token_fields: frozenset[str] = frozenset()
) -> None:
    """Raise CardNumberRefused naming every field of ``fields`` that carries a card number."""
    offending = [
        name
        for name, value in fields.items()
        if value
        and (
            looks_like_digits_only_card(value)
            if name in token_fields
            else looks_like_card_number(value)
        )
    ]
    if offending:
        raise CardNumberRefused(
            fields={
                name: ["This looks like a card number; it is never accepted."] for name in offending
            }
        )


def redact_card_numbers(text: str) -> str:
    for run in _card_like_runs(text):
        text = text.replace(run, _REDACTED)
    return text


class RedactCardNumbers(logging.Filter):
    """A logging filter: whatever a log line would contain, a card number is not written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_card_numbers(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
