"""An agent takes a call: the screen-pop opens the caller, a case is opened and the call logged."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from customers.models import Case
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_take_a_call(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    anna = factories.CustomerFactory(
        first_name="Anna",
        last_name="de Groot",
        phone="+31611111111",
        loyalty_number="NW00000042",
        email_consent=True,
    )
    sign_in(agent)
    page.goto(f"{live_server.url}/console/call?from=%2B31611111111")
    expect(page.get_by_role("heading", name="Anna de Groot")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("On a call from +31611111111")
    page.get_by_text("Open a case").click()
    page.get_by_label("Subject").fill("Wrong size delivered")
    page.get_by_label("Solved during this call").check()
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_text("opened and resolved on first contact")).to_be_visible()
    page.get_by_label("Outcome").select_option("resolved")
    page.get_by_label("Notes").fill("Sent a return label.")
    screenshot("console-customer")
    page.get_by_role("button", name="Log call").click()
    expect(page.get_by_text("The call is logged on the customer's timeline.")).to_be_visible()
    assert Case.objects.get(customer=anna).is_resolved_on_first_contact


def test_search_by_name(
    page: Page, live_server: Any, agent: Any, sign_in: Any, screenshot: Any
) -> None:
    for first, last in [("Anna", "de Groot"), ("Annabel", "de Wit"), ("Bram", "Bos")]:
        factories.CustomerFactory(first_name=first, last_name=last)
    sign_in(agent)
    page.get_by_role("searchbox", name="Find a customer").fill("ann")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Annabel de Wit")).to_be_visible()
    screenshot("console-search")
