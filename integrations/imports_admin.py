"""Imports started from the back office: the file is kept on an ImportRun row, dry-run first,
applied on request. The importer for each kind is named in ``INTEGRATION_IMPORTERS`` (the
project's wiring), so this core app needs no import of catalog or customers."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.imports import FileFormat, ImportReport
from integrations.models import ImportKind, ImportRun, ImportStatus
from interaction_platform.errors import Conflict


def _file_format(file_name: str) -> FileFormat:
    return FileFormat.JSONL if file_name.lower().endswith((".jsonl", ".ndjson")) else FileFormat.CSV


def _run_importer(run: ImportRun, *, dry_run: bool) -> ImportReport:
    importer = import_string(settings.INTEGRATION_IMPORTERS[run.kind])
    report: ImportReport = importer(
        stream=io.StringIO(run.content),
        file_format=_file_format(run.file_name),
        dry_run=dry_run,
        atomic=bool(run.options.get("atomic")),
        options={**run.options, "content_sha256": run.content_sha256},
    )
    return report


def import_run_preview(
    *,
    kind: ImportKind,
    file_name: str,
    content: str,
    content_sha256: str,
    options: dict[str, Any],
    created_by: Any,
) -> ImportRun:
    """Keep the file and dry-run it: the run's report says what applying it would change."""
    run = ImportRun(
        kind=kind,
        file_name=file_name[:200],
        content=content,
        content_sha256=content_sha256,
        options=options,
        status=ImportStatus.PREVIEWED,
        created_by=created_by,
    )
    run.report = _run_importer(run, dry_run=True).as_dict()
    run.save()
    return run


def import_run_apply(*, run: ImportRun) -> ImportRun:
    """Import a previewed file for real. Raises Conflict when it was applied already."""
    with transaction.atomic():
        claimed = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PREVIEWED).update(
            status=ImportStatus.APPLIED, applied_at=timezone.now()
        )
        if not claimed:
            raise Conflict("This import was applied already.")
        report = _run_importer(run, dry_run=False)
        run.status = ImportStatus.REFUSED if report.is_refused else ImportStatus.APPLIED
        run.report = report.as_dict()
        run.applied_at = timezone.now()
        run.save(update_fields=["status", "report", "applied_at"])
    return run
