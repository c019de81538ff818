"""The permission module's answer for every role and every action, with and without objects."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from interaction_platform.accounts.models import Role
from interaction_platform.errors import NotAllowed, NotAuthenticated, NotFound
from interaction_platform.permissions import RULES, Action, can, home_url_name, require
from tests import factories

pytestmark = pytest.mark.django_db

A = Action
# Who may perform each action at all (no object given). Admins may do everything.
EXPECTED_ROLES: dict[Action, set[str]] = {
    A.CATALOG_VIEW: {"anonymous", "shopper", "store_staff", "agent", "marketer", "admin"},
    A.OWN_PROFILE: {"shopper", "admin"},
    A.CUSTOMER_LOOKUP: {"store_staff", "agent", "admin"},
    A.CUSTOMER_VIEW: {"shopper", "store_staff", "agent", "admin"},
    A.CUSTOMER_TIMELINE: {"agent", "admin"},
    A.CUSTOMER_EDIT: {"shopper", "agent", "admin"},
    A.CUSTOMER_EXPORT: {"shopper", "admin"},
    A.CUSTOMER_ERASE: {"agent", "admin"},
    A.ORDER_VIEW: {"shopper", "store_staff", "agent", "admin"},
    A.ORDER_PLACE: {"shopper", "store_staff", "agent", "admin"},
    A.ORDER_PLACE_FOR_CUSTOMER: {"store_staff", "agent", "admin"},
    A.ORDER_CANCEL: {"shopper", "store_staff", "agent", "admin"},
    A.ORDER_FULFIL: {"store_staff", "admin"},
    A.CART_MANAGE: {"shopper", "store_staff", "agent", "admin"},
    A.RETURN_CREATE: {"shopper", "store_staff", "agent", "admin"},
    A.RETURN_RECEIVE: {"store_staff", "admin"},
    A.REFUND_ISSUE: {"agent", "admin"},
    A.STORE_ACT: {"store_staff", "admin"},
    A.CASE_MANAGE: {"store_staff", "agent", "admin"},
    A.MERGE_REVIEW: {"agent", "admin"},
    A.POS_USE: {"store_staff", "admin"},
    A.CONSOLE_USE: {"agent", "admin"},
    A.MARKETING_USE: {"marketer", "admin"},
    A.AUDIT_VIEW: {"admin"},
    A.ORDER_EXPORT: {"admin"},
    A.CUSTOMER_EXPORT_PERSONAL: {"admin"},
    A.CUSTOMER_EXPORT_ANONYMISED: {"marketer", "admin"},
    A.TIMELINE_EXPORT: {"admin"},
    A.WEBHOOK_MANAGE: {"admin"},
}


def test_every_action_has_a_rule_and_an_expectation() -> None:
    assert set(RULES) == set(Action) == set(EXPECTED_ROLES)


@pytest.fixture
def users(store: object) -> dict[str, object]:
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(store)
    return {
        "anonymous": AnonymousUser(),
        "shopper": factories.UserFactory(role=Role.SHOPPER),
        "store_staff": staff,
        "agent": factories.UserFactory(role=Role.AGENT),
        "marketer": factories.UserFactory(role=Role.MARKETER),
        "admin": factories.UserFactory(role=Role.ADMIN),
    }


@pytest.mark.parametrize("action", list(Action))
def test_role_answers(users: dict[str, object], action: Action) -> None:
    allowed = {name for name, user in users.items() if can(user, action)}  # type: ignore[arg-type]
    assert allowed == EXPECTED_ROLES[action]


def test_a_superuser_without_the_admin_role_is_still_admin(store: object) -> None:
    superuser = factories.UserFactory(role=Role.SHOPPER, is_superuser=True)
    assert all(can(superuser, action) for action in Action)


def test_an_inactive_user_may_do_nothing_but_browse() -> None:
    agent = factories.UserFactory(role=Role.AGENT, is_active=False)
    assert [action for action in Action if can(agent, action)] == [Action.CATALOG_VIEW]


def test_store_staff_without_a_store_cannot_use_the_pos() -> None:
    unbound = factories.UserFactory(role=Role.STORE_STAFF)
    assert not can(unbound, Action.POS_USE)
    with pytest.raises(NotAllowed, match="not bound to a store"):
        require(unbound, Action.POS_USE)


class TestCustomerObjects:
    def test_a_shopper_sees_their_own_profile_only(self) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        own = factories.CustomerFactory(user=shopper)
        other = factories.CustomerFactory()
        assert can(shopper, Action.CUSTOMER_VIEW, own)
        assert not can(shopper, Action.CUSTOMER_VIEW, other)
        # another customer's record is "not found", so ids cannot be probed
        with pytest.raises(NotFound):
            require(shopper, Action.CUSTOMER_VIEW, other)

    def test_an_unlinked_customer_is_nobodys_own(self) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        assert not can(shopper, Action.CUSTOMER_VIEW, factories.CustomerFactory(user=None))

    def test_agents_and_staff_see_any_customer(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        customer = factories.CustomerFactory()
        assert can(factories.UserFactory(role=Role.AGENT), Action.CUSTOMER_VIEW, customer)
        assert can(staff, Action.CUSTOMER_VIEW, customer)

    def test_a_marketer_cannot_open_a_customer(self) -> None:
        marketer = factories.UserFactory(role=Role.MARKETER)
        with pytest.raises(NotAllowed, match="role"):
            require(marketer, Action.CUSTOMER_VIEW, factories.CustomerFactory())

    def test_anonymous_is_asked_to_sign_in(self) -> None:
        with pytest.raises(NotAuthenticated):
            require(AnonymousUser(), Action.CUSTOMER_VIEW, factories.CustomerFactory())


class TestOrderObjects:
    def test_a_shopper_sees_their_own_orders_only(self) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        own = factories.OrderFactory(customer=factories.CustomerFactory(user=shopper))
        other = factories.OrderFactory()
        assert can(shopper, Action.ORDER_VIEW, own)
        with pytest.raises(NotFound):
            require(shopper, Action.ORDER_VIEW, other)

    def test_an_agent_sees_any_order(self) -> None:
        assert can(
            factories.UserFactory(role=Role.AGENT), Action.ORDER_VIEW, factories.OrderFactory()
        )


class TestStoreObjects:
    def test_staff_act_only_for_their_own_stores(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        other_store = factories.StoreFactory()
        assert can(staff, Action.STORE_ACT, store)
        assert not can(staff, Action.STORE_ACT, other_store)
        # a store is public knowledge: the refusal says why instead of hiding it
        with pytest.raises(NotAllowed, match="stores you work at"):
            require(staff, Action.STORE_ACT, other_store)

    def test_staff_bound_to_two_stores_act_for_both(self, store: object) -> None:
        second = factories.StoreFactory()
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store, second)
        assert can(staff, Action.STORE_ACT, store)
        assert can(staff, Action.STORE_ACT, second)

    def test_an_agent_cannot_act_for_a_store(self, store: object) -> None:
        with pytest.raises(NotAllowed, match="role"):
            require(factories.UserFactory(role=Role.AGENT), Action.STORE_ACT, store)

    def test_the_bound_stores_are_read_once_per_user(
        self, store: object, django_assert_num_queries: object
    ) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        with django_assert_num_queries(1):  # type: ignore[operator]
            for _ in range(5):
                assert can(staff, Action.STORE_ACT, store)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.SHOPPER, "web:home"),
        (Role.STORE_STAFF, "pos:home"),
        (Role.AGENT, "console:home"),
        (Role.MARKETER, "marketing:home"),
        (Role.ADMIN, "admin:index"),
    ],
)
def test_each_role_lands_in_its_channel(role: Role, landing: str) -> None:
    assert home_url_name(factories.UserFactory(role=role)) == landing


class TestCommerceObjects:
    def test_a_shopper_manages_only_their_own_cart(self) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        own = factories.CartFactory(customer=factories.CustomerFactory(user=shopper))
        other = factories.CartFactory()
        assert can(shopper, Action.CART_MANAGE, own)
        with pytest.raises(NotFound):
            require(shopper, Action.CART_MANAGE, other)

    def test_staff_and_agents_manage_any_customers_cart(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        cart = factories.CartFactory()
        assert can(staff, Action.CART_MANAGE, cart)
        assert can(factories.UserFactory(role=Role.AGENT), Action.CART_MANAGE, cart)

    def test_an_anonymous_walk_in_sale_is_no_shoppers_own(self, store: object) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        walk_in = factories.OrderFactory(customer=None, channel="store", store=store)
        with pytest.raises(NotFound):
            require(shopper, Action.ORDER_VIEW, walk_in)

    def test_staff_cancel_the_orders_of_their_stores_only(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        sold_here = factories.OrderFactory(store=store)
        shipped_from_here = factories.OrderFactory(fulfilment_location=store)
        elsewhere = factories.OrderFactory(store=factories.StoreFactory())
        assert can(staff, Action.ORDER_CANCEL, sold_here)
        assert can(staff, Action.ORDER_CANCEL, shipped_from_here)
        with pytest.raises(NotAllowed, match="orders of the stores you work at"):
            require(staff, Action.ORDER_CANCEL, elsewhere)

    def test_a_shopper_cancels_only_their_own_orders(self) -> None:
        shopper = factories.UserFactory(role=Role.SHOPPER)
        own = factories.OrderFactory(customer=factories.CustomerFactory(user=shopper))
        assert can(shopper, Action.ORDER_CANCEL, own)
        assert not can(shopper, Action.ORDER_CANCEL, factories.OrderFactory())

    def test_only_the_fulfilling_locations_staff_fulfil(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        here = factories.OrderFactory(fulfilment_location=store)
        sold_here_shipped_elsewhere = factories.OrderFactory(
            store=store, fulfilment_location=factories.WarehouseFactory()
        )
        assert can(staff, Action.ORDER_FULFIL, here)
        with pytest.raises(NotAllowed, match="fulfilled by another location"):
            require(staff, Action.ORDER_FULFIL, sold_here_shipped_elsewhere)

    def test_returns_are_received_only_where_staff_work(self, store: object) -> None:
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(store)
        assert can(staff, Action.RETURN_RECEIVE, store)
        with pytest.raises(NotAllowed, match="stores you work at"):
            require(staff, Action.RETURN_RECEIVE, factories.WarehouseFactory())
