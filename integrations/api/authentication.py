"""DRF authentication by integration API key (``Authorization: ApiKey <key>``).

A key authenticates a system, not a person: ``request.user`` stays anonymous (so no role's
rights come with it) and ``request.auth`` is the :class:`~integrations.models.ApiKey`, whose
scopes :class:`~integrations.api.permissions.ScopePermission` checks.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from integrations.keys import api_key_for_key

KEYWORD = "apikey"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send exactly one key after 'ApiKey'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                "The key has characters it cannot have."
            ) from error
        api_key = api_key_for_key(key=key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents API keys in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An integration key issued in the back office, sent as "
                "`Authorization: ApiKey <key>`. Each operation says which scope it needs."
            ),
        }
