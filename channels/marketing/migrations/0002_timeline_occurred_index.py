"""The rollups recompute whole days of timeline events; without an index on ``occurred_at``
each day would scan the whole timeline. Created concurrently on PostgreSQL (the timeline is the
biggest table), in its own non-atomic migration."""

from typing import Any

from django.db import migrations

INDEX = "marketing_timeline_occurred_idx"


def create_index(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON customers_timelineevent (occurred_at)"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("marketing", "0001_initial"), ("customers", "__latest__")]
    operations = [migrations.RunPython(create_index, drop_index)]
