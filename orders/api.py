"""REST API for carts, checkout, orders, payments and returns — the mobile app's channel, and
the one POS devices and the console can use. Views parse, call one service, render.

The channel of a request follows from who makes it: a shopper orders in the app, store staff at
the till (``store``), an agent in the call centre. Money is always computed by the server:
prices, totals, currency, "paid", another customer or a store the caller does not work at are
refused. Bodies are rendered from plain dicts (see ``order_body``); the serializers below
document them in the OpenAPI schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Location
from customers.models import AccessAction, Customer
from customers.selectors import customer_for_user, customer_resolve_merged
from customers.services import access_log_record
from interaction_platform.accounts.models import Role, User
from interaction_platform.api import ActionPermission, PageNumberPagination, StrictCharField
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotFound
from interaction_platform.permissions import Action, require
from orders import selectors, services
from orders.models import (
    FulfilmentMethod,
    Order,
    OrderStatus,
    PaymentMethod,
    RefundMethod,
    Return,
    ReturnKind,
)
from orders.pricing import ZERO
from orders.services.common import IDEMPOTENCY_KEY_PATTERN, MAX_LINE_QUANTITY, MAX_LINES

MAX_ID = 2**63 - 1
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "A key the client makes for this request (e.g. a UUID), 8 to 100 letters, digits, "
        "'_', '.', ':' or '-'. Repeating the request with the same key returns the first "
        "result and never charges twice; the same key with other content is refused (409). "
        "May be sent as the body field `idempotency_key` instead."
    ),
    pattern=IDEMPOTENCY_KEY_PATTERN.pattern,
)
SERVER_COMPUTED = frozenset(
    {
        "price",
        "unit_price",
        "total",
        "subtotal",
        "tax",
        "tax_total",
        "discount",
        "currency",
        "paid",
        "paid_total",
        "amount",
        "shipping",
        "shipping_total",
    }
)


TEXT_ONLY = "Send text here (a JSON string)."


# --- strict input fields: JSON types are what the schema says, nothing is coerced -----------


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Send true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDecimalField(serializers.DecimalField):
    """Money as a JSON string (``"12.50"``): a number would lose cents in some clients."""

    default_error_messages = {"not_a_string": 'Send an amount as a string, e.g. "12.50".'}

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class _TextOnly(serializers.Field):
    """JSON text only (DRF would turn a number into text), and never a NUL character. Mixed
    in before a concrete field, whose conversion then runs."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or "\x00" in data:
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictUUIDField(_TextOnly, serializers.UUIDField):
    default_error_messages = {"not_a_string": TEXT_ONLY}


class StrictSlugField(_TextOnly, serializers.SlugField):
    default_error_messages = {"not_a_string": TEXT_ONLY}


class StrictEmailField(_TextOnly, serializers.EmailField):
    default_error_messages = {"not_a_string": TEXT_ONLY}


class StrictDateTimeField(_TextOnly, serializers.DateTimeField):
    default_error_messages = {"not_a_string": TEXT_ONLY}


class StrictChoiceField(_TextOnly, serializers.ChoiceField):
    default_error_messages = {"not_a_string": TEXT_ONLY}


