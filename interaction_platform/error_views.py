"""Error pages in the site's own design. A request to the API gets the API's JSON error body."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from interaction_platform.errors import DomainError, InvalidInput, NotAllowed, NotFound


def _respond(request: HttpRequest, error: DomainError) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error.as_dict(), status=error.http_status)
    return render(
        request,
        "errors/domain_error.html",
        {"error": error, "status": error.http_status},
        status=error.http_status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, InvalidInput("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, NotAllowed("You are not allowed to open this page."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, NotFound("There is no page at this address."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without (or with a stale) security token: most often an old tab."""
    return _respond(
        request,
        NotAllowed(
            "This form had expired, so nothing was sent. Go back, reload the page and try again.",
            code="csrf_failed",
        ),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context: whatever broke may be in it.
    if request.path.startswith("/api/"):
        body = {
            "error": "server_error",
            "message": "Something went wrong on our side.",
            "fields": {},
        }
        return JsonResponse(body, status=500)
    return HttpResponse(loader.render_to_string("errors/500.html"), status=500)
