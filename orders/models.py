"""Carts, orders, payments and returns: one model for every channel.

Money is ``Decimal`` with an ISO currency on the owning row. Every externally triggered write
(an order, a payment, a return) carries an idempotency key that the database keeps unique.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from interaction_platform.choices import Channel

HALF_CENT = Decimal("0.005")


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
    voucher = models.ForeignKey(
        "orders.Voucher",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The one voucher applied to this cart (vouchers do not stack).",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The cart this one was folded into when its customer became known.",
    )
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
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status="merged"),
                name="cart_merged_into_only_when_merged",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.status})"

    @classmethod
    def merge_customer_rows(cls, *, absorbed: Any, survivor: Any) -> list[int]:
        """The merge protocol of ``customers/``: called inside the merge transaction when the
        ``absorbed`` customer is folded into the ``survivor``. The absorbed open cart is folded
        into the survivor's open cart (see :func:`orders.services.carts_fold_customer` for the
        quantity rule); every cart of the absorbed customer is attached to the survivor.
        Returns the pks of those carts, which an unmerge moves back with a plain update."""
        from orders.services import carts_fold_customer  # services import this module

        return carts_fold_customer(absorbed=absorbed, survivor=survivor)


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
    """One sale, whatever the channel. Money: ``total = subtotal + shipping_total + tax_total``
    where ``subtotal`` is the goods net of tax after discounts and ``shipping_total`` is net of
    tax; ``discount_total`` is the voucher's discount in the price list's terms (with tax when
    the list includes tax). ``paid_total`` is what was captured, ``refunded_total`` what has
    been (or is being) paid back; the database keeps ``refunded_total <= paid_total <= total``."""

    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="Empty only for an anonymous walk-in sale at the POS.",
    )
    cart = models.ForeignKey(
        Cart,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        help_text="The cart checked out (a refused card gives it back for another attempt).",
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
    tracking_reference = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    delivery_address = models.JSONField(default=dict, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True)
    tax_country = models.CharField(
        max_length=2, blank=True, help_text="Whose VAT applies: where the goods are delivered."
    )
    voucher = models.ForeignKey(
        "orders.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    paid_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    idempotency_key = models.CharField(max_length=100, unique=True)
    request_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Hash of the request, to refuse a changed repeat."
    )
    placed_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        help_text="When the sale was made (for an offline POS sale: on the device).",
    )
    ready_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
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
            # Money checks hold to the cent: amounts have two decimals, so within half a cent
            # means equal (SQLite, the embedded default, adds decimals as floating point).
            models.CheckConstraint(
                condition=Q(
                    total__gte=F("subtotal") + F("shipping_total") + F("tax_total") - HALF_CENT
                )
                & Q(total__lte=F("subtotal") + F("shipping_total") + F("tax_total") + HALF_CENT),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0)
                & Q(paid_total__lte=F("total") + HALF_CENT)
                & Q(refunded_total__gte=0)
                & Q(refunded_total__lte=F("paid_total") + HALF_CENT),
                name="order_refunds_within_paid_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(fulfilment_method="click_and_collect")
                | (~Q(pickup_code="") & Q(store__isnull=False)),
                name="order_collect_has_store_and_code",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(channel="store"),
                name="order_anonymous_only_at_the_pos",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def export_customer_rows(cls, *, customer: Any) -> list[dict[str, Any]]:
        """The privacy protocol of ``customers/`` (a customer's copy of their data): their
        orders with lines, contact details and addresses."""
        orders = (
            cls.objects.filter(customer=customer).prefetch_related("lines").order_by("placed_at")
        )
        return [
            {
                "number": order.number,
                "placed_at": order.placed_at,
                "channel": order.channel,
                "status": order.status,
                "fulfilment_method": order.fulfilment_method,
                "email": order.email,
                "phone": order.phone,
                "delivery_address": order.delivery_address,
                "billing_address": order.billing_address,
                "currency": order.currency,
                "total": order.total,
                "lines": [
                    {
                        "sku": line.sku,
                        "product": line.product_name,
                        "quantity": line.quantity,
                        "line_total": line.line_total,
                    }
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ]

    @classmethod
    def erase_customer_rows(cls, *, customer: Any) -> int:
        """The privacy protocol of ``customers/`` (erasure): orders stay for the books, under
        the customer's pseudonymous id, without contact details or addresses."""
        return cls.objects.filter(customer=customer).update(
            email="", phone="", delivery_address={}, billing_address={}
        )


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
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    line_total = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="What the customer pays for it, tax included."
    )
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.UniqueConstraint(fields=["order", "variant"], name="one_order_line_per_variant"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")),
                name="order_line_returned_within_bought",
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
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When a payment link stops working."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "authorized"]),
                name="payment_unsettled_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(captured_amount__gte=0) & Q(refunded_amount__gte=0),
                name="payment_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__lte=F("amount") + HALF_CENT),
                name="payment_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount") + HALF_CENT),
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


