"""Orders as rows for exports (CSV / JSON Lines, streamed). Reads only.

No personal data leaves through here: the customer is named by their public id, never by
name, e-mail, phone or address. Columns follow the current Order model; new fields are added
to ORDER_COLUMNS when the model gains them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from integrations.exports import CHUNK_SIZE
from orders.models import Order

ORDER_COLUMNS = [
    "number",
    "customer_id",
    "channel",
    "origin_channel",
    "store",
    "status",
    "fulfilment_method",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "placed_at",
    "updated_at",
]


def order_export_rows(
    *, placed_since: datetime | None = None, placed_until: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Orders placed in ``[placed_since, placed_until)``, oldest first, streamed from the
    database in chunks."""
    orders = Order.objects.all()
    if placed_since is not None:
        orders = orders.filter(placed_at__gte=placed_since)
    if placed_until is not None:
        orders = orders.filter(placed_at__lt=placed_until)
    rows = orders.order_by("placed_at", "id").values(
        "number",
        "customer__public_id",
        "channel",
        "origin_channel",
        "store__code",
        "status",
        "fulfilment_method",
        "currency",
        "subtotal",
        "discount_total",
        "shipping_total",
        "tax_total",
        "total",
        "placed_at",
        "updated_at",
    )
    renamed = {"customer__public_id": "customer_id", "store__code": "store"}
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        yield {renamed.get(name, name): value for name, value in row.items()}
