"""The machinery every import shares: reading rows from CSV or JSON Lines as a stream, running
them through a domain importer in batches, and reporting per row.

Reading uses the standard library's ``csv`` (with its ``Sniffer`` for ``,`` ``;`` tab or ``|``)
and ``json``: streamed, so a file of any length is read in bounded memory.
django-import-export and tablib load a whole file into memory (a ``tablib.Dataset``) and save
row by row through model forms, which neither bounds memory on a 100k-row file nor goes
through our services (identity rules, stock invariants, webhooks).

Modes:

* default: each batch is one transaction; a bad row is reported with its line number and
  the rest of the file is still imported.
* ``atomic``: one transaction; any bad row and nothing at all is written.
* ``dry_run``: everything is done inside a transaction that is then rolled back, so the
  report says exactly what would change (duplicates inside the file included).

Domain importers (``catalog.imports``, ``customers.imports``) supply a ``BatchApplier`` that
validates and writes one batch and answers per row: created, updated, unchanged or an error.
Re-running the same file must answer "unchanged" for every row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Any, TextIO

from django.db import DataError, IntegrityError, transaction

DEFAULT_BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 1000
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
csv.field_size_limit(1024 * 1024)


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class RowOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: the line it starts on, its values by (normalised) column name,
    or why it could not be read."""

    line: int
    values: dict[str, str]
    error: str = ""


class RowInvalid(Exception):
    """A row that cannot be imported; the message is shown with its line number."""


RowResult = RowOutcome | RowInvalid


# Validates and writes a batch of rows, in order; answers one result per row.
BatchApplier = Callable[[list[SourceRow]], list[RowResult]]


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    atomic: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    is_refused: bool = False
    # True when the file was not run at all (a delta file applied before): see ``notes``.
    is_skipped: bool = False
    batches: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, line: int, result: RowResult) -> None:
        self.rows += 1
        if isinstance(result, RowInvalid):
            self.failed += 1
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append((line, str(result)))
            return
        setattr(self, result.value, getattr(self, result.value) + 1)

    @property
    def is_written(self) -> bool:
        return not self.dry_run and not self.is_refused

    def summary(self) -> str:
        verb = "would be" if self.dry_run else ("were NOT" if self.is_refused else "were")
        text = (
            f"{self.rows} rows read: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} with errors."
        )
        if self.is_skipped:
            text += " The file was not applied: nothing was written."
        elif self.dry_run:
            text += " Dry run: nothing was written."
        elif self.is_refused:
            text += f" --atomic: {self.failed} bad rows, so nothing was written."
        else:
            text += f" Changes {verb} saved."
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "atomic": self.atomic,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "is_refused": self.is_refused,
            "is_skipped": self.is_skipped,
            "errors": [{"line": line, "message": message} for line, message in self.errors],
            "notes": self.notes,
            "summary": self.summary(),
        }


# --- reading ----------------------------------------------------------------------------------


def _column(name: str) -> str:
    return "_".join(name.replace("\ufeff", "").strip().lower().replace("-", " ").split())


def rows_read(*, stream: TextIO, file_format: FileFormat | str) -> Iterator[SourceRow]:
    """Records of a CSV or JSON Lines text stream, one at a time. A UTF-8 byte order mark is
    ignored; the CSV delimiter is sniffed; quoted fields may span lines (the row's line is
    where it starts). Unreadable records come back with ``error`` set."""
    if FileFormat(file_format) == FileFormat.JSONL:
        yield from _jsonl_rows(stream)
    else:
        yield from _csv_rows(stream)


def _csv_rows(stream: TextIO) -> Iterator[SourceRow]:
    sample = stream.read(SNIFF_BYTES)
    rest = stream
    text = io.StringIO(sample.removeprefix("\ufeff"))
    try:
        dialect: Any = csv.Sniffer().sniff(sample.removeprefix("\ufeff"), delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_chain(text, rest), dialect)
    try:
        header = next(reader)
    except StopIteration:
        return
    columns = [_column(name) for name in header]
    previous_end = reader.line_num
    for record in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if not record or all(not value.strip() for value in record):
            continue
        if len(record) != len(columns):
            yield SourceRow(
                line=line,
                values={},
                error=f"has {len(record)} fields where the header has {len(columns)}",
            )
            continue
        yield SourceRow(line=line, values=dict(zip(columns, record, strict=True)))


def _chain(first: TextIO, second: TextIO) -> Iterator[str]:
    """Lines of the sniffed sample, then of the rest of the stream (a line cut by the sample's
    end is joined back together)."""
    pending = ""
    for line in first:
        if line.endswith("\n"):
            yield pending + line
            pending = ""
        else:
            pending += line
    for line in second:
        yield pending + line
        pending = ""
    if pending:
        yield pending


def _jsonl_rows(stream: TextIO) -> Iterator[SourceRow]:
    for number, raw in enumerate(stream, start=1):
        text = raw.removeprefix("\ufeff").strip() if number == 1 else raw.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield SourceRow(line=number, values={}, error=f"is not valid JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            yield SourceRow(line=number, values={}, error="is not a JSON object")
            continue
        yield SourceRow(line=number, values={_column(k): _text(v) for k, v in record.items()})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- running ----------------------------------------------------------------------------------


class _RollBack(Exception):
    """Leaves a dry run's (or a refused atomic run's) transaction without committing."""


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def import_execute(
    *,
    kind: str,
    rows: Iterable[SourceRow],
    apply_batch: BatchApplier,
    dry_run: bool = False,
    atomic: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Run ``rows`` through ``apply_batch``, ``batch_size`` at a time (only one batch is in
    memory at once), and return the report. See the module docstring for the modes."""
    report = ImportReport(kind=kind, dry_run=dry_run, atomic=atomic)
    if dry_run or atomic:
        try:
            with transaction.atomic():
                _run(rows, apply_batch, report, batch_size, progress)
                if dry_run or report.failed:
                    raise _RollBack
        except _RollBack:
            report.is_refused = atomic and not dry_run and report.failed > 0
        return report
    _run(rows, apply_batch, report, batch_size, progress)
    return report


def _run(
    rows: Iterable[SourceRow],
    apply_batch: BatchApplier,
    report: ImportReport,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    """Each batch runs in its own transaction, or in a savepoint inside the caller's."""
    for batch in _batches(rows, batch_size):
        readable = [row for row in batch if not row.error]
        applied = _apply(apply_batch, readable)
        results = dict(zip((row.line for row in readable), applied, strict=True))
        for row in batch:
            result = RowInvalid(f"this row {row.error}") if row.error else results[row.line]
            report.add(row.line, result)
        report.batches += 1
        if progress is not None:
            progress(len(batch))


def _apply(apply_batch: BatchApplier, rows: list[SourceRow]) -> list[RowResult]:
    """The batch in one transaction (a savepoint inside an atomic run); when the database
    refuses it (a constraint the importer could not foresee, a concurrent writer), row by
    row, so only the offending rows fail."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            return _checked(apply_batch(rows), rows)
    except (IntegrityError, DataError):
        pass
    results: list[RowResult] = []
    for row in rows:
        try:
            with transaction.atomic():
                results.extend(_checked(apply_batch([row]), [row]))
        except (IntegrityError, DataError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            results.append(RowInvalid(f"the database refused it ({first_line[:200]})"))
    return results


def _checked(results: list[RowResult], rows: list[SourceRow]) -> list[RowResult]:
    if len(results) != len(rows):
        raise RuntimeError(f"the importer answered {len(results)} results for {len(rows)} rows")
    return results
