"""Trigram indexes for `search` (case-insensitive substring of legal or trade name), PostgreSQL only.

`legal_name__icontains` compiles to `UPPER(legal_name::text) LIKE UPPER(%s)`; a GIN trigram index
on the same expression serves it. Other databases (SQLite in local development) skip this.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "company_legal_name_trgm_idx": "legal_name",
    "company_trade_name_trgm_idx": "trade_name",
}


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "companies_company" '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("companies", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
