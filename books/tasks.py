"""Background work for books: the import started by POST /api/books/import/."""

from celery import shared_task

from access.actor import acting_as
from books.imports import book_import

TASK_ACTOR = "task:import_books"


@shared_task(name="books.import_books")
def import_books(content: str, filename: str = "", requested_by: str = "") -> dict:
    """Run the import on uploaded text; the task result is the import summary."""
    with acting_as(TASK_ACTOR):
        summary = book_import(source=content, filename=filename)
    result = summary.as_dict()
    result["requested_by"] = requested_by
    return result
