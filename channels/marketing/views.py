"""The marketers' dashboards. For now the home: the customer base in aggregates only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from channels.marketing.dashboard_views import PAGES
from customers import selectors as customer_selectors
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action


@require_action(Action.MARKETING_USE)
def home(request: HttpRequest) -> HttpResponse:
    overview = customer_selectors.customer_overview()
    total = overview["customers"] or 1
    consent = [
        (label, overview[key], round(100 * overview[key] / total))
        for key, label in (
            ("analytics_consent", "Analytics tracking"),
            ("email_consent", "Marketing e-mail"),
            ("sms_consent", "Marketing SMS"),
            ("direct_mail_consent", "Direct mail"),
        )
    ]
    return render(
        request,
        "marketing/home.html",
        {
            "overview": overview,
            "consent": consent,
            "home_stores": customer_selectors.customers_per_home_store(),
            "dashboards": PAGES,
            "nav": "dashboards",
        },
    )
