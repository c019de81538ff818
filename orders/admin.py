from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import Cart, CartLine, Order, OrderLine, Payment, Return, ReturnLine


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
        "unit_price",
        "tax_rate",
        "discount",
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
        "currency",
        "placed_at",
        "updated_at",
    ]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, PaymentInline]


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
