"""Back office for books (stored in MongoDB): list, search, edit, archive and restore, never
delete; the history in plain words; import (through books.imports) and export."""

import contextlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from access.actor import actor_in_words
from books import services
from books.imports import CSV, LIST_SEPARATOR, ImportFileError, check_import_file
from books.models import Book
from books.published import PartialDate, Precision
from books.selectors import book_get, book_history
from books.tasks import book_import_file_task
from core.admin_actions import CheckedSelectionMixin, Skip, split_selection
from core.admin_exports import ExportAdminMixin
from core.admin_history import KINDS, HistoryRow, changes_in_words
from core.admin_versions import StaleEdit, VersionedFormMixin
from core.exports import Column
from tasks.admin_imports import ImportAdminMixin, ImportRefused
from tasks.imports import data_lines

RECENT_CHANGES = 10
HISTORY_PER_PAGE = 100
ARCHIVED = ngettext_lazy("%(count)d book archived", "%(count)d books archived", "count")
ALREADY_ARCHIVED = ngettext_lazy("%(count)d was already archived", "%(count)d were already archived", "count")
RESTORED = ngettext_lazy("%(count)d book restored", "%(count)d books restored", "count")
NOT_ARCHIVED = ngettext_lazy("%(count)d was not archived", "%(count)d were not archived", "count")


class ListInput(forms.CharField):
    """Entries separated by “;” (names such as "Tolkien, J. R. R." hold commas), as in a CSV
    import's cell; trimming, blanks and repeats are the service's to settle."""

    def prepare_value(self, value):
        return LIST_SEPARATOR.join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        return text.split(LIST_SEPARATOR) if text else []


class BookAdminForm(VersionedFormMixin, forms.ModelForm):
    """The form reads what was typed; the rules on the values are the service's: clean() passes
    them through books.services.book_fields_clean and shows its errors on their fields, so the
    admin accepts and refuses what the API and the import do."""

    published = forms.CharField(
        label=_("Published"), required=False, help_text=_("YYYY-MM-DD, YYYY-MM or YYYY, as printed.")
    )
    isbn = forms.CharField(label=_("ISBN"), help_text=_("ISBN-10 or ISBN-13; hyphens and spaces allowed."))
    language = forms.CharField(label=_("Language"), required=False, help_text=_("ISO 639-1, such as en or pt."))
    authors = ListInput(label=_("Authors"), help_text=_("Separate entries with “;”."))
    tags = ListInput(label=_("Tags"), required=False, help_text=_("Separate entries with “;”."))

    class Meta:
        model = Book
        fields = (
            "title", "subtitle", "authors", "isbn", "publisher",
            "language", "page_count", "tags", "description",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.published:
            self.initial.setdefault("published", str(self.instance.published))

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned[name] for name in services.EDITABLE_FIELDS if name in cleaned}
        if "published" in cleaned:
            fields["published_date"] = cleaned["published"]
        try:
            cleaned.update(services.book_fields_clean(fields))
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error("published" if name.startswith("published") else name, errors)
            # The other fields still get their cleaning (a hyphenated ISBN its 13 digits), so the
            # model's own checks do not report them too.
            good = {name: value for name, value in fields.items() if name not in exc.error_dict}
            with contextlib.suppress(ValidationError):  # reported once the fields above are corrected
                self.cleaned_data.update(services.book_fields_clean(good))
        return cleaned

    def _post_clean(self):
        self.instance.published_date = self.cleaned_data.get("published_date")
        self.instance.published_date_precision = self.cleaned_data.get("published_date_precision") or ""
        super()._post_clean()


def _changed_fields(entry) -> str:
    fields = ", ".join(str(Book._meta.get_field(change.field).verbose_name) for change in entry.changes)
    return f" · {fields}" if fields else ""


def _history_row(entry) -> HistoryRow:
    changes = ((change.field, change.old, change.new) for change in entry.changes)
    return HistoryRow(
        when=entry.date, kind=entry.kind, actor=actor_in_words(entry.actor), changes=changes_in_words(Book, changes)
    )


class ArchivedFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", _("In the catalogue")), ("archived", _("Archived")))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "archived":
            return queryset.archived()
        return queryset


def _published(value) -> str:
    published_date, precision = value
    if published_date is None:
        return ""
    return str(PartialDate(published_date, precision or Precision.DAY))


EXPORT_COLUMNS = (
    Column(_("Title"), "title"),
    Column(_("Subtitle"), "subtitle"),
    Column(_("Authors"), "authors"),
    Column(_("ISBN"), "isbn"),
    Column(_("Publisher"), "publisher"),
    Column(_("Published"), ("published_date", "published_date_precision"), _published),
    Column(_("Language"), "language"),
    Column(_("Pages"), "page_count"),
    Column(_("Tags"), "tags"),
    Column(_("Created at (UTC)"), "created_at"),
    Column(_("Updated at (UTC)"), "updated_at"),
    Column(_("Archived at (UTC)"), "archived_at"),
)


