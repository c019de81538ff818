"""manage.py export_timeline --actor USER [--reason WHY] [--format csv|jsonl] [--since D]
[--until D] [--output FILE]."""

from typing import Any

from django.core.management.base import CommandParser

from customers.exports import TIMELINE_COLUMNS, timeline_export_rows
from integrations.commands import ExportCommand, staff_actor
from interaction_platform.permissions import Action


class Command(ExportCommand):
    help = (
        "Export timeline events that occurred in [since, until); each customer is written to "
        "the access log under --actor."
    )

    def add_export_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", help="The staff member responsible (access log).")
        parser.add_argument("--reason", default="timeline export (command line)")

    def rows_and_columns(self, options: dict[str, Any]) -> tuple[Any, list[str]]:
        rows = timeline_export_rows(
            actor=staff_actor(options["actor"], Action.TIMELINE_EXPORT),
            via="manage.py export_timeline",
            reason=options["reason"],
            occurred_since=options["since"],
            occurred_until=options["until"],
        )
        return rows, TIMELINE_COLUMNS
