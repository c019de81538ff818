"""The database itself keeps the catalog's invariants, whatever code runs above it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from catalog.models import Price, StockLevel, Variant
from tests import factories

pytestmark = pytest.mark.django_db


def _raw_update(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_direct_update_cannot_make_stock_negative() -> None:
    # given
    level = factories.StockLevelFactory(on_hand=3, reserved=1)
    # when / then
    with pytest.raises(IntegrityError):
        _raw_update("UPDATE catalog_stocklevel SET on_hand = -1 WHERE id = %s", [level.pk])
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (3, 1)


def test_reserved_can_never_exceed_on_hand() -> None:
    level = factories.StockLevelFactory(on_hand=3, reserved=3)
    with pytest.raises(IntegrityError):
        _raw_update(
            "UPDATE catalog_stocklevel SET reserved = reserved + 1 WHERE id = %s", [level.pk]
        )
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (3, 3)


def test_reserved_can_never_be_negative() -> None:
    level = factories.StockLevelFactory(on_hand=3, reserved=0)
    with pytest.raises(IntegrityError):
        _raw_update("UPDATE catalog_stocklevel SET reserved = -1 WHERE id = %s", [level.pk])
    level.refresh_from_db()
    assert level.reserved == 0


def test_one_stock_row_per_variant_and_location() -> None:
    level = factories.StockLevelFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(variant=level.variant, location=level.location, on_hand=1)
    assert StockLevel.objects.count() == 1


def test_sku_is_unique() -> None:
    variant = factories.VariantFactory(sku="NW-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.VariantFactory(sku="NW-1", product=variant.product)
    assert Variant.objects.filter(sku="NW-1").count() == 1


def test_barcode_is_unique() -> None:
    variant = factories.VariantFactory(barcode="8712345678906")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.VariantFactory(barcode="8712345678906", product=variant.product)
    assert Variant.objects.filter(barcode="8712345678906").count() == 1


def test_a_price_is_never_negative() -> None:
    price = factories.PriceFactory(amount=Decimal("10.00"))
    with pytest.raises(IntegrityError):
        _raw_update("UPDATE catalog_price SET amount = -0.01 WHERE id = %s", [price.pk])
    price.refresh_from_db()
    assert price.amount == Decimal("10.00")


def test_one_price_per_variant_and_price_list() -> None:
    price = factories.PriceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.create(price_list=price.price_list, variant=price.variant, amount=1)
    assert Price.objects.count() == 1


def test_only_one_active_price_list_per_channel_and_currency() -> None:
    first = factories.PriceListFactory(channel="web", currency="EUR")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(first).objects.create(name="Second", channel="web", currency="EUR")
    # an inactive one may sit beside it (the next season's prices, prepared in advance)
    type(first).objects.create(name="Next season", channel="web", currency="EUR", is_active=False)
    assert type(first).objects.filter(channel="web", currency="EUR").count() == 2
