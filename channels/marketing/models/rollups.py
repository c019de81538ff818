"""Rollup tables the marketer dashboards read: small, pre-aggregated, rebuilt per day or month.

Every row is derived from the core's raw rows (timeline events, orders, order lines, cases) by
:mod:`channels.marketing.rollups`; nothing else writes them, and a rebuild of any range gives the
same rows. Figures are additive across rows, so a dashboard sums whatever range it is asked.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q

from interaction_platform.choices import Channel

#: The "touchpoint in the N days before the sale" windows a marketer can pick.
TOUCH_WINDOWS_DAYS = (1, 3, 7, 14, 30, 60, 90)


class RollupWatermark(models.Model):
    """How far the incremental refresh has looked at the raw rows. One row per source."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0, help_text="Highest timeline event id seen.")
    last_case_id = models.BigIntegerField(default=0, help_text="Highest case id seen.")
    changed_up_to = models.DateTimeField(
        null=True, blank=True, help_text="Orders and cases changed up to this time are rolled up."
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: event {self.last_event_id}, changes up to {self.changed_up_to}"


class ChannelDay(models.Model):
    """Per local day, channel and store: orders, revenue and active customers."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    active_customers = models.PositiveIntegerField(
        default=0, help_text="Distinct customers with a touchpoint on this channel that day."
    )

    class Meta:
        indexes = [models.Index(fields=["day", "channel"], name="mkt_channelday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} store {self.store_id}"


class CategorySalesDay(models.Model):
    """Per local day, selling channel, store and category: revenue and units sold, and — for
    store sales to known customers — how much of that revenue came from customers who had a
    web, app, e-mail or QR touchpoint in the N days before the sale, for each N of the
    dashboard's windows (``TOUCH_WINDOWS_DAYS``): one column per window, so that a dashboard
    reads one row per day, store and category whichever window it shows."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+")
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    units = models.PositiveIntegerField(default=0)
    touched_revenue_1d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_3d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_7d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_14d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_30d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_60d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    touched_revenue_90d = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "channel"], name="mkt_categoryday_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(touched_revenue_1d__lte=F("touched_revenue_3d"))
                & Q(touched_revenue_3d__lte=F("touched_revenue_7d"))
                & Q(touched_revenue_7d__lte=F("touched_revenue_14d"))
                & Q(touched_revenue_14d__lte=F("touched_revenue_30d"))
                & Q(touched_revenue_30d__lte=F("touched_revenue_60d"))
                & Q(touched_revenue_60d__lte=F("touched_revenue_90d"))
                & Q(touched_revenue_90d__lte=F("revenue")),
                name="mkt_categoryday_touched_within_revenue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} store {self.store_id} category {self.category_id}"

    @staticmethod
    def touched_field(days: int) -> str:
        """The column holding the revenue touched within ``days`` (one of TOUCH_WINDOWS_DAYS)."""
        return f"touched_revenue_{days}d"


class FunnelDay(models.Model):
    """Per local day, channel and store: distinct customers reaching each checkout step."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    baskets = models.PositiveIntegerField(default=0)
    checkouts = models.PositiveIntegerField(default=0)
    details = models.PositiveIntegerField(default=0)
    payments = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "channel"], name="mkt_funnelday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} store {self.store_id}"


class ServiceDay(models.Model):
    """Per local day a case was opened, its channel and the customer's home store."""

    day = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cases = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    self_service = models.PositiveIntegerField(default=0)
    first_contact = models.PositiveIntegerField(default=0)
    resolve_seconds = models.BigIntegerField(
        default=0, help_text="Sum over resolved cases of the time from opening to resolution."
    )

    class Meta:
        indexes = [models.Index(fields=["day", "channel"], name="mkt_serviceday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} store {self.store_id}"


class CustomerMonth(models.Model):
    """One customer's activity in one calendar month: the channels used (a bit per channel, see
    ``rollups.CHANNEL_BITS``), orders and revenue. The step between raw rows and
    :class:`ChannelMixMonth`; never shown on its own."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    month = models.DateField(help_text="First day of the month.")
    home_store = models.ForeignKey(
        "catalog.Location",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    channels_mask = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="mkt_customermonth_unique")
        ]
        indexes = [models.Index(fields=["month"], name="mkt_customermonth_month_idx")]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in {self.month:%Y-%m}"

    @classmethod
    def merge_customer_rows(cls, *, absorbed: Any, survivor: Any) -> list[int]:
        """The merge protocol of ``customers/``: nothing moves. These rows are derived from the
        orders and events that a merge moves; the next rollup refresh sees the merge (or its
        undoing) and recomputes both customers' months (``rollups.rollups_refresh``)."""
        return []


class ChannelMixMonth(models.Model):
    """Per month, set of channels used and home store: customers, buyers, orders, revenue and
    what the buyers did in the 90 days after their last order of the month."""

    month = models.DateField()
    channels_mask = models.PositiveIntegerField()
    channel_count = models.PositiveSmallIntegerField()
    store = models.ForeignKey(
        "catalog.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customers = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    repeat_buyers = models.PositiveIntegerField(
        default=0, help_text="Buyers who ordered again within 90 days of their last order."
    )
    defected_buyers = models.PositiveIntegerField(
        default=0, help_text="Buyers whose 90 days have passed without another order."
    )

    class Meta:
        indexes = [models.Index(fields=["month"], name="mkt_channelmix_month_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} channels {self.channels_mask} store {self.store_id}"
