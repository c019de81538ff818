"""Recompute campaign counters from the raw rows (a repair), and credit orders not yet read."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.marketing.attribution import attribution_refresh, campaign_stats_rebuild
from channels.marketing.models import Campaign


class Command(BaseCommand):
    help = (
        "Credit orders placed since the last attribution run, then rebuild the counters of the "
        "given campaigns (default: all) from sends, scans and credited orders."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "campaign_ids", nargs="*", type=int, help="Campaign ids (default: all)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = options["campaign_ids"] or list(Campaign.objects.values_list("pk", flat=True))
        unknown = set(ids) - set(Campaign.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise CommandError(f"No such campaign: {', '.join(map(str, sorted(unknown)))}")
        credited = attribution_refresh(max_batches=10_000)
        for campaign_id in ids:
            campaign_stats_rebuild(campaign_id=campaign_id)
        self.stdout.write(f"Credited {credited} new order(s); rebuilt {len(ids)} campaign(s).")
