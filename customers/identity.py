"""Identifiers and the rules that turn them into one customer.

Normalising makes the same person's e-mail or phone always look the same. The resolution rules
(ARCHITECTURE.md, "Identity rules") decide, for each event, which customer it belongs to:

- none of its identifiers is known: a new customer;
- they lead to one customer: the unknown identifiers are attached to it;
- they lead to several: merge them when at most one is a known person (anonymous profiles fold
  into the known one; with no known person, into the oldest); two or more known people are
  never merged, the link goes to an agent's review queue;
- from a shared device (a POS tablet, a kiosk) the device's anonymous id never stands for a
  person once the event names one, and nothing is ever merged.

:class:`ResolutionPlan` applies these rules in memory to a whole batch, in order, so that the
inbox worker can then write the outcome with a handful of bulk statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from customers.models import IdentityKind
from interaction_platform.errors import InvalidInput

# Values that SDKs and forms send when they mean "nobody": never an identity.
BLOCKED_VALUES = frozenset({"null", "none", "nil", "anonymous", "undefined", "unknown", "0", "-1"})
_ALL_ZERO = re.compile(r"^[0\-]+$")
_LOYALTY = re.compile(r"^[A-Z0-9]{4,32}$")


def is_blocked(value: str) -> bool:
    """True for values that must never identify anyone (empty, 'null', '0', all zeros…)."""
    stripped = value.strip()
    return not stripped or stripped.lower() in BLOCKED_VALUES or bool(_ALL_ZERO.match(stripped))


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise InvalidInput(
            f"'{value}' is not an e-mail address.", fields={"email": ["Not an e-mail address."]}
        ) from error
    return email


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """E.164 form of a phone number; national numbers are read in ``region`` (default country)."""
    try:
        number = phonenumbers.parse(value, region or settings.DEFAULT_COUNTRY)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(
            f"'{value}' is not a phone number.", fields={"phone": ["Not a phone number."]}
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            f"'{value}' is not a valid phone number.",
            fields={"phone": ["Not a valid phone number; include the country code."]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_loyalty(value: str) -> str:
    number = re.sub(r"[\s\-]", "", value).upper()
    if not _LOYALTY.match(number):
        raise InvalidInput(
            f"'{value}' is not a loyalty number.",
            fields={"loyalty": ["4 to 32 letters and digits."]},
        )
    return number


def normalise(kind: IdentityKind | str, value: str) -> str:
    """The stored form of ``value`` for an identity of ``kind``. Raises InvalidInput."""
    if is_blocked(value):
        raise InvalidInput(f"'{value}' cannot identify anyone.", fields={kind: ["Not usable."]})
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind == IdentityKind.PHONE:
        return normalise_phone(value)
    if kind == IdentityKind.LOYALTY:
        return normalise_loyalty(value)
    return value.strip()


# --- the identifiers an event carries ----------------------------------------------------------

# Which identifier decides where an event goes when its identifiers lead to several people.
_STRENGTH = {
    IdentityKind.USER_ID: 0,
    IdentityKind.LOYALTY: 1,
    IdentityKind.EMAIL: 2,
    IdentityKind.PHONE: 3,
    IdentityKind.EXTERNAL: 4,
    IdentityKind.ANONYMOUS_ID: 5,
}
MAX_VALUE_LENGTH = 255  # Identity.value
_NAME_LENGTH = 100  # Customer.first_name / last_name
# Consent category names (Segment's context.consent.categoryPreferences) that mean analytics.
ANALYTICS_CATEGORIES = frozenset({"analytics"})


@dataclass(frozen=True, order=True)
class IdentityKey:
    kind: str
    value: str

    @property
    def is_anonymous(self) -> bool:
        return self.kind == IdentityKind.ANONYMOUS_ID

    @property
    def strength(self) -> int:
        return _STRENGTH[IdentityKind(self.kind)]


@dataclass(frozen=True)
class EventIdentifiers:
    """``keys`` are attached to the event's customer when they are new (strongest first);
    ``lookup_only`` keys are followed when known but never attached."""

    keys: tuple[IdentityKey, ...]
    lookup_only: tuple[IdentityKey, ...] = ()

    def all_keys(self) -> tuple[IdentityKey, ...]:
        return tuple(sorted({*self.keys, *self.lookup_only}, key=lambda k: (k.strength, k.value)))


@dataclass(frozen=True)
class ProfileHints:
    """Profile facts an event's traits offer. They only ever fill blanks."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""

    def fill_blanks_of(self, other: ProfileHints) -> ProfileHints:
        return ProfileHints(
            email=self.email or other.email,
            phone=self.phone or other.phone,
            first_name=self.first_name or other.first_name,
            last_name=self.last_name or other.last_name,
        )


