"""Integrations with the retailer's other systems: outbound webhooks, scoped API keys and the
durable records that make inbound calls and imports idempotent.

This app is part of the core but knows none of the other core apps: they call into it
(``webhook_emit``, ``idempotent_call``), never the other way round.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class EventType(models.TextChoices):
    """The events a webhook endpoint can subscribe to (payloads: docs/webhooks.md)."""

    ORDER_CREATED = "order.created", "Order created"
    ORDER_UPDATED = "order.updated", "Order updated"
    RETURN_PROCESSED = "return.processed", "Return processed"
    CUSTOMER_CREATED = "customer.created", "Customer created"
    CUSTOMER_MERGED = "customer.merged", "Customer merged"
    CUSTOMER_ERASED = "customer.erased", "Customer erased"
    STOCK_LOW = "stock.low", "Stock low"


class WebhookEndpoint(models.Model):
    """A URL in another system that wants to hear about some event types.

    The signing secret has to be kept readable (it signs every delivery, Standard Webhooks
    HMAC-SHA256); it is shown once, when the endpoint is created or its secret rotated, and
    only its prefix afterwards."""

    name = models.CharField(max_length=100, help_text="The system it belongs to, e.g. 'ERP'.")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, editable=False)
    secret_prefix = models.CharField(max_length=12, editable=False)
    event_types = models.JSONField(default=list, help_text="Event types it receives.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(secret=""), name="webhook_endpoint_has_secret"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class WebhookEvent(models.Model):
    """The outbox: one row per event, written inside the transaction that caused it.

    ``event_id`` is what receivers see as ``webhook-id``: every delivery and every retry of
    this event, to any endpoint, carries it, so a receiver can drop repeats."""

    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    idempotency_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="Emitting again with the same key adds nothing (e.g. 'order.created:NW0001').",
    )
    created_at = models.DateTimeField(db_index=True)
    fanned_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When its deliveries were created."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(fanned_out_at__isnull=True),
                name="webhook_event_unrouted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Given up"


class WebhookDelivery(models.Model):
    """One event to one endpoint: at most one row per pair (the unique constraint), moved
    through pending → sending → succeeded | pending (retry) | failed by conditional UPDATEs.

    A worker claims a row by leasing it (``lease_expires_at``); a worker that dies while
    sending leaves a lease that runs out, and the sweep hands the row to another worker."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    retry_until = models.DateTimeField(help_text="Retries stop after this (a day after the start).")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="one_delivery_per_endpoint_event"
            ),
            models.CheckConstraint(
                condition=Q(status="succeeded", delivered_at__isnull=False)
                | (~Q(status="succeeded") & Q(delivered_at__isnull=True)),
                name="webhook_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt, what was answered and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code}"

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Scope(models.TextChoices):
    """What an integration's API key may do. A key carries a list of these."""

    READ_CATALOG = "read:catalog", "Read the catalog"
    WRITE_CATALOG = "write:catalog", "Write the catalog (prices)"
    WRITE_STOCK = "write:stock", "Write stock levels"
    READ_ORDERS = "read:orders", "Read and export orders"
    READ_CUSTOMERS = "read:customers", "Read and export customers and their timeline"
    MANAGE_WEBHOOKS = "manage:webhooks", "Manage webhook endpoints and replay deliveries"
    INGEST = "ingest", "Send touchpoints"


class ApiKey(models.Model):
    """A key for another system (ERP, warehouse, e-mail service): scoped, not tied to a
    person's role. Only a SHA-256 hash is stored; the key is shown once.

    ``owner`` is the staff member accountable for it: exports of personal data made with the
    key are written to the access log in their name."""

    name = models.CharField(max_length=100, help_text="The system it was issued to.")
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integration_keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes


def hash_api_key(key: str) -> str:
    """What is stored for a key: its SHA-256, so a database leak leaks no usable key."""
    return hashlib.sha256(key.encode()).hexdigest()


class IdempotencyRecord(models.Model):
    """The first answer to a request that carried an idempotency key.

    The same key with the same request (``request_hash``) gets the stored answer again; the
    same key with a different request is refused. ``scope`` keeps callers apart (one API key's
    keys never collide with another's)."""

    scope = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="one_record_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class ImportKind(models.TextChoices):
    PRODUCTS = "products", "Products and variants"
    PRICES = "prices", "Prices per channel"
    STOCK = "stock", "Stock per location"
    CUSTOMERS = "customers", "Customers (legacy CRM)"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Dry run done: nothing written yet"
    APPLIED = "applied", "Applied"
    REFUSED = "refused", "Refused (nothing written)"


class ImportRun(models.Model):
    """A file uploaded in the back office: first a dry run (the report says what would change),
    then, when someone applies it, the real import. Big files go through the management
    commands instead (they stream from disk)."""

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(max_length=200)
    content = models.TextField(editable=False)
    content_sha256 = models.CharField(max_length=64, editable=False)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices)
    report = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.status})"
