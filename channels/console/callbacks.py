"""Call-backs: customers whose pay-by-link order an agent took is still unpaid (made by the
marketing follow-up sweep). The agent calls, then marks the call-back done."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from channels.marketing.followup import call_backs_open, followup_task_complete
from channels.marketing.models import FollowUpKind
from customers.models import AccessAction
from customers.services import access_log_record
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action

LIST_LIMIT = 50


@require_GET
@require_action(Action.CONSOLE_USE)
def call_backs(request: HttpRequest) -> HttpResponse:
    tasks = list(call_backs_open()[:LIST_LIMIT])
    if tasks:
        access_log_record(
            actor=request.user,
            customers=[task.customer for task in tasks],
            action=AccessAction.LOOKUP,
            via="console: call-backs",
            reason="unpaid payment link",
        )
    return render(request, "console/call_backs.html", {"tasks": tasks})


@require_POST
@require_action(Action.CONSOLE_USE)
def call_back_done(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    followup_task_complete(
        follow_up_id=follow_up_id, kind=FollowUpKind.CALL_BACK, user=request.user
    )
    messages.success(request, "Call-back marked as done.")
    return redirect("console:call-backs")
