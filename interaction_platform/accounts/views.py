"""Sign-in for every audience; each role then lands in its own channel."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from interaction_platform.permissions import home_url_name


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_name(request.user))
