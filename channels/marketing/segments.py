"""Segments: rules over the customer base, counted for marketers, never listed.

A segment's rules are a small JSON document (see :class:`SegmentRules`). :func:`segment_rules_parse`
is the one validator: the builder page, the count endpoint and the save all go through it, so a
bad rule is refused the same way everywhere (``InvalidInput`` with a message per field).

Marketers see :func:`segment_count` only. The people in a segment leave this module through
:func:`segment_customers`, which only the campaign audience (``campaigns.py``) calls, after
filtering by the consent the campaign needs and writing the audit log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalog.models import Location, LocationKind
from channels.marketing.models import Segment
from customers.models import ConsentPurpose, Customer, TimelineEvent
from interaction_platform.choices import Channel
from interaction_platform.errors import Conflict, InvalidInput

# The events a rule can ask about (docs/tracking-plan.md); free text would invite typos that
# silently match nobody.
KNOWN_EVENTS = (
    "Order Completed",
    "POS Order Completed",
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Email Opened",
    "Email Clicked",
    "QR Scanned",
    "Case Opened",
    "Call Completed",
    "Return Processed",
    "Page Viewed",
)
MAX_EVENT_DAYS = 730
MAX_ORDER_COUNT = 100_000
BOOLEAN_CHOICES = ("", "yes", "no")


@dataclass(frozen=True)
class SegmentRules:
    """Every rule is optional; the segment is the customers matching all the rules given."""

    consent: tuple[str, ...] = ()  # purposes the customer must have granted
    channels: tuple[str, ...] = ()  # channels the customer must have used (all of them)
    min_channel_count: int | None = None
    home_store: str = ""  # a store code
    country: str = ""
    has_account: str = ""  # "", "yes", "no"
    is_loyalty_member: str = ""  # "", "yes", "no"
    min_orders: int | None = None
    max_orders: int | None = None
    min_spend: Decimal | None = None
    max_spend: Decimal | None = None
    event: str = ""
    event_did: str = "yes"  # "yes": did the event in the last N days; "no": did not
    event_days: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("errors")
        for key in ("min_spend", "max_spend"):
            if data[key] is not None:
                data[key] = str(data[key])
        data["consent"] = list(self.consent)
        data["channels"] = list(self.channels)
        if not self.event:
            data.pop("event_did")
        return {key: value for key, value in data.items() if value not in ("", None, [])}

    def describe(self, store_names: dict[str, str] | None = None) -> list[str]:
        """The rules in plain words, for the segment list (``store_names``: code → name)."""
        parts: list[str] = []
        if self.consent:
            labels = [ConsentPurpose(p).label.lower() for p in self.consent]
            parts.append("consented to " + ", ".join(labels))
        if self.channels:
            parts.append("used " + " and ".join(Channel(c).label for c in self.channels))
        if self.min_channel_count:
            parts.append(f"used at least {self.min_channel_count} channels")
        if self.home_store:
            parts.append(f"home store {(store_names or {}).get(self.home_store, self.home_store)}")
        if self.country:
            parts.append(f"lives in {self.country}")
        if self.has_account:
            parts.append("has an online account" if self.has_account == "yes" else "no account")
        if self.is_loyalty_member:
            parts.append(
                "loyalty member" if self.is_loyalty_member == "yes" else "not a loyalty member"
            )
        if self.min_orders is not None:
            parts.append(f"at least {self.min_orders} orders")
        if self.max_orders is not None:
            parts.append(f"at most {self.max_orders} orders")
        if self.min_spend is not None:
            parts.append(f"spent at least {self.min_spend}")
        if self.max_spend is not None:
            parts.append(f"spent at most {self.max_spend}")
        if self.event:
            verb = "did" if self.event_did == "yes" else "did not do"
            parts.append(f"{verb} “{self.event}” in the last {self.event_days} days")
        return parts or ["every identified customer"]


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    return "" if value is None else str(value).strip()


def _integer(
    data: Any, key: str, errors: dict[str, list[str]], *, low: int, high: int
) -> int | None:
    text = _as_text(data.get(key))
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        errors[key] = ["Enter a whole number."]
        return None
    if not low <= number <= high:
        errors[key] = [f"Enter a number from {low} to {high}."]
        return None
    return number


def _money(data: Any, key: str, errors: dict[str, list[str]]) -> Decimal | None:
    text = _as_text(data.get(key))
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors[key] = ["Enter an amount, e.g. 150 or 99.50."]
        return None
    if not amount.is_finite() or amount < 0 or amount > Decimal("10000000"):
        errors[key] = ["Enter an amount from 0 to 10,000,000."]
        return None
    return amount.quantize(Decimal("0.01"))


def segment_rules_parse(data: Any) -> SegmentRules:
    """Validate rules from a form (a QueryDict) or a stored JSON dict. Raises InvalidInput with
    a plain-words message per field when any rule is wrong."""
    getlist = data.getlist if hasattr(data, "getlist") else (lambda key: _as_list(data.get(key)))
    errors: dict[str, list[str]] = {}

    consent = tuple(dict.fromkeys(getlist("consent")))
    if set(consent) - set(ConsentPurpose.values):
        errors["consent"] = ["Choose consent purposes from the list."]
    channels = tuple(dict.fromkeys(getlist("channels")))
    if set(channels) - set(Channel.values):
        errors["channels"] = ["Choose channels from the list."]
    min_channel_count = _integer(data, "min_channel_count", errors, low=1, high=len(Channel.values))
    home_store = _as_text(data.get("home_store"))
    if (
        home_store
        and not Location.objects.filter(code=home_store, kind=LocationKind.STORE).exists()
    ):
        errors["home_store"] = ["Choose a store from the list."]
    country = _as_text(data.get("country")).upper()
    if country and not (len(country) == 2 and country.isalpha() and country.isascii()):
        errors["country"] = ["Use a two-letter country code, e.g. NL."]
    has_account = _as_text(data.get("has_account"))
    if has_account not in BOOLEAN_CHOICES:
        errors["has_account"] = ["Choose yes, no or either."]
    is_loyalty_member = _as_text(data.get("is_loyalty_member"))
    if is_loyalty_member not in BOOLEAN_CHOICES:
        errors["is_loyalty_member"] = ["Choose yes, no or either."]
    min_orders = _integer(data, "min_orders", errors, low=0, high=MAX_ORDER_COUNT)
    max_orders = _integer(data, "max_orders", errors, low=0, high=MAX_ORDER_COUNT)
    if min_orders is not None and max_orders is not None and min_orders > max_orders:
        errors["max_orders"] = ["The maximum is below the minimum."]
    min_spend = _money(data, "min_spend", errors)
    max_spend = _money(data, "max_spend", errors)
    if min_spend is not None and max_spend is not None and min_spend > max_spend:
        errors["max_spend"] = ["The maximum is below the minimum."]
    event = _as_text(data.get("event"))
    event_did = _as_text(data.get("event_did")) or "yes"
    event_days = _integer(data, "event_days", errors, low=1, high=MAX_EVENT_DAYS)
    if event and event not in KNOWN_EVENTS:
        errors["event"] = ["Choose an event from the list."]
    if event_did not in ("yes", "no"):
        errors["event_did"] = ["Choose “did” or “did not”."]
    if event and event_days is None and "event_days" not in errors:
        errors["event_days"] = ["Say how many days back to look."]
    if not event and event_days is not None:
        errors["event"] = ["Choose the event the number of days refers to."]
    if errors:
        raise InvalidInput("Some rules are not valid: see the marked fields.", fields=errors)
    return SegmentRules(
        consent=consent,
        channels=channels,
        min_channel_count=min_channel_count,
        home_store=home_store,
        country=country,
        has_account=has_account,
        is_loyalty_member=is_loyalty_member,
        min_orders=min_orders,
        max_orders=max_orders,
        min_spend=min_spend,
        max_spend=max_spend,
        event=event,
        event_did=event_did,
        event_days=event_days,
    )


# --- selectors ---------------------------------------------------------------------------------


def segment_customers(*, rules: SegmentRules) -> QuerySet[Customer]:
    """The live, identified customers matching ``rules``. Personal data: only the campaign
    audience may call this (it filters by consent and writes the audit log)."""
    customers = Customer.objects.filter(
        merged_into__isnull=True, erased_at__isnull=True, is_identified=True
    )
    condition = Q()
    for purpose in rules.consent:
        condition &= Q(**{f"{purpose}_consent": True})
    for channel in rules.channels:
        # channels_used is a JSON list of channel values; its text form holds each one quoted
        condition &= Q(channels_used__icontains=f'"{channel}"')
    if rules.min_channel_count:
        condition &= Q(channel_count__gte=rules.min_channel_count)
    if rules.home_store:
        condition &= Q(home_store__code=rules.home_store)
    if rules.country:
        condition &= Q(country=rules.country)
    if rules.has_account:
        condition &= Q(user__isnull=rules.has_account == "no")
    if rules.is_loyalty_member:
        condition &= Q(loyalty_number__isnull=rules.is_loyalty_member == "no")
    if rules.min_orders is not None:
        condition &= Q(order_count__gte=rules.min_orders)
    if rules.max_orders is not None:
        condition &= Q(order_count__lte=rules.max_orders)
    if rules.min_spend is not None:
        condition &= Q(lifetime_revenue__gte=rules.min_spend)
    if rules.max_spend is not None:
        condition &= Q(lifetime_revenue__lte=rules.max_spend)
    customers = customers.filter(condition)
    if rules.event and rules.event_days:
        since = timezone.now() - timedelta(days=rules.event_days)
        did = Exists(
            TimelineEvent.objects.filter(
                customer=OuterRef("pk"), type=rules.event, occurred_at__gte=since
            )
        )
        customers = customers.filter(did if rules.event_did == "yes" else ~did)
    return customers


def segment_count(*, rules: SegmentRules) -> int:
    """How many customers match: the only figure a marketer sees about a segment."""
    return segment_customers(rules=rules).count()


def segment_rules_of(segment: Segment) -> SegmentRules:
    return segment_rules_parse(segment.rules)


def segment_list() -> list[tuple[Segment, list[str], int]]:
    """Saved segments with their rules in words and current counts (one count query per
    segment, plus one for the store names)."""
    segments = list(Segment.objects.all())
    if not segments:
        return []
    store_names = dict(Location.objects.filter(kind=LocationKind.STORE).values_list("code", "name"))
    rows = []
    for segment in segments:
        rules = segment_rules_of(segment)
        rows.append((segment, rules.describe(store_names), segment_count(rules=rules)))
    return rows


# --- services ----------------------------------------------------------------------------------


@transaction.atomic
def segment_save(*, name: str, description: str, rules: SegmentRules, created_by: Any) -> Segment:
    """Save a new segment. Raises InvalidInput for a missing name and Conflict when the name is
    taken (so a repeated form post does not create a second segment)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput(
            "Give the segment a name.", fields={"name": ["Enter a name of up to 120 characters."]}
        )
    if len(description) > 300:
        raise InvalidInput(fields={"description": ["Keep the description under 300 characters."]})
    if Segment.objects.filter(name__iexact=name).exists():
        raise Conflict(
            f"A segment called “{name}” already exists.",
            fields={"name": ["This name is taken; choose another."]},
        )
    try:
        with transaction.atomic():
            return Segment.objects.create(
                name=name,
                description=description.strip(),
                rules=rules.as_json(),
                created_by=created_by,
            )
    except IntegrityError:
        raise Conflict(
            f"A segment called “{name}” already exists.",
            fields={"name": ["This name is taken; choose another."]},
        ) from None
