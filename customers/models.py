"""The one customer record and everything that hangs off it.

A Customer is one person, known or anonymous; Identities say which identifiers lead to them; the
TimelineEvent table is their unified history across channels. ConsentRecord and AccessLog are
append-only histories: who agreed to what, and which staff member read whose personal data.
"""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from interaction_platform.choices import Channel

country_validator = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 code, e.g. NL.")


class ConsentPurpose(models.TextChoices):
    ANALYTICS = "analytics", "Analytics tracking"
    EMAIL = "email", "Marketing e-mail"
    SMS = "sms", "Marketing SMS"
    DIRECT_MAIL = "direct_mail", "Direct mail"


class Customer(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="The web-store / app login of this customer, if they have one.",
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True, help_text="Primary e-mail, normalised to lower case.")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +31612345678.")
    loyalty_number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    home_store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Postal address, used for delivery defaults and direct mail.
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, validators=[country_validator])

    # Current consent per purpose; the full history is in ConsentRecord.
    analytics_consent = models.BooleanField(default=False)
    analytics_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent = models.BooleanField(default=False)
    email_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    direct_mail_consent = models.BooleanField(default=False)
    direct_mail_consent_at = models.DateTimeField(null=True, blank=True)

    # Denormalised statistics, kept current by the services that change them.
    is_identified = models.BooleanField(
        default=False,
        db_index=True,
        help_text="True once any identifier beyond an anonymous id is known.",
    )
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    channels_used = models.JSONField(default=list, blank=True)
    channel_count = models.PositiveSmallIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    lifetime_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")

    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="absorbed",
        help_text="Set when this profile was merged into another; late events follow the link.",
    )
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lifetime_revenue__gte=0), name="customer_revenue_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=models.F("id")),
                name="customer_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at:
            return f"Erased customer {self.public_id.hex[:8]}"
        full_name = f"{self.first_name} {self.last_name}".strip()
        return full_name or self.email or f"Visitor {self.public_id.hex[:8]}"

    def has_consent(self, purpose: ConsentPurpose) -> bool:
        return bool(getattr(self, f"{purpose.value}_consent"))


class IdentityKind(models.TextChoices):
    USER_ID = "user_id", "User id"
    ANONYMOUS_ID = "anonymous_id", "Anonymous id"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    LOYALTY = "loyalty", "Loyalty number"
    EXTERNAL = "external", "External system id"


