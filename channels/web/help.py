"""Help: the contact form. A message opens a support case that the call centre answers.

Only a signed-in shopper can send one: a case belongs to a customer, and a typed-in e-mail
address proves nobody's identity, so a visitor is asked to sign in (or shown how to call).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from channels.web.account import own_customer
from channels.web.forms import MessageForm
from channels.web.repeats import form_already_sent, form_key_new, form_mark_sent
from customers.cases import case_open
from customers.models import Customer
from interaction_platform.accounts.models import Role
from interaction_platform.choices import Channel
from orders.models import Order


def question_send(
    request: HttpRequest, *, customer: Customer, form: MessageForm, order: Order | None = None
) -> None:
    """Open a support case with the form's subject and message (about ``order``), once per
    form: a repeat of the same form writes nothing."""
    key = form.cleaned_data["idempotency_key"]
    if form_already_sent(request, key):
        return
    case_open(
        customer=customer,
        channel=Channel.WEB,
        subject=form.cleaned_data["subject"],
        description=form.cleaned_data["message"],
        opened_by=request.user,
        order=order,
    )
    form_mark_sent(request, key)


@never_cache
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    is_shopper = request.user.is_authenticated and getattr(request.user, "role", "") == Role.SHOPPER
    if not is_shopper:
        return render(request, "web/contact.html", {"form": None})
    customer = own_customer(request)
    form = MessageForm(request.POST or None, initial={"idempotency_key": form_key_new()})
    if request.method == "POST":
        if form.is_valid():
            question_send(request, customer=customer, form=form)
            messages.success(
                request,
                "Thank you. Your message is with customer service; we answer by e-mail "
                "within one working day.",
            )
            return redirect("web:contact")
        return render(request, "web/contact.html", {"form": form}, status=400)
    return render(request, "web/contact.html", {"form": form})
