"""``cart_fold_lines``: a basket kept outside the database (the web store's session) joins the
customer's cart by the merge rule — the larger quantity, never the sum."""

from __future__ import annotations

import pytest

from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, NotFound
from orders import services
from orders.models import Cart, CartStatus
from tests import factories
from tests.orders.conftest import Shop, snapshot, web_cart
from tests.orders.test_carts import _lines

pytestmark = pytest.mark.django_db


def test_the_larger_quantity_is_kept_and_new_lines_are_added(shop: Shop, shopper: User) -> None:
    # given
    cart = web_cart(shopper.customer, (shop.parka, 3))  # type: ignore[attr-defined]
    # when
    folded, skipped = services.cart_fold_lines(
        actor=shopper,
        cart=cart,
        lines=[("PARKA-M", 1), ("book-1", 2)],
        channel=Channel.WEB,
    )
    # then
    assert (folded.pk, skipped) == (cart.pk, [])
    assert _lines(cart) == [("BOOK-1", 2), ("PARKA-M", 3)]


def test_folding_the_same_lines_twice_changes_nothing(shop: Shop, shopper: User) -> None:
    cart = web_cart(shopper.customer, (shop.parka, 1))  # type: ignore[attr-defined]
    lines = [("PARKA-M", 4), ("BOOK-1", 2)]
    services.cart_fold_lines(actor=shopper, cart=cart, lines=lines, channel=Channel.WEB)
    before = snapshot()
    services.cart_fold_lines(actor=shopper, cart=cart, lines=lines, channel=Channel.WEB)
    assert snapshot()["cart_lines"] == before["cart_lines"]
    assert _lines(cart) == [("BOOK-1", 2), ("PARKA-M", 4)]


def test_lines_no_longer_for_sale_are_skipped_and_named(shop: Shop, shopper: User) -> None:
    cart = web_cart(shopper.customer)  # type: ignore[attr-defined]
    shop.book.is_published = False
    shop.book.save(update_fields=["is_published"])
    _, skipped = services.cart_fold_lines(
        actor=shopper,
        cart=cart,
        lines=[("BOOK-1", 1), ("GONE-1", 1), ("PARKA-M", 0), ("PARKA-M", 2)],
        channel=Channel.WEB,
    )
    assert skipped == ["BOOK-1", "GONE-1", "PARKA-M"]
    assert _lines(cart) == [("PARKA-M", 2)]


def test_only_the_owner_folds_into_a_cart_and_an_ordered_cart_refuses(
    shop: Shop, shopper: User
) -> None:
    other = web_cart(factories.CustomerFactory())
    before = snapshot()
    with pytest.raises(NotFound):
        services.cart_fold_lines(
            actor=shopper, cart=other, lines=[("PARKA-M", 1)], channel=Channel.WEB
        )
    assert snapshot() == before
    ordered = web_cart(shopper.customer)  # type: ignore[attr-defined]
    Cart.objects.filter(pk=ordered.pk).update(status=CartStatus.ORDERED)
    before = snapshot()
    with pytest.raises(Conflict):
        services.cart_fold_lines(
            actor=shopper, cart=ordered, lines=[("PARKA-M", 1)], channel=Channel.WEB
        )
    assert snapshot() == before
