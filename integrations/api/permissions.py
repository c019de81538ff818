"""Who may call an integration endpoint: an API key with the view's scope, or (when the view
also names a permission action) a signed-in user whose role allows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from integrations.models import ApiKey, Scope
from interaction_platform.errors import NotAllowed
from interaction_platform.permissions import Action, can, require


def _by_method(view: APIView, request: Request, name: str) -> Any:
    value = getattr(view, name, None)
    if isinstance(value, Mapping):
        return value.get((request.method or "get").lower())
    return value


class ScopePermission(permissions.BasePermission):
    """A view sets ``required_scope`` (a Scope, or a mapping from HTTP method to Scope) and,
    optionally, ``permission_action`` for people (same shapes).

    An API key without the scope is refused with 403 ``missing_scope``; a signed-in user is
    asked about through :mod:`interaction_platform.permissions`; no credentials → 401."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, ApiKey):
            scope: Scope = _by_method(view, request, "required_scope")
            if not request.auth.has_scope(scope):
                raise NotAllowed(
                    f"This API key does not have the '{scope}' scope.",
                    code="missing_scope",
                )
            return True
        action: Action | None = _by_method(view, request, "permission_action")
        if not request.user.is_authenticated:
            return False  # DRF answers 401 with a WWW-Authenticate challenge
        if action is None:
            raise NotAllowed("Only an integration API key may call this.", code="api_key_only")
        if not can(request.user, action):
            require(request.user, action)
        return True


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None
