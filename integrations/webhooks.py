"""Outbound webhooks (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), delivered from a durable outbox.

1. A service calls :func:`webhook_emit` inside its own transaction: one ``WebhookEvent`` row,
   committed with everything else the service wrote, or not at all.
2. After the commit a task fans the event out: one ``WebhookDelivery`` per subscribed active
   endpoint, unique per (endpoint, event).
3. A task claims a delivery with a conditional UPDATE (a lease), sends it outside any
   transaction, logs the attempt, and moves the row to ``succeeded``, back to ``pending``
   with an exponential backoff (for a day), or to ``failed``.
4. :func:`webhook_sweep` (celery beat, every minute) finds what a lost wake-up or a killed
   worker left behind.

Delivery is AT LEAST ONCE. If a worker dies after the receiver got the request but before
the success was written, the lease runs out and the delivery is sent again, with the same
``webhook-id``. No sender can rule this out over HTTP (the receiver's answer can always be
lost); the database guarantees one delivery row and at most one successful outcome per
(endpoint, event), and receivers drop repeats by ``webhook-id``, as the specification asks.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.models import (
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.targets import Target, TargetRefused, target_resolve, url_check_literal
from interaction_platform.db import insert_unless_known
from interaction_platform.errors import InvalidInput, NotFound
from interaction_platform.wakeups import wake

logger = logging.getLogger(__name__)

WHSEC_PREFIX = "whsec_"
USER_AGENT = "InteractionPlatform-Webhooks/1"
RESPONSE_EXCERPT_BYTES = 500
# A fresh event gets this long to be fanned out by its own wake-up before the sweep does it.
FAN_OUT_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 500
# Retries sooner than this are queued with a countdown; later ones are left to the sweep, so the
# broker never holds a message for hours (Redis would redeliver it after its visibility timeout).
SHORT_RETRY_S = 300


# --- emitting ---------------------------------------------------------------------------------


def webhook_emit(
    *, event_type: str, payload: dict[str, Any], idempotency_key: str | None = None
) -> WebhookEvent:
    """Record that ``event_type`` happened, inside the caller's transaction (the outbox).

    ``payload`` becomes the ``data`` of the webhook body (Decimals and datetimes are written
    as strings). Give ``idempotency_key`` when the same fact could be emitted twice (a
    retried request, a re-run import): the second call returns the first event and adds
    nothing. After the commit a worker fans the event out to the subscribed endpoints.
    Raises ValueError for an unknown event type (a programming error)."""
    event_type = EventType(event_type).value
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    event = WebhookEvent(
        event_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload=data,
        idempotency_key=idempotency_key,
        created_at=timezone.now(),
    )
    # No read first and no savepoint: a new event is the common case, and a known key is
    # skipped by the INSERT itself (ON CONFLICT DO NOTHING), one round trip either way.
    event.pk = insert_unless_known(event, unique="idempotency_key")
    if event.pk is None:
        # Emitted before (a retried request, a re-run import), or by a concurrent transaction.
        return WebhookEvent.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(_wake_fan_out)
    return event


def webhook_emit_many(
    *, event_type: str, items: Sequence[tuple[dict[str, Any], str | None]]
) -> int:
    """:func:`webhook_emit` for a batch of events of one type (the touchpoint pipeline creates
    customers by the thousand): one INSERT and one wake-up for the whole batch, inside the
    caller's transaction. ``items`` are (payload, idempotency_key) pairs; a known key adds
    nothing. When no active endpoint subscribes to ``event_type`` nothing is written at all:
    a bulk flow should not fill the outbox for nobody. Returns how many events were written."""
    event_type = EventType(event_type).value
    subscribed = any(
        event_type in endpoint.event_types
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("event_types")
    )
    if not items or not subscribed:
        return 0
    now = timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                event_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                idempotency_key=key,
                created_at=now,
            )
            for payload, key in items
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_wake_fan_out)
    return len(events)


#: The wake-up queue name of the fan-out (``interaction_platform.wakeups``).
FAN_OUT_WAKE_QUEUE = "webhook-fan-out"


def _wake_fan_out() -> None:
    """Ask a worker to fan out the events waiting, unless a wake-up is already pending. When
    the broker is unreachable the sweep fans them out; the failure is logged, not raised."""
    from integrations.tasks import webhook_fan_out_pending  # the task module imports this one

    try:
        wake(FAN_OUT_WAKE_QUEUE, webhook_fan_out_pending.delay)
    except Exception:
        logger.warning("could not wake a fan-out worker; the sweep will pick the events up")


def webhook_body(*, event: WebhookEvent) -> str:
    """The JSON text that is signed and sent: the same bytes on every attempt."""
    envelope = {
        "type": event.event_type,
        "timestamp": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def webhook_sign(*, secret: str, event_id: str, timestamp: datetime, body: str) -> str:
    """The ``webhook-signature`` header value (``v1,<base64 HMAC-SHA256>``)."""
    return Webhook(secret).sign(msg_id=event_id, timestamp=timestamp.astimezone(UTC), data=body)


# --- fan-out ----------------------------------------------------------------------------------


def webhook_event_fan_out(*, event_pk: int) -> list[int]:
    """Create the deliveries of one event (one per active endpoint subscribed to its type)
    and return the ids of those still waiting. Safe to run twice: the second run finds the
    event fanned out and creates nothing. Locks the event row."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            return []
        if event.fanned_out_at is None:
            now = timezone.now()
            endpoints = [
                endpoint
                for endpoint in WebhookEndpoint.objects.filter(is_active=True)
                if event.event_type in endpoint.event_types
            ]
            WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(
                        endpoint=endpoint,
                        event=event,
                        next_attempt_at=now,
                        retry_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_S),
                    )
                    for endpoint in endpoints
                ],
                ignore_conflicts=True,
            )
            WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=now)
        waiting = list(
            event.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
        )
    return waiting


