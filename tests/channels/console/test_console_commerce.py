"""The console's commerce and review queue: orders for the caller, cancellations, postal
returns, the merge review queue, and the timeline with its older pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import AccessLog, Customer, Merge, MergeReview, TimelineEvent
from interaction_platform.accounts.models import Role, User
from interaction_platform.choices import Channel
from orders import services
from orders.models import Cart, CartLine, Order, Return
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def shop() -> dict[str, Any]:
    store = factories.StoreFactory(code="ams", name="Amsterdam")
    warehouse = factories.WarehouseFactory(code="dc")
    variant = factories.VariantFactory(sku="NW-000001")
    for location in (store, warehouse):
        factories.StockLevelFactory(variant=variant, location=location, on_hand=10)
    for channel in Channel.selling():
        factories.PriceFactory(
            variant=variant,
            price_list=factories.PriceListFactory(channel=channel),
            amount=Decimal("49.95"),
        )
    customer = factories.CustomerFactory(
        first_name="Anna",
        last_name="de Groot",
        address_line1="Damrak 1",
        postcode="1012 LG",
        city="Amsterdam",
        country="NL",
        phone="+31611111111",
    )
    return {"store": store, "variant": variant, "customer": customer}


def _form(**changes: str) -> dict[str, str]:
    form = {
        "idempotency_key": "console-test-key-0001",
        "source": "lines",
        "lines": "NW-000001 2",
        "fulfilment": "delivery",
        "pickup_store": "",
        "first_name": "Anna",
        "last_name": "de Groot",
        "line1": "Damrak 1",
        "postcode": "1012 LG",
        "city": "Amsterdam",
        "country": "NL",
        "phone": "+31611111111",
        "payment": "link",
    }
    form.update(changes)
    return form


def _snapshot() -> tuple[int, list[tuple[int, int]]]:
    from catalog.models import StockLevel

    return Order.objects.count(), sorted(StockLevel.objects.values_list("on_hand", "reserved"))


class TestPlaceOrder:
    def test_by_payment_link_the_order_waits_for_payment(
        self, console: Client, shop: dict[str, Any]
    ) -> None:
        customer = shop["customer"]
        response = console.post(
            f"/console/customers/{customer.public_id}/order/", _form(), follow=True
        )
        order = Order.objects.get()
        assert (order.channel, order.status, order.customer, order.fulfilment_method) == (
            "call_centre",
            "pending_payment",
            customer,
            "delivery",
        )
        assert "Read or send the payment link: http://testserver/pay/" in response.content.decode()

    def test_with_a_sandbox_card_it_is_paid_and_a_double_submit_is_one_order(
        self, console: Client, shop: dict[str, Any]
    ) -> None:
        url = f"/console/customers/{shop['customer'].public_id}/order/"
        form = _form(
            payment="tok_sandbox_approve", fulfilment="click_and_collect", pickup_store="ams"
        )
        console.post(url, form)
        console.post(url, form)
        order = Order.objects.get()
        assert (order.status, order.store.code) == ("paid", "ams")

    def test_from_the_open_basket_started_on_the_web(
        self, console: Client, shop: dict[str, Any]
    ) -> None:
        cart = Cart.objects.create(customer=shop["customer"], origin_channel="web")
        CartLine.objects.create(cart=cart, variant=shop["variant"], quantity=1, added_channel="web")
        page = console.get(f"/console/customers/{shop['customer'].public_id}/").content.decode()
        assert "Started on Web store" in page
        console.post(
            f"/console/customers/{shop['customer'].public_id}/order/",
            _form(source="basket", lines=""),
        )
        order = Order.objects.get()
        assert (order.origin_channel, order.channel, order.lines.get().quantity) == (
            "web",
            "call_centre",
            1,
        )

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"lines": ""}, "Add at least one product."),
            ({"lines": "NW-000001 two"}, "Line 1: write a SKU and a quantity."),
            ({"lines": "NOPE-1 1"}, "NOPE-1"),
            ({"source": "basket", "lines": ""}, "The customer has no open basket."),
            ({"fulfilment": "click_and_collect"}, "Choose the store."),
            ({"postcode": "12"}, "The delivery address is not complete or not valid."),
            ({"lines": "NW-000001 11"}, "stock"),
        ],
    )
    def test_refusals_say_why_and_change_nothing(
        self, console: Client, shop: dict[str, Any], changes: dict[str, str], message: str
    ) -> None:
        before = _snapshot()
        response = console.post(
            f"/console/customers/{shop['customer'].public_id}/order/", _form(**changes)
        )
        assert response.status_code == 400
        assert message in response.content.decode()
        assert _snapshot() == before

    def test_a_declined_card_leaves_no_stock_held(
        self, console: Client, shop: dict[str, Any]
    ) -> None:
        response = console.post(
            f"/console/customers/{shop['customer'].public_id}/order/",
            _form(payment="tok_sandbox_decline"),
        )
        assert response.status_code == 400
        assert "declined" in response.content.decode().lower()
        from catalog.models import StockLevel

        assert set(StockLevel.objects.values_list("reserved", flat=True)) == {0}

    def test_store_staff_cannot_use_the_console_to_order(
        self, client: Client, staff: User, shop: dict[str, Any]
    ) -> None:
        client.force_login(staff)
        response = client.post(f"/console/customers/{shop['customer'].public_id}/order/", _form())
        assert response.status_code == 403
        assert Order.objects.count() == 0


class TestCancelAndReturn:
    def _placed(self, shop: dict[str, Any], **kwargs: Any) -> Order:
        return services.order_place(
            actor=None,
            channel=Channel.WEB,
            idempotency_key=kwargs.pop("key", "web-order-0001"),
            customer=shop["customer"],
            lines=[services.LineRequest("NW-000001", 2)],
            fulfilment_method="click_and_collect",
            pickup_store=shop["store"],
            payment=services.PaymentRequest(method="card_online", token="tok_sandbox_approve"),
        ).order

    def test_cancel_gives_stock_and_money_back(self, console: Client, shop: dict[str, Any]) -> None:
        order = self._placed(shop)
        console.post(f"/console/orders/{order.number}/cancel/", {"reason": "changed their mind"})
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert order.refunded_total == order.paid_total

    def test_a_completed_order_cannot_be_cancelled(
        self, console: Client, shop: dict[str, Any]
    ) -> None:
        order = self._placed(shop)
        Order.objects.filter(pk=order.pk).update(status="completed")
        response = console.post(
            f"/console/orders/{order.number}/cancel/", {"reason": "x"}, follow=True
        )
        assert "cancel" in response.content.decode().lower()
        order.refresh_from_db()
        assert order.status == "completed"

    def test_return_by_post(self, console: Client, shop: dict[str, Any]) -> None:
        order = self._placed(shop)
        staff = factories.UserFactory(role=Role.STORE_STAFF)
        staff.stores.add(shop["store"])
        services.order_mark_ready(actor=staff, order=order)
        services.order_collect(
            actor=staff, order=Order.objects.get(pk=order.pk), pickup_code=order.pickup_code
        )
        line = order.lines.get()
        form = {
            "idempotency_key": "console-return-0001",
            f"line-{line.pk}": "1",
            "reason": "too small",
        }
        console.post(f"/console/orders/{order.number}/return/", form)
        console.post(f"/console/orders/{order.number}/return/", form)  # a double click
        returned = Return.objects.get()
        assert (returned.kind, returned.channel, returned.status) == (
            "postal",
            "call_centre",
            "requested",
        )

    def test_a_return_of_nothing_is_refused(self, console: Client, shop: dict[str, Any]) -> None:
        order = self._placed(shop)
        response = console.post(
            f"/console/orders/{order.number}/return/",
            {"idempotency_key": "k-12345678"},
            follow=True,
        )
        assert "Choose at least one item to return" in response.content.decode()
        assert Return.objects.count() == 0


class TestTimeline:
    def _events(self, customer: Customer, count: int, channel: str = "web") -> None:
        start = timezone.now() - timedelta(days=1)
        TimelineEvent.objects.bulk_create(
            [
                TimelineEvent(
                    customer=customer,
                    occurred_at=start + timedelta(minutes=n),
                    received_at=start,
                    channel=channel,
                    type=f"Event {n}",
                    source="t",
                    message_id=f"{channel}-{n}",
                )
                for n in range(count)
            ]
        )

    def test_newest_first_with_older_pages_and_a_channel_filter(
        self, console: Client, agent: User
    ) -> None:
        customer = factories.CustomerFactory()
        self._events(customer, 30)
        self._events(customer, 2, channel="store")
        page = console.get(f"/console/customers/{customer.public_id}/").content.decode()
        assert page.index("Event 29") < page.index("Event 28")
        assert "Load older touchpoints" in page
        fragment_url = page.split('data-fragment="')[1].split('"')[0].replace("&amp;", "&")
        older = console.get(fragment_url).content.decode()
        assert "Event 0" in older
        assert "Load older touchpoints" not in older
        stores_only = console.get(
            f"/console/customers/{customer.public_id}/", {"channel": "store"}
        ).content.decode()
        assert stores_only.count('class="timeline-item') == 2
        assert AccessLog.objects.filter(action="timeline", via="console: timeline").count() == 1

    def test_a_forged_cursor_is_refused(self, console: Client) -> None:
        customer = factories.CustomerFactory()
        response = console.get(
            f"/console/customers/{customer.public_id}/timeline/", {"cursor": "forged"}
        )
        assert response.status_code == 400


class TestReviews:
    def _review(self) -> MergeReview:
        first, second = (
            factories.CustomerFactory(first_name="Jan"),
            factories.CustomerFactory(first_name="Jan"),
        )
        now = timezone.now()
        return MergeReview.objects.create(
            first_customer=first,
            second_customer=second,
            message_id="m-1",
            source="web",
            created_at=now,
            last_seen_at=now,
        )

    def test_merge_then_undo(self, console: Client) -> None:
        review = self._review()
        page = console.get("/console/reviews/").content.decode()
        assert "Are these one person?" in page
        console.post(
            f"/console/reviews/{review.pk}/decide/",
            {"decision": "merge", "survivor": review.first_customer_id},
        )
        merge = Merge.objects.get()
        assert (merge.survivor_id, merge.absorbed_id) == (
            review.first_customer_id,
            review.second_customer_id,
        )
        console.post(f"/console/merges/{merge.pk}/undo/")
        merge.refresh_from_db()
        assert merge.unmerged_at is not None
        assert Customer.objects.get(pk=review.second_customer_id).merged_into_id is None

    def test_keep_apart(self, console: Client) -> None:
        review = self._review()
        console.post(f"/console/reviews/{review.pk}/decide/", {"decision": "keep_apart"})
        review.refresh_from_db()
        assert review.status == "kept_apart"
        assert Merge.objects.count() == 0

    def test_a_stranger_as_survivor_is_refused(self, console: Client) -> None:
        review = self._review()
        other = factories.CustomerFactory()
        response = console.post(
            f"/console/reviews/{review.pk}/decide/",
            {"decision": "merge", "survivor": other.pk},
            follow=True,
        )
        assert "must be one of the two" in response.content.decode()
        assert Merge.objects.count() == 0

    def test_store_staff_cannot_decide(self, client: Client, staff: User) -> None:
        review = self._review()
        client.force_login(staff)
        assert (
            client.post(f"/console/reviews/{review.pk}/decide/", {"decision": "merge"}).status_code
            == 403
        )
        review.refresh_from_db()
        assert review.status == "open"
