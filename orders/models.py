"""Carts, orders, payments and returns: one model for every channel.

Money is ``Decimal`` with an ISO currency on the owning row. Every externally triggered write
(an order, a payment, a return) carries an idempotency key that the database keeps unique.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from interaction_platform.choices import Channel


class CartStatus(models.TextChoices):
    OPEN = "open", "Open"
    ORDERED = "ordered", "Turned into an order"
    MERGED = "merged", "Merged into another cart"
    ABANDONED = "abandoned", "Abandoned"


class Cart(models.Model):
    """A basket. One open cart per customer follows them from channel to channel."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="carts"
    )
    status = models.CharField(max_length=20, choices=CartStatus.choices, default=CartStatus.OPEN)
    origin_channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="Where the cart was started."
    )
    store = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The store it was started in, for a cart begun at the POS.",
    )
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="open"),
                name="one_open_cart_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.status})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    added_channel = models.CharField(max_length=20, choices=Channel.choices)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="one_line_per_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class FulfilmentMethod(models.TextChoices):
    DELIVERY = "delivery", "Delivery"
    CLICK_AND_COLLECT = "click_and_collect", "Click & collect"
    SHIP_FROM_STORE = "ship_from_store", "Ship from store"
    CARRY_OUT = "carry_out", "Carry-out at the POS"


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    cart = models.OneToOneField(
        Cart, null=True, blank=True, on_delete=models.SET_NULL, related_name="order"
    )
    channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="The channel that closed the sale."
    )
    origin_channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="Where the cart was started."
    )
    store = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="store_orders",
        help_text="The store that sold it (POS) or where it is collected (click & collect).",
    )
    fulfilment_location = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fulfilled_orders",
        help_text="Where the stock is taken from.",
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who placed it for the customer, if any.",
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    fulfilment_method = models.CharField(max_length=20, choices=FulfilmentMethod.choices)
    pickup_code = models.CharField(max_length=12, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    delivery_address = models.JSONField(default=dict, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=100, unique=True)
    request_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Hash of the request, to refuse a changed repeat."
    )
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_recent_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount_total__gte=0)
                & Q(shipping_total__gte=0)
                & Q(tax_total__gte=0)
                & Q(total__gte=0),
                name="order_money_not_negative",
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="order_key_not_empty"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """A line with the price as it was when the order was placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0)
                & Q(discount__gte=0)
                & Q(line_total__gte=0)
                & Q(tax_rate__gte=0),
                name="order_line_money_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class PaymentMethod(models.TextChoices):
    CARD_ONLINE = "card_online", "Card (online)"
    CARD_PRESENT = "card_present", "Card (in store)"
    CASH = "cash", "Cash"
    PAY_BY_LINK = "pay_by_link", "Pay by link"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORIZED = "authorized", "Authorised"
    CAPTURED = "captured", "Captured"
    DECLINED = "declined", "Declined"
    FAILED = "failed", "Failed"
    VOIDED = "voided", "Voided"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"


class Payment(models.Model):
    """A payment attempt. Only a gateway token and reference are kept — never a card number."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=40)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    gateway_reference = models.CharField(max_length=100, blank=True)
    token = models.CharField(max_length=100, blank=True, help_text="Gateway token, not a card.")
    idempotency_key = models.CharField(max_length=100, unique=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(captured_amount__gte=0) & Q(refunded_amount__gte=0),
                name="payment_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__lte=F("amount")),
                name="payment_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")),
                name="payment_refunded_within_captured",
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="payment_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} {self.currency} ({self.status})"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RECEIVED = "received", "Received"
    REFUNDED = "refunded", "Refunded"
    REJECTED = "rejected", "Rejected"


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment", "To the original payment"
    CASH = "cash", "Cash at the store"


class Return(models.Model):
    """Goods coming back from any order, through any channel, to any location."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    received_at_location = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the goods arrived (empty while a postal return is on its way).",
    )
    status = models.CharField(max_length=20, choices=ReturnStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    refund_method = models.CharField(max_length=20, choices=RefundMethod.choices)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="return_refund_not_negative"
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="return_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Return {self.pk} of {self.order_id}"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    restock = models.BooleanField(default=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="return_line_refund_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.order_line_id}"
