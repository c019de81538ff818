"""Token API for apps and devices: exchange a user name and password for a bearer token, list
your tokens, revoke one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from interaction_platform.accounts import services
from interaction_platform.accounts.models import ApiToken, User
from interaction_platform.api import StrictCharField


class TokenRequestSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False)
    name = StrictCharField(
        max_length=100, help_text="The app or device, e.g. 'POS tablet 2, Amsterdam'."
    )


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The key. Shown only now: store it safely.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class TokenListView(APIView):
    throttle_scope = "token"

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_throttles(self) -> list[Any]:
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(summary="Your live API tokens", responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)  # IsAuthenticated let only signed-in users in
        tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
        return Response(TokenSerializer(tokens, many=True).data)

    @extend_schema(
        summary="Get a token for an app or device",
        request=TokenRequestSerializer,
        responses={201: IssuedTokenSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        credentials = TokenRequestSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        token, key = services.api_token_obtain(
            request=request._request, **credentials.validated_data
        )
        body = {**TokenSerializer(token).data, "token": key}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Revoke one of your tokens", responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        assert isinstance(request.user, User)  # IsAuthenticated let only signed-in users in
        services.api_token_revoke_by_id(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
