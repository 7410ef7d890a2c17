"""The result backend: django-celery-results' database backend, retrying while the database is down."""

from django.db import InterfaceError, OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend as StockDatabaseBackend


class DatabaseBackend(StockDatabaseBackend):
    """Also retries OperationalError (the server down or restarting), each time on a fresh
    connection, so a worker records a task's outcome once PostgreSQL is back instead of failing
    "outside body", dropping the outcome and acknowledging the message. The waits are Celery's
    (`result_backend_always_retry`, with exponential backoff); the worker takes no new work
    meanwhile, and a message it holds past the visibility timeout goes to another worker, which
    idempotent tasks make harmless."""

    def exception_safe_to_retry(self, exc):
        if isinstance(exc, (InterfaceError, OperationalError)):
            connection.close()
            return True
        return super().exception_safe_to_retry(exc)
