"""The call-centre console: find a customer, see everything about them, log the call, handle
cases. Every profile view is written to the access log."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from channels.console.forms import CallOutcomeForm, CaseOpenForm, CaseResolveForm
from customers import selectors as customer_selectors
from customers.calls import call_complete, call_start
from customers.cases import case_open, case_resolve
from customers.lookup import customer_search
from customers.models import AccessAction, Case, CaseResolution, CaseStatus, Customer
from customers.privacy import customer_erase
from customers.services import access_log_record
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require
from orders import selectors as order_selectors

CALL_SESSION_KEY = "console_call"


def _current_call(request: HttpRequest) -> dict[str, Any] | None:
    """The call this agent is on (set by the screen-pop), with its start in local time."""
    call: dict[str, Any] | None = request.session.get(CALL_SESSION_KEY)
    if call is None:
        return None
    started = parse_datetime(call["started_at"])
    label = timezone.localtime(started).strftime("%H:%M") if started else ""
    return {**call, "started_label": label}


@require_GET
@require_action(Action.CONSOLE_USE)
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/home.html",
        {
            "customers": customer_selectors.customer_overview(),
            "cases": customer_selectors.case_overview(),
            "open_cases": customer_selectors.case_list_open()[:20],
            "call": _current_call(request),
        },
    )


@require_GET
@require_action(Action.CONSOLE_USE)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results = _search(query) if query else []
    if results:
        access_log_record(
            actor=request.user,
            customers=results,
            action=AccessAction.LOOKUP,
            via="console: search",
            reason=f"search “{query}”",
        )
    if len(results) == 1 and request.GET.get("list") != "1":
        return redirect("console:customer", public_id=results[0].public_id)
    return render(
        request,
        "console/search.html",
        {"query": query, "results": results, "call": _current_call(request)},
    )


def _search(query: str) -> list[Customer]:
    """An order number finds the customer who placed it; anything else is a customer search
    (phone, e-mail, loyalty number, name)."""
    placed_by = order_selectors.order_customer_by_number(number=query)
    return [placed_by] if placed_by is not None else customer_search(query=query)


@require_GET
@require_action(Action.CONSOLE_USE)
def screen_pop(request: HttpRequest) -> HttpResponse:
    """Telephony opens ``/console/call?from=<number>`` when a call reaches an agent: the
    matching customer opens (or a search for the number) and the call start is logged."""
    from_number = request.GET.get("from", "").strip()[:32]
    if not from_number:
        messages.error(request, "The telephone system sent no caller number.")
        return redirect("console:home")
    call = {"id": uuid.uuid4().hex, "from": from_number, "started_at": timezone.now().isoformat()}
    request.session[CALL_SESSION_KEY] = call
    try:
        matches = customer_search(query=from_number)
    except InvalidInput:
        matches = []
    if len(matches) != 1:
        messages.info(
            request,
            f"Call from {from_number}: no customer has this number. Search by name or e-mail.",
        )
        return redirect(f"{reverse('console:search')}?{urlencode({'q': from_number, 'list': '1'})}")
    customer = matches[0]
    call["customer"] = str(customer.public_id)
    request.session[CALL_SESSION_KEY] = call
    call_start(customer=customer, call_id=call["id"], from_number=from_number, agent=request.user)
    return redirect("console:customer", public_id=customer.public_id)


def _customer_for(request: HttpRequest, public_id: str) -> Customer:
    customer = customer_selectors.customer_get_by_public_id(public_id=public_id)
    require(request.user, Action.CUSTOMER_VIEW, customer)
    return customer


@require_GET
@require_action(Action.CONSOLE_USE)
def customer(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _customer_for(request, public_id)
    access_log_record(
        actor=request.user,
        customers=[found],
        action=AccessAction.VIEW,
        via="console: customer 360",
        reason="call" if _current_call(request) else "console",
    )
    return render(request, "console/customer.html", _customer_context(request, found))


TIMELINE_PAGE = 25


def _timeline_page(request: HttpRequest, found: Customer) -> dict[str, Any]:
    """A page of the customer's timeline, newest first, filtered by channel, with the cursor
    of the next (older) page."""
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    after = None
    if cursor := request.GET.get("cursor"):
        try:
            after = customer_selectors.timeline_cursor_decode(cursor)
        except (signing.BadSignature, TypeError, ValueError) as error:
            raise InvalidInput("That link to older events is broken; reload the page.") from error
    rows = customer_selectors.timeline_list(
        customer=found, after=after, channel=channel or None, limit=TIMELINE_PAGE + 1
    )
    next_cursor = None
    if len(rows) > TIMELINE_PAGE:
        rows = rows[:TIMELINE_PAGE]
        last = rows[-1]
        next_cursor = customer_selectors.timeline_cursor_encode(
            customer_selectors.TimelinePosition(
                occurred_at=last["occurred_at"], event_id=last["id"]
            )
        )
    return {"events": rows, "next_cursor": next_cursor, "timeline_channel": channel}


@require_GET
@require_action(Action.CONSOLE_USE)
def timeline(request: HttpRequest, public_id: str) -> HttpResponse:
    """Older timeline events as an HTML fragment (the page's script appends it on scroll; without
    script the link opens the customer page at that point)."""
    found = _customer_for(request, public_id)
    access_log_record(
        actor=request.user,
        customers=[found],
        action=AccessAction.TIMELINE,
        via="console: timeline",
        reason="older events",
    )
    return render(
        request,
        "console/_timeline_items.html",
        {"customer": found, **_timeline_page(request, found)},
    )


def _customer_context(request: HttpRequest, found: Customer, **forms: Any) -> dict[str, Any]:
    basket = order_selectors.cart_open_for(customer=found)
    return {
        "customer": found,
        "basket": order_selectors.cart_priced(cart=basket, channel=Channel.CALL_CENTRE)
        if basket
        else None,
        "orders": order_selectors.order_list_for_overview(customer=found),
        "return_key": f"console-return-{uuid.uuid4().hex}",
        "channels": Channel.choices,
        **_timeline_page(request, found),
        "identities": found.identities.order_by("kind", "value"),
        "consent_history": found.consent_records.select_related("recorded_by")[:10],
        "cases": found.cases.select_related("order")[:20],
        "call": _current_call(request),
        "call_form": forms.get("call_form") or CallOutcomeForm(),
        "case_form": forms.get("case_form") or CaseOpenForm(),
        "resolve_form": CaseResolveForm(),
    }


@require_POST
@require_action(Action.CONSOLE_USE)
def log_call(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _customer_for(request, public_id)
    form = CallOutcomeForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "console/customer.html",
            _customer_context(request, found, call_form=form),
            status=400,
        )
    call = _current_call(request) or {"id": uuid.uuid4().hex}
    started = parse_datetime(call["started_at"]) if call.get("started_at") else None
    call_complete(
        customer=found,
        call_id=call["id"],
        started_at=started,
        outcome=form.cleaned_data["outcome"],
        notes=form.cleaned_data["notes"],
        agent=request.user,
    )
    request.session.pop(CALL_SESSION_KEY, None)
    messages.success(request, "The call is logged on the customer's timeline.")
    return redirect("console:customer", public_id=found.public_id)


@require_POST
@require_action(Action.CASE_MANAGE)
def open_case(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _customer_for(request, public_id)
    form = CaseOpenForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "console/customer.html",
            _customer_context(request, found, case_form=form),
            status=400,
        )
    case = case_open(
        customer=found,
        channel=Channel.CALL_CENTRE,
        subject=form.cleaned_data["subject"],
        description=form.cleaned_data["description"],
        opened_by=request.user,
        product=form.cleaned_data["product"],
    )
    if form.cleaned_data["resolve_now"]:
        case_resolve(
            case=case,
            resolution=CaseResolution.AGENT,
            is_first_contact=True,
            channel=Channel.CALL_CENTRE,
        )
        messages.success(request, f"Case {case.pk} opened and resolved on first contact.")
    else:
        messages.success(request, f"Case {case.pk} opened.")
    return redirect("console:customer", public_id=found.public_id)


@require_POST
@require_action(Action.CASE_MANAGE)
def resolve_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    require(request.user, Action.CUSTOMER_VIEW, case.customer)
    if case.status == CaseStatus.RESOLVED:
        messages.info(request, f"Case {case.pk} was already resolved.")
    else:
        form = CaseResolveForm(request.POST)
        form.is_valid()
        case_resolve(
            case=case,
            resolution=CaseResolution.AGENT,
            is_first_contact=form.cleaned_data["is_first_contact"],
            channel=Channel.CALL_CENTRE,
        )
        messages.success(request, f"Case {case.pk} resolved.")
    return redirect("console:customer", public_id=case.customer.public_id)


@require_POST
@require_action(Action.CUSTOMER_ERASE)
def erase_customer(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _customer_for(request, public_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm the erasure; nothing was erased.")
        return redirect("console:customer", public_id=found.public_id)
    reason = request.POST.get("reason", "").strip()[:300] or "the customer asked"
    customer_erase(customer=found, actor=request.user, reason=reason)
    messages.success(
        request, "The customer's personal data is erased. Their orders remain, pseudonymised."
    )
    return redirect("console:home")