def webhook_events_fan_out_pending(*, limit: int = SWEEP_BATCH) -> tuple[list[int], bool]:
    """Fan out the events not yet fanned out, oldest first, up to ``limit`` of them (the
    drain that a wake-up asks for). Returns the deliveries waiting to be sent and whether
    events remain. Events another worker is fanning out right now are skipped."""
    with transaction.atomic():
        pks = list(
            WebhookEvent.objects.filter(fanned_out_at__isnull=True)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: limit + 1]
        )
    waiting: list[int] = []
    for event_pk in pks[:limit]:
        waiting.extend(webhook_event_fan_out(event_pk=event_pk))
    return waiting, len(pks) > limit


# --- delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call of :func:`webhook_delivery_attempt` did."""

    delivery_id: int
    was_sent: bool
    status: str
    status_code: int | None = None
    retry_in_s: float | None = None


def _claim(*, delivery_id: int, now: datetime) -> bool:
    """Lease the delivery to this worker: only a due pending row, or a row whose previous
    sender's lease ran out (it died), can be claimed; exactly one claimant wins."""
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_S + settings.WEBHOOK_LEASE_MARGIN_S)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
        )
        .update(
            status=DeliveryStatus.SENDING,
            lease_expires_at=now + lease,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return claimed == 1


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome:
    """Send one delivery if it is due and nobody else is sending it; log the attempt and move
    the row on. Never holds a transaction open during the HTTP call.

    A 2xx answer is a success; any other answer, a timeout or a connection failure is
    retried with exponential backoff until ``retry_until`` (a day); a target that resolves
    to a private address, or an inactive endpoint, fails at once (retrying cannot help)."""
    now = timezone.now()
    if not _claim(delivery_id=delivery_id, now=now):
        current = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return AttemptOutcome(delivery_id, was_sent=False, status=next(iter(current), "missing"))
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        return _finish(delivery, now=now, status_code=None, error="The endpoint is not active.")
    started = time.monotonic()
    try:
        target = target_resolve(url=delivery.endpoint.url)
        status_code, excerpt = _send(delivery, target=target)
        error = ""
    except TargetRefused as refusal:
        return _finish(delivery, now=now, status_code=None, error=refusal.message)
    except (httpx.HTTPError, InvalidInput, OSError) as failure:
        status_code, excerpt, error = None, "", _describe(failure)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(
        delivery,
        now=now,
        status_code=status_code,
        error=error,
        excerpt=excerpt,
        duration_ms=duration_ms,
    )


def _describe(failure: Exception) -> str:
    if isinstance(failure, InvalidInput):
        return failure.message[:500]
    return f"{type(failure).__name__}: {failure}"[:500]


def _send(delivery: WebhookDelivery, *, target: Target) -> tuple[int, str]:
    """POST the signed body to one of the target's checked addresses (never re-resolving the
    host name), without following redirects. Returns the status and the start of the body."""
    event = delivery.event
    body = webhook_body(event=event)
    sent_at = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": webhook_sign(
            secret=delivery.endpoint.secret, event_id=event.event_id, timestamp=sent_at, body=body
        ),
    }
    url = httpx.URL(delivery.endpoint.url)
    headers["host"] = url.netloc.decode("ascii")
    last_error: httpx.HTTPError | None = None
    with httpx.Client(
        timeout=settings.WEBHOOK_TIMEOUT_S, follow_redirects=False, trust_env=False
    ) as client:
        for address in target.addresses:
            pinned = url.copy_with(host=address)
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            try:
                with client.stream(
                    "POST", pinned, content=body.encode(), headers=headers, extensions=extensions
                ) as response:
                    excerpt = _read_excerpt(response)
                    return response.status_code, excerpt
            except httpx.ConnectError as error:
                last_error = error
    assert last_error is not None  # target_resolve never returns an empty address list
    raise last_error