@admin.register(Book)
class BookAdmin(CheckedSelectionMixin, ImportAdminMixin, ExportAdminMixin, admin.ModelAdmin):
    form = BookAdminForm
    list_display = ("title", "authors_display", "isbn", "language", "published_display", "archived_at")
    list_filter = (ArchivedFilter, "language", "created_at")
    search_fields = ("title", "subtitle", "authors", "isbn", "publisher")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "updated_at", "archived_at", "recent_changes")
    fieldsets = (
        (None, {"fields": ("title", "subtitle", "authors", "isbn", "publisher", "published", "language", "version")}),
        (_("Details"), {"fields": ("page_count", "tags", "description")}),
        (_("Record"), {"fields": ("created_at", "updated_at", "archived_at", "recent_changes")}),
    )
    actions = ("archive_books", "restore_books")
    list_per_page = 50
    change_list_template = "admin/change_list_import_export.html"

    # --- import (tasks.admin_imports) and export (core.admin_exports) ---------------------------
    import_task = book_import_file_task
    import_extensions = (".csv", ".jsonl", ".ndjson", ".json")
    import_help = _(
        "CSV with a header row, or JSON lines (one object per line). title, authors and isbn are "
        "required; subtitle, publisher, published_date, language, page_count, tags and description "
        "are optional. Several authors or tags in one CSV cell are separated by “;”. Books are "
        "matched by ISBN: new ones are added, changed ones updated."
    )
    export_columns = EXPORT_COLUMNS

    def import_check(self, *, content, filename):
        try:
            file_format = check_import_file(content=content, filename=filename, strict=True)
        except ImportFileError as error:
            raise ImportRefused(str(error)) from None
        return data_lines(content, header=file_format == CSV)

    def import_report_figures(self, report):
        return [
            (_("Rows read"), report["rows"]),
            (_("Created"), report["created"]),
            (_("Updated"), report["updated"]),
            (_("Unchanged (already stored)"), report["unchanged"]),
            (_("Repeated in the file"), report["duplicates"]),
            (_("Invalid"), report["invalid"]),
        ]

    @admin.display(description=_("authors"))
    def authors_display(self, book):
        return "; ".join(book.authors)

    @admin.display(description=_("published"), ordering="published_date")
    def published_display(self, book):
        return str(book.published) if book.published else "—"

    @admin.display(description=_("recent changes"))
    def recent_changes(self, book):
        if book.pk is None:
            return "—"
        entries = book_history(book=book)[:RECENT_CHANGES]
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {}{}",
            (
                (
                    date_format(timezone.localtime(entry.date), "DATETIME_FORMAT"),
                    KINDS.get(entry.kind, entry.kind),
                    actor_in_words(entry.actor),
                    _changed_fields(entry),
                )
                for entry in entries
            ),
        )

    # The admin's own change log (LogEntry) lives in the SQL database; book history is kept in
    # MongoDB by simple-history instead, so nothing about books is written to SQL.
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return []

    def has_delete_permission(self, request, obj=None):
        return False  # books are archived, never deleted

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleEdit as exc:
            # Changed between the form's check and the save (under the book's lock): nothing saved.
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = {name: getattr(obj, name) for name in services.EDITABLE_FIELDS}
        try:
            if change:
                saved = services.book_update(
                    book=book_get(book_id=obj.pk, include_archived=True), data=data, precondition=form.precondition()
                )
            else:
                saved = services.book_create(**data)
        except services.DuplicateIsbn as error:
            raise ValidationError(str(error)) from None
        obj.pk, obj._state = saved.pk, saved._state
        obj.created_at, obj.updated_at = saved.created_at, saved.updated_at

    # --- history in words: kept in MongoDB by simple-history, not in Django's change log -------
    def history_view(self, request, object_id, extra_context=None):
        try:
            book = book_get(book_id=unquote(object_id), include_archived=True)
        except Book.DoesNotExist:
            raise Http404(gettext("No book with this id.")) from None
        if not self.has_view_or_change_permission(request, book):
            raise PermissionDenied
        paginator = Paginator(book_history(book=book), HISTORY_PER_PAGE)
        page = paginator.get_page(request.GET.get("p"))
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Change history: %s") % book,
            "subtitle": None,
            "module_name": capfirst(Book._meta.verbose_name_plural),
            "object": book,
            "opts": Book._meta,
            "preserved_filters": self.get_preserved_filters(request),
            "history_rows": [_history_row(entry) for entry in page.object_list],
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": "p",
            "pagination_required": paginator.num_pages > 1,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/history_in_words_page.html", context)

    # --- archive and restore: what was done, what was skipped and why ------------------------
    @admin.action(description=_("Archive selected books"), permissions=["change"])
    def archive_books(self, request, queryset):
        selection = split_selection(queryset, [Skip(Q(archived_at__isnull=False), ALREADY_ARCHIVED)])
        books = list(selection.remaining)
        for book in books:
            services.book_archive(book=book)
        level = messages.SUCCESS if books else messages.WARNING
        self.message_user(request, selection.message(ARCHIVED % {"count": len(books)}), level)

    @admin.action(description=_("Restore selected books"), permissions=["change"])
    def restore_books(self, request, queryset):
        selection = split_selection(queryset, [Skip(Q(archived_at__isnull=True), NOT_ARCHIVED)])
        books = list(selection.remaining)
        for book in books:
            services.book_restore(book=book)
        level = messages.SUCCESS if books else messages.WARNING
        self.message_user(request, selection.message(RESTORED % {"count": len(books)}), level)
