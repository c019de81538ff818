"""manage.py export_orders [--format csv|jsonl] [--since D] [--until D] [--output FILE]."""

from typing import Any

from integrations.commands import ExportCommand
from orders.exports import ORDER_COLUMNS, order_export_rows


class Command(ExportCommand):
    help = "Export orders placed in [since, until), streamed (no personal data)."

    def rows_and_columns(self, options: dict[str, Any]) -> tuple[Any, list[str]]:
        rows = order_export_rows(placed_since=options["since"], placed_until=options["until"])
        return rows, ORDER_COLUMNS