class ClosedSerializer(serializers.Serializer):
    """Refuses fields it does not know — above all a price, a total or "paid", which only the
    server computes."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        str(name): [
                            "Computed by the server; never sent."
                            if name in SERVER_COMPUTED
                            else "This field is not accepted."
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


# --- request bodies ---------------------------------------------------------------------------


class CartOpenSerializer(ClosedSerializer):
    customer = StrictUUIDField(
        required=False, help_text="Staff: the customer whose cart to open (from the lookup)."
    )
    store = StrictSlugField(required=False, help_text="Store staff: the store you serve in.")


class CartLineAddSerializer(ClosedSerializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CartLineQuantitySerializer(ClosedSerializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class VoucherSerializer(ClosedSerializer):
    code = StrictCharField(max_length=32)


class LineSerializer(ClosedSerializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class AddressSerializer(ClosedSerializer):
    first_name = StrictCharField(max_length=100, allow_blank=True)
    last_name = StrictCharField(max_length=100, allow_blank=True)
    line1 = StrictCharField(max_length=200, allow_blank=True)
    line2 = StrictCharField(max_length=200, allow_blank=True, required=False)
    postcode = StrictCharField(max_length=16, allow_blank=True)
    city = StrictCharField(max_length=100, allow_blank=True)
    country = StrictCharField(max_length=2, allow_blank=True, help_text="ISO 3166, e.g. NL.")
    phone = StrictCharField(max_length=32, allow_blank=True)


class PaymentInputSerializer(ClosedSerializer):
    method = StrictChoiceField(choices=PaymentMethod.choices)
    token = StrictCharField(
        max_length=100,
        required=False,
        help_text="card_online: the payment provider's token (sandbox: docs/commerce.md). "
        "Never a card number.",
    )
    amount_tendered = StrictDecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="cash: what the customer handed over; the change is computed.",
    )
    terminal_reference = StrictCharField(
        max_length=64, required=False, help_text="card_present: the terminal's approval."
    )


class CheckoutSerializer(ClosedSerializer):
    idempotency_key = StrictCharField(max_length=100, required=False)
    cart = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)
    lines = serializers.ListField(child=LineSerializer(), required=False, max_length=MAX_LINES)
    customer = StrictUUIDField(required=False, help_text="Staff: whom the order is for.")
    store = StrictSlugField(required=False, help_text="Store staff: the selling store.")
    fulfilment_method = StrictChoiceField(choices=FulfilmentMethod.choices)
    pickup_store = StrictSlugField(required=False, help_text="Click & collect: where.")
    delivery_address = AddressSerializer(required=False)
    email = StrictEmailField(required=False)
    voucher_code = StrictCharField(max_length=32, required=False)
    payment = PaymentInputSerializer()
    placed_at = StrictDateTimeField(
        required=False, help_text="A POS sale made offline: when it happened at the till."
    )


class CancelSerializer(ClosedSerializer):
    reason = StrictCharField(max_length=300, required=False, allow_blank=True)
    store = StrictSlugField(
        required=False, help_text="Store staff: the till that pays money back in cash."
    )


class CollectSerializer(ClosedSerializer):
    pickup_code = StrictCharField(max_length=12)


class ShipSerializer(ClosedSerializer):
    tracking_reference = StrictCharField(max_length=100, required=False, allow_blank=True)


class RefundRequestSerializer(ClosedSerializer):
    idempotency_key = StrictCharField(max_length=100, required=False)
    amount = StrictDecimalField(max_digits=9, decimal_places=2, min_value=Decimal("0.01"))
    reason = StrictCharField(max_length=300)


class ReturnLineSerializer(ClosedSerializer):
    line = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="The order line's id.")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    restock = StrictBooleanField(required=False, default=True)


class ReturnCreateSerializer(ClosedSerializer):
    idempotency_key = StrictCharField(max_length=100, required=False)
    order = StrictCharField(max_length=20, help_text="The order number.")
    lines = serializers.ListField(child=ReturnLineSerializer(), min_length=1, max_length=MAX_LINES)
    kind = StrictChoiceField(choices=ReturnKind.choices)
    location = StrictSlugField(required=False, help_text="In store: the store receiving it.")
    refund_method = StrictChoiceField(
        choices=RefundMethod.choices, required=False, default=RefundMethod.ORIGINAL_PAYMENT
    )
    reason = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class ReceiveSerializer(ClosedSerializer):
    location = StrictSlugField(help_text="Where the parcel arrived.")


# --- response bodies (documentation of what the dict builders render) -------------------------


class CartLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField(allow_null=True, help_text="Null: not sold here.")
    added_channel = serializers.ChoiceField(choices=Channel.choices)


class CartOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.UUIDField()
    status = serializers.CharField()
    origin_channel = serializers.ChoiceField(choices=Channel.choices)
    store = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    voucher_code = serializers.CharField(allow_null=True)
    voucher_message = serializers.CharField(help_text="Why the voucher does not apply (yet).")
    lines = CartLineOutSerializer(many=True)
    goods_total = serializers.CharField()
    discount_total = serializers.CharField()
    tax_total = serializers.CharField()
    total = serializers.CharField(help_text="An estimate: delivery is added at checkout.")
    tax_country = serializers.CharField()
    updated_at = serializers.DateTimeField()


class OrderLineOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    returned_quantity = serializers.IntegerField()
    unit_price = serializers.CharField()
    tax_rate = serializers.CharField()
    discount = serializers.CharField()
    tax_amount = serializers.CharField()
    line_total = serializers.CharField()


class PaymentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.CharField()
    captured_amount = serializers.CharField()
    refunded_amount = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class RefundOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, help_text="Closed the sale.")
    origin_channel = serializers.ChoiceField(choices=Channel.choices, help_text="Cart began.")
    customer = serializers.UUIDField(allow_null=True)
    store = serializers.CharField(allow_null=True)
    fulfilment_location = serializers.CharField(allow_null=True)
    fulfilment_method = serializers.ChoiceField(choices=FulfilmentMethod.choices)
    pickup_code = serializers.CharField(
        allow_null=True, help_text="Shown to the customer (and agents), not to store staff."
    )
    tracking_reference = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    delivery_address = serializers.DictField(child=serializers.CharField())
    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    tax_country = serializers.CharField()
    voucher_code = serializers.CharField(allow_null=True)
    subtotal = serializers.CharField()
    discount_total = serializers.CharField()
    shipping_total = serializers.CharField()
    tax_total = serializers.CharField()
    total = serializers.CharField()
    paid_total = serializers.CharField()
    refunded_total = serializers.CharField()
    lines = OrderLineOutSerializer(many=True)
    payments = PaymentOutSerializer(many=True)
    payment_link = serializers.CharField(
        allow_null=True, help_text="Pay-by-link: the signed page where the customer pays."
    )
    change_due = serializers.CharField(allow_null=True, help_text="Cash: change to hand back.")
    placed_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()


class OrderPaymentsOutSerializer(serializers.Serializer):
    payments = PaymentOutSerializer(many=True)
    refunds = RefundOutSerializer(many=True)


class ReturnLineOutSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    restock = serializers.BooleanField()
    refund_amount = serializers.CharField()


class ReturnOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField()
    status = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReturnKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    received_at_location = serializers.CharField(allow_null=True)
    refund_method = serializers.ChoiceField(choices=RefundMethod.choices)
    refund_amount = serializers.CharField()
    currency = serializers.CharField()
    reason = serializers.CharField()
    lines = ReturnLineOutSerializer(many=True)
    refunds = RefundOutSerializer(many=True)
    created_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField(allow_null=True)


# --- rendering --------------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _time(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _code(location: Location | None) -> str | None:
    return location.code if location is not None else None


def cart_body(view: selectors.CartView) -> dict[str, Any]:
    cart, quote = view.cart, view.quote
    return {
        "id": cart.pk,
        "customer": str(cart.customer.public_id),
        "status": cart.status,
        "origin_channel": cart.origin_channel,
        "store": _code(cart.store),
        "currency": cart.currency,
        "voucher_code": cart.voucher.code if cart.voucher else None,
        "voucher_message": view.voucher_message,
        "lines": [
            {
                "sku": line.variant.sku,
                "name": f"{line.variant.product.name} {line.variant.name}".strip(),
                "quantity": line.quantity,
                "unit_price": _money(price) if price is not None else None,
                "added_channel": line.added_channel,
            }
            for line, price in view.lines
        ],
        "goods_total": _money(quote.goods_amount if quote else ZERO),
        "discount_total": _money(quote.discount_total if quote else ZERO),
        "tax_total": _money(quote.tax_total if quote else ZERO),
        "total": _money(quote.total if quote else ZERO),
        "tax_country": quote.tax_country if quote else "",
        "updated_at": _time(cart.updated_at),
    }


def order_body(
    order: Order,
    *,
    user: Any,
    payment_link: str = "",
    change_due: Decimal | None = None,
    lines: Sequence[Any] | None = None,
    payments: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The order as the API shows it; ``lines`` and ``payments`` when the caller holds them
    (the checkout's own), else the order's (prefetched)."""
    shows_pickup_code = not (isinstance(user, User) and user.role == Role.STORE_STAFF)
    return {
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "origin_channel": order.origin_channel,
        "customer": str(order.customer.public_id) if order.customer else None,
        "store": _code(order.store),
        "fulfilment_location": _code(order.fulfilment_location),
        "fulfilment_method": order.fulfilment_method,
        "pickup_code": (order.pickup_code or None) if shows_pickup_code else None,
        "tracking_reference": order.tracking_reference,
        "email": order.email,
        "phone": order.phone,
        "delivery_address": order.delivery_address,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "tax_country": order.tax_country,
        "voucher_code": order.voucher.code if order.voucher else None,
        "subtotal": _money(order.subtotal),
        "discount_total": _money(order.discount_total),
        "shipping_total": _money(order.shipping_total),
        "tax_total": _money(order.tax_total),
        "total": _money(order.total),
        "paid_total": _money(order.paid_total),
        "refunded_total": _money(order.refunded_total),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "name": line.product_name,
                "quantity": line.quantity,
                "returned_quantity": line.returned_quantity,
                "unit_price": _money(line.unit_price),
                "tax_rate": f"{line.tax_rate:.4f}",
                "discount": _money(line.discount),
                "tax_amount": _money(line.tax_amount),
                "line_total": _money(line.line_total),
            }
            for line in (lines if lines is not None else order.lines.all())
        ],
        "payments": [
            _payment_body(payment)
            for payment in (payments if payments is not None else order.payments.all())
        ],
        "payment_link": payment_link or None,
        "change_due": _money(change_due) if change_due is not None else None,
        "placed_at": _time(order.placed_at),
        "ready_at": _time(order.ready_at),
        "shipped_at": _time(order.shipped_at),
        "completed_at": _time(order.completed_at),
        "cancelled_at": _time(order.cancelled_at),
        "cancel_reason": order.cancel_reason,
    }