def usable_id(value: object) -> str | None:
    """``value`` as text when it can identify someone: a string (or an integer, which SDKs
    send for numeric user ids) that is not a blocked value. None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or is_blocked(value):
        return None
    return value.strip()


def event_traits(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The person's traits: ``traits`` of an identify call over ``context.traits`` (where
    RudderStack and analytics.js put them on every call)."""
    traits: dict[str, Any] = {}
    context = payload.get("context")
    if isinstance(context, dict) and isinstance(context.get("traits"), dict):
        traits.update(context["traits"])
    if isinstance(payload.get("traits"), dict):
        traits.update(payload["traits"])
    return traits


def _normalised_or_none(kind: IdentityKind, raw: object) -> str | None:
    """A trait is a hint, not a command: a malformed e-mail or phone is ignored, not refused."""
    value = usable_id(raw)
    if value is None:
        return None
    try:
        normalised = normalise(kind, value)
    except InvalidInput:
        return None
    return normalised if len(normalised) <= MAX_VALUE_LENGTH else None


def _trait(traits: Mapping[str, Any], *names: str) -> object:
    for name in names:
        if traits.get(name) not in (None, ""):
            return traits[name]
    return None


def identifiers_from_event(
    payload: Mapping[str, Any], *, is_shared_device: bool
) -> EventIdentifiers:
    """The usable identifiers of a Segment-spec event, normalised. Blocked values (``null``,
    ``anonymous``, ``0``…) and malformed traits are left out."""
    keys: set[IdentityKey] = set()
    lookup_only: set[IdentityKey] = set()
    user_id = usable_id(payload.get("userId"))
    if user_id is not None and len(user_id) <= MAX_VALUE_LENGTH:
        keys.add(IdentityKey(IdentityKind.USER_ID, user_id))
    traits = event_traits(payload)
    for kind, names in (
        (IdentityKind.EMAIL, ("email",)),
        (IdentityKind.PHONE, ("phone",)),
        (IdentityKind.LOYALTY, ("loyalty_number", "loyaltyNumber")),
    ):
        value = _normalised_or_none(kind, _trait(traits, *names))
        if value is not None:
            keys.add(IdentityKey(kind, value))
    anonymous: set[IdentityKey] = set()
    for raw in (payload.get("anonymousId"), payload.get("previousId")):
        value = usable_id(raw)
        if value is not None and len(value) <= MAX_VALUE_LENGTH:
            anonymous.add(IdentityKey(IdentityKind.ANONYMOUS_ID, value))
    previous = usable_id(payload.get("previousId"))
    if previous is not None and len(previous) <= MAX_VALUE_LENGTH:
        # alias: the previous id may be an anonymous id or a user id used before
        lookup_only.add(IdentityKey(IdentityKind.USER_ID, previous))
    if not (is_shared_device and keys):
        keys |= anonymous
    lookup_only -= keys
    return EventIdentifiers(
        keys=tuple(sorted(keys, key=lambda k: (k.strength, k.value))),
        lookup_only=tuple(sorted(lookup_only)),
    )


def profile_hints_from_event(payload: Mapping[str, Any]) -> ProfileHints:
    traits = event_traits(payload)

    def text(*names: str) -> str:
        value = _trait(traits, *names)
        return value.strip()[:_NAME_LENGTH] if isinstance(value, str) else ""

    return ProfileHints(
        email=_normalised_or_none(IdentityKind.EMAIL, traits.get("email")) or "",
        phone=_normalised_or_none(IdentityKind.PHONE, traits.get("phone")) or "",
        first_name=text("firstName", "first_name"),
        last_name=text("lastName", "last_name"),
    )


def is_anonymous_event(payload: Mapping[str, Any]) -> bool:
    """True when the event names nobody: no usable user id, e-mail, phone or loyalty number."""
    if usable_id(payload.get("userId")) is not None:
        return False  # most events: no need to look at the traits
    found = identifiers_from_event(payload, is_shared_device=False)
    return all(key.is_anonymous for key in found.keys)


def has_analytics_consent(payload: Mapping[str, Any]) -> bool:
    """True when ``context.consent.categoryPreferences`` grants an analytics category."""
    context = payload.get("context")
    consent = context.get("consent") if isinstance(context, dict) else None
    preferences = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    if not isinstance(preferences, dict):
        return False
    return any(
        isinstance(name, str) and name.strip().lower() in ANALYTICS_CATEGORIES and granted is True
        for name, granted in preferences.items()
    )


# --- resolving a batch of events ---------------------------------------------------------------


