"""Each channel's page opens for its own role only; everyone else is sent to sign in or refused."""

from __future__ import annotations

import pytest
from django.test import Client

from interaction_platform.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

CHANNEL_PAGES = {"/pos/": Role.STORE_STAFF, "/console/": Role.AGENT, "/marketing/": Role.MARKETER}


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", list(CHANNEL_PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", list(CHANNEL_PAGES))
@pytest.mark.parametrize("role", [Role.SHOPPER, Role.STORE_STAFF, Role.AGENT, Role.MARKETER])
def test_each_channel_opens_for_its_own_role_only(path: str, role: Role, store: object) -> None:
    user = factories.UserFactory(role=role)
    user.stores.add(store)
    response = _client_for(user).get(path)
    if CHANNEL_PAGES[path] == role:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Your role does not allow this." in response.content.decode()


def test_the_pos_shows_the_staff_members_store_and_its_stock(staff: User, store: object) -> None:
    variant = factories.VariantFactory()
    factories.StockLevelFactory(variant=variant, location=store, on_hand=5, reserved=1)
    factories.StockLevelFactory(location=store, on_hand=2, reserved=0)
    factories.StockLevelFactory(location=store, on_hand=0)
    factories.StockLevelFactory(on_hand=50)  # another store's stock does not count
    body = _client_for(staff).get("/pos/").content.decode()
    assert store.name in body  # type: ignore[attr-defined]
    assert '<span class="value">2</span><span class="label">products in stock</span>' in body
    assert '<span class="value">6</span><span class="label">units available</span>' in body
    assert '<span class="value">1</span><span class="label">running low (≤ 2)</span>' in body
    assert '<span class="value">1</span><span class="label">out of stock</span>' in body


def test_marketing_shows_aggregates_and_no_names(marketer: User) -> None:
    factories.CustomerFactory(first_name="Zebedee", last_name="Quux", email_consent=True)
    factories.CustomerFactory(first_name="Yolanda", email_consent=False)
    body = _client_for(marketer).get("/marketing/").content.decode()
    assert '<td>Marketing e-mail</td><td class="num">1</td><td class="num">50%</td>' in body
    for personal_data in ("Zebedee", "Quux", "Yolanda"):
        assert personal_data not in body


def test_the_home_page_shows_categories_offers_and_stores(
    client: Client, django_assert_num_queries: object
) -> None:
    jackets = factories.CategoryFactory(name="Jackets")
    product = factories.ProductFactory(name="Harbour Parka", category=jackets)
    variant = factories.VariantFactory(product=product)
    factories.PriceFactory(variant=variant, amount="39.95", compare_at_amount="49.95")
    factories.StoreFactory(name="Utrecht Oudegracht")
    with django_assert_num_queries(4):  # type: ignore[operator]
        body = client.get("/").content.decode()
    assert "Harbour Parka" in body
    assert "€39.95<s>€49.95</s>" in body
    assert "Utrecht Oudegracht" in body
    assert "Jackets" in body


def test_the_home_page_explains_an_empty_catalog(client: Client) -> None:
    body = client.get("/").content.decode()
    assert "The catalog is empty." in body
    assert "No stores are open yet." in body


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.SHOPPER, "/"),
        (Role.STORE_STAFF, "/pos/"),
        (Role.AGENT, "/console/"),
        (Role.MARKETER, "/marketing/"),
        (Role.ADMIN, "/admin/"),
    ],
)
def test_signing_in_lands_each_role_in_its_channel(
    client: Client, role: Role, landing: str, store: object
) -> None:
    user = factories.UserFactory(role=role, is_staff=role == Role.ADMIN)
    user.stores.add(store)
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": factories.PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_a_wrong_password_says_so_and_signs_nobody_in(client: Client, agent: User) -> None:
    response = client.post("/accounts/login/", {"username": agent.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_page_is_a_designed_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is no page at this address." in response.content.decode()


def test_an_unknown_api_path_answers_json(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "There is no page at this address.",
        "fields": {},
    }


def test_a_form_without_its_security_token_explains_itself(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": agent.username, "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "<h1>The form had expired</h1>" in body
    assert "Go back, reload the page and try again." in body
    assert "_auth_user_id" not in client.session