def _payment_body(payment: Any) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "method": payment.method,
        "status": payment.status,
        "amount": _money(payment.amount),
        "captured_amount": _money(payment.captured_amount),
        "refunded_amount": _money(payment.refunded_amount),
        "expires_at": _time(payment.expires_at),
    }


def _refund_body(refund: Any) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "method": refund.method,
        "status": refund.status,
        "amount": _money(refund.amount),
        "currency": refund.currency,
        "reason": refund.reason,
        "created_at": _time(refund.created_at),
    }


def return_body(found: Return) -> dict[str, Any]:
    return {
        "id": found.pk,
        "order": found.order.number,
        "status": found.status,
        "kind": found.kind,
        "channel": found.channel,
        "received_at_location": _code(found.received_at_location),
        "refund_method": found.refund_method,
        "refund_amount": _money(found.refund_amount),
        "currency": found.currency,
        "reason": found.reason,
        "lines": [
            {
                "line": line.order_line_id,
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "restock": line.restock,
                "refund_amount": _money(line.refund_amount),
            }
            for line in found.lines.all()
        ],
        "refunds": [_refund_body(refund) for refund in found.refunds.all()],
        "created_at": _time(found.created_at),
        "received_at": _time(found.received_at),
    }


# --- who, where, which key --------------------------------------------------------------------


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # ActionPermission let only signed-in users in
    return request.user


