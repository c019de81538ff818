"""Segments, campaigns (e-mail, direct mail, print QR), attribution and basket follow-up.

The send rows are the heart of "never twice to one recipient": one row per (campaign, customer),
unique in the database, claimed (``pending`` → ``sending``) in its own committed transaction
before the message is handed to the mail server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = [
    "AttributedOrder",
    "AttributionCursor",
    "Campaign",
    "CampaignKind",
    "CampaignSend",
    "CampaignStats",
    "CampaignStatus",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "QrCode",
    "QrPlacement",
    "QrScan",
    "Segment",
    "SendStatus",
    "TouchKind",
]


class Segment(models.Model):
    """A saved audience definition. ``rules`` is validated by
    :func:`channels.marketing.segments.segment_rules_parse`; marketers only ever see its count."""

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    rules = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CampaignKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    PRINT = "print", "Print (QR codes)"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"


class Campaign(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=CampaignKind.choices)
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="Who receives it (e-mail and direct mail). Print campaigns have none.",
    )
    subject = models.CharField(max_length=200, blank=True, help_text="E-mail subject line.")
    headline = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, help_text="Plain text; blank lines separate paragraphs.")
    call_to_action = models.CharField(max_length=60, default="Shop now")
    landing_path = models.CharField(
        max_length=300, default="/", help_text="Where tracked links and QR codes lead (a path)."
    )
    attribution_window_days = models.PositiveSmallIntegerField(default=7)
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    audience_size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attribution_window_days__gte=1, attribution_window_days__lte=90),
                name="campaign_window_1_to_90_days",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SendStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Handed to the mail server"
    SENT = "sent", "Delivered to the mail server"
    FAILED = "failed", "Refused by the mail server"


class CampaignSend(models.Model):
    """One recipient of an e-mail or direct-mail campaign. ``token`` identifies the recipient in
    tracked links, the open pixel, the unsubscribe link and the personal QR code."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sends")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_sends"
    )
    token = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=20, choices=SendStatus.choices, default=SendStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaign_send_once_per_customer"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_send_status_idx"),
            models.Index(fields=["customer", "campaign"], name="campaign_send_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.customer_id} ({self.status})"

    @classmethod
    def merge_customer_rows(cls, *, absorbed: Any, survivor: Any) -> list[int]:
        """The merge protocol of ``customers/``: the absorbed customer's sends join the survivor,
        except for a campaign the survivor was sent too — a campaign reaches a person once, and
        the survivor's own send (with its opens and clicks) stays the one that counts; the other
        stays on the absorbed profile as history. Returns the pks moved (an unmerge moves them
        back with a plain update)."""
        pks = sorted(
            cls.objects.filter(customer=absorbed)
            .exclude(campaign__in=cls.objects.filter(customer=survivor).values("campaign"))
            .values_list("pk", flat=True)
        )
        cls.objects.filter(pk__in=pks).update(customer=survivor)
        return pks


class QrPlacement(models.TextChoices):
    POSTER = "poster", "Poster"
    FLYER = "flyer", "Flyer"
    SHELF_LABEL = "shelf_label", "Shelf label"
    STORE = "store", "Store window / counter"


class QrCode(models.Model):
    """A printed code. ``/q/<code>`` counts the scan and redirects to ``destination_path``."""

    code = models.SlugField(max_length=24, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="qr_codes")
    label = models.CharField(max_length=120)
    placement = models.CharField(max_length=20, choices=QrPlacement.choices)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destination_path = models.CharField(max_length=300)
    scan_count = models.PositiveIntegerField(default=0)
    attached_scan_count = models.PositiveIntegerField(
        default=0, help_text="Scans by a known or consenting visitor, on their timeline."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "label"], name="qr_code_label_per_campaign"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class QrScan(models.Model):
    """One scan. Without analytics consent an anonymous scan keeps no visitor id and no
    customer: it is a count, nothing more."""

    qr_code = models.ForeignKey(QrCode, on_delete=models.CASCADE, related_name="scans")
    scanned_at = models.DateTimeField()
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    anonymous_id = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["qr_code", "scanned_at"], name="qr_scan_code_time_idx")]

    def __str__(self) -> str:
        return f"{self.qr_code_id} at {self.scanned_at:%Y-%m-%d %H:%M}"


class CampaignStats(models.Model):
    """The campaigns dashboard's rollup: one row per campaign, moved with ``F()`` by the
    transition that causes each figure (so every counter changes exactly once per fact)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="stats")
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    qr_scans = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        verbose_name_plural = "campaign stats"

    def __str__(self) -> str:
        return f"Stats of campaign {self.campaign_id}"


class TouchKind(models.TextChoices):
    EMAIL_OPEN = "email_open", "E-mail opened"
    EMAIL_CLICK = "email_click", "E-mail link clicked"
    QR_SCAN = "qr_scan", "QR code scanned"


class AttributedOrder(models.Model):
    """An order credited to the campaign of the customer's last touch before it (one row per
    order, so re-running the attribution never counts an order twice)."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="attributed_orders"
    )
    touch = models.CharField(max_length=20, choices=TouchKind.choices)
    touched_at = models.DateTimeField()
    placed_at = models.DateTimeField()
    channel = models.CharField(max_length=20)
    revenue = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)

    def __str__(self) -> str:
        return f"Order {self.order_id} → campaign {self.campaign_id}"


class AttributionCursor(models.Model):
    """How far the attribution task has read the orders table (one row, ``name='orders'``)."""

    name = models.CharField(max_length=40, unique=True)
    last_order_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at order {self.last_order_id}"


class FollowUpKind(models.TextChoices):
    EMAIL_REMINDER = "email_reminder", "Basket reminder e-mail"
    STORE_TASK = "store_task", "Store follow-up"
    CALL_BACK = "call_back", "Call back about an unpaid link"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "To do"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Not delivered"
    DONE = "done", "Done"


class FollowUp(models.Model):
    """One follow-up of a customer who did not convert. Unique per (kind, cart) and per
    (kind, order): a basket gets exactly one reminder, an unpaid link exactly one call-back."""

    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    status = models.CharField(max_length=20, choices=FollowUpStatus.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="follow_ups"
    )
    cart = models.ForeignKey(
        "orders.Cart", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    basket_value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recovered_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recovered_revenue = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    recovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "cart"],
                condition=Q(cart__isnull=False),
                name="follow_up_once_per_cart",
            ),
            models.UniqueConstraint(
                fields=["kind", "order"],
                condition=Q(order__isnull=False),
                name="follow_up_once_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status"], name="follow_up_kind_status_idx"),
            # the follow-up dashboard reads a date range of them
            models.Index(fields=["created_at"], name="follow_up_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for customer {self.customer_id}"
