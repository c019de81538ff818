"""A customer made known at a store counter."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.lookup import customer_identify
from customers.models import AccessAction, Customer
from customers.services import access_log_record
from customers.touchpoints import touchpoint_emit
from interaction_platform.choices import Channel


@transaction.atomic
def customer_identify_in_store(
    *, query: str, store: Any, staff: Any, via: str = "POS: identify customer"
) -> Customer | None:
    """Identify a customer at ``store`` (see :func:`customers.lookup.customer_identify`).

    When found, the staff member's access is written to the access log and a ``Store Visited``
    touchpoint goes to the timeline — once per customer, store and day, however often they are
    scanned. Raises InvalidInput for a query that cannot identify anyone."""
    customer = customer_identify(query=query)
    if customer is None:
        return None
    access_log_record(
        actor=staff, customers=[customer], action=AccessAction.LOOKUP, via=via, reason="in store"
    )
    today = timezone.localdate()
    touchpoint_emit(
        customer=customer,
        event="Store Visited",
        channel=Channel.STORE,
        source="pos",
        properties={"store_code": store.code, "store_name": store.name},
        store_id=store.pk,
        message_id=f"store-visited:{customer.public_id.hex}:{store.code}:{today.isoformat()}",
    )
    return customer


def product_viewed_in_store(*, customer: Customer, variant: Any, store: Any) -> None:
    """Staff looked a product up while serving ``customer``: ``Product Viewed`` on the store
    channel (once per customer, product, store and day), so the web store and the call centre
    know what they were interested in."""
    today = timezone.localdate()
    with transaction.atomic():
        touchpoint_emit(
            customer=customer,
            event="Product Viewed",
            channel=Channel.STORE,
            source="pos",
            properties={
                "product_id": variant.product.slug,
                "sku": variant.sku,
                "name": variant.product.name,
                "variant": variant.name,
                "store_code": store.code,
            },
            store_id=store.pk,
            message_id=(
                f"store-product-viewed:{customer.public_id.hex}:{variant.sku}:{store.code}:"
                f"{today.isoformat()}"
            ),
        )
