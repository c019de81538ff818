"""The shopper's account: sign-up, profile, consent preferences, and the cookie banner."""

from __future__ import annotations

import json
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels.web import tracking
from channels.web.basket import basket_fold_session
from channels.web.forms import ConsentForm, ProfileForm, SignUpForm
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.cases import case_record_self_service
from customers.consent import consent_set
from customers.lookup import customer_card_token
from customers.models import ConsentPurpose, Customer
from customers.privacy import customer_data_export, customer_erasure_request
from interaction_platform.accounts.services import shopper_register
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError, NotFound
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action, require

CONSENT_COOKIE = "analytics_consent"
CONSENT_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def own_customer(request: HttpRequest) -> Customer:
    customer = customer_selectors.customer_for_user(user_id=request.user.pk or 0)
    if customer is None:
        raise NotFound("Your login has no customer profile.")
    return customer


def _add_errors(form: SignUpForm | ProfileForm, error: DomainError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
    for name, field_messages in error.fields.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = shopper_register(**form.cleaned_data, channel=Channel.WEB)
        except DomainError as error:
            _add_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            _banner_answer_keep(request, user)
            basket_fold_session(request)
            messages.success(request, "Welcome! Your account is ready.")
            return tracking.identify(request, _after_signup(request), user=user)
    return render(request, "web/signup.html", {"form": form}, status=400 if form.errors else 200)


def _banner_answer_keep(request: HttpRequest, user: Any) -> None:
    """The visitor answered the cookie banner before signing up: the new account starts with
    that answer (recorded as given through the banner), not with a blank one."""
    answer = request.COOKIES.get(tracking.CONSENT_COOKIE)
    customer = customer_selectors.customer_for_user(user_id=user.pk)
    if answer in {"granted", "denied"} and customer is not None:
        consent_set(
            customer=customer,
            purpose=ConsentPurpose.ANALYTICS,
            is_granted=answer == "granted",
            channel=Channel.WEB,
            source="cookie banner",
        )


def _after_signup(request: HttpRequest) -> HttpResponse:
    """Back to where the visitor was going (the checkout, say), else their account."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("web:account")


def _consent_initial(customer: Customer) -> dict[str, bool]:
    return {purpose.value: customer.has_consent(purpose) for purpose in ConsentPurpose}


def _profile_initial(customer: Customer) -> dict[str, str]:
    return {name: getattr(customer, name) for name in ProfileForm.base_fields}


def _store_card_svg(customer: Customer) -> str:
    """The QR code store staff scan to find this customer at the till (inline SVG)."""
    code = segno.make(customer_card_token(customer=customer), error="m")
    return str(code.svg_inline(scale=4, dark="#16232a", title="Your store card"))


@require_action(Action.OWN_PROFILE)
def account(request: HttpRequest) -> HttpResponse:
    customer = own_customer(request)
    return render(
        request,
        "web/account.html",
        {
            "customer": customer,
            "profile_form": ProfileForm(initial=_profile_initial(customer)),
            "consent_form": ConsentForm(initial=_consent_initial(customer)),
            "store_card_svg": _store_card_svg(customer),
        },
    )


@require_POST
@require_action(Action.OWN_PROFILE)
def account_profile(request: HttpRequest) -> HttpResponse:
    customer = own_customer(request)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            customer_services.customer_update_profile(customer=customer, **form.cleaned_data)
        except DomainError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("web:account")
    return render(
        request,
        "web/account.html",
        {
            "customer": customer,
            "profile_form": form,
            "consent_form": ConsentForm(initial=_consent_initial(customer)),
            "store_card_svg": _store_card_svg(customer),
        },
        status=400,
    )


@require_POST
@require_action(Action.OWN_PROFILE)
def account_consent(request: HttpRequest) -> HttpResponse:
    customer = own_customer(request)
    form = ConsentForm(request.POST)
    form.is_valid()  # checkboxes: an absent box is a "no", nothing can be invalid
    changed = [
        purpose
        for purpose in ConsentPurpose
        if consent_set(
            customer=customer,
            purpose=purpose,
            is_granted=form.cleaned_data[purpose.value],
            channel=Channel.WEB,
            source="account preferences",
            recorded_by=None,
        )
    ]
    if changed:
        case_record_self_service(
            customer=customer,
            subject="Changed consent: " + ", ".join(purpose.label for purpose in changed),
            channel=Channel.WEB,
        )
        messages.success(request, "Your preferences are saved.")
    else:
        messages.info(request, "Nothing changed.")
    response = redirect("web:account")
    _set_consent_cookie(response, granted=form.cleaned_data["analytics"])
    return response


@require_POST
def cookie_consent(request: HttpRequest) -> HttpResponse:
    """The cookie banner's two buttons. Works without JavaScript; remembers the answer in a
    cookie, and on the profile of a signed-in shopper."""
    choice = request.POST.get("choice")
    if choice not in {"accept", "reject"}:
        return render(
            request,
            "errors/domain_error.html",
            {"error": DomainError("Choose accept or reject."), "status": 400},
            status=400,
        )
    granted = choice == "accept"
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    _set_consent_cookie(response, granted=granted)
    if request.user.is_authenticated:
        customer = customer_selectors.customer_for_user(user_id=request.user.pk or 0)
        if customer is not None:
            consent_set(
                customer=customer,
                purpose=ConsentPurpose.ANALYTICS,
                is_granted=granted,
                channel=Channel.WEB,
                source="cookie banner",
            )
    return response


def _set_consent_cookie(response: HttpResponse, *, granted: bool) -> None:
    response.set_cookie(
        CONSENT_COOKIE,
        "granted" if granted else "denied",
        max_age=CONSENT_COOKIE_MAX_AGE_S,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


@require_GET
@require_action(Action.OWN_PROFILE)
def account_data(request: HttpRequest) -> HttpResponse:
    """Download my data: everything we hold about the signed-in customer, as a JSON file."""
    customer = own_customer(request)
    require(request.user, Action.CUSTOMER_EXPORT, customer)
    body = json.dumps(customer_data_export(customer=customer), cls=DjangoJSONEncoder, indent=2)
    case_record_self_service(
        customer=customer, subject="Downloaded their data", channel=Channel.WEB
    )
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@require_http_methods(["GET", "POST"])
@require_action(Action.OWN_PROFILE)
def account_erasure(request: HttpRequest) -> HttpResponse:
    """Ask to be forgotten: a confirmation page, then a request an agent carries out."""
    customer = own_customer(request)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm that you want your data erased.")
            return render(request, "web/erasure.html", {"customer": customer}, status=400)
        customer_erasure_request(customer=customer, channel=Channel.WEB)
        messages.success(
            request,
            "We have your request. We erase your data within 30 days, once open orders and "
            "returns are complete, and e-mail you when it is done.",
        )
        return redirect("web:account")
    return render(request, "web/erasure.html", {"customer": customer})
