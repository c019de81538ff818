"""The HTTP door for the retailer's other systems: bulk stock and price sync for an ERP, and
streamed exports. Thin: validate, call one service or export, shape the answer."""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import sync
from customers import exports as customer_exports
from customers.models import ConsentPurpose
from integrations.api.permissions import ScopePermission, api_key_of
from integrations.exports import ExportFormat, export_lines
from integrations.idempotency import idempotency_key_check, idempotent_call
from integrations.models import Scope
from interaction_platform.api import ErrorSerializer, StrictCharField
from interaction_platform.choices import Channel
from interaction_platform.permissions import Action, can
from orders import exports as order_exports

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
                ErrorSerializer,
                description="A row would leave fewer units on hand than are reserved, or the "
                "Idempotency-Key was used for another body. Nothing was written.",
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
                ErrorSerializer,
                description="The Idempotency-Key was used for another body. Nothing was written.",
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


# --- exports ----------------------------------------------------------------------------------


class _PassThroughRenderer(renderers.BaseRenderer):
    """Lets content negotiation pick an export format (``?format=csv`` or ``Accept``); the
    view streams the body itself."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode()


class CsvRenderer(_PassThroughRenderer):
    media_type = "text/csv"
    format = "csv"


class JsonLinesRenderer(_PassThroughRenderer):
    media_type = "application/x-ndjson"
    format = "jsonl"


def _query_value(field: serializers.Field, dictionary: Any) -> Any:
    """DRF silently drops an empty optional query parameter; "?until=" is a client's bug, so
    it is validated (and refused) like any other value."""
    if dictionary.get(field.field_name) == "":
        return ""
    return serializers.Field.get_value(field, dictionary)


class _MomentField(serializers.DateTimeField):
    """A date-time or a date (midnight, local time)."""

    def get_value(self, dictionary: Any) -> Any:
        return _query_value(self, dictionary)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            self.fail("invalid", format="an ISO 8601 date or date-time")
        return super().validate_empty_values(data)


class _QueryCharField(serializers.CharField):
    def get_value(self, dictionary: Any) -> Any:
        return _query_value(self, dictionary)


class _QueryChoiceField(serializers.ChoiceField):
    def get_value(self, dictionary: Any) -> Any:
        return _query_value(self, dictionary)


class ExportQuerySerializer(serializers.Serializer):
    since = _MomentField(
        required=False, help_text="From this moment or date (inclusive), ISO 8601."
    )
    until = _MomentField(
        required=False, help_text="Up to this moment or date (exclusive), ISO 8601."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after 'since'."]})
        return attrs


class PersonalExportQuerySerializer(ExportQuerySerializer):
    reason = _QueryCharField(
        required=False, max_length=300, help_text="Why the data is exported (access log)."
    )


class CustomerExportQuerySerializer(PersonalExportQuerySerializer):
    consent = _QueryChoiceField(
        choices=[ConsentPurpose.EMAIL, ConsentPurpose.SMS, ConsentPurpose.DIRECT_MAIL],
        required=False,
        help_text="Only customers who gave this consent.",
    )


_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["csv", "jsonl"],
    description="csv (default) or jsonl; or send Accept: text/csv / application/x-ndjson.",
)


def _export_schema(summary: str, query: type[serializers.Serializer], description: str) -> Any:
    errors = {
        (code, "application/json"): OpenApiResponse(ErrorSerializer, description=text)
        for code, text in (
            (400, "A filter is not valid."),
            (401, "No valid credentials."),
            (403, "The key lacks the scope, or the role may not export this."),
            (404, "An unknown format was asked for."),
            (406, "The Accept header asks for a format the export does not have."),
        )
    }
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[query, _FORMAT_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed."),
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per line, streamed."
            ),
            **errors,
        },
    )


class _ExportView(APIView):
    permission_classes = [ScopePermission]
    renderer_classes = [CsvRenderer, JsonLinesRenderer]
    name: str

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        if not force and request.query_params.get("format") == "":
            # DRF ignores an empty ?format= and falls back to Accept; a client bug, refused.
            raise exceptions.ValidationError({"format": ["Ask for csv or jsonl, or leave it out."]})
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(response, StreamingHttpResponse):
            # Refusals keep the API's one error body, in JSON, whatever format was asked for.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def _query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)

    def _stream(self, rows: Any, columns: list[str]) -> StreamingHttpResponse:
        export_format = ExportFormat(self.request.accepted_renderer.format)
        response = StreamingHttpResponse(
            export_lines(rows=rows, columns=columns, export_format=export_format),
            content_type=export_format.content_type,
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        filename = f"{self.name}-{stamp}.{export_format.value}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _actor(self, request: Request) -> Any:
        api_key = api_key_of(request)
        return api_key.owner if api_key else request.user

    def _via(self, request: Request) -> str:
        api_key = api_key_of(request)
        who = f" with API key {api_key.prefix}… ({api_key.name})" if api_key else ""
        return f"GET {request.path}{who}"


class OrderExportView(_ExportView):
    required_scope = Scope.READ_ORDERS
    permission_action = Action.ORDER_EXPORT
    name = "orders"

    @_export_schema(
        "Export orders (CSV or JSON Lines, streamed)",
        ExportQuerySerializer,
        "Orders placed in [since, until), oldest first. No personal data: the customer is "
        "their public id. Scope read:orders, or an administrator.",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = self._query(ExportQuerySerializer)
        rows = order_exports.order_export_rows(
            placed_since=query.get("since"), placed_until=query.get("until")
        )
        return self._stream(rows, order_exports.ORDER_COLUMNS)


class CustomerExportView(_ExportView):
    required_scope = Scope.READ_CUSTOMERS
    permission_action = Action.CUSTOMER_EXPORT_ANONYMISED
    name = "customers"

    @_export_schema(
        "Export customers (CSV or JSON Lines, streamed)",
        CustomerExportQuerySerializer,
        "Live customers changed in [since, until). With scope read:customers or as an "
        "administrator: personal data, each customer written to the access log. As a "
        "marketer: no personal data (no id, name, contact or address).",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = self._query(CustomerExportQuerySerializer)
        personal = api_key_of(request) is not None or can(
            request.user, Action.CUSTOMER_EXPORT_PERSONAL
        )
        rows = customer_exports.customer_export_rows(
            include_personal_data=personal,
            actor=self._actor(request) if personal else None,
            via=self._via(request),
            reason=query.get("reason", "customer export"),
            changed_since=query.get("since"),
            changed_until=query.get("until"),
            consent=query.get("consent"),
        )
        columns = (
            customer_exports.PERSONAL_COLUMNS if personal else customer_exports.ANONYMISED_COLUMNS
        )
        return self._stream(rows, columns)


class TimelineExportView(_ExportView):
    required_scope = Scope.READ_CUSTOMERS
    permission_action = Action.TIMELINE_EXPORT
    name = "timeline"

    @_export_schema(
        "Export timeline events (CSV or JSON Lines, streamed)",
        PersonalExportQuerySerializer,
        "Events that occurred in [since, until), oldest first; each customer is written to "
        "the access log. Scope read:customers, or an administrator.",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = self._query(PersonalExportQuerySerializer)
        rows = customer_exports.timeline_export_rows(
            actor=self._actor(request),
            via=self._via(request),
            reason=query.get("reason", "timeline export"),
            occurred_since=query.get("since"),
            occurred_until=query.get("until"),
        )
        return self._stream(rows, customer_exports.TIMELINE_COLUMNS)
