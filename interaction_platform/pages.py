"""What every server-rendered page shares: the role check, the error pages, the site context."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from interaction_platform.demo import DEMO_LOGINS
from interaction_platform.errors import DomainError, NotAuthenticated
from interaction_platform.permissions import Action, require

View = Callable[..., HttpResponse]


def require_action(action: Action) -> Callable[[View], View]:
    """Decorate a page view: anonymous users go to the sign-in page, users whose role may not
    perform ``action`` get the 403 page."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                require(request.user, action)
            except NotAuthenticated:
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def render_error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(
        request,
        "errors/domain_error.html",
        {"error": error, "status": error.http_status},
        status=error.http_status,
    )


class DomainErrorPageMiddleware:
    """Turns a domain error escaping a page view into a 4xx page (the API has its own handler)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        return render_error_page(request, exception)


def site_context(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "shop_name": settings.SHOP_NAME,
        "show_demo_logins": settings.SHOW_DEMO_LOGINS,
        # the web store's cookie banner shows until the visitor answers
        "analytics_consent_choice": request.COOKIES.get("analytics_consent", ""),
    }
    if settings.SHOW_DEMO_LOGINS:
        context["demo_logins"] = DEMO_LOGINS
    return context
