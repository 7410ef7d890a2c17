"""Prepared statements through Django's documented options: server-side binding and psycopg's
`prepare_threshold` (DATABASE_PREPARED_STATEMENTS)."""

import pytest
from django.conf import settings
from django.db import connection

from companies import representation, selectors
from companies.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_the_database_options_bind_on_the_server_and_prepare_hot_statements():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 5


def test_a_query_run_often_on_a_connection_is_prepared_by_postgresql():
    company = CompanyFactory()
    for _ in range(6):
        row = selectors.company_get_values(cnpj=company.cnpj, fields=representation.VALUE_FIELDS)
    assert row["cnpj"] == company.cnpj
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%companies_company%"])
        statements = [statement for (statement,) in cursor.fetchall()]
    assert any('"companies_company"."cnpj" = $1' in statement for statement in statements), statements
