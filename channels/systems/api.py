"""The HTTP door for the retailer's other systems: bulk stock and price sync for an ERP, and
streamed exports. Thin: validate, call one service or export, shape the answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import sync
from integrations.api.permissions import ScopePermission, api_key_of
from integrations.idempotency import idempotency_key_check, idempotent_call
from integrations.models import Scope
from interaction_platform.api import StrictCharField
from interaction_platform.choices import Channel

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A fresh random value per request (e.g. a UUID). Repeating a request with the same key "
        "returns the first answer and changes nothing; the same key with another body is 409."
    ),
)


class StockRowSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    location = StrictCharField(max_length=32, help_text="Store or warehouse code.")
    on_hand = serializers.IntegerField(
        required=False, min_value=0, max_value=2_000_000_000, help_text="mode=absolute"
    )
    delta = serializers.IntegerField(
        required=False,
        min_value=-2_000_000_000,
        max_value=2_000_000_000,
        help_text="mode=delta: units added (negative: removed).",
    )


class StockSyncSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=[mode.value for mode in sync.StockMode])
    rows = serializers.ListField(
        child=StockRowSerializer(), allow_empty=False, max_length=sync.MAX_ROWS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        field = "on_hand" if attrs["mode"] == sync.StockMode.ABSOLUTE else "delta"
        other = "delta" if field == "on_hand" else "on_hand"
        errors = {
            f"rows.{index}": [f"Send '{field}' (and not '{other}') with mode={attrs['mode']}."]
            for index, row in enumerate(attrs["rows"])
            if field not in row or other in row
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class StockResultSerializer(serializers.Serializer):
    sku = serializers.CharField()
    location = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[o.value for o in sync.ChangeOutcome])
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class StockSyncResultSerializer(serializers.Serializer):
    mode = serializers.CharField()
    results = StockResultSerializer(many=True)


class PriceRowSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    channel = serializers.ChoiceField(choices=Channel.selling())
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    compare_at_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class PriceSyncSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=PriceRowSerializer(), allow_empty=False, max_length=sync.MAX_ROWS
    )


class PriceResultSerializer(serializers.Serializer):
    sku = serializers.CharField()
    channel = serializers.CharField()
    currency = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[o.value for o in sync.ChangeOutcome])
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    compare_at_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class PriceSyncResultSerializer(serializers.Serializer):
    results = PriceResultSerializer(many=True)


def _idempotent_response(request: Request, name: str, work: Any) -> Response:
    key = idempotency_key_check(key=request.headers.get("Idempotency-Key"))
    api_key = api_key_of(request)
    caller = f"key:{api_key.pk}" if api_key else f"user:{request.user.pk}"
    result = idempotent_call(scope=f"{caller}:{name}", key=key, payload=request.data, work=work)
    headers = {"Idempotent-Replayed": "true"} if result.is_replay else {}
    return Response(result.body, status=result.status, headers=headers)


class StockSyncView(APIView):
    """Bulk stock upsert for an ERP or warehouse system."""

    permission_classes = [ScopePermission]
    required_scope = Scope.WRITE_STOCK
    extra_error_codes = (409,)

    @extend_schema(
        summary="Set or adjust stock at many locations at once (all or nothing)",
        parameters=[IDEMPOTENCY_HEADER],
        request=StockSyncSerializer,
        responses={
            200: StockSyncResultSerializer,
            409: OpenApiResponse(
                description="A row would leave fewer units on hand than are reserved, or the "
                "Idempotency-Key was used for another body. Nothing was written."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = StockSyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mode = sync.StockMode(data.validated_data["mode"])
        field = "on_hand" if mode == sync.StockMode.ABSOLUTE else "delta"
        changes = [
            sync.StockChange(sku=row["sku"], location=row["location"], quantity=row[field])
            for row in data.validated_data["rows"]
        ]

        def work() -> tuple[int, dict[str, Any]]:
            results = sync.stock_sync(changes=changes, mode=mode)
            return 200, {"mode": mode.value, "results": [r.as_dict() for r in results]}

        return _idempotent_response(request, "sync-stock", work)


class PriceSyncView(APIView):
    """Bulk price upsert for an ERP."""

    permission_classes = [ScopePermission]
    required_scope = Scope.WRITE_CATALOG
    extra_error_codes = (409,)

    @extend_schema(
        summary="Set prices per channel and currency for many SKUs at once (all or nothing)",
        parameters=[IDEMPOTENCY_HEADER],
        request=PriceSyncSerializer,
        responses={
            200: PriceSyncResultSerializer,
            409: OpenApiResponse(
                description="The Idempotency-Key was used for another body. Nothing was written."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = PriceSyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = [
            sync.PriceChange(
                sku=row["sku"],
                channel=row["channel"],
                currency=row["currency"],
                amount=row["amount"],
                compare_at_amount=row.get("compare_at_amount"),
            )
            for row in data.validated_data["rows"]
        ]

        def work() -> tuple[int, dict[str, Any]]:
            results = sync.price_sync(changes=changes)
            return 200, {"results": [r.as_dict() for r in results]}

        return _idempotent_response(request, "sync-prices", work)
