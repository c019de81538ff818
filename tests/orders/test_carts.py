"""The cart follows the customer: one open cart, opened on any channel; an anonymous visitor's
cart merges into the customer's without doubling quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from customers.models import Customer
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput, NotFound
from orders import services
from orders.models import Cart, CartLine, CartStatus, Voucher
from tests import factories
from tests.orders.conftest import Shop, snapshot

pytestmark = pytest.mark.django_db


def _lines(cart: Cart) -> list[tuple[str, int]]:
    return list(
        CartLine.objects.filter(cart=cart)
        .order_by("variant__sku")
        .values_list("variant__sku", "quantity")
    )


def _anonymous_visitor() -> Customer:
    return factories.CustomerFactory(
        email="", phone="", first_name="", is_identified=False, identities=False
    )


class TestOneOpenCart:
    def test_every_channel_opens_the_same_cart(
        self, shop: Shop, shopper: User, staff_a: User, agent: User
    ) -> None:
        customer = shopper.customer
        # given: the shopper starts a cart in the app
        cart, created = services.cart_open(actor=shopper, customer=customer, channel=Channel.APP)
        services.cart_add_line(
            actor=shopper, cart=cart, sku="PARKA-M", quantity=1, channel=Channel.APP
        )
        # when: the store and the call centre open the customer's cart
        at_store, store_created = services.cart_open(
            actor=staff_a, customer=customer, channel=Channel.STORE, store=shop.store_a
        )
        services.cart_add_line(
            actor=staff_a, cart=at_store, sku="BOOK-1", quantity=2, channel=Channel.STORE
        )
        by_phone, phone_created = services.cart_open(
            actor=agent, customer=customer, channel=Channel.CALL_CENTRE
        )
        # then
        assert (created, store_created, phone_created) == (True, False, False)
        assert at_store.pk == by_phone.pk == cart.pk
        assert by_phone.origin_channel == Channel.APP
        assert list(
            CartLine.objects.filter(cart=cart)
            .order_by("pk")
            .values_list("variant__sku", "quantity", "added_channel")
        ) == [("PARKA-M", 1, "app"), ("BOOK-1", 2, "store")]

    def test_adding_a_product_again_adds_units_to_its_line(self, shop: Shop, shopper: User) -> None:
        cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
        for _ in range(2):
            services.cart_add_line(
                actor=shopper, cart=cart, sku="parka-m", quantity=2, channel=Channel.APP
            )
        assert _lines(cart) == [("PARKA-M", 4)]

    def test_a_line_never_holds_more_than_99(self, shop: Shop, shopper: User) -> None:
        cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
        services.cart_add_line(
            actor=shopper, cart=cart, sku="PARKA-M", quantity=98, channel=Channel.APP
        )
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.cart_add_line(
                actor=shopper, cart=cart, sku="PARKA-M", quantity=2, channel=Channel.APP
            )
        assert refused.value.fields == {"quantity": ["At most 1 more."]}
        assert snapshot() == before

    def test_quantities_are_set_and_lines_removed(self, shop: Shop, shopper: User) -> None:
        cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
        services.cart_add_line(actor=shopper, cart=cart, sku="BOOK-1", quantity=1, channel="app")
        services.cart_add_line(actor=shopper, cart=cart, sku="PARKA-M", quantity=1, channel="app")
        services.cart_set_quantity(
            actor=shopper, cart=cart, sku="BOOK-1", quantity=3, channel=Channel.APP
        )
        services.cart_remove_line(actor=shopper, cart=cart, sku="PARKA-M")
        assert _lines(cart) == [("BOOK-1", 3)]
        with pytest.raises(NotFound):
            services.cart_remove_line(actor=shopper, cart=cart, sku="PARKA-M")

    def test_an_ordered_cart_no_longer_changes(self, shop: Shop, shopper: User) -> None:
        cart = factories.CartFactory(customer=shopper.customer, status=CartStatus.ORDERED)
        with pytest.raises(Conflict) as refused:
            services.cart_add_line(
                actor=shopper, cart=cart, sku="BOOK-1", quantity=1, channel=Channel.APP
            )
        assert refused.value.code == "cart_closed"
        assert CartLine.objects.count() == 0


class TestVouchersOnTheCart:
    def test_one_voucher_only(self, shop: Shop, shopper: User) -> None:
        factories.VoucherFactory(code="WELCOME10")
        factories.VoucherFactory(code="SPRING5")
        cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
        services.cart_apply_voucher(actor=shopper, cart=cart, code="welcome10")
        before = snapshot()
        with pytest.raises(Conflict) as refused:
            services.cart_apply_voucher(actor=shopper, cart=cart, code="SPRING5")
        assert refused.value.code == "voucher_stacking"
        assert snapshot() == before
        # removing it makes room for another
        services.cart_remove_voucher(actor=shopper, cart=cart)
        services.cart_apply_voucher(actor=shopper, cart=cart, code="SPRING5")
        cart.refresh_from_db()
        assert cart.voucher == Voucher.objects.get(code="SPRING5")

    def test_an_unknown_code_is_refused(self, shop: Shop, shopper: User) -> None:
        cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
        with pytest.raises(InvalidInput) as refused:
            services.cart_apply_voucher(actor=shopper, cart=cart, code="NOPE")
        assert refused.value.code == "unknown_voucher"


class TestMergeProtocol:
    """``Cart.merge_customer_rows``: called by the customer merge of customers/."""

    def test_the_visitors_cart_folds_into_the_customers_without_doubling(self, shop: Shop) -> None:
        # given: the same parka in both carts (2 as a visitor, 1 signed in), a book only in one
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        absorbed_cart = factories.CartFactory(customer=visitor, origin_channel=Channel.APP)
        CartLine.objects.create(
            cart=absorbed_cart, variant=shop.parka, quantity=2, added_channel="app"
        )
        CartLine.objects.create(
            cart=absorbed_cart, variant=shop.book, quantity=1, added_channel="app"
        )
        survivor_cart = factories.CartFactory(customer=known)
        CartLine.objects.create(
            cart=survivor_cart, variant=shop.parka, quantity=1, added_channel="web"
        )
        old_cart = factories.CartFactory(customer=visitor, status=CartStatus.ORDERED)
        # when
        with transaction.atomic():
            moved = Cart.merge_customer_rows(absorbed=visitor, survivor=known)
        # then: the larger quantity, not the sum; the visitor's carts now belong to the customer
        assert moved == sorted([absorbed_cart.pk, old_cart.pk])
        assert _lines(survivor_cart) == [("BOOK-1", 1), ("PARKA-M", 2)]
        absorbed_cart.refresh_from_db()
        assert (absorbed_cart.status, absorbed_cart.merged_into, absorbed_cart.customer) == (
            CartStatus.MERGED,
            survivor_cart,
            known,
        )
        assert _lines(absorbed_cart) == [("BOOK-1", 1), ("PARKA-M", 2)]  # its history is kept
        assert Cart.objects.filter(customer=known, status=CartStatus.OPEN).get() == survivor_cart

    def test_without_an_open_cart_the_customer_takes_the_visitors_as_it_is(
        self, shop: Shop
    ) -> None:
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        absorbed_cart = factories.CartFactory(customer=visitor)
        CartLine.objects.create(
            cart=absorbed_cart, variant=shop.parka, quantity=3, added_channel="web"
        )
        moved = Cart.merge_customer_rows(absorbed=visitor, survivor=known)
        absorbed_cart.refresh_from_db()
        assert moved == [absorbed_cart.pk]
        assert (absorbed_cart.customer, absorbed_cart.status) == (known, CartStatus.OPEN)
        assert _lines(absorbed_cart) == [("PARKA-M", 3)]

    def test_an_unmerge_moves_exactly_the_returned_rows_back(self, shop: Shop) -> None:
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        absorbed_cart = factories.CartFactory(customer=visitor)
        factories.CartFactory(customer=known)
        moved = Cart.merge_customer_rows(absorbed=visitor, survivor=known)
        # the unmerge of customers/: a plain FK update of the pks it was given
        Cart.objects.filter(pk__in=moved).update(customer=visitor)
        assert list(Cart.objects.filter(customer=visitor).values_list("pk", flat=True)) == [
            absorbed_cart.pk
        ]

    def test_the_customers_voucher_wins(self, shop: Shop) -> None:
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        mine, theirs = factories.VoucherFactory(), factories.VoucherFactory()
        factories.CartFactory(customer=visitor, voucher=theirs)
        survivor_cart = factories.CartFactory(customer=known, voucher=mine)
        Cart.merge_customer_rows(absorbed=visitor, survivor=known)
        survivor_cart.refresh_from_db()
        assert survivor_cart.voucher == mine


class TestSignInMerge:
    def test_signing_in_folds_the_visitors_cart_into_the_customers(self, shop: Shop) -> None:
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        visitor_cart = factories.CartFactory(customer=visitor)
        CartLine.objects.create(
            cart=visitor_cart, variant=shop.book, quantity=4, added_channel="web"
        )
        known_cart = factories.CartFactory(customer=known)
        CartLine.objects.create(cart=known_cart, variant=shop.book, quantity=1, added_channel="app")
        voucher = factories.VoucherFactory()
        Cart.objects.filter(pk=visitor_cart.pk).update(voucher=voucher)
        # when
        result = services.cart_merge(cart=visitor_cart, customer=known)
        # then
        assert result == known_cart
        assert _lines(known_cart) == [("BOOK-1", 4)]
        known_cart.refresh_from_db()
        assert known_cart.voucher == voucher
        visitor_cart.refresh_from_db()
        assert (visitor_cart.status, visitor_cart.customer) == (CartStatus.MERGED, known)
        # and again: nothing more happens
        before = snapshot()
        assert services.cart_merge(cart=visitor_cart, customer=known) == known_cart
        assert snapshot() == before

    def test_a_customer_without_a_cart_takes_the_visitors(self, shop: Shop) -> None:
        visitor, known = _anonymous_visitor(), factories.CustomerFactory()
        visitor_cart = factories.CartFactory(customer=visitor)
        result = services.cart_merge(cart=visitor_cart, customer=known)
        assert (result, result.customer, result.status) == (visitor_cart, known, CartStatus.OPEN)

    def test_an_ordered_cart_is_not_merged(self, shop: Shop) -> None:
        visitor_cart = factories.CartFactory(
            customer=_anonymous_visitor(), status=CartStatus.ORDERED
        )
        with pytest.raises(Conflict):
            services.cart_merge(cart=visitor_cart, customer=factories.CustomerFactory())


def test_a_cart_shows_the_callers_channel_price(shop: Shop, shopper: User) -> None:
    from catalog.models import Price
    from orders import selectors

    Price.objects.filter(variant=shop.parka, price_list__channel=Channel.APP).update(
        amount=Decimal("95.00")
    )
    cart, _ = services.cart_open(actor=shopper, customer=shopper.customer, channel=Channel.APP)
    services.cart_add_line(actor=shopper, cart=cart, sku="PARKA-M", quantity=2, channel="app")
    in_app = selectors.cart_priced(cart=cart, channel=Channel.APP)
    on_web = selectors.cart_priced(cart=cart, channel=Channel.WEB)
    assert in_app.quote is not None
    assert on_web.quote is not None
    assert (in_app.quote.total, on_web.quote.total) == (Decimal("190.00"), Decimal("200.00"))
