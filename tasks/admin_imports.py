"""The admin's import pages, for any model whose app provides the import task: upload a file
(checked before anything is stored or queued), follow the task's progress, read the report,
download the invalid rows as CSV.

A ModelAdmin mixes in ImportAdminMixin and sets `import_task` (a task taking the ImportJob id),
`import_extensions`, `import_help`, and implements `import_check()` and `import_report_figures()`.
Only users who may add the model may import.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.actor import actor_in_words
from core.exceptions import ServiceUnavailable
from tasks.imports import import_job_create, import_job_get
from tasks.selectors import task_error_message, task_result_get
from tasks.serializers import TaskStatusSerializer

FINISHED = ("SUCCESS", "FAILURE", "REVOKED")
ERRORS_SHOWN = 100  # invalid rows listed on the page; the CSV has every one the report kept


class ImportRefused(ValueError):
    """The file cannot be imported at all; the message says why (shown on the upload form)."""


class ImportFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, extensions: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.extensions = extensions
        self.fields["file"].widget.attrs["accept"] = ",".join(extensions)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ADMIN_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the limit is %(limit)s. Split it, or ask an operator to run the "
                    "import command."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
                code="too_large",
            )
        if PurePath(upload.name).suffix.lower() not in self.extensions:
            raise forms.ValidationError(
                _("Choose a %(extensions)s file.") % {"extensions": " / ".join(self.extensions)}, code="extension"
            )
        raw = upload.read()
        try:
            self.content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise forms.ValidationError(
                _(
                    "The file is not UTF-8 text (line %(line)s). Save it as UTF-8 (in a spreadsheet: "
                    "“CSV UTF-8”) and upload it again."
                )
                % {"line": line},
                code="encoding",
            ) from None
        if "\x00" in self.content:
            raise forms.ValidationError(_("The file is not text (it holds null bytes)."), code="binary")
        return upload


class ImportAdminMixin:
    import_task = None
    import_extensions: tuple[str, ...] = (".csv",)
    import_help = ""

    def import_check(self, *, content: str, filename: str) -> int:
        """Raise ImportRefused if the file cannot be imported at all; else return its row count."""
        raise NotImplementedError

    def import_report_figures(self, report: dict) -> list[tuple[str, int]]:
        """(label, number) pairs summing up a finished import's report."""
        raise NotImplementedError

    # --- URLs ---------------------------------------------------------------------------------
    def _import_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=self._import_name("import")),
            path("import/<uuid:job_id>/", wrap(self.import_progress_view), name=self._import_name("import_progress")),
            path(
                "import/<uuid:job_id>/invalid-rows.csv",
                wrap(self.import_errors_view),
                name=self._import_name("import_errors"),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if self.has_add_permission(request):
            context["import_url"] = reverse(f"{self.admin_site.name}:{self._import_name('import')}")
        return super().changelist_view(request, context)

    # --- views --------------------------------------------------------------------------------
    def _target(self) -> str:
        return self.opts.label_lower

    def _check_permission(self, request) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    def import_view(self, request):
        self._check_permission(request)
        form = ImportFileForm(request.POST or None, request.FILES or None, extensions=self.import_extensions)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows_total = self.import_check(content=form.content, filename=upload.name)
                job = import_job_create(
                    target=self._target(), filename=upload.name, size=upload.size, content=form.content,
                    rows_total=rows_total, task=self.import_task, user=request.user,
                )
            except ImportRefused as error:
                form.add_error("file", str(error))
            except ServiceUnavailable:
                form.add_error(None, _("The task queue is unavailable; nothing was imported. Try again shortly."))
            else:
                messages.info(request, _("“%(name)s” is being imported.") % {"name": upload.name})
                url = reverse(f"{self.admin_site.name}:{self._import_name('import_progress')}", args=[job.pk])
                return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import %(name)s") % {"name": self.opts.verbose_name_plural},
            "form": form,
            "import_help": self.import_help,
            "max_bytes": settings.ADMIN_IMPORT_MAX_BYTES,
            "extensions": " / ".join(self.import_extensions),
        }
        return TemplateResponse(request, "admin/tasks/import_form.html", context)

    def import_progress_view(self, request, job_id):
        self._check_permission(request)
        job = import_job_get(job_id=job_id, target=self._target())
        if job is None:
            raise Http404(_("No such import."))
        task_result = task_result_get(task_id=job.task_id) if job.task_id else None
        task = TaskStatusSerializer(task_result).data if task_result is not None else None
        finished = job.report is not None or (task is not None and task["status"] in FINISHED)
        errors = (job.report or {}).get("errors", [])
        progress = (task or {}).get("progress") or {}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import of “%(name)s”") % {"name": job.filename},
            "job": job,
            "uploaded_by": actor_in_words(job.actor, user=job.created_by),
            "task": task,
            "done": progress.get("done") or 0,
            "total": progress.get("total") or job.rows_total,
            "finished": finished,
            "failed": job.report is None and task is not None and task["status"] in ("FAILURE", "REVOKED"),
            "error": task_error_message(task_result) if task_result is not None else "",
            "status_url": reverse("task-status", kwargs={"task_id": job.task_id}) if job.task_id else "",
            "figures": self.import_report_figures(job.report) if job.report is not None else [],
            "errors": errors[:ERRORS_SHOWN],
            "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
            "errors_truncated": (job.report or {}).get("errors_truncated", False),
            "errors_url": reverse(f"{self.admin_site.name}:{self._import_name('import_errors')}", args=[job.pk]),
            "changelist_url": reverse(f"{self.admin_site.name}:{self._import_name('changelist')}"),
        }
        return TemplateResponse(request, "admin/tasks/import_progress.html", context)

    def import_errors_view(self, request, job_id):
        self._check_permission(request)
        job = import_job_get(job_id=job_id, target=self._target())
        if job is None or job.report is None:
            raise Http404(_("No report for this import yet."))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_("line"), _("reason")])
        writer.writerows((error["line"], error["reason"]) for error in job.report.get("errors", []))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        stem = PurePath(job.filename).stem or "import"
        response["Content-Disposition"] = f'attachment; filename="{_ascii(stem)}-invalid-rows.csv"'
        return response


def _ascii(name: str) -> str:
    return "".join(char if char.isascii() and (char.isalnum() or char in "-_.") else "_" for char in name)
