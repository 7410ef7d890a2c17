"""Background work for books: the imports started by POST /api/books/import/ and in the admin."""

from celery import shared_task

from access.actor import acting_as
from books.imports import book_import
from tasks.base import BaseTask
from tasks.imports import import_job_run

TASK_ACTOR = "task:import_books"


@shared_task(name="books.import_books")
def import_books(content: str, filename: str = "", requested_by: str = "") -> dict:
    """Run the import on uploaded text; the task result is the import summary."""
    with acting_as(TASK_ACTOR):
        summary = book_import(source=content, filename=filename)
    result = summary.as_dict()
    result["requested_by"] = requested_by
    return result


@shared_task(base=BaseTask, bind=True, name="books.import_file")
def book_import_file_task(self, job_id: str) -> dict:
    """Import a file uploaded in the admin (a tasks.ImportJob) through books.imports, as the
    person who uploaded it; the progress is the task's state, the result the report."""
    return import_job_run(
        task=self,
        job_id=job_id,
        run=lambda job, progress: book_import(
            source=job.content, filename=job.filename, progress=lambda summary: progress(summary.rows)
        ),
    )
