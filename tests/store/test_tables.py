"""The peewee models describe exactly the schema the migrations create."""

from __future__ import annotations

from carecal.store.db import Database
from carecal.store.tables import ALL_TABLES, Events


def test_models_match_migrated_schema(db: Database) -> None:
    for model in ALL_TABLES:
        table = model._meta.table_name
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall()]
        assert columns, table
        assert sorted(columns) == sorted(f.column_name for f in model._meta.sorted_fields), table


def test_models_can_read_through_bind_ctx(db: Database) -> None:
    with db.pw.bind_ctx(ALL_TABLES):
        assert Events.select().count() == 0
