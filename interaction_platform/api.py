"""What every API view shares: the error shape, permission checks through the one permission
module, and pagination.

Every 4xx the API gives has the body ``{"error": code, "message": text, "fields": {...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, pagination, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from interaction_platform.errors import DomainError
from interaction_platform.permissions import Action, can, require

# DRF's codes, renamed where ours say it better.
_CODE_FOR_DRF_CODE = {
    "permission_denied": "not_allowed",
    "parse_error": "malformed_body",
    "invalid": "invalid",
}

_MESSAGE_FOR_DRF_CODE = {
    "not_found": "Not found.",
    "not_authenticated": "Sign in, or send a token: 'Authorization: Bearer <token>'.",
}


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    error = serializers.CharField(help_text="Stable machine-readable code.")
    message = serializers.CharField(help_text="What went wrong, in plain words.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field, what is wrong with it (empty when not about a field).",
    )


def _flatten_field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested validation detail into ``{"field.sub": ["message", ...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten_field_errors(value, name))
    elif isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        for index, value in enumerate(detail):
            name = f"{prefix}.{index}" if prefix else str(index)
            flat.update(_flatten_field_errors(value, name))
    elif isinstance(detail, list):
        flat[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        flat[prefix or "non_field_errors"] = [str(detail)]
    return flat


def _validation_error_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    fields = _flatten_field_errors(exc.detail)
    general = fields.pop("non_field_errors", None)
    message = general[0] if general else "Some of the data sent is not valid."
    if general and len(general) > 1:
        fields["non_field_errors"] = general
    return {"error": "invalid", "message": message, "fields": fields}


def _api_exception_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_error_body(exc)
    codes = exc.get_codes()
    drf_code = codes if isinstance(codes, str) else exc.default_code
    detail = exc.detail
    message = str(detail) if not isinstance(detail, list | dict) else str(exc.default_detail)
    message = _MESSAGE_FOR_DRF_CODE.get(drf_code, message)
    return {"error": _CODE_FOR_DRF_CODE.get(drf_code, drf_code), "message": message, "fields": {}}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF exception handler: one body shape for every 4xx. Anything else is a bug (500)."""
    if isinstance(exc, DomainError):
        set_rollback()
        headers = {}
        if exc.http_status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(exc.as_dict(), status=exc.http_status, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    set_rollback()
    return Response(_api_exception_body(exc), status=exc.status_code, headers=headers)


class _StrictStringMixin:
    """JSON bodies must send text as text: DRF would quietly turn ``0`` or ``true`` into a
    string, which hides client bugs and breaks the published schema."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StrictStringMixin, serializers.CharField):
    default_error_messages = {"not_a_string": "Send text here (a JSON string)."}


class StrictRegexField(_StrictStringMixin, serializers.RegexField):
    default_error_messages = {"not_a_string": "Send text here (a JSON string)."}


class ActionPermission(permissions.BasePermission):
    """Asks :mod:`interaction_platform.permissions` about the view's ``permission_action``.

    A view sets ``permission_action`` (one Action for every method) or ``permission_actions``
    (a mapping from the viewset action or HTTP method to an Action).
    """

    def _action(self, request: Request, view: APIView) -> Action:
        by_name: Mapping[str, Action] | None = getattr(view, "permission_actions", None)
        if by_name is not None:
            name = getattr(view, "action", None) or (request.method or "get").lower()
            return by_name[name]
        action: Action = view.permission_action  # type: ignore[attr-defined]
        return action

    def has_permission(self, request: Request, view: APIView) -> bool:
        action = self._action(request, view)
        if not request.user.is_authenticated and not can(request.user, action):
            return False  # DRF answers 401 with a WWW-Authenticate challenge
        require(request.user, action)
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        require(request.user, self._action(request, view), obj)
        return True


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; ``page_size`` up to 100. A malformed ``page`` or ``page_size`` is
    refused (400) rather than silently replaced by a default; a page past the end is 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request: Request, paginator: Any) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not raw.isdigit() or int(raw) < 1:
            raise exceptions.ValidationError(
                {self.page_query_param: ["A whole number from 1 (pages past the end are 404)."]}
            )
        return int(raw)

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)