def _read_excerpt(response: httpx.Response) -> str:
    collected = b""
    for chunk in response.iter_bytes():
        collected += chunk
        if len(collected) >= RESPONSE_EXCERPT_BYTES:
            break
    return collected[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def _retry_delay_s(attempts: int) -> int:
    delays: list[int] = list(settings.WEBHOOK_RETRY_DELAYS_S)
    return delays[min(attempts, len(delays)) - 1] if delays else 0


def _record(
    delivery: WebhookDelivery,
    *,
    now: datetime,
    status_code: int | None,
    error: str,
    excerpt: str,
    duration_ms: int,
) -> AttemptOutcome:
    """Log the attempt and move the delivery on, unless a later claimant (this worker's lease
    ran out) already owns the row."""
    is_success = status_code is not None and 200 <= status_code < 300
    if not error and not is_success:
        error = f"Answered HTTP {status_code}."
    finished_at = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=now,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error[:500],
            response_excerpt=excerpt,
        )
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING)
        if is_success:
            mine.update(
                status=DeliveryStatus.SUCCEEDED,
                delivered_at=finished_at,
                last_status_code=status_code,
                last_error="",
                lease_expires_at=None,
                updated_at=finished_at,
            )
            return AttemptOutcome(delivery.pk, True, DeliveryStatus.SUCCEEDED, status_code)
        delay_s = _retry_delay_s(delivery.attempts)
        next_at = finished_at + timedelta(seconds=delay_s)
        gives_up = next_at > delivery.retry_until
        mine.filter(attempts=delivery.attempts).update(
            status=DeliveryStatus.FAILED if gives_up else DeliveryStatus.PENDING,
            next_attempt_at=next_at,
            last_status_code=status_code,
            last_error=error[:500],
            lease_expires_at=None,
            updated_at=finished_at,
        )
    if gives_up:
        logger.warning("webhook delivery %s given up: %s", delivery.pk, error)
        return AttemptOutcome(delivery.pk, True, DeliveryStatus.FAILED, status_code)
    return AttemptOutcome(delivery.pk, True, DeliveryStatus.PENDING, status_code, delay_s)