def _is_shopper(user: User) -> bool:
    return user.role == Role.SHOPPER and not user.is_admin


def channel_for(user: User, *, store: Location | None = None) -> Channel:
    """The channel a request is made on: a shopper's is the app, staff at a store's the POS,
    an agent's (and an administrator's without a store) the call centre."""
    if _is_shopper(user):
        return Channel.APP
    if store is not None or user.role == Role.STORE_STAFF:
        return Channel.STORE
    return Channel.CALL_CENTRE


def _customer_for(request: Request, public_id: uuid.UUID | None) -> Customer | None:
    user = _user(request)
    if _is_shopper(user):
        if public_id is not None:
            raise InvalidInput(
                "You order for yourself.", fields={"customer": ["Not accepted from shoppers."]}
            )
        assert user.pk is not None
        own = customer_for_user(user_id=user.pk)
        if own is None:
            raise NotFound("Your login has no customer profile.")
        return own
    if public_id is None:
        return None
    found = Customer.objects.filter(public_id=public_id, erased_at__isnull=True).first()
    if found is None:
        raise InvalidInput("There is no such customer.", fields={"customer": ["Unknown."]})
    return customer_resolve_merged(customer=found)


def _location(code: str | None, *, field: str) -> Location | None:
    if code is None:
        return None
    found = Location.objects.filter(code=code, is_active=True).first()
    if found is None:
        raise InvalidInput(f"There is no location '{code}'.", fields={field: ["Unknown."]})
    return found


