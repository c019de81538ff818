"""The back office: useful screens, and audited access to personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from customers.models import AccessLog
from interaction_platform.accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_opening_a_customer_in_the_back_office_is_audited(
    admin_client_for: Client, admin_user: User
) -> None:
    customer = factories.CustomerFactory(first_name="Anna")
    response = admin_client_for.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert response.status_code == 200
    assert list(AccessLog.objects.values_list("actor_id", "customer_id", "action", "via")) == [
        (admin_user.pk, customer.pk, "view", "admin: customer page")
    ]


def test_the_customer_list_searches_by_identifier(admin_client_for: Client) -> None:
    factories.CustomerFactory(email="findme@example.com", last_name="Findable")
    factories.CustomerFactory(email="other@example.com", last_name="Other")
    response = admin_client_for.get("/admin/customers/customer/", {"q": "findme@example.com"})
    body = response.content.decode()
    assert "Findable" in body
    assert "Other" not in body
    assert AccessLog.objects.count() == 0  # a list is not a profile view


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/product/",
        "/admin/catalog/variant/",
        "/admin/catalog/location/",
        "/admin/catalog/stocklevel/",
        "/admin/catalog/pricelist/",
        "/admin/catalog/price/",
        "/admin/catalog/category/",
        "/admin/customers/customer/",
        "/admin/customers/identity/",
        "/admin/customers/timelineevent/",
        "/admin/customers/consentrecord/",
        "/admin/customers/accesslog/",
        "/admin/customers/case/",
        "/admin/customers/inboxevent/",
        "/admin/orders/cart/",
        "/admin/orders/order/",
        "/admin/orders/payment/",
        "/admin/orders/return/",
        "/admin/accounts/user/",
        "/admin/accounts/apitoken/",
    ],
)
def test_every_back_office_list_opens(admin_client_for: Client, path: str) -> None:
    factories.PaymentFactory()
    factories.StockLevelFactory()
    factories.PriceFactory()
    assert admin_client_for.get(path).status_code == 200
    assert admin_client_for.get(f"{path}?q=x").status_code == 200


def test_the_access_log_cannot_be_edited_in_the_back_office(admin_client_for: Client) -> None:
    entry = AccessLog.objects.create(
        actor=factories.UserFactory(), customer=factories.CustomerFactory(), action="view", via="x"
    )
    response = admin_client_for.post(
        f"/admin/customers/accesslog/{entry.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert AccessLog.objects.filter(pk=entry.pk).exists()
