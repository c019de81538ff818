"""Which store a POS session sells for."""

from __future__ import annotations

from django.http import HttpRequest

from catalog.models import Location, LocationKind
from interaction_platform.accounts.models import User
from interaction_platform.errors import NotAllowed
from interaction_platform.permissions import Action, can, require

SESSION_KEY = "pos_store_id"


def stores_for(user: User) -> list[Location]:
    """The stores this user may work the POS for: their own, or every store for an admin."""
    stores = Location.objects.filter(kind=LocationKind.STORE, is_active=True).order_by("name")
    if not user.is_admin:
        stores = stores.filter(staff=user)
    return list(stores)


def current_store(request: HttpRequest) -> Location:
    """The store chosen in this session, or the user's first store."""
    assert isinstance(request.user, User)
    stores = stores_for(request.user)
    if not stores:
        raise NotAllowed("Your login is not bound to a store yet. Ask an administrator to add one.")
    chosen = request.session.get(SESSION_KEY)
    return next((store for store in stores if store.pk == chosen), stores[0])


def choose_store(request: HttpRequest, store: Location) -> None:
    require(request.user, Action.STORE_ACT, store)
    request.session[SESSION_KEY] = store.pk


def may_act_for(request: HttpRequest, store: Location) -> bool:
    return can(request.user, Action.STORE_ACT, store)
