"""manage.py export_customers [--personal-data --actor USER --reason WHY] [--consent email]
[--format csv|jsonl] [--since D] [--until D] [--output FILE]."""

from typing import Any

from django.core.management.base import CommandParser

from customers.exports import ANONYMISED_COLUMNS, PERSONAL_COLUMNS, customer_export_rows
from customers.models import ConsentPurpose
from integrations.commands import ExportCommand, staff_actor
from interaction_platform.permissions import Action


class Command(ExportCommand):
    help = (
        "Export live customers changed in [since, until). Without --personal-data: no names, "
        "contact details or addresses. With it: every customer is written to the access log "
        "under --actor."
    )

    def add_export_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--personal-data", action="store_true")
        parser.add_argument("--actor", help="The staff member responsible (access log).")
        parser.add_argument("--reason", default="customer export (command line)")
        parser.add_argument(
            "--consent",
            choices=[ConsentPurpose.EMAIL, ConsentPurpose.SMS, ConsentPurpose.DIRECT_MAIL],
            help="Only customers who gave this consent.",
        )

    def rows_and_columns(self, options: dict[str, Any]) -> tuple[Any, list[str]]:
        personal = options["personal_data"]
        actor = staff_actor(options["actor"], Action.CUSTOMER_EXPORT_PERSONAL) if personal else None
        rows = customer_export_rows(
            include_personal_data=personal,
            actor=actor,
            via="manage.py export_customers",
            reason=options["reason"],
            changed_since=options["since"],
            changed_until=options["until"],
            consent=options["consent"],
        )
        return rows, PERSONAL_COLUMNS if personal else ANONYMISED_COLUMNS
