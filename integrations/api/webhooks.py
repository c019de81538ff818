"""Webhook endpoints over the API: register (the signing secret is shown once), change,
rotate the secret, read the delivery log, replay a delivery. For administrators and for API
keys with the ``manage:webhooks`` scope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import webhooks
from integrations.api.permissions import ScopePermission
from integrations.models import EventType, Scope, WebhookDelivery, WebhookEndpoint
from interaction_platform.api import StrictCharField
from interaction_platform.errors import NotFound
from interaction_platform.permissions import Action


class EndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "event_types", "is_active", "secret_prefix", "created_at"]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_…). Shown only now: store it in the receiver."
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1
    )


class EndpointUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    url = serializers.URLField(max_length=500, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, required=False
    )
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id")
    event_type = serializers.ChoiceField(source="event.event_type", choices=EventType.choices)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class _WebhookView(APIView):
    permission_classes = [ScopePermission]
    required_scope = Scope.MANAGE_WEBHOOKS
    permission_action = Action.WEBHOOK_MANAGE

    def _endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise NotFound("There is no webhook endpoint with this id.")
        return endpoint


class EndpointListView(_WebhookView):
    @extend_schema(summary="Webhook endpoints", responses=EndpointSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(EndpointSerializer(WebhookEndpoint.objects.all(), many=True).data)

    @extend_schema(
        summary="Register a webhook endpoint (the secret is shown once)",
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer},
    )
    def post(self, request: Request) -> Response:
        data = EndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhooks.webhook_endpoint_create(
            created_by=request.user if request.user.is_authenticated else None,
            **data.validated_data,
        )
        body = {**EndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class EndpointDetailView(_WebhookView):
    @extend_schema(summary="A webhook endpoint", responses=EndpointSerializer)
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(EndpointSerializer(self._endpoint(endpoint_id)).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer},
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = self._endpoint(endpoint_id)
        changes = EndpointUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_update(endpoint=endpoint, **changes.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(summary="Remove a webhook endpoint and its delivery log", responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        self._endpoint(endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretView(_WebhookView):
    @extend_schema(
        summary="Give an endpoint a new signing secret (shown once)",
        request=None,
        responses={200: EndpointWithSecretSerializer},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = self._endpoint(endpoint_id)
        secret = webhooks.webhook_endpoint_rotate_secret(endpoint=endpoint)
        return Response({**EndpointSerializer(endpoint).data, "secret": secret})


class EndpointDeliveryListView(ListAPIView):
    """The delivery log of one endpoint, newest first."""

    permission_classes = [ScopePermission]
    required_scope = Scope.MANAGE_WEBHOOKS
    permission_action = Action.WEBHOOK_MANAGE
    serializer_class = DeliverySerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return WebhookDelivery.objects.none()
        endpoint_id = self.kwargs["endpoint_id"]
        if not WebhookEndpoint.objects.filter(pk=endpoint_id).exists():
            raise NotFound("There is no webhook endpoint with this id.")
        return (
            WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
            .select_related("event")
            .order_by("-created_at", "-id")
        )

    @extend_schema(summary="Deliveries to one endpoint, newest first")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DeliveryReplayView(_WebhookView):
    @extend_schema(
        summary="Send a finished delivery again (same webhook-id)",
        request=None,
        responses={200: DeliverySerializer},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        webhooks.webhook_delivery_replay(delivery_id=delivery_id)
        delivery = WebhookDelivery.objects.select_related("event").get(pk=delivery_id)
        return Response(DeliverySerializer(delivery).data)
