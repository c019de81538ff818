"""``manage.py seed_demo``: the demo shop, the same every time."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from interaction_platform import demo


class Command(BaseCommand):
    help = (
        "Seed deterministic demo data: 3 stores and a warehouse, a catalog with channel prices "
        "and stock, customers with identities and consent, and one login per role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            choices=sorted(demo.SIZES),
            default="small",
            help="small: 240 products / 600 customers; large: 10k products / 100k customers.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off (demo logins have a published password).",
        )

    def handle(self, *args: Any, size: str, allow_production: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo logins have a published "
                "password. Pass --allow-production if you really mean it."
            )
        if demo.is_seeded():
            self.stdout.write("Demo data is already there; nothing to do.")
        else:
            counts = demo.seed(size=size, progress=self._progress_bar)
            summary = ", ".join(
                f"{count} {name.replace('_', ' ')}" for name, count in counts.items()
            )
            self.stdout.write(self.style.SUCCESS(f"Seeded the {size} demo shop: {summary}."))
        self._print_logins()

    def _progress_bar(self, label: str, total: int) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=f"{label:>12}", unit=" rows", leave=True, file=sys.stderr)

        def advance(done: int) -> None:
            bar.update(done)
            if bar.n >= total:
                bar.close()

        return advance

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in demo.DEMO_LOGINS:
            self.stdout.write(
                f"  {login.role.label:<18} {login.username:<10} → {login.where:<12} {login.note}"
            )
        self.stdout.write(
            f"\nDemo voucher: {demo.DEMO_VOUCHER} (10% off, once per customer; "
            "apply it in the web store's basket)."
        )
