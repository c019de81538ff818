"""Writing rows as CSV or JSON Lines, one chunk at a time, for streamed exports.

Domain modules (``customers.exports``, ``orders.exports``) yield rows as dicts from
``QuerySet.iterator(chunk_size=…)``; these functions turn them into text without ever holding
the whole export in memory.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

CHUNK_SIZE = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula ("CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self == ExportFormat.CSV else "application/x-ndjson"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    value = _plain(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    return value


def export_lines(
    *, rows: Iterable[dict[str, Any]], columns: Sequence[str], export_format: ExportFormat
) -> Iterator[str]:
    """The export as text pieces: a header line then one line per row (CSV), or one JSON
    object per line (JSON Lines). Text cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe in CSV."""
    if export_format == ExportFormat.JSONL:
        for row in rows:
            record = {name: _plain(row.get(name)) for name in columns}
            yield json.dumps(record, ensure_ascii=False, default=str) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
