"""The core's own flows announce themselves: the pipeline's new known people as
customer.created, every merge as customer.merged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from customers.models import Merge
from integrations import webhooks
from integrations.models import WebhookDelivery, WebhookEvent
from interaction_platform.accounts.models import Role
from interaction_platform.choices import Channel
from orders import services
from tests import factories
from tests.customers.test_pipeline import customer_of, event, process, send

pytestmark = pytest.mark.django_db


def _subscribe(*event_types: str) -> None:
    webhooks.webhook_endpoint_create(
        name="CRM", url="http://127.0.0.1:9/hooks", event_types=list(event_types)
    )


def test_new_known_people_from_the_pipeline_are_announced_in_one_batch(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: a system subscribed to customer.created
    _subscribe("customer.created")
    # when: one identified person and one anonymous visitor arrive
    send(
        event("identify", userId="u-1", traits={"email": "Ann@Example.com"}),
        event("page", anonymousId="anon-2", name="Home"),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        process()
    # then: only the known person is announced, once, with one wake-up for the batch
    ann = customer_of("email", "ann@example.com")
    [announced] = WebhookEvent.objects.all()
    assert announced.event_type == "customer.created"
    assert announced.payload["id"] == str(ann.public_id)
    assert announced.payload["email"] == "ann@example.com"
    assert announced.idempotency_key == f"customer.created:{ann.public_id}"
    assert len([c for c in callbacks if "_wake_fan_out" in repr(c)]) == 1


def test_nothing_is_written_for_nobody() -> None:
    send(event("identify", userId="u-1", traits={"email": "ann@example.com"}))
    process()
    assert WebhookEvent.objects.count() == 0


def test_a_merge_is_announced_with_both_ids(django_capture_on_commit_callbacks: Any) -> None:
    # given: an anonymous visitor who later identifies as a known customer
    _subscribe("customer.merged")
    send(event("identify", userId="u-1", traits={"email": "ann@example.com"}))
    process()
    send(event("page", anonymousId="anon-9", name="Home", minute=1))
    process()
    # when: an event carries both identifiers
    send(event("identify", userId="u-1", anonymousId="anon-9", minute=2))
    with django_capture_on_commit_callbacks(execute=True):
        process()
    # then
    merge = Merge.objects.get()
    [announced] = WebhookEvent.objects.filter(event_type="customer.merged")
    assert announced.payload["id"] == str(merge.survivor.public_id)
    assert announced.payload["merged_ids"] == [str(merge.absorbed.public_id)]
    assert WebhookDelivery.objects.filter(event=announced).count() == 1


def _shop(on_hand: int = 10) -> tuple[Any, Any]:
    store = factories.StoreFactory(code="ams")
    variant = factories.VariantFactory(sku="NW-1")
    factories.StockLevelFactory(variant=variant, location=store, on_hand=on_hand)
    factories.PriceFactory(
        variant=variant,
        price_list=factories.PriceListFactory(channel=Channel.WEB),
        amount=Decimal("49.95"),
    )
    return store, factories.CustomerFactory()


def _place(store: Any, customer: Any, *, key: str, quantity: int = 1) -> Any:
    return services.order_place(
        actor=None,
        channel=Channel.WEB,
        idempotency_key=key,
        customer=customer,
        lines=[services.LineRequest("NW-1", quantity)],
        fulfilment_method="click_and_collect",
        pickup_store=store,
        payment=services.PaymentRequest(method="card_online", token="tok_sandbox_approve"),
    ).order


def test_an_order_is_announced_when_placed_and_when_it_moves(settings: Any) -> None:
    # given
    store, customer = _shop()
    # when
    order = _place(store, customer, key="order-key-1")
    staff = factories.UserFactory(role=Role.STORE_STAFF)
    staff.stores.add(store)
    services.order_mark_ready(actor=staff, order=order)
    # then
    events = list(WebhookEvent.objects.order_by("id").values_list("event_type", "idempotency_key"))
    assert ("order.created", f"order.created:{order.number}") in events
    assert ("order.updated", f"order.updated:{order.number}:ready_for_pickup") in events
    created = WebhookEvent.objects.get(event_type="order.created")
    assert created.payload["number"] == order.number
    assert created.payload["customer_id"] == str(customer.public_id)
    assert [line["sku"] for line in created.payload["lines"]] == ["NW-1"]
    # placing the same order again (the same key) announces nothing new
    _place(store, customer, key="order-key-1")
    assert WebhookEvent.objects.filter(event_type="order.created").count() == 1


def test_stock_falling_under_the_threshold_is_announced_once(settings: Any) -> None:
    settings.STOCK_LOW_THRESHOLD = 5
    store, customer = _shop(on_hand=6)
    _place(store, customer, key="order-key-1")  # 6 → 5 available: not under 5 yet
    assert WebhookEvent.objects.filter(event_type="stock.low").count() == 0
    _place(store, customer, key="order-key-2")  # 5 → 4: crossed
    _place(store, customer, key="order-key-3")  # 4 → 3: already under, no repeat
    [low] = WebhookEvent.objects.filter(event_type="stock.low")
    assert (low.payload["sku"], low.payload["location"], low.payload["available"]) == (
        "NW-1",
        "ams",
        4,
    )
