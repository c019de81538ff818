"""Sign-up, the account page, consent (banner and preferences) and password reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from customers.models import Case, ConsentRecord, Customer, Identity
from integrations.models import WebhookEvent
from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "first_name": "Noor",
    "last_name": "de Vries",
    "email": "Noor.deVries@Example.com",
    "password": "a long enough passphrase",
}


def _snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Customer.objects.count(),
        Identity.objects.count(),
        ConsentRecord.objects.count(),
    )


class TestSignUp:
    def test_a_new_shopper_gets_a_login_a_customer_record_and_is_signed_in(
        self, client: Client
    ) -> None:
        # when
        response = client.post("/account/signup/", {**SIGN_UP, "marketing_email": "on"})
        # then
        assert response.status_code == 302
        assert response["Location"] == "/account/"
        user = User.objects.get()
        assert (user.username, user.email, user.role) == (
            "noor.devries@example.com",
            "noor.devries@example.com",
            Role.SHOPPER,
        )
        customer = Customer.objects.get(user=user)
        assert (customer.first_name, customer.email, customer.email_consent) == (
            "Noor",
            "noor.devries@example.com",
            True,
        )
        assert sorted(customer.identities.values_list("kind", "value")) == [
            ("email", "noor.devries@example.com"),
            ("user_id", str(user.pk)),
        ]
        assert list(ConsentRecord.objects.values_list("purpose", "is_granted", "source")) == [
            ("email", True, "sign-up form")
        ]
        assert client.session["_auth_user_id"] == str(user.pk)

    @pytest.mark.parametrize(("choice", "granted"), [("accept", True), ("reject", False)])
    def test_the_banner_answer_given_before_signing_up_is_kept(
        self, client: Client, choice: str, granted: bool
    ) -> None:
        client.post("/consent/", {"choice": choice})
        client.post("/account/signup/", SIGN_UP)
        customer = Customer.objects.get()
        assert customer.analytics_consent is granted
        assert list(
            ConsentRecord.objects.filter(purpose="analytics").values_list(
                "is_granted", "channel", "source"
            )
        ) == [(granted, "web", "cookie banner")]

    def test_a_new_customer_is_announced_to_subscribed_systems(self, client: Client) -> None:
        client.post("/account/signup/", SIGN_UP)
        customer = Customer.objects.get()
        [event] = WebhookEvent.objects.all()
        assert event.event_type == "customer.created"
        assert event.payload["id"] == str(customer.public_id)
        assert event.payload["email"] == "noor.devries@example.com"

    def test_adopting_a_known_customer_announces_nothing_new(self, client: Client) -> None:
        factories.CustomerFactory(email="noor.devries@example.com")
        client.post("/account/signup/", SIGN_UP)
        assert WebhookEvent.objects.count() == 0

    def test_marketing_is_off_unless_ticked(self, client: Client) -> None:
        client.post("/account/signup/", SIGN_UP)
        customer = Customer.objects.get()
        assert not customer.email_consent
        assert ConsentRecord.objects.count() == 0

    def test_a_customer_known_from_a_store_adopts_the_new_login(self, client: Client) -> None:
        known = factories.CustomerFactory(email="noor.devries@example.com", first_name="Noor")
        client.post("/account/signup/", SIGN_UP)
        assert Customer.objects.count() == 1
        known.refresh_from_db()
        assert known.user == User.objects.get()

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"email": "not-an-address"}, "email", "Enter a valid email address."),
            ({"password": "12345678"}, "password", "This password is entirely numeric."),
            ({"first_name": ""}, "first_name", "This field is required."),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_created(
        self, client: Client, changes: dict[str, str], field: str, message: str
    ) -> None:
        before = _snapshot()
        response = client.post("/account/signup/", {**SIGN_UP, **changes})
        assert response.status_code == 400
        assert message in response.context["form"].errors[field]
        assert _snapshot() == before
        assert "_auth_user_id" not in client.session

    def test_an_email_with_an_account_is_refused(self, client: Client, shopper: User) -> None:
        before = _snapshot()
        response = client.post("/account/signup/", {**SIGN_UP, "email": shopper.email.upper()})
        assert response.status_code == 400
        assert response.context["form"].errors["email"] == ["Already has an account."]
        assert _snapshot() == before


class TestAccount:
    def test_anonymous_visitors_are_asked_to_sign_in(self, client: Client) -> None:
        response = client.get("/account/")
        assert response["Location"] == "/accounts/login/?next=/account/"

    def test_staff_have_no_shopper_account(self, client: Client, agent: User) -> None:
        client.force_login(agent)
        assert client.get("/account/").status_code == 403

    def test_update_details(self, client: Client, shopper: User) -> None:
        client.force_login(shopper)
        response = client.post(
            "/account/profile/", {"first_name": "Anne", "phone": "06 2222 3333", "city": "Leiden"}
        )
        assert response.status_code == 302
        customer = Customer.objects.get(user=shopper)
        assert (customer.first_name, customer.phone, customer.city) == (
            "Anne",
            "+31622223333",
            "Leiden",
        )

    def test_a_bad_phone_is_refused_and_nothing_changes(
        self, client: Client, shopper: User
    ) -> None:
        client.force_login(shopper)
        before = Customer.objects.filter(user=shopper).values().get()
        response = client.post("/account/profile/", {"first_name": "Anne", "phone": "12"})
        assert response.status_code == 400
        assert "Not a valid phone number; include the country code." in response.content.decode()
        assert Customer.objects.filter(user=shopper).values().get() == before

    def test_consent_changes_are_recorded_and_count_as_self_service(
        self, client: Client, shopper: User
    ) -> None:
        client.force_login(shopper)
        response = client.post("/account/consent/", {"email": "on", "sms": "on"})
        assert response.status_code == 302
        customer = Customer.objects.get(user=shopper)
        assert (customer.email_consent, customer.sms_consent, customer.analytics_consent) == (
            True,
            True,
            False,
        )
        assert sorted(ConsentRecord.objects.values_list("purpose", "is_granted")) == [
            ("analytics", False),
            ("direct_mail", False),
            ("email", True),
            ("sms", True),
        ]
        case = Case.objects.get()
        assert (case.status, case.resolution, case.channel) == ("resolved", "self_service", "web")
        assert response.cookies["analytics_consent"].value == "denied"

    def test_saving_the_same_preferences_again_records_nothing(
        self, client: Client, shopper: User
    ) -> None:
        client.force_login(shopper)
        client.post("/account/consent/", {"email": "on"})
        records, cases = ConsentRecord.objects.count(), Case.objects.count()
        client.post("/account/consent/", {"email": "on"})
        assert (ConsentRecord.objects.count(), Case.objects.count()) == (records, cases)


class TestCookieBanner:
    def test_the_banner_offers_accept_and_reject_side_by_side_with_nothing_pre_ticked(
        self, client: Client
    ) -> None:
        body = client.get("/").content.decode()
        banner = re.search(r'<aside class="cookie-banner".*?</aside>', body, re.S)[0]
        assert re.findall(
            r'<button class="button" type="submit" name="choice" value="(\w+)">', banner
        ) == ["accept", "reject"]
        assert "checked" not in banner

    @pytest.mark.parametrize(("choice", "cookie"), [("accept", "granted"), ("reject", "denied")])
    def test_an_answer_is_remembered_and_the_banner_goes(
        self, client: Client, choice: str, cookie: str
    ) -> None:
        response = client.post("/consent/", {"choice": choice, "next": "/c/women/"})
        assert response["Location"] == "/c/women/"
        assert response.cookies["analytics_consent"].value == cookie
        assert "cookie-banner" not in client.get("/").content.decode()

    def test_a_signed_in_shoppers_answer_is_recorded_on_their_profile(
        self, client: Client, shopper: User
    ) -> None:
        client.force_login(shopper)
        client.post("/consent/", {"choice": "accept"})
        assert Customer.objects.get(user=shopper).analytics_consent
        assert list(ConsentRecord.objects.values_list("purpose", "is_granted", "source")) == [
            ("analytics", True, "cookie banner")
        ]

    def test_a_foreign_next_address_is_ignored(self, client: Client) -> None:
        response = client.post("/consent/", {"choice": "accept", "next": "https://evil.example/"})
        assert response["Location"] == "/"

    def test_anything_but_accept_or_reject_is_refused(self, client: Client) -> None:
        response = client.post("/consent/", {"choice": "maybe"})
        assert response.status_code == 400
        assert "analytics_consent" not in response.cookies


def test_password_reset_through_a_real_smtp_server(
    client: Client, shopper: User, smtp_server: Any
) -> None:
    # when: the shopper asks for a reset link
    response = client.post("/accounts/password-reset/", {"email": shopper.email})
    assert response["Location"] == "/accounts/password-reset/sent/"
    # then: the SMTP server received one message with a working link
    [message] = smtp_server.messages
    assert message["To"] == shopper.email
    assert message["Subject"] == "Reset your password"
    body = message.get_content()
    assert "Northwind Outfitters account" in body
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", body)[1]
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another long passphrase", "new_password2": "another long passphrase"},
    )
    assert done["Location"] == "/accounts/password-reset/done/"
    shopper.refresh_from_db()
    assert shopper.check_password("another long passphrase")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: Client, smtp_server: Any
) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert smtp_server.messages == []
