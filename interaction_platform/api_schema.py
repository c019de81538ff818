"""OpenAPI generation that declares every answer the API can give, errors included.

drf-spectacular documents the success response of each operation. This schema class adds the
error responses our views really produce, all with the one error body, so that a client (or
schemathesis) never meets an undeclared status code.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from interaction_platform.api import ErrorSerializer

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_DESCRIPTIONS = {
    "400": "The input is not valid; `fields` says what is wrong with each field.",
    "401": "No valid credentials were sent (or the token is unknown, expired or revoked).",
    "403": "Signed in, but your role may not do this.",
    "404": "No such object, or not one you may see.",
    "406": "The Accept header asks for a format the API does not speak (it speaks JSON).",
    "409": "The request clashes with the current state.",
    "415": "The body is not JSON.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}


# Swagger UI groups operations by tag: the first path segment after /api/v1/, with the
# catalog's three resources shown together.
_TAG_FOR_SEGMENT = {"products": "catalog", "variants": "catalog", "stores": "catalog"}


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self) -> list[str]:
        segments = [part for part in self.path.split("/") if part]
        segment = segments[2] if len(segments) > 2 and segments[:2] == ["api", "v1"] else "api"
        return [_TAG_FOR_SEGMENT.get(segment, segment)]

    def _error_codes(self) -> set[str]:
        method = self.method.upper()
        view = self.view
        codes = {"401", "406"}  # a bad token is refused everywhere; so is an impossible Accept
        permission_classes = getattr(view, "permission_classes", [])
        is_public = all(cls is permissions.AllowAny for cls in permission_classes)
        if not is_public or method in _WRITE_METHODS:
            codes.add("403")  # a role check, or a missing CSRF token on a session write
        if method in _WRITE_METHODS or self._is_list_view() or self.get_override_parameters():
            codes.add("400")
        if method in {"POST", "PUT", "PATCH"}:
            codes.add("415")
        if "{" in self.path or self._is_list_view():
            codes.add("404")  # unknown object, or a page number past the end
        if getattr(view, "throttle_classes", None) or getattr(view, "throttle_scope", None):
            codes.add("429")
        codes.update(str(code) for code in getattr(view, "extra_error_codes", ()))
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in sorted(self._error_codes()):
            if code not in responses:
                response = OpenApiResponse(
                    response=ErrorSerializer, description=_DESCRIPTIONS[code]
                )
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
