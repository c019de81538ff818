"""Catalog imports from files: products and variants, prices per channel, stock per location.

Each importer reads a CSV / JSON Lines stream through :mod:`integrations.imports` (batches,
dry run, ``atomic``, row errors with line numbers) and writes through the same rules as the
sync API (:mod:`catalog.sync`). Re-running a file changes nothing: rows come back
"unchanged". A stock *delta* file is the exception by nature (adding 5 twice is 10), so a
delta file is remembered by its SHA-256 and refused the second time, and is always applied
all or nothing (a half-applied delta file could not be safely re-run).

Columns (header names are case-insensitive; spaces and dashes count as underscores):

* products: ``product_slug``, ``product_name``, ``category`` (slug), ``brand``,
  ``description``, ``sku``, ``barcode``, ``variant_name``, ``weight_grams``, ``attributes``
  (a JSON object), ``is_published`` (product and variant).
* prices: ``sku``, ``channel``, ``currency``, ``amount``, ``compare_at_amount``.
* stock: ``sku``, ``location`` (code), and ``on_hand`` (absolute) or ``delta``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from django.core.exceptions import ValidationError

from catalog.models import Category, Product, Variant, barcode_validator
from catalog.sync import (
    ChangeOutcome,
    PriceChange,
    StockChange,
    StockMode,
    price_changes_apply,
    stock_changes_apply,
)
from integrations.idempotency import idempotent_call
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
from integrations.models import IdempotencyRecord

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "ja", "x"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "nee", ""})
Progress = Callable[[int], None] | None


def _required(row: SourceRow, name: str) -> str:
    value = row.values.get(name, "").strip()
    if not value:
        raise RowInvalid(f"'{name}' is required")
    if "\x00" in value:
        raise RowInvalid(f"'{name}' contains a NUL character")
    return value


def _optional(row: SourceRow, name: str) -> str | None:
    """None when the column is absent or empty (the current value is kept)."""
    value = row.values.get(name)
    if value is None or not value.strip():
        return None
    if "\x00" in value:
        raise RowInvalid(f"'{name}' contains a NUL character")
    return value.strip()


def _boolean(row: SourceRow, name: str) -> bool | None:
    value = _optional(row, name)
    if value is None:
        return None
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise RowInvalid(f"'{name}' must be true or false, not '{value}'")


def _integer(row: SourceRow, name: str, *, required: bool = True) -> int | None:
    value = _required(row, name) if required else _optional(row, name)
    if value is None:
        return None
    try:
        return int(value.replace(" ", ""))
    except ValueError as error:
        raise RowInvalid(f"'{name}' must be a whole number, not '{value}'") from error


def _decimal(row: SourceRow, name: str, *, required: bool = True) -> Decimal | None:
    value = _required(row, name) if required else _optional(row, name)
    if value is None:
        return None
    # Accept a decimal comma (1234,50) as European ERPs write it, but never a thousands mark.
    text = value.replace(",", ".") if value.count(",") == 1 and "." not in value else value
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise RowInvalid(f"'{name}' must be an amount like 49.95, not '{value}'") from error


def _outcome(outcome: ChangeOutcome) -> RowOutcome:
    return RowOutcome(outcome.value)


# --- products and variants --------------------------------------------------------------------

_PRODUCT_FIELDS = ("name", "brand", "description", "category_id", "is_published")
_VARIANT_FIELDS = ("barcode", "name", "weight_grams", "attributes", "is_published")


def _product_values(row: SourceRow, categories: dict[str, int]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (name := _optional(row, "product_name")) is not None:
        values["name"] = name[:200]
    if (brand := _optional(row, "brand")) is not None:
        values["brand"] = brand[:120]
    if (description := _optional(row, "description")) is not None:
        values["description"] = description
    if (category := _optional(row, "category")) is not None:
        if category not in categories:
            raise RowInvalid(f"there is no category '{category}'")
        values["category_id"] = categories[category]
    if (published := _boolean(row, "is_published")) is not None:
        values["is_published"] = published
    return values


def _variant_values(row: SourceRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (barcode := _optional(row, "barcode")) is not None:
        try:
            barcode_validator(barcode)
        except ValidationError as error:
            raise RowInvalid(f"barcode '{barcode}': {error.messages[0]}") from error
        values["barcode"] = barcode
    if (name := _optional(row, "variant_name")) is not None:
        values["name"] = name[:120]
    if (weight := _integer(row, "weight_grams", required=False)) is not None:
        if weight < 0:
            raise RowInvalid("'weight_grams' cannot be negative")
        values["weight_grams"] = weight
    if (attributes := _optional(row, "attributes")) is not None:
        try:
            parsed = json.loads(attributes)
        except json.JSONDecodeError as error:
            raise RowInvalid("'attributes' must be a JSON object") from error
        if not isinstance(parsed, dict):
            raise RowInvalid("'attributes' must be a JSON object")
        values["attributes"] = parsed
    if (published := _boolean(row, "is_published")) is not None:
        values["is_published"] = published
    return values


def _changed(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _apply_products(rows: list[SourceRow]) -> list[RowResult]:
    slugs = {row.values.get("product_slug", "").strip() for row in rows}
    skus = {row.values.get("sku", "").strip() for row in rows}
    products = {p.slug: p for p in Product.objects.select_for_update().filter(slug__in=slugs)}
    variants = {
        v.sku: v
        for v in Variant.objects.select_for_update().filter(sku__in=skus).select_related("product")
    }
    categories = dict(Category.objects.values_list("slug", "pk"))
    results: list[RowResult] = []
    for row in rows:
        try:
            results.append(_apply_product_row(row, products, variants, categories))
        except RowInvalid as error:
            results.append(error)
    return results


def _apply_product_row(
    row: SourceRow,
    products: dict[str, Product],
    variants: dict[str, Variant],
    categories: dict[str, int],
) -> RowOutcome:
    """Everything is checked before anything is written, so a refused row leaves no trace."""
    slug = _required(row, "product_slug")
    sku = _required(row, "sku")
    product_values = _product_values(row, categories)
    variant_values = _variant_values(row)
    product = products.get(slug)
    variant = variants.get(sku)
    if product is None and ("name" not in product_values or "category_id" not in product_values):
        raise RowInvalid(f"new product '{slug}' needs 'product_name' and 'category'")
    if variant is not None and (product is None or variant.product_id != product.pk):
        raise RowInvalid(
            f"SKU '{sku}' belongs to product '{variant.product.slug}', not '{slug}'; "
            "variants are not moved between products by an import"
        )
    if variant is None and "barcode" not in variant_values:
        raise RowInvalid(f"new variant '{sku}' needs a 'barcode'")
    barcode = variant_values.get("barcode")
    if barcode and (variant is None or barcode != variant.barcode):
        taken = Variant.objects.filter(barcode=barcode)
        if variant is not None:
            taken = taken.exclude(pk=variant.pk)
        if taken.exists():
            raise RowInvalid(f"barcode {barcode} belongs to another SKU")
    created = False
    if product is None:
        product = Product.objects.create(slug=slug[:220], **product_values)
        products[slug] = product
        created = True
    elif changed := _changed(product, product_values):
        product.save(update_fields=[*changed, "updated_at"])
    if variant is None:
        variants[sku] = Variant.objects.create(product=product, sku=sku[:64], **variant_values)
        return RowOutcome.CREATED
    if changed := _changed(variant, variant_values):
        variant.save(update_fields=changed)
        return RowOutcome.CREATED if created else RowOutcome.UPDATED
    return RowOutcome.CREATED if created else RowOutcome.UNCHANGED


def products_import(
    *,
    stream: TextIO,
    file_format: FileFormat | str = FileFormat.CSV,
    dry_run: bool = False,
    atomic: bool = False,
    options: dict[str, Any] | None = None,
    progress: Progress = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Create or update products (by slug) and their variants (by SKU), one variant a row."""
    return import_execute(
        kind="products",
        rows=rows_read(stream=stream, file_format=file_format),
        apply_batch=_apply_products,
        dry_run=dry_run,
        atomic=atomic,
        batch_size=batch_size,
        progress=progress,
    )


