from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    Payment,
    Refund,
    Return,
    ReturnLine,
    SandboxGatewayEntry,
    Voucher,
    VoucherRedemption,
)


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = ["variant", "quantity", "added_channel", "added_at"]
    readonly_fields = ["added_at"]
    raw_id_fields = ["variant"]
    extra = 0


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["pk", "customer", "status", "origin_channel", "store", "updated_at"]
    list_filter = ["status", "origin_channel", "store"]
    search_fields = ["customer__email", "=customer__public_id"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "store"]
    inlines = [CartLineInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = readonly_fields = (
        "sku",
        "product_name",
        "quantity",
        "returned_quantity",
        "unit_price",
        "tax_rate",
        "discount",
        "tax_amount",
        "line_total",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = readonly_fields = (
        "method",
        "gateway",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "gateway_reference",
        "created_at",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "channel",
        "origin_channel",
        "store",
        "status",
        "fulfilment_method",
        "total",
        "currency",
        "placed_at",
    ]
    list_filter = ["status", "channel", "origin_channel", "fulfilment_method", "store"]
    search_fields = ["number", "customer__email", "email", "phone", "pickup_code"]
    raw_id_fields = ["customer", "cart", "placed_by"]
    list_select_related = ["customer", "store"]
    readonly_fields = [
        "number",
        "idempotency_key",
        "request_fingerprint",
        "subtotal",
        "discount_total",
        "shipping_total",
        "tax_total",
        "total",
        "paid_total",
        "refunded_total",
        "currency",
        "prices_include_tax",
        "tax_country",
        "placed_at",
        "updated_at",
    ]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, PaymentInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Orders move only through the services (state machine, stock, money): read-only here.
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "order",
        "method",
        "gateway",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "created_at",
    ]
    list_filter = ["method", "gateway", "status"]
    search_fields = ["order__number", "gateway_reference", "=idempotency_key"]
    raw_id_fields = ["order"]
    readonly_fields = [
        "idempotency_key",
        "token",
        "gateway_reference",
        "amount",
        "captured_amount",
        "refunded_amount",
        "currency",
    ]
    list_select_related = ["order"]


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    fields = ["order_line", "quantity", "restock", "refund_amount"]
    raw_id_fields = ["order_line"]
    extra = 0


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "order",
        "channel",
        "received_at_location",
        "status",
        "refund_method",
        "refund_amount",
        "created_at",
    ]
    list_filter = ["status", "channel", "received_at_location", "refund_method"]
    search_fields = ["order__number", "=idempotency_key"]
    raw_id_fields = ["order", "processed_by"]
    list_select_related = ["order", "received_at_location"]
    inlines = [ReturnLineInline]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "minimum_spend",
        "valid_from",
        "valid_until",
        "times_used",
        "usage_limit",
        "usage_limit_per_customer",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["times_used", "created_at"]


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(admin.ModelAdmin):
    list_display = ["voucher", "order", "customer", "use_number", "created_at"]
    search_fields = ["voucher__code", "order__number"]
    raw_id_fields = ["voucher", "order", "customer"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "order",
        "method",
        "status",
        "amount",
        "currency",
        "location",
        "created_at",
    ]
    list_filter = ["method", "status"]
    search_fields = ["order__number", "=idempotency_key", "gateway_reference"]
    raw_id_fields = ["order", "payment", "return_request", "issued_by"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SandboxGatewayEntry)
class SandboxGatewayEntryAdmin(admin.ModelAdmin):
    """What the sandbox provider recorded: handy to see that a retry charged once."""

    list_display = ["reference", "operation", "amount", "currency", "is_approved", "created_at"]
    list_filter = ["operation", "is_approved"]
    search_fields = ["reference", "parent_reference", "=idempotency_key"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
