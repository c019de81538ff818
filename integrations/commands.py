"""What the import and export management commands share: arguments, the progress bar, the
report, streaming the output."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from integrations.exports import ExportFormat, export_lines
from integrations.imports import DEFAULT_BATCH_SIZE, FileFormat, ImportReport

# Exit statuses: 0 all rows fine; 2 some rows refused (the rest imported); 1 nothing written.
EXIT_ROW_ERRORS = 2
MAX_PRINTED_ERRORS = 200


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")), 1)


class ImportCommand(BaseCommand):
    """Subclasses set ``importer`` (a function like ``catalog.imports.products_import``) and may
    add options through ``add_import_arguments`` / ``import_options``."""

    importer: Callable[..., ImportReport]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or JSON Lines file (UTF-8).")
        parser.add_argument(
            "--format",
            choices=[f.value for f in FileFormat],
            help="Default: from the file name (.jsonl / .ndjson are JSON Lines, else CSV).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--atomic", action="store_true", help="Any bad row and nothing at all is written."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="Text encoding (default UTF-8, with or without BOM; e.g. cp1252 for old Excel).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        self.add_import_arguments(parser)

    def add_import_arguments(self, parser: CommandParser) -> None:
        """Extra arguments of one importer."""

    def import_options(self, options: dict[str, Any], path: Path) -> dict[str, Any]:
        return {}

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        file_format = options["format"] or (
            FileFormat.JSONL if path.suffix.lower() in {".jsonl", ".ndjson"} else FileFormat.CSV
        )
        header_lines = 1 if file_format == FileFormat.CSV else 0
        progress_bar = tqdm(
            # an upper bound: a quoted field may span lines
            total=None if options["no_progress"] else _count_lines(path) - header_lines,
            unit=" rows",
            disable=options["no_progress"],
            file=self.stderr._out,
        )
        try:
            with path.open(encoding=options["encoding"], newline="") as stream:
                report = type(self).importer(
                    stream=stream,
                    file_format=file_format,
                    dry_run=options["dry_run"],
                    atomic=options["atomic"],
                    options=self.import_options(options, path),
                    progress=progress_bar.update,
                    batch_size=options["batch_size"],
                )
        except UnicodeDecodeError as error:
            raise CommandError(
                f"The file is not {options['encoding']} text ({error.reason} at byte "
                f"{error.start}); pass --encoding."
            ) from error
        finally:
            progress_bar.total = progress_bar.n  # the line count was an upper bound
            progress_bar.close()
        self._print(report)

    def _print(self, report: ImportReport) -> None:
        for line, message in report.errors[:MAX_PRINTED_ERRORS]:
            self.stdout.write(f"line {line}: {message}")
        if report.failed > MAX_PRINTED_ERRORS:
            self.stdout.write(f"… and {report.failed - MAX_PRINTED_ERRORS} more rows with errors")
        for note in report.notes:
            self.stdout.write(note)
        self.stdout.write(report.summary())
        if report.is_refused:
            raise CommandError("Nothing was imported (--atomic).", returncode=1)
        if report.failed:
            raise CommandError(
                f"{report.failed} rows were not imported.", returncode=EXIT_ROW_ERRORS
            )


class ExportCommand(BaseCommand):
    """What the export commands share: --format, --since/--until, --output (default stdout).
    Subclasses implement ``rows_and_columns``."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=[f.value for f in ExportFormat], default="csv")
        parser.add_argument("--since", type=_moment, help="ISO date or date-time (inclusive).")
        parser.add_argument("--until", type=_moment, help="ISO date or date-time (exclusive).")
        parser.add_argument("--output", type=Path, help="File to write (default: stdout).")
        self.add_export_arguments(parser)

    def add_export_arguments(self, parser: CommandParser) -> None:
        """Extra arguments of one export."""

    def rows_and_columns(
        self, options: dict[str, Any]
    ) -> tuple[Iterable[dict[str, Any]], list[str]]:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        rows, columns = self.rows_and_columns(options)
        lines = export_lines(
            rows=rows, columns=columns, export_format=ExportFormat(options["format"])
        )
        if options["output"] is None:
            try:
                for piece in lines:
                    self.stdout.write(piece, ending="")
            except BrokenPipeError:  # piped into `head`: the reader has what it wanted
                return
            return
        with options["output"].open("w", encoding="utf-8", newline="") as handle:
            for piece in lines:
                handle.write(piece)


def _moment(value: str) -> datetime:
    parsed = parse_datetime(value) or _midnight(value)
    if parsed is None:
        raise ValueError(value)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _midnight(value: str) -> datetime | None:
    day = parse_date(value)
    return datetime(day.year, day.month, day.day) if day else None


def staff_actor(username: str | None, action: Any) -> Any:
    """The staff member an export of personal data is logged under; they must be allowed to
    export it. Raises CommandError."""
    from django.contrib.auth import get_user_model

    from interaction_platform.permissions import can

    if not username:
        raise CommandError("Exports of personal data need --actor USERNAME (for the access log).")
    actor = get_user_model().objects.filter(username=username, is_active=True).first()
    if actor is None or not can(actor, action):
        raise CommandError(f"'{username}' is not an active user allowed to export this.")
    return actor