class Identity(models.Model):
    """An identifier that leads to a customer. Values are stored normalised (see identity.py)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=255)
    source = models.CharField(max_length=100, blank=True, help_text="Where it was first seen.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value"),
            models.CheckConstraint(condition=~Q(value=""), name="identity_value_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def is_anonymous(self) -> bool:
        return self.kind == IdentityKind.ANONYMOUS_ID


class TimelineEvent(models.Model):
    """One touchpoint on a customer's unified timeline. Append-only; ``message_id`` is the
    idempotency key, so delivering the same event twice can never add a second row."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    type = models.CharField(max_length=100, help_text="Event name, e.g. 'Product Viewed'.")
    source = models.CharField(max_length=100, help_text="The source or service that sent it.")
    message_id = models.CharField(max_length=200, unique=True)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="timeline_events",
    )
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(
                "customer",
                models.F("occurred_at").desc(),
                models.F("id").desc(),
                name="timeline_customer_recent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.channel} {self.type}"


class ConsentRecord(models.Model):
    """Append-only history of every consent change: who, when, where, what."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_records")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    is_granted = models.BooleanField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source = models.CharField(max_length=100, blank=True, help_text="Form, banner or import.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who recorded it, if not the customer themselves.",
    )
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "purpose", "-occurred_at"], name="consent_customer_recent_idx"
            )
        ]

    def __str__(self) -> str:
        verb = "granted" if self.is_granted else "withdrew"
        return f"{self.customer_id} {verb} {self.purpose} at {self.occurred_at:%Y-%m-%d %H:%M}"


class InboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    DONE = "done", "On the timeline"
    FAILED = "failed", "Refused (see error)"


class InboxEvent(models.Model):
    """The durable inbox: every touchpoint, from the tracking API or from our own services, is
    written here first, inside the transaction that accepted or caused it. Workers move rows
    onto the timeline; the broker only wakes them, so a lost message or a killed worker loses
    nothing (a periodic sweep finds pending rows).

    ``payload`` is a Segment-spec event (``type``, ``event``/``name``, ``messageId``,
    ``timestamp``, ``userId``/``anonymousId``, ``context``, ``properties``/``traits``).
    Internal touchpoints name their customer directly in ``context.internal`` (see
    :func:`customers.touchpoints.touchpoint_emit`)."""

    message_id = models.CharField(max_length=200, db_index=True)
    source = models.CharField(max_length=100)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    is_shared_device = models.BooleanField(
        default=False, help_text="From a POS tablet or kiosk: its identifiers never merge people."
    )
    payload = models.JSONField()
    received_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=InboxStatus.choices, default=InboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    shard = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text="The inbox partition (of INBOX_SHARDS) of the person the event is about: "
        "one person's events go to one shard, so workers on different shards never meet.",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status="pending"),
                name="inbox_pending_idx",
            ),
            models.Index(
                fields=["shard", "id"],
                condition=Q(status="pending"),
                name="inbox_pending_shard_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed profile"
    LOOKUP = "lookup", "Found in a lookup"
    TIMELINE = "timeline", "Read timeline"
    EXPORT = "export", "Exported"
    EDIT = "edit", "Edited"


class AccessLog(models.Model):
    """Append-only: which staff member read or exported which customer's data, where and why.

    Rows are never updated or deleted; on PostgreSQL a trigger refuses it (see migrations)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_logs"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="access_logs")
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    via = models.CharField(max_length=200, help_text="The screen or endpoint used.")
    reason = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="access_log_customer_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} customer {self.customer_id} via {self.via}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting for customer"
    RESOLVED = "resolved", "Resolved"


class CaseResolution(models.TextChoices):
    SELF_SERVICE = "self_service", "Self-service (electronically)"
    AGENT = "agent", "By an agent"
    STORE = "store", "By store staff"


class Case(models.Model):
    """A support case, opened on any channel, resolved by the customer or by staff."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    channel = models.CharField(
        max_length=20, choices=Channel.choices, help_text="Where the case was opened."
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.CharField(
        max_length=20, choices=CaseResolution.choices, blank=True, default=""
    )
    is_resolved_on_first_contact = models.BooleanField(default=False)
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status=CaseStatus.RESOLVED, resolved_at__isnull=False) & ~Q(resolution="")
                )
                | (~Q(status=CaseStatus.RESOLVED) & Q(resolved_at__isnull=True)),
                name="case_resolved_has_time_and_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.subject}"


class MergeReason(models.TextChoices):
    EVENT = "event", "An event carried identifiers of both"
    REVIEW = "review", "An agent decided after review"


class Merge(models.Model):
    """One profile folded into another, with every row that moved, so that
    :func:`customers.services.customer_unmerge` can move exactly those rows back.

    ``moved`` maps a model label (``"customers.timelineevent"``, ``"orders.cart"``…) to the
    primary keys of its rows that were re-pointed from ``absorbed`` to ``survivor``. Access-log
    rows never move: they are evidence of who read which profile."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_survived")
    absorbed = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_absorbed")
    reason = models.CharField(max_length=20, choices=MergeReason.choices)
    message_id = models.CharField(
        max_length=200, blank=True, help_text="The event that showed they are one person."
    )
    moved = models.JSONField(default=dict, blank=True)
    order_count_moved = models.PositiveIntegerField(default=0)
    revenue_moved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField()
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(survivor=models.F("absorbed")), name="merge_two_different_customers"
            ),
            models.UniqueConstraint(
                fields=["absorbed"],
                condition=Q(unmerged_at__isnull=True),
                name="merge_one_live_merge_per_absorbed",
            ),
        ]

    def __str__(self) -> str:
        return f"Merge {self.pk}: {self.absorbed_id} into {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.unmerged_at is not None


class MergeReviewStatus(models.TextChoices):
    OPEN = "open", "Waiting for an agent"
    MERGED = "merged", "Merged"
    KEPT_APART = "kept_apart", "Kept apart"


class MergeReview(models.Model):
    """Two known people whose identifiers met in one event. They are never merged
    automatically; an agent decides. One row per pair, however often the pair meets again."""

    first_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    second_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=MergeReviewStatus.choices, default=MergeReviewStatus.OPEN
    )
    identifiers = models.JSONField(
        default=list, blank=True, help_text="The identifiers the first event carried."
    )
    message_id = models.CharField(max_length=200, help_text="The first event that linked them.")
    source = models.CharField(max_length=100)
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merge = models.OneToOneField(
        Merge, null=True, blank=True, on_delete=models.SET_NULL, related_name="review"
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_customer__lt=models.F("second_customer")),
                name="merge_review_pair_in_order",
            ),
            models.UniqueConstraint(
                fields=["first_customer", "second_customer"], name="merge_review_one_per_pair"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolved_at__isnull=True))
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
                name="merge_review_resolved_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "-last_seen_at"], name="merge_review_queue_idx")]

    def __str__(self) -> str:
        return f"Review {self.pk}: {self.first_customer_id} / {self.second_customer_id}"


class DropReason(models.TextChoices):
    NO_ANALYTICS_CONSENT = "no_analytics_consent", "Anonymous, without analytics consent"


class DroppedEventCount(models.Model):
    """How many events were accepted but not stored, per day, source and reason. Counts only:
    nothing about the dropped events themselves is kept."""

    day = models.DateField()
    source = models.CharField(max_length=100)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    reason = models.CharField(max_length=30, choices=DropReason.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "channel", "reason"], name="dropped_event_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source}: {self.count} dropped ({self.reason})"
