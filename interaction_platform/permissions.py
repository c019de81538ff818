"""The one place that answers "may this user do this, to this object?".

Every page and API view asks here, through :func:`require` (or :func:`can` to decide what to
show). A rule names the roles that may perform an action at all and, optionally, a check on the
object. When the check fails for an object the user must not even know about (another shopper's
order), the answer is "not found", so ids cannot be probed; when staff try to act for a store
they are not bound to, the answer is "not allowed".

Administrators (role ``admin`` or superusers) may do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser

from interaction_platform.accounts.models import Role, User
from interaction_platform.errors import NotAllowed, NotAuthenticated, NotFound

AnyUser = User | AnonymousUser


class Action(StrEnum):
    CATALOG_VIEW = "catalog.view"
    CUSTOMER_LOOKUP = "customer.lookup"
    CUSTOMER_VIEW = "customer.view"
    CUSTOMER_TIMELINE = "customer.timeline"
    CUSTOMER_EDIT = "customer.edit"
    CUSTOMER_EXPORT = "customer.export"
    CUSTOMER_ERASE = "customer.erase"
    ORDER_VIEW = "order.view"
    ORDER_PLACE = "order.place"
    ORDER_PLACE_FOR_CUSTOMER = "order.place_for_customer"
    ORDER_CANCEL = "order.cancel"
    ORDER_FULFIL = "order.fulfil"
    CART_MANAGE = "cart.manage"
    RETURN_CREATE = "return.create"
    RETURN_RECEIVE = "return.receive"
    REFUND_ISSUE = "refund.issue"
    STORE_ACT = "store.act"
    CASE_MANAGE = "case.manage"
    MERGE_REVIEW = "merge.review"
    POS_USE = "pos.use"
    CONSOLE_USE = "console.use"
    MARKETING_USE = "marketing.use"
    AUDIT_VIEW = "audit.view"
    OWN_PROFILE = "profile.own"
    # Integrations: bulk exports and webhook endpoints. Systems use scoped API keys instead.
    ORDER_EXPORT = "order.export"
    CUSTOMER_EXPORT_PERSONAL = "customer.export_personal"
    CUSTOMER_EXPORT_ANONYMISED = "customer.export_anonymised"
    TIMELINE_EXPORT = "timeline.export"
    WEBHOOK_MANAGE = "webhook.manage"


ObjectCheck = Callable[[User, Any], bool]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    allows_anonymous: bool = False
    object_check: ObjectCheck | None = None
    # True: an object outside the user's reach is reported as not found rather than forbidden.
    conceals_objects: bool = False


def store_ids(user: User) -> frozenset[int]:
    """The stores a staff member is bound to (one query per request, then cached on the user)."""
    cached: frozenset[int] | None = getattr(user, "_bound_store_ids", None)
    if cached is None:
        cached = frozenset(user.stores.values_list("pk", flat=True))
        user._bound_store_ids = cached  # type: ignore[attr-defined]
    return cached


def _owns_customer(user: User, customer: Any) -> bool:
    if user.role == Role.SHOPPER:
        return customer.user_id is not None and customer.user_id == user.pk
    return True


def _owns_order(user: User, order: Any) -> bool:
    if user.role == Role.SHOPPER:
        return order.customer is not None and _owns_customer(user, order.customer)
    return True


def _owns_cart(user: User, cart: Any) -> bool:
    return _owns_customer(user, cart.customer)


def _may_cancel_order(user: User, order: Any) -> bool:
    """Shoppers their own orders; store staff the orders of their stores (sold, collected or
    shipped there); agents any order."""
    if user.role == Role.STORE_STAFF:
        return bool({order.store_id, order.fulfilment_location_id} & store_ids(user))
    return _owns_order(user, order)


def _fulfils_order(user: User, order: Any) -> bool:
    return order.fulfilment_location_id in store_ids(user)


def _bound_to_store(user: User, location: Any) -> bool:
    return location.pk in store_ids(user)


_STAFF_WHO_SERVE_CUSTOMERS = frozenset({Role.STORE_STAFF, Role.AGENT})
_EVERYONE = frozenset(Role)

RULES: dict[Action, Rule] = {
    Action.CATALOG_VIEW: Rule(roles=_EVERYONE, allows_anonymous=True),
    Action.OWN_PROFILE: Rule(roles=frozenset({Role.SHOPPER})),
    Action.CUSTOMER_LOOKUP: Rule(roles=_STAFF_WHO_SERVE_CUSTOMERS),
    Action.CUSTOMER_VIEW: Rule(
        roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER},
        object_check=_owns_customer,
        conceals_objects=True,
    ),
    # The unified timeline is the agent's 360° view; a shopper reads their own at /me/timeline/.
    Action.CUSTOMER_TIMELINE: Rule(roles=frozenset({Role.AGENT})),
    Action.CUSTOMER_EDIT: Rule(
        roles=frozenset({Role.AGENT, Role.SHOPPER}),
        object_check=_owns_customer,
        conceals_objects=True,
    ),
    Action.CUSTOMER_EXPORT: Rule(roles=frozenset({Role.SHOPPER}), object_check=_owns_customer),
    Action.CUSTOMER_ERASE: Rule(roles=frozenset({Role.AGENT})),
    Action.ORDER_VIEW: Rule(
        roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER},
        object_check=_owns_order,
        conceals_objects=True,
    ),
    Action.ORDER_PLACE: Rule(roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER}),
    Action.ORDER_PLACE_FOR_CUSTOMER: Rule(roles=_STAFF_WHO_SERVE_CUSTOMERS),
    # Seeing the order is checked first (a shopper meets "not found"); acting on one is refused
    # openly: staff know other stores exist.
    Action.ORDER_CANCEL: Rule(
        roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER}, object_check=_may_cancel_order
    ),
    Action.ORDER_FULFIL: Rule(roles=frozenset({Role.STORE_STAFF}), object_check=_fulfils_order),
    Action.CART_MANAGE: Rule(
        roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER},
        object_check=_owns_cart,
        conceals_objects=True,
    ),
    Action.RETURN_CREATE: Rule(roles=_STAFF_WHO_SERVE_CUSTOMERS | {Role.SHOPPER}),
    Action.RETURN_RECEIVE: Rule(roles=frozenset({Role.STORE_STAFF}), object_check=_bound_to_store),
    Action.REFUND_ISSUE: Rule(roles=frozenset({Role.AGENT})),
    Action.STORE_ACT: Rule(roles=frozenset({Role.STORE_STAFF}), object_check=_bound_to_store),
    Action.CASE_MANAGE: Rule(roles=_STAFF_WHO_SERVE_CUSTOMERS),
    Action.MERGE_REVIEW: Rule(roles=frozenset({Role.AGENT})),
    Action.POS_USE: Rule(roles=frozenset({Role.STORE_STAFF})),
    Action.CONSOLE_USE: Rule(roles=frozenset({Role.AGENT})),
    Action.MARKETING_USE: Rule(roles=frozenset({Role.MARKETER})),
    Action.AUDIT_VIEW: Rule(roles=frozenset()),
    Action.ORDER_EXPORT: Rule(roles=frozenset()),
    Action.CUSTOMER_EXPORT_PERSONAL: Rule(roles=frozenset()),
    # Marketers see customers only without personal data (no name, contact or address).
    Action.CUSTOMER_EXPORT_ANONYMISED: Rule(roles=frozenset({Role.MARKETER})),
    Action.TIMELINE_EXPORT: Rule(roles=frozenset()),
    Action.WEBHOOK_MANAGE: Rule(roles=frozenset()),
}


def _is_admin(user: AnyUser) -> bool:
    return isinstance(user, User) and user.is_active and user.is_admin


def _role_allows(user: AnyUser, rule: Rule) -> bool:
    if not user.is_authenticated:
        return rule.allows_anonymous
    assert isinstance(user, User)
    if not user.is_active:
        return rule.allows_anonymous
    if user.role == Role.STORE_STAFF and not store_ids(user):
        # Store staff without a store cannot act anywhere until an admin binds them to one.
        return rule.allows_anonymous
    return user.role in rule.roles or rule.allows_anonymous


def can(user: AnyUser, action: Action, obj: Any = None) -> bool:
    """True when ``user`` may perform ``action`` (on ``obj``, when given)."""
    if _is_admin(user):
        return True
    rule = RULES[action]
    if not _role_allows(user, rule):
        return False
    if obj is not None and rule.object_check is not None:
        if not user.is_authenticated:
            return False
        assert isinstance(user, User)
        return rule.object_check(user, obj)
    return True


def require(user: AnyUser, action: Action, obj: Any = None) -> None:
    """Raise unless ``user`` may perform ``action`` (on ``obj``).

    Raises NotAuthenticated for an anonymous user, NotAllowed when the role may not do this,
    and NotFound or NotAllowed (see ``Rule.conceals_objects``) when the object is out of reach.
    """
    if can(user, action, obj):
        return
    rule = RULES[action]
    if not user.is_authenticated:
        raise NotAuthenticated()
    if obj is not None and _role_allows(user, rule):
        if rule.conceals_objects:
            raise NotFound()
        raise NotAllowed(_object_refusal_message(action))
    raise NotAllowed(_role_refusal_message(user, action))


def _object_refusal_message(action: Action) -> str:
    if action in {Action.STORE_ACT, Action.RETURN_RECEIVE}:
        return "You can only act for the stores you work at."
    if action == Action.ORDER_FULFIL:
        return "This order is fulfilled by another location than the ones you work at."
    if action == Action.ORDER_CANCEL:
        return "You can only cancel orders of the stores you work at."
    return "You are not allowed to do this to that record."


def _role_refusal_message(user: AnyUser, action: Action) -> str:
    if isinstance(user, User) and user.role == Role.STORE_STAFF and not store_ids(user):
        return "Your login is not bound to a store yet. Ask an administrator to add one."
    return "Your role does not allow this."


def home_url_name(user: AnyUser) -> str:
    """Where a user lands after signing in: the channel their role works in."""
    if not isinstance(user, User):
        return "web:home"
    if user.is_admin:
        return "admin:index"
    return {
        Role.STORE_STAFF: "pos:home",
        Role.AGENT: "console:home",
        Role.MARKETER: "marketing:home",
    }.get(Role(user.role), "web:home")