def _finish(
    delivery: WebhookDelivery, *, now: datetime, status_code: int | None, error: str
) -> AttemptOutcome:
    """Give up at once: for causes that no retry can cure."""
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started_at=now, error=error[:500]
        )
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED,
            last_status_code=status_code,
            last_error=error[:500],
            lease_expires_at=None,
            updated_at=timezone.now(),
        )
    return AttemptOutcome(delivery.pk, was_sent=False, status=DeliveryStatus.FAILED)


# --- the sweep and replays --------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    events_fanned_out: int
    deliveries_due: list[int]


def webhook_sweep() -> SweepResult:
    """Find work a lost wake-up or a dead worker left behind: events not yet fanned out after
    a grace period, due pending deliveries and deliveries whose sender's lease ran out.
    Returns the deliveries to (re)send; sending them twice is harmless (the claim)."""
    now = timezone.now()
    stale_events = list(
        WebhookEvent.objects.filter(fanned_out_at__isnull=True, created_at__lt=now - FAN_OUT_GRACE)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for event_pk in stale_events:
        webhook_event_fan_out(event_pk=event_pk)
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return SweepResult(events_fanned_out=len(stale_events), deliveries_due=due)


def webhook_deliveries_replay(*, deliveries: QuerySet[WebhookDelivery]) -> list[int]:
    """Send finished deliveries (succeeded or given up) again, now, with a fresh day of
    retries. The event keeps its ``webhook-id``: a receiver that already processed it will
    drop it, as it must. Deliveries still in progress are left alone. Returns the ids queued."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            deliveries.select_for_update()
            .filter(status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED])
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retry_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_S),
            delivered_at=None,
            lease_expires_at=None,
            updated_at=now,
        )
        transaction.on_commit(partial(_wake_deliveries, ids))
    return ids


def webhook_delivery_replay(*, delivery_id: int) -> None:
    """Replay one delivery (see :func:`webhook_deliveries_replay`). Raises NotFound."""
    deliveries = WebhookDelivery.objects.filter(pk=delivery_id)
    if not deliveries.exists():
        raise NotFound("There is no such delivery.")
    webhook_deliveries_replay(deliveries=deliveries)


def _wake_deliveries(delivery_ids: list[int]) -> None:
    from integrations.tasks import webhook_deliver  # the task module imports this one

    for delivery_id in delivery_ids:
        webhook_deliver.delay(delivery_id)


# --- endpoints --------------------------------------------------------------------------------


def _new_secret() -> str:
    return WHSEC_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}.",
            fields={"event_types": [f"Choose from {', '.join(EventType.values)}."]},
        )
    if not event_types:
        raise InvalidInput(
            "Subscribe to at least one event type.", fields={"event_types": ["Required."]}
        )
    return sorted(set(event_types))


def webhook_endpoint_create(
    *, name: str, url: str, event_types: list[str], created_by: Any = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns it and its signing secret (shown to the caller once).
    Raises InvalidInput for an unknown event type or a URL that can never be a target."""
    url_check_literal(url=url)
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        name=name,
        url=url,
        event_types=_checked_event_types(event_types),
        secret=secret,
        secret_prefix=secret[: len(WHSEC_PREFIX) + 4],
        created_by=created_by,
    )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    name: str | None = None,
    url: str | None = None,
    event_types: list[str] | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Deliveries already created keep going to it (at its new URL)."""
    changed: list[str] = []
    if url is not None:
        url_check_literal(url=url)
        endpoint.url = url
        changed.append("url")
    if event_types is not None:
        endpoint.event_types = _checked_event_types(event_types)
        changed.append("event_types")
    if name is not None:
        endpoint.name = name
        changed.append("name")
    if is_active is not None:
        endpoint.is_active = is_active
        changed.append("is_active")
    if changed:
        endpoint.save(update_fields=[*changed, "updated_at"])
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret and return it (shown once). Deliveries sent from
    now on are signed with it."""
    secret = _new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=secret, secret_prefix=secret[: len(WHSEC_PREFIX) + 4], updated_at=timezone.now()
    )
    endpoint.secret = secret
    endpoint.secret_prefix = secret[: len(WHSEC_PREFIX) + 4]
    return secret
