"""A small shop for the commerce tests, and the means to say "nothing changed".

The shop: a warehouse and two stores (Amsterdam A, Rotterdam B) in the Netherlands; a parka
(standard VAT) and a book (reduced VAT) priced €100.00 and €20.00 on every selling channel;
stock of 10 at the warehouse and 5 in each store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog.models import Location, StockLevel, TaxClass, Variant
from customers.models import AccessLog, Customer, InboxEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders import services
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    Payment,
    Refund,
    Return,
    SandboxGatewayEntry,
    Voucher,
    VoucherRedemption,
)
from tests import factories

ADDRESS = {
    "first_name": "Anna",
    "last_name": "Visser",
    "line1": "Prinsengracht 263",
    "postcode": "1016 GV",
    "city": "Amsterdam",
    "country": "NL",
    "phone": "06 12345678",
}


@dataclass
class Shop:
    warehouse: Location
    store_a: Location
    store_b: Location
    parka: Variant
    book: Variant

    def stock(self, variant: Variant, location: Location) -> tuple[int, int]:
        level = StockLevel.objects.get(variant=variant, location=location)
        return level.on_hand, level.reserved


def make_shop(*, stock: int = 5, warehouse_stock: int = 10) -> Shop:
    warehouse = factories.WarehouseFactory(code="tilburg-dc", name="Tilburg DC")
    store_a = factories.StoreFactory(code="ams-a", name="Amsterdam A")
    store_b = factories.StoreFactory(code="rtm-b", name="Rotterdam B", city="Rotterdam")
    parka = factories.VariantFactory(sku="PARKA-M", product__name="Harbour Parka", name="Navy / M")
    book = factories.VariantFactory(
        sku="BOOK-1",
        product__name="Canal Guide",
        product__tax_class=TaxClass.REDUCED,
        name="Paperback",
    )
    for channel in Channel.selling():
        price_list = factories.PriceListFactory(channel=channel)
        factories.PriceFactory(price_list=price_list, variant=parka, amount=Decimal("100.00"))
        factories.PriceFactory(price_list=price_list, variant=book, amount=Decimal("20.00"))
    for variant in (parka, book):
        factories.StockLevelFactory(variant=variant, location=warehouse, on_hand=warehouse_stock)
        factories.StockLevelFactory(variant=variant, location=store_a, on_hand=stock)
        factories.StockLevelFactory(variant=variant, location=store_b, on_hand=stock)
    return Shop(warehouse, store_a, store_b, parka, book)


@pytest.fixture
def shop(db: Any) -> Shop:
    return make_shop()


@pytest.fixture
def staff_b(db: Any, shop: Shop) -> User:
    """Store staff of Rotterdam B only."""
    user = factories.UserFactory(role=Role.STORE_STAFF)
    user.stores.add(shop.store_b)
    return user


@pytest.fixture
def staff_a(db: Any, shop: Shop) -> User:
    """Store staff of Amsterdam A only."""
    user = factories.UserFactory(role=Role.STORE_STAFF)
    user.stores.add(shop.store_a)
    return user


@pytest.fixture
def warehouse_staff(db: Any, shop: Shop) -> User:
    user = factories.UserFactory(role=Role.STORE_STAFF)
    user.stores.add(shop.warehouse)
    return user


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def card(sandbox_card: str = "tok_sandbox_approve") -> services.PaymentRequest:
    return services.PaymentRequest(method="card_online", token=sandbox_card)


def cash(amount: str) -> services.PaymentRequest:
    return services.PaymentRequest(method="cash", amount_tendered=Decimal(amount))


def web_cart(customer: Customer, *lines: tuple[Variant, int]) -> Cart:
    cart = Cart.objects.create(customer=customer, origin_channel=Channel.WEB)
    for variant, quantity in lines:
        CartLine.objects.create(
            cart=cart, variant=variant, quantity=quantity, added_channel=Channel.WEB
        )
    return cart


def snapshot() -> dict[str, Any]:
    """Everything a checkout, payment, return or refund can change. Two equal snapshots mean
    nothing changed."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list("pk", "status", "paid_total", "refunded_total")
        ),
        "order_lines": list(
            OrderLine.objects.order_by("pk").values_list("pk", "returned_quantity")
        ),
        "stock": list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        "payments": list(
            Payment.objects.order_by("pk").values_list(
                "pk", "status", "captured_amount", "refunded_amount", "token"
            )
        ),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "amount")),
        "returns": list(Return.objects.order_by("pk").values_list("pk", "status")),
        "vouchers": list(Voucher.objects.order_by("pk").values_list("pk", "times_used")),
        "redemptions": VoucherRedemption.objects.count(),
        "carts": list(Cart.objects.order_by("pk").values_list("pk", "status", "voucher_id")),
        "cart_lines": list(
            CartLine.objects.order_by("pk").values_list("pk", "cart_id", "variant_id", "quantity")
        ),
        "inbox": InboxEvent.objects.count(),
        "gateway": SandboxGatewayEntry.objects.count(),
        "customers": list(
            Customer.objects.order_by("pk").values_list("pk", "order_count", "lifetime_revenue")
        ),
        "access_log": AccessLog.objects.count(),
    }
