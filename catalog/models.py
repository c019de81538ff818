"""Catalog: one copy of product content for every channel, prices per channel, stock per location.

The database enforces what it can: SKUs and barcodes are unique, prices are never negative, and
stock keeps ``0 <= reserved <= on_hand`` whatever the code above it does.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from interaction_platform.choices import Channel

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. EUR.")
country_validator = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 code, e.g. NL.")
barcode_validator = RegexValidator(r"^\d{8,14}$", "A barcode is 8 to 14 digits (EAN/UPC/GTIN).")


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class TaxClass(models.TextChoices):
    """Which VAT rate of the customer's country applies (rates per country: orders/countries.py)."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    tax_class = models.CharField(max_length=20, choices=TaxClass.choices, default=TaxClass.STANDARD)
    is_published = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """What is actually sold, scanned and stocked: one size/colour of a product."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    barcode = models.CharField(max_length=14, unique=True, validators=[barcode_validator])
    name = models.CharField(max_length=120, help_text="What tells it apart, e.g. 'Blue / M'.")
    attributes = models.JSONField(default=dict, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    is_published = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(sku=""), name="variant_sku_not_empty"),
        ]
        # SKUs typed at a till or in a search box come in any case: ``sku__iexact`` compares
        # UPPER(sku), which this index answers instead of a scan of every variant.
        indexes = [models.Index(Upper("sku"), name="catalog_variant_sku_upper")]

    def __str__(self) -> str:
        return f"{self.sku} {self.product.name} {self.name}".strip()


class PriceList(models.Model):
    """Prices for one channel in one currency. Consumer prices include tax."""

    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    currency = models.CharField(max_length=3, validators=[currency_validator])
    prices_include_tax = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["channel", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "currency"],
                condition=Q(is_active=True),
                name="one_active_price_list_per_channel_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()}, {self.currency})"


class Price(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    compare_at_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The former price, shown struck through during a sale.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "variant"], name="one_price_per_list"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_amount__isnull=True) | Q(compare_at_amount__gte=0),
                name="price_compare_at_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant.sku} {self.amount} {self.price_list.currency}"


class LocationKind(models.TextChoices):
    STORE = "store", "Store"
    WAREHOUSE = "warehouse", "Warehouse"


class Location(models.Model):
    """A store or a warehouse: where stock lives and where customers collect and return."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=LocationKind.choices)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, validators=[country_validator])
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per weekday, e.g. {"mon": ["09:00", "18:00"], "sun": null}.',
    )
    offers_click_and_collect = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_store(self) -> bool:
        return self.kind == LocationKind.STORE


class StockLevel(models.Model):
    """Units of one variant at one location. ``reserved`` units are promised to open orders."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "location"], name="one_stock_level"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.location_id}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
