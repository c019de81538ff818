"""``manage.py rollups_rebuild --from YYYY-MM-DD --to YYYY-MM-DD``: recompute the dashboards'
rollups for a range of days from the raw rows (safe to re-run, beside the beat refresh)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.marketing.rollups import rollups_rebuild, rollups_rebuild_all


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date like 2026-01-31.") from None


class Command(BaseCommand):
    help = "Recompute the marketing dashboards' rollup tables for a range of days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="day_from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="day_to", help="Last day (inclusive), YYYY-MM-DD.")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Rebuild everything the raw rows cover and reset the refresh watermark.",
        )

    def handle(
        self, *args: Any, day_from: str | None, day_to: str | None, all: bool, **options: Any
    ) -> None:
        started = time.perf_counter()
        if all:
            result = rollups_rebuild_all()
        else:
            if not day_from or not day_to:
                raise CommandError("Give --from and --to (or --all).")
            first, last = _day(day_from), _day(day_to)
            if last < first:
                raise CommandError("--to is before --from.")
            result = rollups_rebuild(day_from=first, day_to=last)
        took = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Rolled up {result.days} days, {result.customer_months} customer-months and "
                f"{result.months} months in {took:.1f} s."
            )
        )
