"""core.db.prepared_cursor: statements prepared by PostgreSQL, errors and logging as Django's."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from core.db import prepared_cursor

pytestmark = pytest.mark.django_db
STATEMENT = "SELECT %s::int + 1 AS prepared_probe"


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def _run(times: int) -> list[int]:
    results = []
    for number in range(times):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, [number])
            results.append(cursor.fetchone()[0])
    return results


def test_a_repeated_statement_is_prepared_by_the_server_and_still_answers():
    assert _run(8) == list(range(1, 9))
    assert any("prepared_probe" in statement for statement in _prepared_statements())


def test_without_a_prepare_threshold_it_is_djangos_usual_cursor(settings):
    options = connection.settings_dict["OPTIONS"]
    threshold = options.pop("prepare_threshold")
    try:
        with prepared_cursor() as cursor:
            assert type(cursor.cursor).__name__ == "Cursor"  # Django's client-side binding cursor
    finally:
        options["prepare_threshold"] = threshold


def test_queries_are_logged_and_errors_are_djangos():
    with CaptureQueriesContext(connection) as queries:
        _run(1)
    assert [query["sql"] for query in queries.captured_queries if "prepared_probe" in query["sql"]]
    with pytest.raises(DatabaseError), prepared_cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM pg_class WHERE relname = %s", ["x"])


def test_djangos_own_cursors_still_never_prepare():
    for number in range(8):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int AS client_bound_probe", [number])
    assert not any("client_bound_probe" in statement for statement in _prepared_statements())
