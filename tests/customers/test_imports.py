"""Customers from a legacy CRM: identities normalised and resolved like the pipeline's, so a
customer who already shopped online is updated, never duplicated; two people are never
merged; messy files; streaming in batches."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from customers.imports import customers_import
from customers.models import ConsentRecord, Customer, Identity
from integrations.imports import FileFormat
from tests import factories

pytestmark = pytest.mark.django_db

# A legacy CRM export: BOM, semicolons, an address with a quoted newline, upper-case and
# padded e-mails, national phone numbers, a repeated person, unicode look-alikes, bad rows.
CRM_CSV = (
    "\ufeffCustomer ID;E-mail;Phone;First name;Last name;Address line1;Postcode;City;Country;"
    "Email consent\r\n"
    '1001;  ANNA.Visser@Example.com ;06 12345678;Anna;Visser;"Damrak 1\r\n3rd floor";'
    "1012 LG;Amsterdam;nl;yes\r\n"
    "1002;bram@example.com;;Bram;de Vries;;;;;no\r\n"
    "1002;bram@example.com;;Bram;de Vries;;;;;no\r\n"
    # a Cyrillic small a (U+0430) in the local part: not an e-mail address at all
    "1003;\u0430nna.visser@example.com;;Fake;Anna;;;;;\r\n"
    # a Cyrillic small ie (U+0435) in the domain: a valid, different address; never Anna's
    "1004;anna.visser@\u0435xample.com;;Look;Alike;;;;;\r\n"
    "1005;not-an-email;;Carl;;;;;;\r\n"
    "1006;carl@example.com;12;Carl;;;;;;\r\n"
    ";;;Nobody;Known;;;;;\r\n"
    "1007;dana@example.com;;Dana;;;;;XYZ;\r\n"
    "1008;eve@example.com;;Eve;;;;;;maybe\r\n"
)
CRM_ERRORS = [
    (6, "email: '\u0430nna.visser@example.com' is not an e-mail address."),
    (8, "email: 'not-an-email' is not an e-mail address."),
    (9, "phone: '12' is not a valid phone number."),
    (10, "needs at least one of email, phone, loyalty_number or external_id"),
    (11, "country must be a two-letter code, not 'XYZ'"),
    (12, "email_consent must be true or false, not 'maybe'"),
]


def _identities() -> set[tuple[str, str, str]]:
    return set(Identity.objects.values_list("customer__first_name", "kind", "value"))


class TestMessyFile:
    def test_good_rows_are_imported_bad_rows_reported_by_line(self) -> None:
        # when
        report = customers_import(stream=io.StringIO(CRM_CSV))
        # then
        assert report.errors == CRM_ERRORS
        assert (report.rows, report.created, report.updated, report.failed) == (10, 3, 1, 6)
        assert _identities() == {
            ("Anna", "email", "anna.visser@example.com"),
            ("Anna", "phone", "+31612345678"),
            ("Anna", "external", "legacy-crm:1001"),
            ("Bram", "email", "bram@example.com"),
            ("Bram", "external", "legacy-crm:1002"),
            ("Look", "email", "anna.visser@\u0435xample.com"),
            ("Look", "external", "legacy-crm:1004"),
        }
        anna = Customer.objects.get(first_name="Anna")
        assert (anna.email, anna.phone, anna.address_line1, anna.country) == (
            "anna.visser@example.com",
            "+31612345678",
            "Damrak 1\r\n3rd floor",
            "NL",
        )
        assert anna.is_identified
        assert set(
            ConsentRecord.objects.values_list(
                "customer__first_name", "purpose", "is_granted", "source", "channel"
            )
        ) == {
            ("Anna", "email", True, "import", "system"),
            ("Bram", "email", False, "import", "system"),
        }

    def test_the_same_file_twice_changes_nothing(self) -> None:
        customers_import(stream=io.StringIO(CRM_CSV))
        before = (_identities(), Customer.objects.count(), ConsentRecord.objects.count())
        report = customers_import(stream=io.StringIO(CRM_CSV))
        assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 4, 6)
        assert (_identities(), Customer.objects.count(), ConsentRecord.objects.count()) == before

    def test_a_dry_run_writes_nothing(self) -> None:
        report = customers_import(stream=io.StringIO(CRM_CSV), dry_run=True)
        assert (report.created, report.updated, report.failed) == (3, 1, 6)
        assert Customer.objects.count() == Identity.objects.count() == 0

    def test_atomic_with_a_bad_row_writes_nothing(self) -> None:
        report = customers_import(stream=io.StringIO(CRM_CSV), atomic=True)
        assert report.is_refused
        assert Customer.objects.count() == Identity.objects.count() == 0


class TestResolution:
    def test_a_customer_who_shopped_online_is_updated_not_duplicated(self) -> None:
        # given: known from the web store, with a name the CRM spells differently
        online = factories.CustomerFactory(
            email="anna.visser@example.com", first_name="Anna", last_name="Visser-Smit", phone=""
        )
        # when
        report = customers_import(stream=io.StringIO(CRM_CSV))
        # then
        assert report.created == 2  # Bram and the look-alike; Anna is matched
        online.refresh_from_db()
        assert Customer.objects.filter(first_name="Anna").count() == 1
        assert online.last_name == "Visser-Smit"  # what the platform has is never overwritten
        assert online.phone == "+31612345678"  # a blank is filled in
        assert set(online.identities.values_list("kind", flat=True)) == {
            "email",
            "phone",
            "external",
        }

    def test_an_email_that_differs_only_in_case_and_spaces_is_the_same_person(self) -> None:
        factories.CustomerFactory(email="bram@example.com", first_name="Bram")
        customers_import(stream=io.StringIO("email\n  BRAM@EXAMPLE.COM\n"))
        assert Customer.objects.count() == 1

    def test_identifiers_of_two_different_people_are_refused_and_nothing_changes(self) -> None:
        # given
        anna = factories.CustomerFactory(email="anna@example.com", phone="+31611111111")
        bram = factories.CustomerFactory(email="bram@example.com", phone="+31622222222")
        before = _identities()
        # when: the CRM has Anna's e-mail with Bram's phone
        report = customers_import(
            stream=io.StringIO("email,phone,last_name\nanna@example.com,+31622222222,X\n")
        )
        # then
        assert report.errors == [
            (
                2,
                f"its identifiers belong to 2 different customers ({anna.public_id}, "
                f"{bram.public_id}); people are never merged by an import: review them in the "
                "console",
            )
        ]
        assert _identities() == before
        assert Customer.objects.count() == 2

    def test_an_absorbed_profile_leads_to_its_survivor(self) -> None:
        survivor = factories.CustomerFactory(email="anna@example.com", phone="")
        absorbed = factories.CustomerFactory(email="", phone="", identities=False)
        Customer.objects.filter(pk=absorbed.pk).update(merged_into=survivor)
        Identity.objects.create(customer=absorbed, kind="loyalty", value="NW12345")
        report = customers_import(
            stream=io.StringIO("email,loyalty_number\nanna@example.com,nw-12345\n")
        )
        assert (report.created, report.updated, report.failed) == (0, 1, 0)
        survivor.refresh_from_db()
        assert survivor.loyalty_number == "NW12345"
        assert Customer.objects.count() == 2

    def test_consent_given_on_the_platform_is_never_overridden(self) -> None:
        from customers.consent import consent_set
        from customers.models import ConsentPurpose

        anna = factories.CustomerFactory(email="anna@example.com")
        consent_set(
            customer=anna, purpose=ConsentPurpose.EMAIL, is_granted=False, channel="web", source="f"
        )
        customers_import(stream=io.StringIO("email,email_consent\nanna@example.com,yes\n"))
        anna.refresh_from_db()
        assert anna.email_consent is False
        assert ConsentRecord.objects.count() == 1


class TestJsonLines:
    def test_json_lines_with_a_broken_line(self) -> None:
        lines = [
            json.dumps({"external_id": 7, "email": "zoe@example.com", "first_name": "Zoë"}),
            "{not json",
            json.dumps(["a", "list"]),
            "",
            json.dumps({"loyalty_number": "NW 0042", "sms_consent": True}),
        ]
        report = customers_import(
            stream=io.StringIO("\n".join(lines)), file_format=FileFormat.JSONL
        )
        assert report.errors == [
            (2, "this row is not valid JSON (Expecting property name enclosed in double quotes)"),
            (3, "this row is not a JSON object"),
        ]
        assert report.created == 2
        assert _identities() == {
            ("Zoë", "email", "zoe@example.com"),
            ("Zoë", "external", "legacy-crm:7"),
            ("", "loyalty", "NW0042"),
        }
        assert Customer.objects.get(loyalty_number="NW0042").sms_consent is True


class _CountingLines(io.TextIOBase):
    """A JSON Lines stream that counts how many lines the importer has pulled from it."""

    def __init__(self, rows: int) -> None:
        self.pulled = 0
        self._lines: Iterator[str] = (
            json.dumps({"email": f"person{n}@example.com"}) + "\n" for n in range(rows)
        )

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.pulled += 1
            yield line


def test_a_file_is_streamed_in_batches_with_a_bounded_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    # given: 95 rows in batches of 20
    stream = _CountingLines(95)
    pulled_at_each_batch: list[int] = []
    done = [0]

    def progress(rows: int) -> None:
        done[0] += rows
        pulled_at_each_batch.append(stream.pulled)

    # when
    with django_assert_max_num_queries(5 * 8):  # a few queries per batch, none per row
        report = customers_import(
            stream=stream,  # type: ignore[arg-type]
            file_format=FileFormat.JSONL,
            batch_size=20,
            progress=progress,
        )
    # then: never more than one batch was read ahead of what had been written
    assert (report.created, report.batches) == (95, 5)
    assert pulled_at_each_batch == [20, 40, 60, 80, 95]
    assert Customer.objects.count() == 95


def test_the_command_imports_a_file(tmp_path: Path) -> None:
    path = tmp_path / "crm.jsonl"
    path.write_text(json.dumps({"email": "zoe@example.com"}) + "\n")
    out = io.StringIO()
    call_command("import_customers", str(path), "--source", "siebel", "--no-progress", stdout=out)
    assert out.getvalue().strip() == (
        "1 rows read: 1 created, 0 updated, 0 unchanged, 0 with errors. Changes were saved."
    )
    assert Identity.objects.filter(kind="email", value="zoe@example.com").exists()


def test_a_row_the_database_refuses_fails_alone_and_the_batch_goes_on() -> None:
    # given: a loyalty number that is on a profile but has no identity row (older data), so
    # only the database's unique constraint can catch the clash
    factories.CustomerFactory(loyalty_number="NW5555", identities=False, email="", phone="")
    csv_text = "email,loyalty_number\na@example.com,\nb@example.com,NW5555\nc@example.com,\n"
    # when
    report = customers_import(stream=io.StringIO(csv_text))
    # then
    assert (report.created, report.failed) == (2, 1)
    assert report.errors[0][0] == 3
    assert report.errors[0][1].startswith("the database refused it (")
    assert set(Identity.objects.filter(kind="email").values_list("value", flat=True)) == {
        "a@example.com",
        "c@example.com",
    }
