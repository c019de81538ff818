"""manage.py import_prices FILE [--dry-run] [--atomic]: prices per channel and currency."""

from catalog.imports import prices_import
from integrations.commands import ImportCommand


class Command(ImportCommand):
    help = "Set prices per SKU, channel and currency from CSV or JSON Lines."
    importer = staticmethod(prices_import)
