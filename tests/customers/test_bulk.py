"""The hot path's fixed SQL names the tables and columns the models have."""

from __future__ import annotations

import re

import pytest

from customers import bulk
from customers.models import Customer, Identity, InboxEvent, TimelineEvent


@pytest.mark.parametrize(
    ("statement", "model"),
    [
        (bulk._INBOX_INSERT, InboxEvent),
        (bulk._TIMELINE_INSERT, TimelineEvent),
        (bulk._IDENTITY_INSERT, Identity),
        (bulk._STATS_UPDATE, Customer),
    ],
)
def test_the_statements_match_the_models(statement: str, model: type) -> None:
    table = re.search(r"(?:INTO|UPDATE) (\w+)", statement)
    assert table is not None
    assert table.group(1) == model._meta.db_table
    columns = {field.column for field in model._meta.concrete_fields}
    named = re.search(r"\(([^()]*)\)\s*(?:SELECT|$)", statement.split("FROM unnest")[0], re.S)
    if named is not None:
        assert {name.strip() for name in named.group(1).split(",")} <= columns


def test_the_statistics_written_are_fields_of_the_customer() -> None:
    names = {field.name for field in Customer._meta.concrete_fields}
    assert set(bulk.STATS_FIELDS) <= names
    assert all(f"{name} = stats.{name}" in bulk._STATS_UPDATE for name in bulk.STATS_FIELDS)
