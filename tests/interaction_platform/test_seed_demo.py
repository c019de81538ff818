"""``manage.py seed_demo``: enough of a shop to try every screen, the same every time."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from catalog.models import Category, Location, Price, PriceList, Product, StockLevel, Variant
from customers.models import ConsentRecord, Customer, Identity
from interaction_platform import demo
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders.models import Order, Voucher

pytestmark = pytest.mark.django_db


def _seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def _fingerprint() -> tuple[list[tuple[object, ...]], ...]:
    return (
        list(
            Variant.objects.order_by("sku").values_list("sku", "barcode", "name", "product__name")
        ),
        list(
            Price.objects.order_by("variant__sku", "price_list__channel").values_list(
                "variant__sku", "price_list__channel", "amount", "compare_at_amount"
            )
        ),
        list(
            StockLevel.objects.order_by("variant__sku", "location__code").values_list(
                "variant__sku", "location__code", "on_hand"
            )
        ),
        list(
            Customer.objects.order_by("email").values_list(
                "first_name", "last_name", "email", "phone", "loyalty_number", "email_consent"
            )
        ),
        # the year of history (dates move with the day it is seeded)
        list(
            Order.objects.order_by("number").values_list(
                "number", "customer__email", "channel", "status", "total"
            )
        ),
    )


OUR_APPS = {"accounts", "catalog", "customers", "orders", "integrations", "ingest", "marketing"}


def _wipe() -> None:
    """Delete every row of our apps (for tests that commit a seeded shop): model by model, again
    and again until the protected rows' dependants are gone."""
    pending = [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]
    for _ in range(len(pending)):
        blocked = []
        for model in pending:
            try:
                with transaction.atomic():
                    if model is Category:  # a parent category protects its children
                        Category.objects.filter(parent__isnull=False).delete()
                    model._base_manager.all().delete()
            except (ProtectedError, RestrictedError, IntegrityError):
                blocked.append(model)
        if not blocked:
            return
        pending = blocked
    raise AssertionError(f"could not wipe {[model.__name__ for model in pending]}")


def test_seed_builds_a_whole_shop(settings: object) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    # when
    output = _seed()
    # then: 3 stores and a warehouse
    assert sorted(Location.objects.values_list("kind", flat=True)) == [
        "store",
        "store",
        "store",
        "warehouse",
    ]
    # a catalog with barcodes, a price on every selling channel and stock everywhere
    assert Product.objects.count() >= 200
    assert Variant.objects.count() >= 600
    assert Variant.objects.exclude(barcode__regex=r"^\d{13}$").count() == 0
    assert set(PriceList.objects.values_list("channel", flat=True)) == set(Channel.selling())
    assert Price.objects.count() == Variant.objects.count() * len(Channel.selling())
    assert StockLevel.objects.count() == Variant.objects.count() * 4
    # customers with identities and consent
    assert Customer.objects.count() >= 500
    assert Identity.objects.filter(kind="email").count() == Customer.objects.count()
    assert Identity.objects.filter(kind="phone").count() == Customer.objects.count()
    assert ConsentRecord.objects.filter(purpose="email", is_granted=True).count() == (
        Customer.objects.filter(email_consent=True).count()
    )
    # one login per role, all able to sign in with the printed password
    for login in demo.DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert user.role == login.role
        assert user.check_password(demo.DEMO_PASSWORD)
        assert f"{login.username:<10} → {login.where}" in output
    assert list(User.objects.get(role=Role.STORE_STAFF).stores.values_list("code", flat=True)) == [
        "ams-kalverstraat"
    ]
    assert User.objects.get(role=Role.SHOPPER).customer.loyalty_number == "NW00000001"
    assert "Seeded the small demo shop" in output
    # a voucher to try in the web store's basket, printed with the logins
    assert list(Voucher.objects.values_list("code", "kind", "value")) == [
        ("WELCOME10", "percentage", Decimal("10.00"))
    ]
    assert "Demo voucher: WELCOME10" in output


def test_seed_is_deterministic_and_runs_once(settings: object) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    _seed()
    first = _fingerprint()
    # a second run changes nothing
    assert "already there; nothing to do" in _seed()
    assert _fingerprint() == first
    # and a fresh database gets the very same shop
    _wipe()
    _seed()
    assert _fingerprint() == first


def test_seed_refuses_production_unless_told(settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="looks like production"):
        _seed()
    assert Location.objects.count() == 0


def test_the_large_size_is_defined_for_benchmarks() -> None:
    assert demo.SIZES["large"].products >= 10_000
    assert demo.SIZES["large"].customers >= 100_000
