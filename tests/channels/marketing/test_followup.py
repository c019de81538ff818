"""Follow-up of non-converters: one reminder per idle web basket (consent, e-mail known), store
tasks in the POS, call-backs in the console, recovered orders credited; all idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from channels.marketing.followup import followup_figures, followup_sweep
from channels.marketing.models import FollowUp, FollowUpKind, FollowUpStatus
from customers.models import AccessLog, TimelineEvent
from interaction_platform.accounts.models import Role, User
from orders.models import Cart, CartLine, OrderStatus, PaymentMethod, PaymentStatus
from tests import factories
from tests.channels.marketing.conftest import drain_inbox

pytestmark = pytest.mark.django_db


def _basket(
    channel: str = "web", idle_hours: float = 25, store: Any = None, **customer: Any
) -> Cart:
    owner = factories.CustomerFactory(**customer)
    cart = factories.CartFactory(customer=owner, origin_channel=channel, store=store)
    variant = factories.VariantFactory()
    CartLine.objects.create(cart=cart, variant=variant, quantity=2, added_channel=channel)
    past = timezone.now() - timedelta(hours=idle_hours)
    Cart.objects.filter(pk=cart.pk).update(updated_at=past)
    CartLine.objects.filter(cart=cart).update(updated_at=past)
    return cart


def _order(customer: Any, **fields: Any) -> Any:
    return factories.OrderFactory(
        customer=customer,
        subtotal=Decimal("80.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("80.00"),
        **fields,
    )


def test_an_idle_web_basket_gets_exactly_one_reminder(smtp_server: Any) -> None:
    # given
    cart = _basket(first_name="Ida", email_consent=True)
    # when the sweep runs three times
    first = followup_sweep()
    followup_sweep()
    followup_sweep()
    # then
    assert (first.reminders_created, first.reminders_sent) == (1, 1)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == cart.customer.email
    assert message["Subject"] == "You left something in your basket"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Ida," in text
    assert "- 2 × " in text
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.status, follow_up.cart) == (
        FollowUpKind.EMAIL_REMINDER,
        FollowUpStatus.SENT,
        cart,
    )
    drain_inbox()
    assert list(
        TimelineEvent.objects.filter(customer=cart.customer).values_list("type", "message_id")
    ) == [("Email Sent", f"basket-reminder:{cart.pk}")]


@pytest.mark.parametrize(
    ("basket", "why"),
    [
        ({"email_consent": False}, "no marketing consent"),
        ({"email_consent": True, "email": ""}, "no e-mail address"),
        ({"email_consent": True, "idle_hours": 2}, "not idle long enough"),
    ],
)
def test_no_reminder_without_consent_address_or_idleness(
    smtp_server: Any, basket: dict[str, Any], why: str
) -> None:
    _basket(**basket)
    result = followup_sweep()
    assert (result.reminders_created, len(smtp_server.messages)) == (0, 0), why
    assert FollowUp.objects.count() == 0


def test_an_empty_basket_is_not_followed_up(smtp_server: Any) -> None:
    owner = factories.CustomerFactory(email_consent=True)
    cart = factories.CartFactory(customer=owner)
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=3))
    assert followup_sweep().reminders_created == 0


def test_a_store_basket_becomes_a_task_for_that_store_only(staff: User, store: Any) -> None:
    # given
    cart = _basket(channel="store", store=store, first_name="Stan", email_consent=False)
    other_store_staff = factories.UserFactory(role=Role.STORE_STAFF)
    other_store_staff.stores.add(factories.StoreFactory())
    # when
    result = followup_sweep()
    followup_sweep()
    # then
    assert result.store_tasks == 1
    task = FollowUp.objects.get()
    assert (task.kind, task.store, task.note) == (
        FollowUpKind.STORE_TASK,
        store,
        "2 item(s) left in a basket started in the store",
    )
    own = Client()
    own.force_login(staff)
    page = own.get("/pos/follow-ups/").content.decode()
    assert cart.customer.display_name in page
    assert AccessLog.objects.filter(actor=staff, customer=cart.customer).count() == 1
    other = Client()
    other.force_login(other_store_staff)
    assert cart.customer.display_name not in other.get("/pos/follow-ups/").content.decode()
    # another store's staff cannot close it
    refused = other.post(f"/pos/follow-ups/{task.pk}/done/")
    assert refused.status_code == 403
    assert FollowUp.objects.get().status == FollowUpStatus.OPEN
    # its own store can, once
    assert own.post(f"/pos/follow-ups/{task.pk}/done/").status_code == 302
    done = FollowUp.objects.get()
    assert (done.status, done.done_by) == (FollowUpStatus.DONE, staff)
    assert own.post(f"/pos/follow-ups/{task.pk}/done/").status_code == 409


def test_an_unpaid_pay_by_link_order_becomes_a_call_back(agent: User) -> None:
    # given
    customer = factories.CustomerFactory(first_name="Carl")
    order = _order(
        customer,
        channel="call_centre",
        origin_channel="call_centre",
        status=OrderStatus.PENDING_PAYMENT,
        placed_at=timezone.now() - timedelta(hours=30),
    )
    factories.PaymentFactory(
        order=order,
        method=PaymentMethod.PAY_BY_LINK,
        status=PaymentStatus.PENDING,
        amount=Decimal("80.00"),
        captured_amount=Decimal("0.00"),
    )
    # when
    assert followup_sweep().call_backs == 1
    assert followup_sweep().call_backs == 0
    # then
    client = Client()
    client.force_login(agent)
    page = client.get("/console/call-backs/").content.decode()
    assert "Carl" in page
    assert order.number in page
    assert "€80.00" in page
    # when the customer pays
    factories.PaymentFactory(order=order, amount=Decimal("80.00"))
    type(order).objects.filter(pk=order.pk).update(
        status=OrderStatus.PAID, paid_total=Decimal("80.00")
    )
    # then the call-back is credited with the recovered order, once
    assert followup_sweep().recovered == 1
    assert followup_sweep().recovered == 0
    call_back = FollowUp.objects.get()
    assert (call_back.recovered_order, call_back.recovered_revenue) == (order, Decimal("80.00"))


def test_a_reminded_customer_who_orders_is_recovered(smtp_server: Any) -> None:
    cart = _basket(email_consent=True)
    followup_sweep()
    order = _order(cart.customer, channel="store", origin_channel="store")
    assert followup_sweep().recovered == 1
    assert followup_sweep().recovered == 0
    figures = {row["kind"]: row for row in followup_figures()}
    assert figures["email_reminder"] == {
        "kind": "email_reminder",
        "label": "Basket reminder e-mail",
        "follow_ups": 1,
        "sent": 1,
        "done": 0,
        "recovered": 1,
        "revenue": Decimal("80.00"),
    }
    assert FollowUp.objects.get().recovered_order == order


def test_the_follow_up_dashboard_and_its_csv(smtp_server: Any, marketer_client: Client) -> None:
    cart = _basket(email_consent=True)
    followup_sweep()
    _order(cart.customer)
    followup_sweep()
    page = marketer_client.get("/marketing/follow-up/")
    body = page.content.decode()
    assert page.status_code == 200
    assert (
        '<tr><td>Basket reminder e-mail</td><td class="num">1</td><td class="num">1</td>'
        '<td class="num">0</td><td class="num">1</td><td class="num">€80.00</td></tr>'
    ) in body
    csv_response = marketer_client.get("/marketing/follow-up/?format=csv")
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response.content.decode().splitlines() == [
        "Follow-up,Created,Sent,Done,Recovered orders,Recovered revenue",
        "Basket reminder e-mail,1,1,0,1,80.00",
        "Store follow-up,0,0,0,0,0.00",
        "Call back about an unpaid link,0,0,0,0,0.00",
    ]


def test_the_task_lists_query_counts(
    staff: User, store: Any, agent: User, django_assert_num_queries: Any
) -> None:
    for index in range(3):
        FollowUp.objects.create(
            kind=FollowUpKind.STORE_TASK,
            status=FollowUpStatus.OPEN,
            customer=factories.CustomerFactory(),
            store=store,
            note=f"task {index}",
            created_at=timezone.now(),
        )
        customer = factories.CustomerFactory()
        FollowUp.objects.create(
            kind=FollowUpKind.CALL_BACK,
            status=FollowUpStatus.OPEN,
            customer=customer,
            order=_order(customer, channel="call_centre", status=OrderStatus.PENDING_PAYMENT),
            note="unpaid",
            created_at=timezone.now(),
        )
    pos = Client()
    pos.force_login(staff)
    # session, user, bound stores (role check), the store, its tasks with customers, audit rows
    with django_assert_num_queries(6):
        assert pos.get("/pos/follow-ups/").content.decode().count("Done</button>") == 3
    console = Client()
    console.force_login(agent)
    # session, user, call-backs with customers and orders, the audit rows
    with django_assert_num_queries(4):
        assert console.get("/console/call-backs/").content.decode().count("Done</button>") == 3