class FreshCustomer:
    """A customer the batch will create; ``pk`` is set once it is written."""

    __slots__ = ("order", "pk")

    def __init__(self, *, order: int) -> None:
        self.order = order
        self.pk: int | None = None

    def __repr__(self) -> str:
        return f"FreshCustomer(#{self.order}, pk={self.pk})"


CustomerRef = int | FreshCustomer


def ref_pk(ref: CustomerRef) -> int:
    """The primary key of a customer reference (a fresh customer must have been written)."""
    if isinstance(ref, FreshCustomer):
        assert ref.pk is not None, "fresh customers are written before their pk is needed"
        return ref.pk
    return ref


@dataclass(frozen=True)
class NewIdentity:
    key: IdentityKey
    customer: CustomerRef
    source: str


@dataclass(frozen=True)
class PlannedMerge:
    absorbed: CustomerRef
    survivor: CustomerRef
    message_id: str
    source: str = ""
    identifiers: tuple[IdentityKey, ...] = ()


@dataclass(frozen=True)
class PlannedConflict:
    """Two known people whose identifiers met in one event."""

    placed_on: CustomerRef
    other: CustomerRef
    identifiers: tuple[IdentityKey, ...]
    message_id: str
    source: str


@dataclass
class ResolutionPlan:
    """The identity rules applied to a batch of events, in order, in memory.

    Built from what the database knows (``owners``: identifier → live customer id;
    ``identified``: customer id → is a known person), :meth:`place` decides each event's
    customer and records what must be written: new customers, new identities, merges (in the
    order they must run) and conflicts for review. Later events see the outcome of earlier
    ones, exactly as if they had been processed one by one."""

    owners: dict[IdentityKey, CustomerRef]
    identified: dict[CustomerRef, bool]
    fresh: list[FreshCustomer] = field(default_factory=list)
    new_identities: list[NewIdentity] = field(default_factory=list)
    merges: list[PlannedMerge] = field(default_factory=list)
    conflicts: list[PlannedConflict] = field(default_factory=list)
    hints: dict[CustomerRef, ProfileHints] = field(default_factory=dict)
    _survivor_of: dict[CustomerRef, CustomerRef] = field(default_factory=dict)

    def resolve(self, ref: CustomerRef) -> CustomerRef:
        """Where ``ref`` ended up after the merges planned so far."""
        while ref in self._survivor_of:
            ref = self._survivor_of[ref]
        return ref

    def place(
        self,
        identifiers: EventIdentifiers,
        *,
        is_shared_device: bool,
        message_id: str,
        source: str,
        hints: ProfileHints | None = None,
    ) -> CustomerRef | None:
        """The customer this event belongs to, or None when it names nobody usable."""
        found: list[CustomerRef] = []
        for key in identifiers.all_keys():
            owner = self.owners.get(key)
            if owner is not None and (resolved := self.resolve(owner)) not in found:
                found.append(resolved)
        missing = [key for key in identifiers.keys if key not in self.owners]
        if not found:
            if not missing:
                return None
            target: CustomerRef = self._new_customer()
        elif len(found) == 1:
            target = found[0]
        else:
            known = [ref for ref in found if self.identified.get(ref)]
            if len(known) >= 2:
                for other in known[1:]:
                    self.conflicts.append(
                        PlannedConflict(
                            placed_on=known[0],
                            other=other,
                            identifiers=identifiers.all_keys(),
                            message_id=message_id,
                            source=source,
                        )
                    )
                return known[0]
            if is_shared_device:
                # A shared device never merges; with its identifiers in doubt, attach nothing.
                return known[0] if known else found[0]
            target = known[0] if known else min(found, key=_age)
            for other in found:
                if other != target:
                    self.merges.append(
                        PlannedMerge(
                            absorbed=other,
                            survivor=target,
                            message_id=message_id,
                            source=source,
                            identifiers=identifiers.all_keys(),
                        )
                    )
                    self._survivor_of[other] = target
        for key in missing:
            self.owners[key] = target
            self.new_identities.append(NewIdentity(key=key, customer=target, source=source))
            if not key.is_anonymous:
                self.identified[target] = True
        if hints is not None:
            self.hints[target] = self.hints.get(target, ProfileHints()).fill_blanks_of(hints)
        return target

    def _new_customer(self) -> FreshCustomer:
        customer = FreshCustomer(order=len(self.fresh))
        self.fresh.append(customer)
        self.identified[customer] = False
        return customer


def _age(ref: CustomerRef) -> tuple[int, int]:
    """Oldest first: existing customers by id, then the batch's fresh ones in creation order."""
    if isinstance(ref, FreshCustomer):
        return (1, ref.order)
    return (0, ref)
