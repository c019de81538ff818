"""Totals are computed on the server: channel price lists, VAT of the country the goods go to
(prices include tax for consumers), vouchers, delivery charges — to the cent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import TaxClass
from interaction_platform.errors import InvalidInput
from orders import pricing
from orders.errors import VoucherNotApplicable
from orders.models import VoucherKind
from tests import factories

pytestmark = pytest.mark.django_db


def _line(amount: str, quantity: int = 1, tax_class: str = TaxClass.STANDARD) -> pricing.BasketLine:
    variant = factories.VariantFactory(product__tax_class=tax_class)
    return pricing.BasketLine(variant=variant, quantity=quantity, unit_price=Decimal(amount))


def _quote(lines: list[pricing.BasketLine], **overrides: object) -> pricing.Quote:
    arguments: dict[str, object] = {
        "lines": lines,
        "currency": "EUR",
        "prices_include_tax": True,
        "tax_country": "NL",
        "voucher": None,
        "is_delivered": False,
        "now": timezone.now(),
    }
    arguments.update(overrides)
    return pricing.quote(**arguments)  # type: ignore[arg-type]


class TestVat:
    def test_consumer_prices_include_the_vat_of_the_country(self) -> None:
        # given: €121.00 including 21% Dutch VAT
        quote = _quote([_line("121.00")])
        # then
        assert (quote.subtotal, quote.tax_total, quote.total) == (
            Decimal("100.00"),
            Decimal("21.00"),
            Decimal("121.00"),
        )
        assert quote.lines[0].tax_rate == Decimal("0.21")

    @pytest.mark.parametrize(
        ("country", "tax"),
        [("NL", "21.00"), ("DE", "19.32"), ("FR", "20.17"), ("LU", "17.58"), ("BE", "21.00")],
    )
    def test_the_same_consumer_price_carries_the_destination_countrys_vat(
        self, country: str, tax: str
    ) -> None:
        quote = _quote([_line("121.00")], tax_country=country)
        assert (quote.total, quote.tax_total) == (Decimal("121.00"), Decimal(tax))
        assert quote.subtotal == Decimal("121.00") - Decimal(tax)

    def test_reduced_rate_goods_carry_the_reduced_rate(self) -> None:
        quote = _quote([_line("20.00", tax_class=TaxClass.REDUCED), _line("121.00")])
        # 20.00 * 9/109 = 1.65; 121.00 * 21/121 = 21.00
        assert [line.tax_amount for line in quote.lines] == [Decimal("1.65"), Decimal("21.00")]
        assert quote.tax_total == Decimal("22.65")
        assert quote.total == Decimal("141.00")

    def test_prices_without_tax_get_vat_added(self) -> None:
        quote = _quote([_line("100.00", quantity=3)], prices_include_tax=False)
        assert (quote.subtotal, quote.tax_total, quote.total) == (
            Decimal("300.00"),
            Decimal("63.00"),
            Decimal("363.00"),
        )
        assert quote.lines[0].line_total == Decimal("363.00")

    def test_a_country_we_do_not_serve_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            _quote([_line("10.00")], tax_country="US")
        assert refused.value.code == "country_not_served"


class TestDelivery:
    def test_delivery_is_charged_below_the_threshold_with_vat_inside(self) -> None:
        quote = _quote([_line("20.00")], is_delivered=True)
        # NL: €4.95 including 21% VAT (0.86)
        assert (quote.shipping_net, quote.shipping_tax) == (Decimal("4.09"), Decimal("0.86"))
        assert quote.total == Decimal("24.95")
        assert quote.total == quote.subtotal + quote.shipping_net + quote.tax_total

    def test_delivery_is_free_from_the_countrys_threshold(self) -> None:
        quote = _quote([_line("50.00")], is_delivered=True)
        assert (quote.shipping_net, quote.shipping_tax, quote.total) == (
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("50.00"),
        )


class TestVouchers:
    def test_a_percentage_is_spread_over_the_lines_to_the_cent(self) -> None:
        voucher = factories.VoucherFactory(kind=VoucherKind.PERCENTAGE, value=Decimal("10"))
        lines = [_line("33.33"), _line("33.33"), _line("33.34")]
        quote = _quote(lines, voucher=voucher)
        assert quote.discount_total == Decimal("10.00")
        assert [line.discount for line in quote.lines] == [
            Decimal("3.33"),
            Decimal("3.33"),
            Decimal("3.34"),
        ]
        assert sum(line.line_total for line in quote.lines) == Decimal("90.00")
        assert quote.total == Decimal("90.00")

    def test_a_fixed_amount_never_exceeds_the_goods(self) -> None:
        voucher = factories.VoucherFactory(kind=VoucherKind.FIXED, value=Decimal("50.00"))
        quote = _quote([_line("30.00")], voucher=voucher)
        assert (quote.discount_total, quote.total, quote.tax_total) == (
            Decimal("30.00"),
            Decimal("0.00"),
            Decimal("0.00"),
        )

    def test_the_discount_does_not_touch_the_delivery_charge(self) -> None:
        voucher = factories.VoucherFactory(kind=VoucherKind.FIXED, value=Decimal("5.00"))
        quote = _quote([_line("20.00")], voucher=voucher, is_delivered=True)
        assert quote.total == Decimal("15.00") + Decimal("4.95")

    def test_the_minimum_spend_is_measured_before_the_discount(self) -> None:
        voucher = factories.VoucherFactory(
            kind=VoucherKind.FIXED, value=Decimal("10.00"), minimum_spend=Decimal("50.00")
        )
        assert _quote([_line("50.00")], voucher=voucher).total == Decimal("40.00")
        with pytest.raises(VoucherNotApplicable) as refused:
            _quote([_line("49.99")], voucher=voucher)
        assert refused.value.code == "voucher_minimum_spend"

    @pytest.mark.parametrize(
        ("changes", "code"),
        [
            ({"valid_until": timezone.now() - timedelta(days=1)}, "voucher_expired"),
            (
                {
                    "valid_from": timezone.now() + timedelta(days=1),
                    "valid_until": timezone.now() + timedelta(days=2),
                },
                "voucher_not_applicable",
            ),
            ({"is_active": False}, "voucher_not_applicable"),
            ({"usage_limit": 3, "times_used": 3}, "voucher_used_up"),
            ({"kind": VoucherKind.FIXED, "currency": "GBP"}, "voucher_not_applicable"),
        ],
    )
    def test_a_voucher_outside_its_rules_is_refused(
        self, changes: dict[str, object], code: str
    ) -> None:
        voucher = factories.VoucherFactory(**changes)
        with pytest.raises(VoucherNotApplicable) as refused:
            _quote([_line("100.00")], voucher=voucher)
        assert refused.value.code == code
