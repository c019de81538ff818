"""A GIN index over the product search vector (catalog/search.py: name A, brand B,
description C, English stemming), so a web store or POS search reads the index instead of
computing the vector of every product. PostgreSQL only (the embedded SQLite default searches by
substring); built CONCURRENTLY so a live catalog keeps selling while it is made."""

from django.db import migrations

INDEX = "catalog_product_search"
# Must stay the same expression as catalog.search.product_search_vector(), or PostgreSQL
# cannot use the index.
CREATE = f"""
CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON catalog_product USING gin ((
    (setweight(to_tsvector('english'::regconfig, COALESCE(name, '')), 'A')
     || setweight(to_tsvector('english'::regconfig, COALESCE(brand, '')), 'B'))
     || setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'C')
))
"""
DROP = f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}"


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("catalog", "0002_product_tax_class")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
