"""Store follow-ups: baskets customers left behind in this store (made by the marketing
follow-up sweep), for staff to call or greet the customer; done with one tap."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from channels.marketing.followup import followup_task_complete, store_task_get, store_tasks_open
from channels.marketing.models import FollowUpKind
from channels.pos.store import current_store
from customers.models import AccessAction
from customers.services import access_log_record
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require

LIST_LIMIT = 50


@require_GET
@require_action(Action.POS_USE)
def follow_ups(request: HttpRequest) -> HttpResponse:
    store = current_store(request)
    tasks = list(store_tasks_open(store_id=store.pk)[:LIST_LIMIT])
    if tasks:
        access_log_record(
            actor=request.user,
            customers=[task.customer for task in tasks],
            action=AccessAction.LOOKUP,
            via="pos: store follow-ups",
            reason="basket left behind in the store",
        )
    return render(request, "pos/follow_ups.html", {"store": store, "tasks": tasks})


@require_POST
@require_action(Action.POS_USE)
def follow_up_done(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    task = store_task_get(follow_up_id=follow_up_id)
    require(request.user, Action.STORE_ACT, task.store)
    followup_task_complete(follow_up_id=task.pk, kind=FollowUpKind.STORE_TASK, user=request.user)
    messages.success(request, "Marked as done.")
    return redirect("pos:follow-ups")
