"""The one family of domain errors.

Services raise these, never HTTP errors. The API's exception handler
(:func:`interaction_platform.api.exception_handler`) and the page middleware
(:class:`interaction_platform.pages.DomainErrorPageMiddleware`) turn them into a 4xx with the body
``{"error": code, "message": text, "fields": {field: [messages]}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``message`` is for people."""

    code = "invalid"
    http_status = 400
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.fields: dict[str, list[str]] = {
            name: list(messages) for name, messages in (fields or {}).items()
        }
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, "fields": self.fields}


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400
    default_message = "Some of the data sent is not valid."


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    http_status = 401
    default_message = "Sign in to do this."


class NotAllowed(DomainError):
    code = "not_allowed"
    http_status = 403
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = "Not found."


class Conflict(DomainError):
    """The request is valid but clashes with the current state (a repeat, a sold-out item)."""

    code = "conflict"
    http_status = 409
    default_message = "This conflicts with the current state."
