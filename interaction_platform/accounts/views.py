"""Sign-in for every audience; each role then lands in its own channel."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy

from channels.web import tracking
from channels.web.basket import basket_fold_session
from interaction_platform.permissions import home_url_name


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # A visitor's basket joins their cart.
        basket_fold_session(self.request)
        # A shopper's browsing before signing in joins their profile (with consent).
        return tracking.identify(self.request, response, user=form.get_user())


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_name(request.user))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset flow, with our e-mail templates and the shop's name in the message."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"shop_name": settings.SHOP_NAME}
        return super().form_valid(form)
