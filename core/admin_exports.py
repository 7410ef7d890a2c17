"""The admin's export: a change list as it is filtered, searched and ordered, as CSV or XLSX.

`GET /admin/<app>/<model>/export/?<the change list's query>&format=csv|xlsx`. The rows are the
change list's own queryset (ModelAdmin.get_changelist_instance), so the filters, the search and the
ordering match the list exactly; they are read in chunks (a server-side cursor on PostgreSQL) and
never held in memory. A ModelAdmin mixes in ExportAdminMixin and sets `export_columns`; the view
permission suffices. On PostgreSQL the CSV is written by the database (core.exports_fast).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import XLSX_MAX_ROWS, Column, column_rows, csv_chunks, xlsx_file
from core.exports_fast import copy_csv_chunks, copy_supported

FORMATS = ("csv", "xlsx")
FORMAT_VAR = "format"


class ExportAdminMixin:
    export_columns: tuple[Column, ...] = ()
    export_chunk_size = 2000

    def _export_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name=self._export_name()),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if self.has_view_permission(request):
            query = request.GET.copy()
            for name in (PAGE_VAR, ERROR_FLAG, FORMAT_VAR):
                query.pop(name, None)
            url = reverse(f"{self.admin_site.name}:{self._export_name()}")
            for file_format in FORMATS:
                query[FORMAT_VAR] = file_format
                context[f"export_{file_format}_url"] = f"{url}?{query.urlencode()}"
        return super().changelist_view(request, context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.copy()
        file_format = query.pop(FORMAT_VAR, ["csv"])[-1]
        if file_format not in FORMATS:
            return _bad_request(
                _("Unknown export format “%(format)s”; use format=csv or format=xlsx.") % {"format": file_format}
            )
        request.GET = query  # the change list's own parameters, nothing else
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return _bad_request(_("The list's filters are not valid; open the list again and choose them anew."))
        columns = list(self.export_columns)
        filename = f"{self.opts.model_name}-{timezone.now():%Y%m%d-%H%M%S}.{file_format}"
        if file_format == "csv":
            if copy_supported(columns, queryset):
                chunks = copy_csv_chunks(columns, queryset)
            else:
                chunks = csv_chunks(columns, column_rows(columns, queryset, chunk_size=self.export_chunk_size))
            response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        limit = min(settings.ADMIN_EXPORT_XLSX_MAX_ROWS, XLSX_MAX_ROWS - 1)
        count = queryset.count()
        if count > limit:
            return _bad_request(
                _("The list has %(count)s rows; an XLSX export holds at most %(limit)s. Narrow the list with "
                  "its filters, or export it as CSV.") % {"count": count, "limit": limit}
            )
        rows = column_rows(columns, queryset, chunk_size=self.export_chunk_size)
        output = xlsx_file(columns, rows, title=str(self.opts.verbose_name_plural))
        return FileResponse(
            output,
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