class ReturnKind(models.TextChoices):
    IN_STORE = "in_store", "Handed in at a store"
    POSTAL = "postal", "Sent by post"


class Return(models.Model):
    """Goods coming back from any order, through any channel, to any location."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="Where the return was registered."
    )
    kind = models.CharField(max_length=20, choices=ReturnKind.choices, default=ReturnKind.IN_STORE)
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
    request_fingerprint = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="return_refund_not_negative"
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="return_key_not_empty"),
            models.CheckConstraint(
                condition=Q(status="requested")
                | Q(status="rejected")
                | Q(received_at_location__isnull=False, received_at__isnull=False),
                name="return_received_somewhere",
            ),
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


class VoucherKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage off"
    FIXED = "fixed", "Fixed amount off"


class Voucher(models.Model):
    """A discount code. ``times_used`` only moves by a conditional update, so a usage limit holds
    under any concurrency; the per-customer limit is kept by a unique redemption number."""

    code = models.CharField(max_length=32, unique=True, help_text="Stored in upper case.")
    kind = models.CharField(max_length=20, choices=VoucherKind.choices)
    value = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Percent (0-100] or an amount in the currency."
    )
    currency = models.CharField(max_length=3, default="EUR")
    minimum_spend = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Goods total (before the discount, as priced on the channel) it needs.",
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders it may be used on in all; empty = no limit."
    )
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="voucher_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100),
                name="voucher_percentage_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(minimum_spend__gte=0), name="voucher_minimum_spend_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=F("usage_limit")),
                name="voucher_used_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="voucher_valid_period_in_order",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="voucher_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherRedemption(models.Model):
    """A voucher used on an order. ``use_number`` counts the customer's uses of the voucher
    (1, 2, …): unique per (voucher, customer), so two concurrent checkouts cannot both take the
    customer's last allowed use."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voucher_redemptions",
    )
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="redemption")
    use_number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "customer", "use_number"], name="one_redemption_per_use"
            ),
            models.CheckConstraint(condition=Q(use_number__gte=1), name="redemption_use_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_id} on {self.order_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Being paid back"
    SUCCEEDED = "succeeded", "Paid back"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money paid back: to the original payment through its gateway, or in cash at a store.

    While pending, the amount already counts in ``Order.refunded_total``, so two refunds can
    never together exceed what was paid; a failed refund gives its amount back."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        help_text="The payment refunded through its gateway (empty for cash at a store).",
    )
    return_request = models.ForeignKey(
        Return, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    method = models.CharField(max_length=20, choices=RefundMethod.choices)
    status = models.CharField(max_length=20, choices=RefundStatus.choices)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=300, blank=True)
    location = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The store that paid cash out.",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    gateway_reference = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(method="cash", payment__isnull=True, location__isnull=False)
                | Q(method="original_payment", payment__isnull=False),
                name="refund_goes_somewhere",
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="refund_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} of {self.order_id} ({self.status})"


class SandboxOperation(models.TextChoices):
    AUTHORIZE = "authorize", "Authorise"
    CAPTURE = "capture", "Capture"
    VOID = "void", "Void"
    REFUND = "refund", "Refund"


class SandboxGatewayEntry(models.Model):
    """The sandbox payment gateway's own ledger: what a real provider keeps on its side. One row
    per operation and idempotency key, so a repeated call returns the first answer and money
    moves once (see :mod:`orders.gateways`)."""

    operation = models.CharField(max_length=20, choices=SandboxOperation.choices)
    idempotency_key = models.CharField(max_length=150, unique=True)
    reference = models.CharField(max_length=40, unique=True)
    parent_reference = models.CharField(
        max_length=40, blank=True, db_index=True, help_text="The authorisation it acts on."
    )
    token = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    is_approved = models.BooleanField()
    message = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "sandbox gateway entries"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.operation} {self.amount} {self.currency} ({self.reference})"
