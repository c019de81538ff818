"""Customers and timeline events as rows for exports (CSV / JSON Lines, streamed).

Who gets what:

* personal data (names, contact details, addresses, timeline events) only to administrators
  and to API keys with ``read:customers``, and every customer exported is written to the
  access log (in the key owner's name for a key) before their row leaves;
* marketers get customers WITHOUT personal data: no id, name, contact or address, only what
  describes segments (home store, country, consent, channels, activity, value);
* erased customers and profiles merged into another are never exported; ``consent`` limits
  the export to customers who gave that consent (e.g. the list for the e-mail service).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from customers.models import AccessAction, ConsentPurpose, Customer, TimelineEvent
from customers.services import access_log_record
from integrations.exports import CHUNK_SIZE

PERSONAL_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "loyalty_number",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "country",
    "home_store",
    "email_consent",
    "sms_consent",
    "direct_mail_consent",
    "channels_used",
    "first_seen_at",
    "last_seen_at",
    "order_count",
    "lifetime_revenue",
    "currency",
    "created_at",
    "updated_at",
]
ANONYMISED_COLUMNS = [
    "home_store",
    "country",
    "email_consent",
    "sms_consent",
    "direct_mail_consent",
    "channels_used",
    "first_seen_at",
    "last_seen_at",
    "order_count",
    "lifetime_revenue",
    "currency",
]
TIMELINE_COLUMNS = [
    "customer_id",
    "occurred_at",
    "received_at",
    "channel",
    "type",
    "source",
    "message_id",
    "store",
    "order",
    "properties",
]
_SOURCE_FIELDS = {
    "id": "public_id",
    "home_store": "home_store__code",
}


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def customer_export_rows(
    *,
    include_personal_data: bool,
    actor: Any = None,
    via: str = "",
    reason: str = "",
    changed_since: datetime | None = None,
    changed_until: datetime | None = None,
    consent: ConsentPurpose | None = None,
) -> Iterator[dict[str, Any]]:
    """Live customers changed in ``[changed_since, changed_until)``, oldest change first.

    With ``include_personal_data`` an ``actor`` (a staff user) is required and every customer
    is written to the access log (action ``export``, ``via``, ``reason``) chunk by chunk,
    before that chunk is handed out. Raises ValueError without an actor."""
    if include_personal_data and actor is None:
        raise ValueError("an export of personal data needs an actor for the access log")
    customers = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    if changed_since is not None:
        customers = customers.filter(updated_at__gte=changed_since)
    if changed_until is not None:
        customers = customers.filter(updated_at__lt=changed_until)
    if consent is not None:
        customers = customers.filter(**{f"{ConsentPurpose(consent).value}_consent": True})
    columns = PERSONAL_COLUMNS if include_personal_data else ANONYMISED_COLUMNS
    fields = ["pk", *(_SOURCE_FIELDS.get(name, name) for name in columns)]
    rows = customers.order_by("updated_at", "id").values(*fields).iterator(chunk_size=CHUNK_SIZE)
    for chunk in _chunks(rows, CHUNK_SIZE):
        if include_personal_data:
            access_log_record(
                actor=actor,
                customers=[Customer(pk=row["pk"]) for row in chunk],
                action=AccessAction.EXPORT,
                via=via,
                reason=reason,
            )
        for row in chunk:
            yield {name: row[_SOURCE_FIELDS.get(name, name)] for name in columns}


def timeline_export_rows(
    *,
    actor: Any,
    via: str,
    reason: str = "",
    occurred_since: datetime | None = None,
    occurred_until: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Timeline events that occurred in ``[occurred_since, occurred_until)``, oldest first.
    Events are personal data: each customer whose events are exported is written to the
    access log once per export, before their first event leaves."""
    events = TimelineEvent.objects.all()
    if occurred_since is not None:
        events = events.filter(occurred_at__gte=occurred_since)
    if occurred_until is not None:
        events = events.filter(occurred_at__lt=occurred_until)
    rows = (
        events.order_by("occurred_at", "id")
        .values(
            "customer_id",
            "customer__public_id",
            "occurred_at",
            "received_at",
            "channel",
            "type",
            "source",
            "message_id",
            "store__code",
            "order__number",
            "properties",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    logged: set[int] = set()
    for chunk in _chunks(rows, CHUNK_SIZE):
        fresh = {row["customer_id"] for row in chunk} - logged
        access_log_record(
            actor=actor,
            customers=[Customer(pk=pk) for pk in sorted(fresh)],
            action=AccessAction.EXPORT,
            via=via,
            reason=reason,
        )
        logged |= fresh
        for row in chunk:
            yield {
                "customer_id": row["customer__public_id"],
                "occurred_at": row["occurred_at"],
                "received_at": row["received_at"],
                "channel": row["channel"],
                "type": row["type"],
                "source": row["source"],
                "message_id": row["message_id"],
                "store": row["store__code"],
                "order": row["order__number"],
                "properties": row["properties"],
            }
