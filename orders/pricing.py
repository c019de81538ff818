"""Totals, computed only here, on the server, from the price list of the channel that closes the
sale — whatever a client believes a price or total to be.

Rules (docs/commerce.md has them with examples):

* **Price**: the active price list of the selling channel and the cart's currency.
* **Voucher**: one per order. A percentage or a fixed amount off the goods (not the delivery
  charge), never more than the goods; the minimum spend is compared with the goods total before
  the discount. The discount is spread over the lines in proportion to their amounts (largest
  remainder to the cent), so each line knows what it cost — what a return refunds.
* **VAT**: the rate of the product's tax class in the tax country. With prices that include tax
  (every consumer list), the customer pays the list price and the VAT inside it is
  ``amount * rate / (1 + rate)``; with prices without tax, VAT is added on top. Rounded per line,
  half up, to the cent.
* **Delivery charge**: per country (orders/countries.py), tax included at the standard rate,
  free from a goods total after discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from catalog.models import TaxClass, Variant
from orders import countries
from orders.errors import VoucherNotApplicable
from orders.models import Voucher, VoucherKind

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedLine:
    variant: Variant
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    list_amount: Decimal  # unit price times quantity, in the price list's terms
    discount: Decimal  # the line's share of the voucher, in the same terms
    net_amount: Decimal
    tax_amount: Decimal
    line_total: Decimal  # what the customer pays for the line, tax included


@dataclass(frozen=True)
class Quote:
    currency: str
    prices_include_tax: bool
    tax_country: str
    lines: tuple[PricedLine, ...]
    goods_amount: Decimal
    discount_total: Decimal
    shipping_net: Decimal
    shipping_tax: Decimal
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    voucher: Voucher | None


@dataclass(frozen=True)
class BasketLine:
    """A variant (with its product) and its quantity, priced by ``unit_price``."""

    variant: Variant
    quantity: int
    unit_price: Decimal


def voucher_check(
    *, voucher: Voucher, goods_amount: Decimal | None, currency: str, now: datetime
) -> None:
    """Raise VoucherNotApplicable unless ``voucher`` can be used on goods worth
    ``goods_amount`` now (``None``: the goods are not final yet, skip the minimum spend). The
    usage limits are checked again, race-safely, when the order is written."""
    field = {"voucher_code": ["Not applicable."]}
    if not voucher.is_active:
        raise VoucherNotApplicable(f"The voucher {voucher.code} is no longer valid.", fields=field)
    if voucher.valid_from and now < voucher.valid_from:
        raise VoucherNotApplicable(f"The voucher {voucher.code} is not valid yet.", fields=field)
    if voucher.valid_until and now >= voucher.valid_until:
        raise VoucherNotApplicable(
            f"The voucher {voucher.code} expired on {voucher.valid_until:%Y-%m-%d}.",
            code="voucher_expired",
            fields=field,
        )
    if voucher.kind == VoucherKind.FIXED and voucher.currency != currency:
        raise VoucherNotApplicable(
            f"The voucher {voucher.code} is for orders in {voucher.currency}.", fields=field
        )
    if goods_amount is not None and goods_amount < voucher.minimum_spend:
        raise VoucherNotApplicable(
            f"The voucher {voucher.code} needs a minimum spend of {voucher.minimum_spend} "
            f"{currency}.",
            code="voucher_minimum_spend",
            fields=field,
        )
    if voucher.usage_limit is not None and voucher.times_used >= voucher.usage_limit:
        raise VoucherNotApplicable(
            f"The voucher {voucher.code} has been used up.", code="voucher_used_up", fields=field
        )


def _discount(voucher: Voucher | None, goods_amount: Decimal) -> Decimal:
    if voucher is None:
        return ZERO
    if voucher.kind == VoucherKind.PERCENTAGE:
        return min(goods_amount, to_cents(goods_amount * voucher.value / 100))
    return min(goods_amount, voucher.value)


def _spread(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` in proportion, to the cent, the remainder cents going to
    the largest fractions (ties to the earlier line): the parts add up to ``total`` exactly."""
    weight_sum = sum(weights, ZERO)
    if total == 0 or weight_sum == 0:
        return [ZERO for _ in weights]
    exact = [total * weight / weight_sum for weight in weights]
    parts = [value.quantize(CENT, rounding="ROUND_DOWN") for value in exact]
    remainder_cents = int((total - sum(parts, ZERO)) / CENT)
    by_fraction = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_fraction[:remainder_cents]:
        parts[index] += CENT
    return parts


def _price_line(
    line: BasketLine, discount: Decimal, *, tax_country: str, prices_include_tax: bool
) -> PricedLine:
    rate = countries.vat_rate(country=tax_country, tax_class=line.variant.product.tax_class)
    list_amount = line.unit_price * line.quantity
    after_discount = list_amount - discount
    if prices_include_tax:
        tax = to_cents(after_discount * rate / (1 + rate))
        net, gross = after_discount - tax, after_discount
    else:
        tax = to_cents(after_discount * rate)
        net, gross = after_discount, after_discount + tax
    return PricedLine(
        variant=line.variant,
        quantity=line.quantity,
        unit_price=line.unit_price,
        tax_rate=rate,
        list_amount=list_amount,
        discount=discount,
        net_amount=net,
        tax_amount=tax,
        line_total=gross,
    )


def quote(
    *,
    lines: Sequence[BasketLine],
    currency: str,
    prices_include_tax: bool,
    tax_country: str,
    voucher: Voucher | None,
    is_delivered: bool,
    now: datetime,
) -> Quote:
    """Price ``lines`` for ``tax_country``. Raises VoucherNotApplicable and, for a country we do
    not serve, InvalidInput."""
    goods_amount = sum((line.unit_price * line.quantity for line in lines), ZERO)
    if voucher is not None:
        voucher_check(voucher=voucher, goods_amount=goods_amount, currency=currency, now=now)
    discount_total = _discount(voucher, goods_amount)
    shares = _spread(discount_total, [line.unit_price * line.quantity for line in lines])
    priced = tuple(
        _price_line(line, share, tax_country=tax_country, prices_include_tax=prices_include_tax)
        for line, share in zip(lines, shares, strict=True)
    )
    shipping_gross = ZERO
    if is_delivered:
        shipping_gross = countries.shipping_fee(
            country=tax_country, goods_total=goods_amount - discount_total
        )
    shipping_rate = countries.vat_rate(country=tax_country, tax_class=TaxClass.STANDARD)
    shipping_tax = to_cents(shipping_gross * shipping_rate / (1 + shipping_rate))
    subtotal = sum((line.net_amount for line in priced), ZERO)
    tax_total = sum((line.tax_amount for line in priced), ZERO) + shipping_tax
    shipping_net = shipping_gross - shipping_tax
    return Quote(
        currency=currency,
        prices_include_tax=prices_include_tax,
        tax_country=tax_country,
        lines=priced,
        goods_amount=goods_amount,
        discount_total=discount_total,
        shipping_net=shipping_net,
        shipping_tax=shipping_tax,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + shipping_net + tax_total,
        voucher=voucher,
    )
