"""manage.py import_products FILE [--dry-run] [--atomic]: products and variants."""

from catalog.imports import products_import
from integrations.commands import ImportCommand


class Command(ImportCommand):
    help = "Create or update products (by slug) and variants (by SKU) from CSV or JSON Lines."
    importer = staticmethod(products_import)
