"""The filter every dashboard shares: date range, channel, store (and, for the store-influence
dashboard, the touchpoint window)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from catalog.models import Location, LocationKind
from channels.marketing.dashboards import DashboardFilter
from channels.marketing.models.rollups import TOUCH_WINDOWS_DAYS
from interaction_platform.choices import Channel

DEFAULT_RANGE_DAYS = 90
DEFAULT_WINDOW_DAYS = 30
MAX_RANGE_DAYS = 731
REPORTED_CHANNELS = [
    Channel.WEB,
    Channel.APP,
    Channel.STORE,
    Channel.CALL_CENTRE,
    Channel.EMAIL,
    Channel.PRINT,
    Channel.DIRECT_MAIL,
]


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
    )
    date_to = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
    )
    channel = forms.ChoiceField(
        label="Channel",
        required=False,
        choices=[("", "All channels"), *[(c.value, c.label) for c in REPORTED_CHANNELS]],
    )
    store = forms.ModelChoiceField(
        label="Store",
        required=False,
        empty_label="All stores",
        queryset=Location.objects.filter(kind=LocationKind.STORE).order_by("name"),
    )
    window = forms.TypedChoiceField(
        label="Touchpoint within",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(days, f"{days} day{'s' if days > 1 else ''}") for days in TOUCH_WINDOWS_DAYS],
        help_text="A store sale counts when the customer had a web, app, e-mail or QR "
        "touchpoint this many days before it.",
    )

    chart = forms.ChoiceField(
        label="Chart",
        required=False,
        choices=[
            ("revenue", "Revenue"),
            ("orders", "Orders"),
            ("active_customers", "Active customers"),
        ],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        date_to = cleaned.get("date_to") or today
        date_from = cleaned.get("date_from") or date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if "date_from" in self.errors or "date_to" in self.errors:
            return cleaned
        if date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        elif (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            self.add_error("date_from", "Pick at most two years at a time.")
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        return cleaned

    def to_filter(self) -> DashboardFilter:
        data = self.cleaned_data
        store = data.get("store")
        return DashboardFilter(
            date_from=data["date_from"],
            date_to=data["date_to"],
            channel=data.get("channel") or "",
            store_id=store.pk if store is not None else None,
            touch_window_days=data.get("window") or DEFAULT_WINDOW_DAYS,
            chart_metric=data.get("chart") or "revenue",
        )

    def initial_from(self, dashboard_filter: DashboardFilter) -> DashboardFilterForm:
        """An unbound copy showing the values in force (defaults filled in)."""
        return DashboardFilterForm(
            initial={
                "date_from": dashboard_filter.date_from,
                "date_to": dashboard_filter.date_to,
                "channel": dashboard_filter.channel,
                "store": dashboard_filter.store_id,
                "window": dashboard_filter.touch_window_days,
                "chart": dashboard_filter.chart_metric,
            }
        )
