"""Returns anywhere: any order, from any channel, at any store, by the console or by post;
restocked where received; refunded to the original payment or in cash at a store; never more
than was paid; ``Return Processed`` on the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import InboxEvent
from integrations.models import WebhookEvent
from interaction_platform.accounts.models import User
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput, NotAllowed
from orders import services
from orders.errors import IdempotencyKeyReused, InvalidTransition
from orders.models import Order, OrderLine, Payment, Refund, Return, SandboxGatewayEntry
from tests import factories
from tests.orders.conftest import ADDRESS, Shop, card, cash, snapshot, web_cart

pytestmark = pytest.mark.django_db


def _delivered_web_order(shop: Shop, shopper: User, warehouse_staff: User, **lines: int) -> Order:
    variants = {"parka": shop.parka, "book": shop.book}
    order = services.order_place(
        actor=shopper,
        channel=Channel.WEB,
        idempotency_key="web-to-return",
        cart=web_cart(shopper.customer, *[(variants[name], n) for name, n in lines.items()]),
        fulfilment_method="delivery",
        delivery_address=ADDRESS,
        payment=card(),
    ).order
    services.order_ship(actor=warehouse_staff, order=order)
    services.order_mark_delivered(actor=warehouse_staff, order=order)
    order.refresh_from_db()
    return order


def _line(order: Order, sku: str) -> OrderLine:
    return order.lines.get(sku=sku)


def _return_events() -> list[tuple[str, str, str]]:
    return list(
        InboxEvent.objects.filter(payload__event__startswith="Return")
        .order_by("pk")
        .values_list("message_id", "payload__event", "channel")
    )


class TestAtAnotherStore:
    def test_a_web_order_returned_in_a_store_is_restocked_there_and_refunded_to_the_card(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_b: User
    ) -> None:
        # given: delivered from the warehouse
        order = _delivered_web_order(shop, shopper, warehouse_staff, parka=1, book=2)
        assert shop.stock(shop.book, shop.warehouse) == (8, 0)
        # when: one book comes back at the Rotterdam store
        result = services.return_create(
            actor=staff_b,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_b,
            reason="duplicate gift",
            idempotency_key="return-0001",
        )
        # then
        returned = result.return_request
        assert (returned.status, returned.refund_amount, returned.received_at_location) == (
            "refunded",
            Decimal("20.00"),
            shop.store_b,
        )
        assert shop.stock(shop.book, shop.store_b) == (6, 0)
        assert shop.stock(shop.book, shop.warehouse) == (8, 0)
        refund = Refund.objects.get()
        assert (refund.method, refund.status, refund.amount) == (
            "original_payment",
            "succeeded",
            Decimal("20.00"),
        )
        assert SandboxGatewayEntry.objects.filter(operation="refund").count() == 1
        order.refresh_from_db()
        assert order.refunded_total == Decimal("20.00")
        assert _line(order, "BOOK-1").returned_quantity == 1
        assert _return_events() == [
            (f"return-processed:{returned.pk}", "Return Processed", "store")
        ]
        event = InboxEvent.objects.get(payload__event="Return Processed")
        assert event.payload["properties"]["products"] == [
            {"sku": "BOOK-1", "quantity": 1, "restocked": True}
        ]
        shopper.customer.refresh_from_db()
        assert shopper.customer.lifetime_revenue == Decimal("120.00")
        # and the systems that subscribe hear about it once
        [announced] = WebhookEvent.objects.filter(event_type="return.processed")
        assert (announced.payload["id"], announced.payload["refund_amount"]) == (
            returned.pk,
            "20.00",
        )

    def test_the_customer_may_take_cash_at_the_store(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, parka=1)
        services.return_create(
            actor=staff_a,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "PARKA-M").pk, 1)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_a,
            refund_method="cash",
            idempotency_key="return-0002",
        )
        refund = Refund.objects.get()
        assert (refund.method, refund.location, refund.amount) == (
            "cash",
            shop.store_a,
            Decimal("100.00"),
        )
        assert Payment.objects.get().refunded_amount == Decimal("0.00")  # the card is untouched

    def test_a_damaged_item_is_refunded_but_not_restocked(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, parka=1)
        services.return_create(
            actor=staff_a,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "PARKA-M").pk, 1, restock=False)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_a,
            idempotency_key="return-0003",
        )
        assert shop.stock(shop.parka, shop.store_a) == (5, 0)
        assert Return.objects.get().refund_amount == Decimal("100.00")

    def test_a_pos_sale_is_returned_at_another_store_for_cash(
        self, shop: Shop, staff_a: User, staff_b: User
    ) -> None:
        order = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:to-return",
            lines=[services.LineRequest("BOOK-1", 2)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=cash("40.00"),
        ).order
        services.return_create(
            actor=staff_b,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 2)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_b,
            idempotency_key="return-0004",
        )
        refund = Refund.objects.get()
        assert (refund.method, refund.amount, refund.location) == (
            "cash",
            Decimal("40.00"),
            shop.store_b,
        )
        assert shop.stock(shop.book, shop.store_a) == (3, 0)
        assert shop.stock(shop.book, shop.store_b) == (7, 0)


class TestByPost:
    def test_registered_in_the_app_received_at_the_warehouse(
        self, shop: Shop, shopper: User, warehouse_staff: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, parka=1)
        requested = services.return_create(
            actor=shopper,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "PARKA-M").pk, 1)],
            channel=Channel.APP,
            kind="postal",
            idempotency_key="return-post-1",
        ).return_request
        assert (requested.status, Refund.objects.count()) == ("requested", 0)
        assert shop.stock(shop.parka, shop.warehouse) == (9, 0)
        # when the parcel arrives
        received = services.return_receive(
            actor=warehouse_staff, return_request=requested, location=shop.warehouse
        )
        # then
        assert (received.status, received.refund_amount) == ("refunded", Decimal("100.00"))
        assert shop.stock(shop.parka, shop.warehouse) == (10, 0)
        assert [e[1] for e in _return_events()] == ["Return Requested", "Return Processed"]
        # receiving it twice changes nothing
        before = snapshot()
        with pytest.raises(InvalidTransition):
            services.return_receive(
                actor=warehouse_staff, return_request=requested, location=shop.warehouse
            )
        assert snapshot() == before

    def test_an_agent_registers_one_by_the_console(
        self, shop: Shop, shopper: User, warehouse_staff: User, agent: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, book=1)
        requested = services.return_create(
            actor=agent,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
            channel=Channel.CALL_CENTRE,
            kind="postal",
            idempotency_key="return-post-2",
        ).return_request
        assert (requested.channel, requested.status) == ("call_centre", "requested")

    def test_money_paid_in_a_store_comes_back_in_a_store(self, shop: Shop, staff_a: User) -> None:
        customer = factories.CustomerFactory()
        order = services.order_place(
            actor=staff_a,
            channel=Channel.STORE,
            idempotency_key="pos-a:post-1",
            customer=customer,
            lines=[services.LineRequest("BOOK-1", 1)],
            store=shop.store_a,
            fulfilment_method="carry_out",
            payment=cash("20.00"),
        ).order
        shopper = factories.UserFactory(role="shopper")
        customer.user = shopper
        customer.save()
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.return_create(
                actor=shopper,
                order=order,
                lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
                channel=Channel.APP,
                kind="postal",
                idempotency_key="return-post-3",
            )
        assert refused.value.code == "return_at_store"
        assert snapshot() == before


class TestLimits:
    def test_returns_in_parts_refund_exactly_what_the_line_cost(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User
    ) -> None:
        # given: three books with a 10% voucher: the line cost 54.00
        voucher = factories.VoucherFactory(value=Decimal("10"))
        cart = web_cart(shopper.customer, (shop.book, 3))
        cart.voucher = voucher
        cart.save()
        order = services.order_place(
            actor=shopper,
            channel=Channel.WEB,
            idempotency_key="web-voucher-ret",
            cart=cart,
            fulfilment_method="click_and_collect",
            pickup_store=shop.store_a,
            payment=card(),
        ).order
        services.order_mark_ready(actor=staff_a, order=order)
        services.order_collect(actor=staff_a, order=order, pickup_code=order.pickup_code)
        line = _line(order, "BOOK-1")
        assert line.line_total == Decimal("54.00")
        # when: one, then two come back
        amounts = [
            services.return_create(
                actor=staff_a,
                order=order,
                lines=[services.ReturnLineRequest(line.pk, quantity)],
                channel=Channel.STORE,
                kind="in_store",
                location=shop.store_a,
                idempotency_key=f"return-part-{quantity}",
            ).return_request.refund_amount
            for quantity in (1, 2)
        ]
        assert amounts == [Decimal("18.00"), Decimal("36.00")]
        order.refresh_from_db()
        assert order.refunded_total == order.paid_total == Decimal("54.00")

    def test_never_more_units_than_were_bought(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, book=2)
        services.return_create(
            actor=staff_a,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_a,
            idempotency_key="return-0010",
        )
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            services.return_create(
                actor=staff_a,
                order=order,
                lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 2)],
                channel=Channel.STORE,
                kind="in_store",
                location=shop.store_a,
                idempotency_key="return-0011",
            )
        assert refused.value.message == "Only 1 of 'BOOK-1' can still be returned."
        assert snapshot() == before

    def test_never_more_money_than_was_paid(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User, agent: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, parka=1)
        services.order_refund(
            actor=agent,
            order=order,
            amount=Decimal("70.00"),
            reason="scratched zip",
            idempotency_key="goodwill-ret",
        )
        returned = services.return_create(
            actor=staff_a,
            order=order,
            lines=[services.ReturnLineRequest(_line(order, "PARKA-M").pk, 1)],
            channel=Channel.STORE,
            kind="in_store",
            location=shop.store_a,
            idempotency_key="return-0012",
        ).return_request
        assert returned.refund_amount == Decimal("30.00")
        order.refresh_from_db()
        assert order.refunded_total == order.paid_total == Decimal("100.00")

    def test_goods_not_handed_over_cannot_be_returned(
        self, shop: Shop, shopper: User, staff_a: User
    ) -> None:
        order = services.order_place(
            actor=shopper,
            channel=Channel.APP,
            idempotency_key="not-yet-shipped",
            cart=web_cart(shopper.customer, (shop.book, 1)),
            fulfilment_method="delivery",
            delivery_address=ADDRESS,
            payment=card(),
        ).order
        before = snapshot()
        with pytest.raises(InvalidTransition, match="cancel the order instead"):
            services.return_create(
                actor=staff_a,
                order=order,
                lines=[services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
                channel=Channel.STORE,
                kind="in_store",
                location=shop.store_a,
                idempotency_key="return-0013",
            )
        assert snapshot() == before


class TestWhoAndRepeats:
    def test_only_store_staff_take_returns_at_a_store_and_only_their_own(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User, agent: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, book=1)
        request = {
            "order": order,
            "lines": [services.ReturnLineRequest(_line(order, "BOOK-1").pk, 1)],
            "channel": Channel.STORE,
            "kind": "in_store",
            "location": shop.store_b,
            "idempotency_key": "return-0020",
        }
        before = snapshot()
        with pytest.raises(NotAllowed, match="stores you work at"):
            services.return_create(actor=staff_a, **request)  # type: ignore[arg-type]
        with pytest.raises(NotAllowed, match="taken by that store's staff"):
            services.return_create(actor=agent, **request)  # type: ignore[arg-type]
        assert snapshot() == before

    def test_a_repeat_returns_the_first_return_and_a_changed_one_is_refused(
        self, shop: Shop, shopper: User, warehouse_staff: User, staff_a: User
    ) -> None:
        order = _delivered_web_order(shop, shopper, warehouse_staff, book=2)
        line = _line(order, "BOOK-1")
        request = {
            "actor": staff_a,
            "order": order,
            "channel": Channel.STORE,
            "kind": "in_store",
            "location": shop.store_a,
            "idempotency_key": "return-0030",
        }
        first = services.return_create(lines=[services.ReturnLineRequest(line.pk, 1)], **request)  # type: ignore[arg-type]
        before = snapshot()
        again = services.return_create(lines=[services.ReturnLineRequest(line.pk, 1)], **request)  # type: ignore[arg-type]
        assert (again.return_request.pk, again.is_replay) == (first.return_request.pk, True)
        with pytest.raises(IdempotencyKeyReused):
            services.return_create(lines=[services.ReturnLineRequest(line.pk, 2)], **request)  # type: ignore[arg-type]
        assert snapshot() == before
