"""The call-centre agents' console. For now its home: who the agent serves, in figures."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers import selectors as customer_selectors
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action


@require_action(Action.CONSOLE_USE)
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/home.html",
        {
            "customers": customer_selectors.customer_overview(),
            "cases": customer_selectors.case_overview(),
        },
    )
