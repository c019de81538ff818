"""manage.py import_customers FILE [--source NAME] [--dry-run] [--atomic]."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from customers.imports import DEFAULT_SOURCE, customers_import
from integrations.commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers from a legacy CRM (CSV or JSON Lines), resolving identities so that "
        "people already known are updated, not duplicated. Streams: any file size."
    )
    importer = staticmethod(customers_import)

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            default=DEFAULT_SOURCE,
            help="The CRM's name: its ids become identities '<source>:<id>'.",
        )

    def import_options(self, options: dict[str, Any], path: Path) -> dict[str, Any]:
        return {"source": options["source"]}
