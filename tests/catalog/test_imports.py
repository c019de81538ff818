"""Catalog imports from messy real-world files: BOM, semicolons, quoted newlines, bad rows,
duplicates; dry run, --atomic, idempotent re-runs, the management commands and the admin."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from catalog.imports import prices_import, products_import, stock_import
from catalog.models import Price, Product, StockLevel, Variant
from integrations.commands import file_sha256
from integrations.models import IdempotencyRecord, ImportRun, WebhookEvent
from tests import factories

pytestmark = pytest.mark.django_db

# Excel's "CSV UTF-8" on a Dutch machine: a BOM, semicolons, a description with a quoted
# newline, a repeated row, and bad rows.
PRODUCTS_CSV = (
    "\ufeffProduct Slug;Product Name;Category;Brand;Description;SKU;Barcode;"
    "Variant Name;Weight grams\r\n"
    'harbour-parka;Harbour Parka;coats;Northwind;"Warm.\r\nWaterproof; windproof.";'
    "HP-S;8712345000011;S;900\r\n"
    "harbour-parka;Harbour Parka;coats;Northwind;;HP-M;8712345000028;M;950\r\n"
    "harbour-parka;Harbour Parka;coats;Northwind;;HP-M;8712345000028;M;950\r\n"
    "dune-shirt;Dune Shirt;nowhere;Northwind;;DS-1;8712345000035;One size;\r\n"
    "dune-shirt;Dune Shirt;coats;Northwind;;DS-1;12AB;One size;\r\n"
    "dune-shirt;Dune Shirt;coats;Northwind;;DS-2;8712345000011;One size;\r\n"
    "too;few;fields\r\n"
    "dune-shirt;Dune Shirt;coats;Northwind;;DS-3;8712345000042;L;-5\r\n"
)  # fmt: skip
# Line numbers count physical lines: the parka's quoted description spans lines 2 and 3.
PRODUCT_ERRORS = [
    (6, "there is no category 'nowhere'"),
    (7, "barcode '12AB': A barcode is 8 to 14 digits (EAN/UPC/GTIN)."),
    (8, "barcode 8712345000011 belongs to another SKU"),
    (9, "this row has 3 fields where the header has 9"),
    (10, "'weight_grams' cannot be negative"),
]


@pytest.fixture
def coats() -> Any:
    return factories.CategoryFactory(slug="coats")


def _catalog() -> list[tuple[str, str, str, str, int | None]]:
    return list(
        Variant.objects.order_by("sku").values_list(
            "product__slug", "sku", "barcode", "name", "weight_grams"
        )
    )


class TestProducts:
    def test_good_rows_are_imported_and_bad_rows_reported_with_their_lines(
        self, coats: Any
    ) -> None:
        # when
        report = products_import(stream=io.StringIO(PRODUCTS_CSV))
        # then
        assert report.errors == PRODUCT_ERRORS
        assert (report.rows, report.created, report.updated, report.unchanged, report.failed) == (
            8,
            2,
            0,
            1,
            5,
        )
        assert _catalog() == [
            ("harbour-parka", "HP-M", "8712345000028", "M", 950),
            ("harbour-parka", "HP-S", "8712345000011", "S", 900),
        ]
        parka = Product.objects.get(slug="harbour-parka")
        assert parka.description == "Warm.\r\nWaterproof; windproof."
        # a refused row leaves no trace, not even its product
        assert not Product.objects.filter(slug="dune-shirt").exists()

    def test_the_same_file_twice_changes_nothing(self, coats: Any) -> None:
        products_import(stream=io.StringIO(PRODUCTS_CSV))
        before = _catalog()
        report = products_import(stream=io.StringIO(PRODUCTS_CSV))
        assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 3, 5)
        assert _catalog() == before

    def test_a_dry_run_reports_the_same_and_writes_nothing(self, coats: Any) -> None:
        report = products_import(stream=io.StringIO(PRODUCTS_CSV), dry_run=True)
        assert (report.created, report.unchanged, report.failed) == (2, 1, 5)
        assert report.errors == PRODUCT_ERRORS
        assert report.summary().endswith("Dry run: nothing was written.")
        assert Product.objects.count() == Variant.objects.count() == 0

    def test_atomic_with_a_bad_row_writes_nothing(self, coats: Any) -> None:
        report = products_import(stream=io.StringIO(PRODUCTS_CSV), atomic=True)
        assert report.is_refused
        assert report.failed == 5
        assert Product.objects.count() == Variant.objects.count() == 0

    def test_a_change_updates_only_what_changed(self, coats: Any) -> None:
        products_import(stream=io.StringIO(PRODUCTS_CSV))
        changed = PRODUCTS_CSV.replace("HP-M;8712345000028;M;950", "HP-M;8712345000028;Medium;950")
        report = products_import(stream=io.StringIO(changed))
        # the HP-M row appears twice: the first copy changes it, the second finds it done
        assert (report.updated, report.unchanged) == (1, 2)
        assert Variant.objects.get(sku="HP-M").name == "Medium"

    def test_a_sku_is_not_moved_to_another_product(self, coats: Any) -> None:
        factories.VariantFactory(sku="HP-S", product__slug="other")
        report = products_import(stream=io.StringIO(PRODUCTS_CSV))
        assert report.errors[0] == (
            2,
            "SKU 'HP-S' belongs to product 'other', not 'harbour-parka'; variants are not "
            "moved between products by an import",
        )
        assert Variant.objects.get(sku="HP-S").product.slug == "other"


class TestPrices:
    def test_prices_with_a_decimal_comma_and_bad_rows(self) -> None:
        # given
        factories.VariantFactory(sku="NW-1")
        factories.PriceListFactory(channel="web", currency="EUR")
        csv_text = (
            "sku\tchannel\tcurrency\tamount\tcompare_at_amount\n"
            "NW-1\tWeb\teur\t39,95\t49,95\n"
            "NW-1\tpos\tEUR\t10\t\n"
            "NW-2\tweb\tEUR\t1.005\t\n"
        )
        # when
        report = prices_import(stream=io.StringIO(csv_text))
        # then
        assert report.errors == [
            (3, "'pos' is not a selling channel (app, call_centre, store, web)."),
            (4, "No product has SKU 'NW-2'.; amount has at most 2 decimals."),
        ]
        assert list(Price.objects.values_list("amount", "compare_at_amount")) == [
            (Decimal("39.95"), Decimal("49.95"))
        ]
        again = prices_import(stream=io.StringIO(csv_text))
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


class TestStock:
    @pytest.fixture
    def shelf(self, store: Any) -> Any:
        factories.StockLevelFactory(
            variant=factories.VariantFactory(sku="NW-1"), location=store, on_hand=10, reserved=4
        )
        factories.VariantFactory(sku="NW-2")
        return store

    def test_absolute_counts_never_go_below_reserved(self, shelf: Any) -> None:
        csv_text = f"sku,location,on_hand\nNW-1,{shelf.code},3\nNW-2,{shelf.code},8\n"
        report = stock_import(stream=io.StringIO(csv_text))
        assert report.errors == [
            (
                2,
                "This would leave 3 on hand, fewer than the 4 units reserved for open orders; "
                "the row was not applied.",
            )
        ]
        assert set(StockLevel.objects.values_list("variant__sku", "on_hand", "reserved")) == {
            ("NW-1", 10, 4),
            ("NW-2", 8, 0),
        }

    def test_a_delta_file_is_applied_once(self, shelf: Any, tmp_path: Path) -> None:
        # given
        path = tmp_path / "delta.csv"
        path.write_text(f"sku,location,delta\nNW-1,{shelf.code},-5\n")
        # when
        call_command(
            "import_stock", str(path), "--mode", "delta", "--no-progress", stdout=io.StringIO()
        )
        out = io.StringIO()
        call_command("import_stock", str(path), "--mode", "delta", "--no-progress", stdout=out)
        # then
        assert StockLevel.objects.get().on_hand == 5
        assert out.getvalue().splitlines()[-2:] == [
            f"This delta file (SHA-256 {file_sha256(path)[:12]}…) was applied on "
            f"{IdempotencyRecord.objects.get().created_at:%Y-%m-%d %H:%M} UTC; it is not "
            "applied twice.",
            "0 rows read: 0 created, 0 updated, 0 unchanged, 0 with errors. The file was not "
            "applied: nothing was written.",
        ]

    def test_a_refused_delta_file_writes_nothing_and_may_be_fixed(
        self, shelf: Any, tmp_path: Path
    ) -> None:
        path = tmp_path / "delta.csv"
        path.write_text(f"sku,location,delta\nNW-1,{shelf.code},-1\nNW-1,{shelf.code},-9\n")
        out = io.StringIO()
        with pytest.raises(CommandError, match=r"Nothing was imported \(--atomic\)"):
            call_command("import_stock", str(path), "--mode", "delta", "--no-progress", stdout=out)
        assert "line 3: The same SKU and location are already in row 0" in out.getvalue()
        assert StockLevel.objects.get(variant__sku="NW-1").on_hand == 10
        path.write_text(f"sku,location,delta\nNW-1,{shelf.code},-1\n")
        call_command("import_stock", str(path), "--mode", "delta", "--no-progress", stdout=out)
        assert StockLevel.objects.get(variant__sku="NW-1").on_hand == 9

    def test_stock_low_is_emitted_by_an_import(self, shelf: Any, settings: Any) -> None:
        settings.STOCK_LOW_THRESHOLD = 5
        stock_import(stream=io.StringIO(f"sku,location,on_hand\nNW-1,{shelf.code},8\n"))
        assert [e.payload["available"] for e in WebhookEvent.objects.all()] == [4]


class TestCommands:
    def test_row_errors_are_printed_and_the_exit_status_says_so(
        self, coats: Any, tmp_path: Path
    ) -> None:
        path = tmp_path / "products.csv"
        path.write_text(PRODUCTS_CSV, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError) as raised:
            call_command("import_products", str(path), stdout=out, stderr=err)
        assert raised.value.returncode == 2
        lines = out.getvalue().splitlines()
        assert lines[:5] == [f"line {line}: {message}" for line, message in PRODUCT_ERRORS]
        assert lines[5] == (
            "8 rows read: 2 created, 0 updated, 1 unchanged, 5 with errors. Changes were saved."
        )
        assert "rows" in err.getvalue()  # the progress bar
        assert Variant.objects.count() == 2

    def test_a_file_that_is_not_utf8_is_refused_clearly(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.csv"
        path.write_bytes("sku,channel,currency,amount\nCAFÉ,web,EUR,1\n".encode("cp1252"))
        with pytest.raises(CommandError, match="not utf-8-sig text"):
            call_command("import_prices", str(path), "--no-progress", stdout=io.StringIO())


def test_the_admin_dry_runs_an_upload_then_applies_it(admin_client: Client, coats: Any) -> None:
    # given: an upload
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("products.csv", PRODUCTS_CSV.encode("utf-8"))
    # when
    response = admin_client.post(
        "/admin/integrations/importrun/add/",
        {"kind": "products", "upload": upload, "stock_mode": "absolute"},
        follow=True,
    )
    # then: a dry run, nothing written
    assert response.status_code == 200
    run = ImportRun.objects.get()
    assert (run.status, run.report["created"], run.report["failed"]) == ("previewed", 2, 5)
    assert run.report["errors"][0] == {"line": 6, "message": "there is no category 'nowhere'"}
    assert Variant.objects.count() == 0
    page = admin_client.get(f"/admin/integrations/importrun/{run.pk}/change/").content.decode()
    assert "line 6: there is no category &#x27;nowhere&#x27;" in page
    # when applied
    admin_client.post(
        "/admin/integrations/importrun/", {"action": "apply", "_selected_action": [run.pk]}
    )
    # then
    run.refresh_from_db()
    assert (run.status, run.report["created"]) == ("applied", 2)
    assert Variant.objects.count() == 2
