"""factory_boy factories for the shared core."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import (
    Category,
    Location,
    LocationKind,
    Price,
    PriceList,
    Product,
    StockLevel,
    Variant,
)
from channels.ingest.models import Source, hash_write_key
from customers.models import Customer, Identity, IdentityKind
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders.models import (
    Cart,
    FulfilmentMethod,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Voucher,
    VoucherKind,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@staff.example")
    role = Role.SHOPPER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = LocationKind.STORE
    address_line1 = "Damrak 1"
    postcode = "1012 LG"
    city = "Amsterdam"
    country = "NL"


class WarehouseFactory(StoreFactory):
    code = factory.Sequence(lambda n: f"warehouse-{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = LocationKind.WAREHOUSE
    offers_click_and_collect = False


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    brand = "Northwind"


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    barcode = factory.Sequence(lambda n: f"87{n:011d}")
    name = "Blue / M"


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList
        django_get_or_create = ("channel", "currency")

    name = factory.LazyAttribute(lambda o: f"{o.channel} {o.currency}")
    channel = Channel.WEB
    currency = "EUR"


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    price_list = factory.SubFactory(PriceListFactory)
    variant = factory.SubFactory(VariantFactory)
    amount = Decimal("49.95")


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    variant = factory.SubFactory(VariantFactory)
    location = factory.SubFactory(StoreFactory)
    on_hand = 10
    reserved = 0


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Visser{n}")
    email = factory.Sequence(lambda n: f"anna{n}@example.com")
    phone = factory.Sequence(lambda n: f"+3161{n:07d}")
    is_identified = True
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def identities(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Identities for the e-mail, phone and loyalty number the profile carries."""
        if not create or extracted is False:
            return
        for kind, value in (
            (IdentityKind.EMAIL, self.email),
            (IdentityKind.PHONE, self.phone),
            (IdentityKind.LOYALTY, self.loyalty_number),
        ):
            if value:
                Identity.objects.create(customer=self, kind=kind, value=value, source="test")


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    customer = factory.SubFactory(CustomerFactory)
    origin_channel = Channel.WEB


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"NW{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.WEB
    origin_channel = Channel.WEB
    status = OrderStatus.PAID
    fulfilment_method = FulfilmentMethod.DELIVERY
    currency = "EUR"
    subtotal = Decimal("41.28")
    tax_total = Decimal("8.67")
    total = Decimal("49.95")
    idempotency_key = factory.Sequence(lambda n: f"order-key-{n}")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    gateway = "sandbox"
    method = PaymentMethod.CARD_ONLINE
    status = PaymentStatus.CAPTURED
    currency = "EUR"
    amount = Decimal("49.95")
    captured_amount = Decimal("49.95")
    idempotency_key = factory.Sequence(lambda n: f"payment-key-{n}")


class SourceFactory(factory.django.DjangoModelFactory):
    """A tracking source whose write key is ``write_key`` (a factory parameter)."""

    class Meta:
        model = Source

    class Params:
        write_key = factory.Sequence(lambda n: f"test-write-key-{n:04d}")

    name = factory.Sequence(lambda n: f"source-{n}")
    channel = Channel.WEB
    key_prefix = factory.LazyAttribute(lambda o: o.write_key[:8])
    key_hash = factory.LazyAttribute(lambda o: hash_write_key(o.write_key))


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"SAVE{n:04d}")
    kind = VoucherKind.PERCENTAGE
    value = Decimal("10")
