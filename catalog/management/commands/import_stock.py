"""manage.py import_stock FILE [--mode absolute|delta] [--dry-run] [--atomic]."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from catalog.imports import stock_import
from integrations.commands import ImportCommand, file_sha256


class Command(ImportCommand):
    help = (
        "Set (absolute: column on_hand) or adjust (delta: column delta) stock per SKU and "
        "location. A delta file is applied all or nothing, and never twice."
    )
    importer = staticmethod(stock_import)

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mode", choices=["absolute", "delta"], default="absolute")

    def import_options(self, options: dict[str, Any], path: Path) -> dict[str, Any]:
        return {"mode": options["mode"], "content_sha256": file_sha256(path)}
