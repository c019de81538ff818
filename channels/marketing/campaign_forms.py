"""Forms of the segment builder and the campaign pages. They render and parse; the rules are
validated by the services (``segments.segment_rules_parse``, ``campaigns.campaign_create``…),
whose errors the views put back on the fields."""

from __future__ import annotations

from typing import Any

from django import forms

from catalog.models import Location, LocationKind
from channels.marketing.models import CampaignKind, QrPlacement, Segment
from channels.marketing.segments import KNOWN_EVENTS
from customers.models import ConsentPurpose
from interaction_platform.choices import Channel
from interaction_platform.errors import DomainError


def form_errors_from(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the form: per field where it names one, else on top."""
    placed = False
    for name, messages in error.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _store_choices() -> list[tuple[str, str]]:
    stores = Location.objects.filter(kind=LocationKind.STORE).order_by("name")
    return [("", "Any store or none")] + [(store.code, store.name) for store in stores]


class SegmentForm(forms.Form):
    name = forms.CharField(
        max_length=120, required=False, help_text="Needed to save; not needed to count."
    )
    description = forms.CharField(max_length=300, required=False)
    consent = forms.MultipleChoiceField(
        choices=ConsentPurpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Has consented to",
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Has used every one of these channels",
    )
    min_channel_count = forms.CharField(
        required=False, label="Used at least this many channels", widget=forms.NumberInput()
    )
    home_store = forms.ChoiceField(required=False, label="Home store")
    country = forms.CharField(
        required=False, max_length=2, help_text="Two letters, e.g. NL.", label="Country"
    )
    has_account = forms.ChoiceField(
        choices=[("", "Either"), ("yes", "Has an online account"), ("no", "No online account")],
        required=False,
        label="Online account",
    )
    is_loyalty_member = forms.ChoiceField(
        choices=[("", "Either"), ("yes", "Loyalty member"), ("no", "Not a loyalty member")],
        required=False,
        label="Loyalty programme",
    )
    min_orders = forms.CharField(
        required=False, label="Orders, at least", widget=forms.NumberInput()
    )
    max_orders = forms.CharField(
        required=False, label="Orders, at most", widget=forms.NumberInput()
    )
    min_spend = forms.CharField(required=False, label="Spent in total, at least (€)")
    max_spend = forms.CharField(required=False, label="Spent in total, at most (€)")
    event_did = forms.ChoiceField(
        choices=[("yes", "Did"), ("no", "Did not")], required=False, label="Did or did not"
    )
    event = forms.ChoiceField(
        choices=[("", "No event rule")] + [(name, name) for name in KNOWN_EVENTS],
        required=False,
        label="Event",
    )
    event_days = forms.CharField(
        required=False, label="In the last (days)", widget=forms.NumberInput()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_store"].choices = _store_choices()  # type: ignore[attr-defined]
        for name in ("min_channel_count", "min_orders", "max_orders", "event_days"):
            self.fields[name].widget.attrs.update({"min": "0", "inputmode": "numeric"})
        for name in ("min_spend", "max_spend"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal"})


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=CampaignKind.choices, label="Kind")
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.order_by("name"),
        required=False,
        help_text="Who receives it (e-mail and direct mail). Only customers with the matching "
        "consent are included.",
    )
    subject = forms.CharField(max_length=200, required=False, label="E-mail subject")
    headline = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text; a blank line starts a new paragraph.",
    )
    call_to_action = forms.CharField(max_length=60, initial="Shop now", label="Button text")
    landing_path = forms.CharField(
        max_length=300,
        initial="/",
        label="Landing page",
        help_text="A path on the shop, e.g. /c/jackets/. Links and QR codes lead here.",
    )
    attribution_window_days = forms.IntegerField(
        min_value=1,
        max_value=90,
        initial=7,
        label="Attribution window (days)",
        help_text="An order within this many days after a touch counts for the campaign.",
    )


class QrCodeForm(forms.Form):
    campaign = forms.ChoiceField(label="Print campaign")
    label = forms.CharField(
        max_length=120, help_text="Where it is printed, e.g. “Poster, Kalverstraat window”."
    )
    placement = forms.ChoiceField(choices=QrPlacement.choices)
    store = forms.ChoiceField(required=False, label="Store")
    product = forms.CharField(
        max_length=220,
        required=False,
        label="Product",
        help_text="The product's web address name, e.g. trail-jacket-12. Leave empty to use the "
        "landing page.",
    )
    landing_path = forms.CharField(max_length=300, initial="/", label="Landing page")

    def __init__(self, *args: Any, campaigns: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [(c.pk, c.name) for c in campaigns]  # type: ignore[attr-defined]
        stores = Location.objects.filter(kind=LocationKind.STORE).order_by("name")
        self.fields["store"].choices = [("", "No store")] + [  # type: ignore[attr-defined]
            (store.pk, store.name) for store in stores
        ]
