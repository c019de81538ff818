"""Template filters every channel uses; registered as builtins in settings.TEMPLATES."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from interaction_platform.choices import Channel

register = template.Library()

_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
_CENT = Decimal("0.01")


@register.filter
def money(amount: object, currency: str = "EUR") -> str:
    """``39.9500000`` → ``€39.95``; unknown currencies print their code: ``39.95 SEK``."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return ""
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value:,}" if symbol else f"{value:,} {currency}"


@register.filter
def channel_label(code: str) -> str:
    """``call_centre`` → ``Call centre``; unknown codes are shown as they are."""
    try:
        return str(Channel(code).label)
    except ValueError:
        return code


@register.filter
def channel_labels(codes: list[str]) -> str:
    return ", ".join(channel_label(code) for code in codes or [])
