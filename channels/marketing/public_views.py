"""The public ends of campaigns: tracked e-mail links, the open pixel, unsubscribe, personal
direct-mail codes and printed QR codes. No sign-in; every link only ever redirects to a path
on this shop (stored with the campaign or code), so none of them is an open redirect."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from channels.marketing import campaigns, qr
from channels.web.tracking import is_tracking_allowed, remember_visitor, visitor_id
from customers.selectors import customer_for_user
from interaction_platform.accounts.models import Role
from interaction_platform.errors import NotFound


@never_cache
@require_GET
def email_click(request: HttpRequest, token: str) -> HttpResponse:
    return redirect(campaigns.email_click_record(token=token))


@never_cache
@require_GET
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    """The open pixel: always the image, even for an unknown token (mail clients show no error)."""
    with contextlib.suppress(NotFound):
        campaigns.email_open_record(token=token)
    return HttpResponse(campaigns.PIXEL_GIF, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links; they must not unsubscribe anyone); POST does it."""
    send = campaigns.email_send_for_unsubscribe(token=token)
    done = False
    if request.method == "POST":
        campaigns.email_unsubscribe(token=token)
        done = True
    return render(
        request,
        "marketing/campaigns/unsubscribe.html",
        {"done": done, "token": token, "already": send.unsubscribed_at is not None and not done},
    )


@never_cache
@require_GET
def direct_mail_scan(request: HttpRequest, token: str) -> HttpResponse:
    return redirect(campaigns.direct_mail_scan_record(token=token))


@never_cache
@require_GET
def qr_scan(request: HttpRequest, code: str) -> HttpResponse:
    """A printed code: counted always, on a timeline only with consent (see ``qr.py``)."""
    user = request.user
    customer = (
        customer_for_user(user_id=user.pk or 0)
        if user.is_authenticated and getattr(user, "role", None) == Role.SHOPPER
        else None
    )
    allowed = is_tracking_allowed(request)
    destination = qr.qr_scan_record(
        code=code,
        customer=customer,
        anonymous_id=visitor_id(request) if allowed and customer is None else "",
        is_tracking_allowed=allowed,
    )
    response = redirect(destination)
    if allowed and customer is None:
        remember_visitor(request, response)
    return response
