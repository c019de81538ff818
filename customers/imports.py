"""Importing customers from a legacy CRM (CSV or JSON Lines), in batches, in bounded memory.

Each row's identifiers (e-mail, phone, loyalty number, the CRM's own id) are normalised by
:mod:`customers.identity`, exactly as the pipeline normalises them, and resolved to a customer
by :func:`customer_resolve_for_import`:

* no identifier known → a new customer with these identities;
* all known identifiers lead to one customer (following merges) → that customer: blank
  profile fields are filled in and missing identities attached, nothing already there is
  overwritten (the platform's data is newer than the CRM's);
* they lead to two or more different customers → the row is refused and reported: two
  people are never merged by an import.

Consent columns are applied only where the customer has given no answer yet for that
purpose, and each one is recorded in ConsentRecord (source ``import``). Importing the same
file twice changes nothing. Imports emit no ``customer.created`` webhooks: a bulk load
would flood the receivers; send them the file instead.

Columns (common aliases such as ``Customer ID``, ``E-mail`` or ``Mobile`` are understood):
``external_id``, ``email``, ``phone``, ``loyalty_number``, ``first_name``,
``last_name``, ``address_line1``, ``address_line2``, ``postcode``, ``city``, ``country``,
``email_consent``, ``sms_consent``, ``direct_mail_consent``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db.models import Q
from django.utils import timezone

from customers import identity
from customers.models import ConsentPurpose, ConsentRecord, Customer, Identity, IdentityKind
from integrations.imports import (
    DEFAULT_BATCH_SIZE,
    FileFormat,
    ImportReport,
    RowInvalid,
    RowOutcome,
    RowResult,
    SourceRow,
    import_execute,
    rows_read,
)
from interaction_platform.choices import Channel
from interaction_platform.errors import InvalidInput

DEFAULT_SOURCE = "legacy-crm"
PROFILE_COLUMNS = ("first_name", "last_name")
ADDRESS_COLUMNS = ("address_line1", "address_line2", "postcode", "city", "country")
CONSENT_COLUMNS = {
    "email_consent": ConsentPurpose.EMAIL,
    "sms_consent": ConsentPurpose.SMS,
    "direct_mail_consent": ConsentPurpose.DIRECT_MAIL,
}
_MAX_LENGTH = {
    "first_name": 100,
    "last_name": 100,
    "address_line1": 200,
    "address_line2": 200,
    "postcode": 16,
    "city": 100,
}
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "ja", "opt-in", "optin"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "nee", "opt-out", "optout"})

IdentityKey = tuple[str, str]  # (kind, normalised value)


@dataclass
class _ParsedRow:
    line: int
    identities: list[IdentityKey]
    profile: dict[str, str]
    consent: dict[ConsentPurpose, bool]


@dataclass
class ImportMatch:
    """Who a row is: an existing customer, a customer created earlier in the same batch
    (the file repeats a person), or nobody yet."""

    customer: Customer | None = None
    conflicting: list[Customer] = field(default_factory=list)


# Names legacy CRMs give the same column.
COLUMN_ALIASES = {
    "customer_id": "external_id",
    "crm_id": "external_id",
    "id": "external_id",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "phone_number": "phone",
    "mobile": "phone",
    "telephone": "phone",
    "loyalty": "loyalty_number",
    "loyalty_card": "loyalty_number",
    "address_line_1": "address_line1",
    "address_line_2": "address_line2",
    "address": "address_line1",
    "zip": "postcode",
    "postal_code": "postcode",
}


def _parse(row: SourceRow, source: str) -> _ParsedRow:
    values = {COLUMN_ALIASES.get(name, name): value for name, value in row.values.items()}
    if any("\x00" in value for value in values.values()):
        raise RowInvalid("contains a NUL character")
    found: list[IdentityKey] = []
    for column, kind in (
        ("email", IdentityKind.EMAIL),
        ("phone", IdentityKind.PHONE),
        ("loyalty_number", IdentityKind.LOYALTY),
    ):
        raw = values.get(column, "").strip()
        if not raw:
            continue
        try:
            found.append((kind.value, identity.normalise(kind, raw)))
        except InvalidInput as error:
            raise RowInvalid(f"{column}: {error.message}") from error
    if external := values.get("external_id", "").strip():
        found.append((IdentityKind.EXTERNAL.value, f"{source}:{external}"[:255]))
    if not found:
        raise RowInvalid("needs at least one of email, phone, loyalty_number or external_id")
    profile = {}
    for column in (*PROFILE_COLUMNS, *ADDRESS_COLUMNS):
        if value := values.get(column, "").strip():
            profile[column] = value[: _MAX_LENGTH.get(column, 200)]
    if "country" in profile:
        profile["country"] = profile["country"].upper()
        if len(profile["country"]) != 2 or not profile["country"].isalpha():
            raise RowInvalid(f"country must be a two-letter code, not '{values['country']}'")
    consent = {}
    for column, purpose in CONSENT_COLUMNS.items():
        raw = values.get(column, "").strip().lower()
        if not raw:
            continue
        if raw not in TRUE_WORDS | FALSE_WORDS:
            raise RowInvalid(f"{column} must be true or false, not '{values[column]}'")
        consent[purpose] = raw in TRUE_WORDS
    return _ParsedRow(line=row.line, identities=found, profile=profile, consent=consent)


def customer_resolve_for_import(
    *, identities: Iterable[IdentityKey], known: dict[IdentityKey, Customer]
) -> ImportMatch:
    """THE CALL POINT for identity resolution in imports.

    Today: an exact match of normalised identities (``known`` maps every identity already
    in the database or created earlier in this batch to its live customer). One customer →
    that one; none → nobody; several → a conflict, never a merge.

    After the pipeline's resolver (issue 3) is merged, this is where it is called, so that
    an imported row is resolved exactly like a tracked event (see docs/integrations.md)."""
    matched: dict[int, Customer] = {}
    for key in identities:
        customer = known.get(key)
        if customer is not None:
            matched[id(customer)] = customer
    if len(matched) > 1:
        return ImportMatch(conflicting=list(matched.values()))
    return ImportMatch(customer=next(iter(matched.values()), None))


def _known_identities(parsed: list[_ParsedRow]) -> dict[IdentityKey, Customer]:
    """Every identity of the batch already in the database, mapped to the live customer it
    leads to (merges followed), with those customers locked in id order."""
    wanted = {key for row in parsed for key in row.identities}
    if not wanted:
        return {}
    condition = Q()
    by_kind: dict[str, list[str]] = {}
    for kind, value in wanted:
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        condition |= Q(kind=kind, value__in=values)
    owners = {
        (kind, value): customer_id
        for kind, value, customer_id in Identity.objects.filter(condition).values_list(
            "kind", "value", "customer_id"
        )
    }
    survivors = _survivors(set(owners.values()))
    customers = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(pk__in=set(survivors.values()))
        .order_by("pk")
    }
    return {key: customers[survivors[customer_id]] for key, customer_id in owners.items()}


def _survivors(customer_ids: set[int]) -> dict[int, int]:
    """For each customer id, the id of the profile it was merged into (itself if none)."""
    links = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "merged_into_id"))
    result = {}
    for customer_id in customer_ids:
        current = customer_id
        for _ in range(10):  # merge chains are short; the cap guards against a cycle
            following = links.get(current)
            if following is None:
                break
            if following not in links:
                links.update(
                    Customer.objects.filter(pk=following).values_list("pk", "merged_into_id")
                )
            current = following
        result[customer_id] = current
    return result


def _fill(customer: Customer, profile: dict[str, str]) -> list[str]:
    changed = []
    for column in PROFILE_COLUMNS:
        if column in profile and not getattr(customer, column):
            setattr(customer, column, profile[column])
            changed.append(column)
    has_address = any(getattr(customer, column) for column in ADDRESS_COLUMNS)
    if not has_address and any(column in profile for column in ADDRESS_COLUMNS):
        for column in ADDRESS_COLUMNS:
            if column in profile:
                setattr(customer, column, profile[column])
                changed.append(column)
    return changed


def _fill_contact(customer: Customer, identities: list[IdentityKey]) -> list[str]:
    changed = []
    for kind, value in identities:
        if kind == IdentityKind.EMAIL and not customer.email:
            customer.email = value
            changed.append("email")
        elif kind == IdentityKind.PHONE and not customer.phone:
            customer.phone = value
            changed.append("phone")
        elif kind == IdentityKind.LOYALTY and not customer.loyalty_number:
            customer.loyalty_number = value
            changed.append("loyalty_number")
    return changed


def _apply_consent(
    customer: Customer, consent: dict[ConsentPurpose, bool], now: Any
) -> tuple[list[str], list[ConsentRecord]]:
    changed, records = [], []
    for purpose, is_granted in consent.items():
        field_name = f"{purpose.value}_consent"
        if getattr(customer, f"{field_name}_at") is not None:
            continue  # the customer answered already; a legacy file never overrides that
        setattr(customer, field_name, is_granted)
        setattr(customer, f"{field_name}_at", now)
        changed += [field_name, f"{field_name}_at"]
        records.append(
            ConsentRecord(
                customer=customer,
                purpose=purpose,
                is_granted=is_granted,
                channel=Channel.SYSTEM,
                source="import",
                occurred_at=now,
            )
        )
    return changed, records


def _customers_applier(source: str) -> Callable[[list[SourceRow]], list[RowResult]]:
    def apply(rows: list[SourceRow]) -> list[RowResult]:
        parsed: list[_ParsedRow | RowInvalid] = []
        for row in rows:
            try:
                parsed.append(_parse(row, source))
            except RowInvalid as error:
                parsed.append(error)
        valid = [item for item in parsed if isinstance(item, _ParsedRow)]
        known = _known_identities(valid)
        outcomes = _resolve_and_write(valid, known, source)
        return [item if isinstance(item, RowInvalid) else outcomes[item.line] for item in parsed]

    return apply


def _resolve_and_write(
    rows: list[_ParsedRow], known: dict[IdentityKey, Customer], source: str
) -> dict[int, RowResult]:
    now = timezone.now()
    outcomes: dict[int, RowResult] = {}
    new_customers: list[Customer] = []
    new_identities: list[tuple[Customer, IdentityKey]] = []
    changed_fields: dict[int, set[str]] = {}  # id(customer) → fields to save
    consent_records: list[ConsentRecord] = []
    created_here: set[int] = set()
    for row in rows:
        match = customer_resolve_for_import(identities=row.identities, known=known)
        if match.conflicting:
            names = ", ".join(str(c.public_id) for c in match.conflicting)
            outcomes[row.line] = RowInvalid(
                f"its identifiers belong to {len(match.conflicting)} different customers "
                f"({names}); people are never merged by an import: review them in the console"
            )
            continue
        customer = match.customer
        if customer is not None and customer.erased_at is not None:
            outcomes[row.line] = RowInvalid("it matches an erased customer; not imported")
            continue
        is_new = customer is None
        if customer is None:
            customer = Customer(is_identified=True)
            new_customers.append(customer)
            created_here.add(id(customer))
        changes = _fill(customer, row.profile) + _fill_contact(customer, row.identities)
        consent_changes, records = _apply_consent(customer, row.consent, now)
        consent_records.extend(records)
        attached = [key for key in row.identities if key not in known]
        for key in attached:
            known[key] = customer
            new_identities.append((customer, key))
        changed_fields.setdefault(id(customer), set()).update(changes + consent_changes)
        if is_new:
            outcomes[row.line] = RowOutcome.CREATED
        elif id(customer) in created_here:
            outcomes[row.line] = RowOutcome.UPDATED  # the file repeats a person
        elif changes or consent_changes or attached:
            outcomes[row.line] = RowOutcome.UPDATED
        else:
            outcomes[row.line] = RowOutcome.UNCHANGED
    _write(new_customers, new_identities, changed_fields, consent_records, known, source)
    return outcomes


def _write(
    new_customers: list[Customer],
    new_identities: list[tuple[Customer, IdentityKey]],
    changed_fields: dict[int, set[str]],
    consent_records: list[ConsentRecord],
    known: dict[IdentityKey, Customer],
    source: str,
) -> None:
    Customer.objects.bulk_create(new_customers)
    created = {id(customer) for customer in new_customers}
    existing = {id(c): c for c in known.values() if id(c) not in created}
    by_fields: dict[frozenset[str], list[Customer]] = {}
    now = timezone.now()
    for key, fields in changed_fields.items():
        if key in existing and fields:
            existing[key].updated_at = now  # bulk_update does not touch auto_now fields
            by_fields.setdefault(frozenset(fields), []).append(existing[key])
    for names, customers in by_fields.items():
        Customer.objects.bulk_update(customers, [*sorted(names), "updated_at"])
    Identity.objects.bulk_create(
        [
            Identity(customer=customer, kind=kind, value=value, source=f"import:{source}"[:100])
            for customer, (kind, value) in new_identities
        ]
    )
    for record in consent_records:
        record.customer_id = record.customer.pk
    ConsentRecord.objects.bulk_create(consent_records)


def customers_import(
    *,
    stream: TextIO,
    file_format: FileFormat | str = FileFormat.CSV,
    dry_run: bool = False,
    atomic: bool = False,
    options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Import customers from a legacy CRM file (see the module docstring for the rules).
    ``options["source"]`` names the CRM; its ids become ``external`` identities
    ``<source>:<id>``."""
    source = (options or {}).get("source") or DEFAULT_SOURCE
    return import_execute(
        kind="customers",
        rows=rows_read(stream=stream, file_format=file_format),
        apply_batch=_customers_applier(source),
        dry_run=dry_run,
        atomic=atomic,
        batch_size=batch_size,
        progress=progress,
    )