# --- prices -----------------------------------------------------------------------------------


def _price_change(row: SourceRow) -> PriceChange:
    amount = _decimal(row, "amount")
    assert amount is not None
    return PriceChange(
        sku=_required(row, "sku"),
        channel=_required(row, "channel").lower(),
        currency=_required(row, "currency").upper(),
        amount=amount,
        compare_at_amount=_decimal(row, "compare_at_amount", required=False),
    )


def _apply_prices(rows: list[SourceRow]) -> list[RowResult]:
    parsed: list[PriceChange | RowInvalid] = []
    for row in rows:
        try:
            parsed.append(_price_change(row))
        except RowInvalid as error:
            parsed.append(error)
    changes = [item for item in parsed if isinstance(item, PriceChange)]
    applied, errors = price_changes_apply(changes=changes)
    by_change = iter(range(len(changes)))
    results: list[RowResult] = []
    for item in parsed:
        if isinstance(item, RowInvalid):
            results.append(item)
            continue
        index = next(by_change)
        result = applied[index]
        if result is None:
            results.append(RowInvalid("; ".join(errors[index])))
        else:
            results.append(_outcome(result.outcome))
    return results


def prices_import(
    *,
    stream: TextIO,
    file_format: FileFormat | str = FileFormat.CSV,
    dry_run: bool = False,
    atomic: bool = False,
    options: dict[str, Any] | None = None,
    progress: Progress = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Set prices per SKU, channel and currency (the channel's active price list)."""
    return import_execute(
        kind="prices",
        rows=rows_read(stream=stream, file_format=file_format),
        apply_batch=_apply_prices,
        dry_run=dry_run,
        atomic=atomic,
        batch_size=batch_size,
        progress=progress,
    )


# --- stock ------------------------------------------------------------------------------------


def _stock_applier(mode: StockMode) -> Callable[[list[SourceRow]], list[RowResult]]:
    column = "on_hand" if mode == StockMode.ABSOLUTE else "delta"

    def apply(rows: list[SourceRow]) -> list[RowResult]:
        parsed: list[StockChange | RowInvalid] = []
        for row in rows:
            try:
                quantity = _integer(row, column)
                assert quantity is not None
                parsed.append(
                    StockChange(
                        sku=_required(row, "sku"),
                        location=_required(row, "location"),
                        quantity=quantity,
                    )
                )
            except RowInvalid as error:
                parsed.append(error)
        changes = [item for item in parsed if isinstance(item, StockChange)]
        applied, errors = stock_changes_apply(changes=changes, mode=mode)
        by_change = iter(range(len(changes)))
        results: list[RowResult] = []
        for item in parsed:
            if isinstance(item, RowInvalid):
                results.append(item)
                continue
            index = next(by_change)
            result = applied[index]
            results.append(
                RowInvalid("; ".join(errors[index])) if result is None else _outcome(result.outcome)
            )
        return results

    return apply


DELTA_FILE_SCOPE = "import:stock-delta"


def stock_import(
    *,
    stream: TextIO,
    file_format: FileFormat | str = FileFormat.CSV,
    dry_run: bool = False,
    atomic: bool = False,
    options: dict[str, Any] | None = None,
    progress: Progress = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Set (``options["mode"] == "absolute"``, the default) or adjust (``"delta"``) stock.

    A delta file needs ``options["content_sha256"]``: it is applied all or nothing, and a file
    already applied is not applied again (the report says when it was)."""
    options = options or {}
    mode = StockMode(options.get("mode", StockMode.ABSOLUTE))

    def run(*, is_atomic: bool) -> ImportReport:
        return import_execute(
            kind=f"stock ({mode.value})",
            rows=rows_read(stream=stream, file_format=file_format),
            apply_batch=_stock_applier(mode),
            dry_run=dry_run,
            atomic=is_atomic,
            batch_size=batch_size,
            progress=progress,
        )

    if mode == StockMode.ABSOLUTE:
        return run(is_atomic=atomic)
    digest = options["content_sha256"]
    applied = IdempotencyRecord.objects.filter(scope=DELTA_FILE_SCOPE, key=digest).first()
    if applied is not None:
        report = ImportReport(
            kind=f"stock ({mode.value})", dry_run=dry_run, atomic=True, is_skipped=True
        )
        report.notes.append(
            f"This delta file (SHA-256 {digest[:12]}…) was applied on "
            f"{applied.created_at:%Y-%m-%d %H:%M} UTC; it is not applied twice."
        )
        return report
    if dry_run:
        return run(is_atomic=True)
    outcome: dict[str, ImportReport] = {}

    def work() -> tuple[int, dict[str, Any]]:
        report = run(is_atomic=True)
        outcome["report"] = report
        if report.is_refused:
            raise _Refused
        return 200, report.as_dict()

    # A refused file rolls back its claim: nothing was written, so it may be fixed and re-run.
    with contextlib.suppress(_Refused):
        idempotent_call(scope=DELTA_FILE_SCOPE, key=digest, payload={"sha256": digest}, work=work)
    return outcome["report"]


class _Refused(Exception):
    """Rolls back the claim on a delta file whose rows were refused."""