def _idempotency_key(request: Request, body_key: str | None) -> str:
    header = request.headers.get("Idempotency-Key")
    if header is not None and body_key is not None and header != body_key:
        raise InvalidInput(
            "The Idempotency-Key header and the idempotency_key field differ.",
            fields={"idempotency_key": ["Send one key, or the same in both."]},
        )
    key = header if header is not None else body_key
    if key is None:
        raise InvalidInput(
            "Send an Idempotency-Key header (or an idempotency_key field).",
            code="idempotency_key_missing",
            fields={"idempotency_key": ["Required."]},
        )
    return key


def _audit(request: Request, customer: Customer | None, action: AccessAction) -> None:
    """Staff reading or changing a customer's cart or orders is written to the access log."""
    user = _user(request)
    if customer is None or _is_shopper(user):
        return
    access_log_record(
        actor=user,
        customers=[customer],
        action=action,
        via=f"{request.method} {request.path}",
    )


def _valid_id(value: int | str) -> int:
    """An id from the path (``re_path`` gives text): a number a row could have, or 404."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise NotFound()
    return number


def _order_for(request: Request, number: str) -> Order:
    order = selectors.order_get(number=number)
    require(request.user, Action.ORDER_VIEW, order)
    return order


# --- carts ------------------------------------------------------------------------------------


class CartOpenView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.CART_MANAGE
    extra_error_codes = (404,)

    @extend_schema(
        summary="Open the customer's cart (the one open cart, on any channel)",
        request=CartOpenSerializer,
        responses={200: CartOutSerializer, 201: CartOutSerializer},
    )
    def post(self, request: Request) -> Response:
        body = CartOpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = _user(request)
        customer = _customer_for(request, body.validated_data.get("customer"))
        if customer is None:
            raise InvalidInput("Whose cart?", fields={"customer": ["Required for staff."]})
        store = _location(body.validated_data.get("store"), field="store")
        cart, created = services.cart_open(
            actor=user, customer=customer, channel=channel_for(user, store=store), store=store
        )
        _audit(request, customer, AccessAction.EDIT if created else AccessAction.VIEW)
        view = selectors.cart_priced(
            cart=selectors.cart_get(cart_id=cart.pk), channel=channel_for(user)
        )
        return Response(cart_body(view), status=201 if created else 200)


class _CartView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.CART_MANAGE
    extra_error_codes: tuple[int, ...] = (409,)

    def cart(self, request: Request, cart_id: int) -> Any:
        cart = selectors.cart_get(cart_id=_valid_id(cart_id))
        require(request.user, Action.CART_MANAGE, cart)
        return cart

    def render(
        self, request: Request, cart_id: int, *, action: AccessAction = AccessAction.EDIT
    ) -> Response:
        cart = selectors.cart_get(cart_id=_valid_id(cart_id))
        _audit(request, cart.customer, action)
        return Response(
            cart_body(selectors.cart_priced(cart=cart, channel=channel_for(_user(request))))
        )


class CartDetailView(_CartView):
    extra_error_codes = ()

    @extend_schema(summary="A cart, priced for your channel", responses=CartOutSerializer)
    def get(self, request: Request, cart_id: int) -> Response:
        self.cart(request, cart_id)
        return self.render(request, cart_id, action=AccessAction.VIEW)


class CartLinesView(_CartView):
    @extend_schema(
        summary="Add a product to a cart",
        request=CartLineAddSerializer,
        responses=CartOutSerializer,
    )
    def post(self, request: Request, cart_id: int) -> Response:
        cart = self.cart(request, cart_id)
        body = CartLineAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cart_add_line(
            actor=request.user,
            cart=cart,
            sku=body.validated_data["sku"],
            quantity=body.validated_data["quantity"],
            channel=channel_for(_user(request)),
        )
        return self.render(request, cart_id)


class CartLineView(_CartView):
    @extend_schema(
        summary="Change how many of a product are in a cart",
        request=CartLineQuantitySerializer,
        responses=CartOutSerializer,
    )
    def put(self, request: Request, cart_id: int, sku: str) -> Response:
        cart = self.cart(request, cart_id)
        body = CartLineQuantitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cart_set_quantity(
            actor=request.user,
            cart=cart,
            sku=sku,
            quantity=body.validated_data["quantity"],
            channel=channel_for(_user(request)),
        )
        return self.render(request, cart_id)

    @extend_schema(summary="Remove a product from a cart", responses={200: CartOutSerializer})
    def delete(self, request: Request, cart_id: int, sku: str) -> Response:
        services.cart_remove_line(actor=request.user, cart=self.cart(request, cart_id), sku=sku)
        return self.render(request, cart_id)


class CartVoucherView(_CartView):
    @extend_schema(
        summary="Apply a voucher (one per order)",
        request=VoucherSerializer,
        responses=CartOutSerializer,
    )
    def put(self, request: Request, cart_id: int) -> Response:
        cart = self.cart(request, cart_id)
        body = VoucherSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cart_apply_voucher(actor=request.user, cart=cart, code=body.validated_data["code"])
        return self.render(request, cart_id)

    @extend_schema(summary="Remove the voucher", responses={200: CartOutSerializer})
    def delete(self, request: Request, cart_id: int) -> Response:
        services.cart_remove_voucher(actor=request.user, cart=self.cart(request, cart_id))
        return self.render(request, cart_id)


# --- checkout and orders ----------------------------------------------------------------------


class _ActionsByMethod(dict[str, Action]):
    """``permission_actions`` whose other methods (OPTIONS, TRACE…) need the reading action:
    the permission check runs before DRF answers 405 to a method the view does not have."""

    def __missing__(self, method: str) -> Action:
        return Action.ORDER_VIEW


class OrderListView(APIView):
    permission_classes = [ActionPermission]
    permission_actions = _ActionsByMethod(get=Action.ORDER_VIEW, post=Action.ORDER_PLACE)
    pagination_class = PageNumberPagination
    extra_error_codes = (404, 409)

    @extend_schema(
        summary="Orders: your own, or (staff) a customer's",
        parameters=[
            OpenApiParameter(
                "customer", OpenApiTypes.UUID, description="Staff: whose orders (audited)."
            )
        ],
        responses=OrderOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        raw = request.query_params.get("customer")
        public_id = None
        if raw is not None:
            try:
                public_id = uuid.UUID(raw)
            except ValueError as error:
                raise InvalidInput(
                    "Not a customer id.", fields={"customer": ["A UUID."]}
                ) from error
        customer = _customer_for(request, public_id)
        if customer is None:
            raise InvalidInput("Whose orders?", fields={"customer": ["Required for staff."]})
        require(user, Action.CUSTOMER_VIEW, customer)
        _audit(request, customer, AccessAction.VIEW)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.order_list_for_customer(customer=customer), request, view=self
        )
        assert page is not None
        return paginator.get_paginated_response([order_body(order, user=user) for order in page])

    @extend_schema(
        summary="Check out: a cart, or lines (a POS sale), with payment",
        description=(
            "The one checkout of every channel. Totals are computed by the server. With "
            "`card_online` the payment is taken before the answer (a declined card answers 409 "
            "`payment_declined` and the cart is given back); with `pay_by_link` the answer "
            "carries the link to send the customer; cash and `card_present` are settled at "
            "the till. A timeout answers 409 `payment_pending`: repeat with the same key."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=CheckoutSerializer,
        responses={201: OrderOutSerializer},
    )
    def post(self, request: Request) -> Response:
        body = CheckoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = _user(request)
        key = _idempotency_key(request, data.get("idempotency_key"))
        store = _location(data.get("store"), field="store")
        cart = None
        if "cart" in data:
            cart = selectors.cart_get(cart_id=data["cart"])
        customer = _customer_for(request, data.get("customer"))
        if cart is not None and customer is None:
            require(user, Action.CART_MANAGE, cart)
            customer = cart.customer
        payment = data["payment"]
        placed = services.order_place(
            actor=user,
            channel=channel_for(user, store=store),
            idempotency_key=key,
            customer=customer,
            cart=cart,
            lines=[
                services.LineRequest(line["sku"], line["quantity"])
                for line in data.get("lines", [])
            ],
            store=store,
            fulfilment_method=data["fulfilment_method"],
            pickup_store=_location(data.get("pickup_store"), field="pickup_store"),
            delivery_address=data.get("delivery_address"),
            email=data.get("email", ""),
            voucher_code=data.get("voucher_code", ""),
            payment=services.PaymentRequest(
                method=payment["method"],
                token=payment.get("token", ""),
                amount_tendered=payment.get("amount_tendered"),
                terminal_reference=payment.get("terminal_reference", ""),
            ),
            placed_at=data.get("placed_at"),
        )
        _audit(request, customer, AccessAction.EDIT)
        order = placed.order
        if placed.is_replay or placed.lines is None or placed.payments is None:
            order = selectors.order_for_rendering(order=order)
        link = request.build_absolute_uri(placed.payment_link) if placed.payment_link else ""
        headers = {"Idempotent-Replayed": "true"} if placed.is_replay else {}
        rendered = order_body(
            order,
            user=user,
            payment_link=link,
            change_due=placed.change_due,
            lines=None if placed.is_replay else placed.lines,
            payments=None if placed.is_replay else placed.payments,
        )
        return Response(rendered, status=status.HTTP_201_CREATED, headers=headers)


def _link_for(request: Request, order: Order) -> str:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return ""
    if not any(p.method == PaymentMethod.PAY_BY_LINK for p in order.payments.all()):
        return ""
    return request.build_absolute_uri(services.payment_link_path(order=order))


class OrderDetailView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.ORDER_VIEW

    @extend_schema(summary="An order", responses=OrderOutSerializer)
    def get(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        _audit(request, order.customer, AccessAction.VIEW)
        return Response(
            order_body(order, user=request.user, payment_link=_link_for(request, order))
        )


class _OrderActionView(APIView):
    permission_classes = [ActionPermission]
    extra_error_codes = (409,)

    def done(self, request: Request, order: Order) -> Response:
        _audit(request, order.customer, AccessAction.EDIT)
        fresh = selectors.order_get(number=order.number)
        return Response(
            order_body(fresh, user=request.user, payment_link=_link_for(request, fresh))
        )


class OrderCancelView(_OrderActionView):
    permission_action = Action.ORDER_CANCEL

    @extend_schema(
        summary="Cancel an order (stock back on sale, money refunded)",
        request=CancelSerializer,
        responses=OrderOutSerializer,
    )
    def post(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.order_cancel(
            actor=request.user,
            order=order,
            reason=body.validated_data.get("reason", ""),
            store=_location(body.validated_data.get("store"), field="store"),
        )
        return self.done(request, order)


class OrderReadyView(_OrderActionView):
    permission_action = Action.ORDER_FULFIL

    @extend_schema(
        summary="Click & collect: ready for pickup", request=None, responses=OrderOutSerializer
    )
    def post(self, request: Request, number: str) -> Response:
        order = services.order_mark_ready(actor=request.user, order=_order_for(request, number))
        return self.done(request, order)


class OrderCollectView(_OrderActionView):
    permission_action = Action.ORDER_FULFIL

    @extend_schema(
        summary="Click & collect: handed over (with the pickup code)",
        request=CollectSerializer,
        responses=OrderOutSerializer,
    )
    def post(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        body = CollectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.order_collect(
            actor=request.user, order=order, pickup_code=body.validated_data["pickup_code"]
        )
        return self.done(request, order)


class OrderShipView(_OrderActionView):
    permission_action = Action.ORDER_FULFIL

    @extend_schema(summary="Shipped", request=ShipSerializer, responses=OrderOutSerializer)
    def post(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        body = ShipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.order_ship(
            actor=request.user,
            order=order,
            tracking_reference=body.validated_data.get("tracking_reference", ""),
        )
        return self.done(request, order)


class OrderDeliverView(_OrderActionView):
    permission_action = Action.ORDER_FULFIL

    @extend_schema(summary="Delivered", request=None, responses=OrderOutSerializer)
    def post(self, request: Request, number: str) -> Response:
        order = services.order_mark_delivered(actor=request.user, order=_order_for(request, number))
        return self.done(request, order)


class OrderPaymentsView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.ORDER_VIEW

    @extend_schema(summary="An order's payments and refunds", responses=OrderPaymentsOutSerializer)
    def get(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        _audit(request, order.customer, AccessAction.VIEW)
        return Response(
            {
                "payments": [_payment_body(payment) for payment in order.payments.all()],
                "refunds": [_refund_body(refund) for refund in order.refunds.order_by("pk")],
            }
        )


class OrderRefundsView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.REFUND_ISSUE
    extra_error_codes = (409,)

    @extend_schema(
        summary="Refund without a return (agents: goodwill, price adjustment)",
        parameters=[IDEMPOTENCY_HEADER],
        request=RefundRequestSerializer,
        responses={201: RefundOutSerializer(many=True)},
    )
    def post(self, request: Request, number: str) -> Response:
        order = _order_for(request, number)
        body = RefundRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        refunds = services.order_refund(
            actor=request.user,
            order=order,
            amount=body.validated_data["amount"],
            reason=body.validated_data["reason"],
            idempotency_key=_idempotency_key(request, body.validated_data.get("idempotency_key")),
        )
        _audit(request, order.customer, AccessAction.EDIT)
        return Response([_refund_body(refund) for refund in refunds], status=201)


# --- returns ----------------------------------------------------------------------------------


class ReturnListView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.RETURN_CREATE
    extra_error_codes = (404, 409)

    @extend_schema(
        summary="Return goods: at a store (staff; refunded at once) or by post",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReturnCreateSerializer,
        responses={201: ReturnOutSerializer},
    )
    def post(self, request: Request) -> Response:
        body = ReturnCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = _user(request)
        order = _order_for(request, data["order"])
        location = _location(data.get("location"), field="location")
        result = services.return_create(
            actor=user,
            order=order,
            lines=[
                services.ReturnLineRequest(line["line"], line["quantity"], line["restock"])
                for line in data["lines"]
            ],
            channel=channel_for(user, store=location),
            kind=data["kind"],
            location=location,
            refund_method=data["refund_method"],
            reason=data["reason"],
            idempotency_key=_idempotency_key(request, data.get("idempotency_key")),
        )
        _audit(request, order.customer, AccessAction.EDIT)
        headers = {"Idempotent-Replayed": "true"} if result.is_replay else {}
        found = selectors.return_get(return_id=result.return_request.pk)
        return Response(return_body(found), status=201, headers=headers)


class ReturnDetailView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.ORDER_VIEW

    @extend_schema(summary="A return", responses=ReturnOutSerializer)
    def get(self, request: Request, return_id: int) -> Response:
        found = selectors.return_get(return_id=_valid_id(return_id))
        require(request.user, Action.ORDER_VIEW, found.order)
        _audit(request, found.order.customer, AccessAction.VIEW)
        return Response(return_body(found))


class ReturnReceiveView(APIView):
    permission_classes = [ActionPermission]
    permission_action = Action.RETURN_RECEIVE
    extra_error_codes = (409,)

    @extend_schema(
        summary="A postal return arrived: restock and refund",
        request=ReceiveSerializer,
        responses=ReturnOutSerializer,
    )
    def post(self, request: Request, return_id: int) -> Response:
        found = selectors.return_get(return_id=_valid_id(return_id))
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        location = _location(body.validated_data["location"], field="location")
        assert location is not None
        services.return_receive(actor=request.user, return_request=found, location=location)
        _audit(request, found.order.customer, AccessAction.EDIT)
        return Response(return_body(selectors.return_get(return_id=found.pk)))
