"""The access log is evidence: on PostgreSQL a trigger refuses any UPDATE or DELETE of its rows,
whatever code (or person with a SQL prompt) tries. SQLite, the embedded default, relies on the
code alone."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION refuse_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER customers_accesslog_append_only
    BEFORE UPDATE OR DELETE ON customers_accesslog
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
"""

DROP = """
DROP TRIGGER IF EXISTS customers_accesslog_append_only ON customers_accesslog;
DROP FUNCTION IF EXISTS refuse_append_only_change();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_links_to_orders_and_catalog")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
