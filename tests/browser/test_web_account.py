"""A visitor answers the cookie banner, creates an account and sets their preferences."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_banner_sign_up_and_preferences(page: Page, live_server: Any, screenshot: Any) -> None:
    page.goto(live_server.url)
    banner = page.get_by_role("complementary", name="May we remember what you look at?")
    expect(banner).to_be_visible()
    screenshot("web-cookie-banner")
    banner.get_by_role("button", name="Reject").click()
    expect(banner).to_have_count(0)

    page.get_by_role("link", name="Create account").click()
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Last name").fill("de Vries")
    page.get_by_label("E-mail address").fill("noor@example.com")
    page.get_by_label("Password").fill("123")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    screenshot("web-signup-error")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Hello Noor")).to_be_visible()
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    page.get_by_label("News and offers by e-mail").check()
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    screenshot("web-account")
    assert Customer.objects.get(email="noor@example.com").email_consent is True
