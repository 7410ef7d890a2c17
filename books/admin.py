"""Back office for books (stored in MongoDB): list, search, edit, archive and restore, never delete."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_mongodb_backend.fields import ArrayField

from books import services
from books.imports import LIST_SEPARATOR
from books.isbn import isbn13
from books.languages import normalize_language
from books.models import Book
from books.published import PartialDate
from books.selectors import book_get, book_history
from core.admin_versions import StaleEdit, VersionedFormMixin

RECENT_CHANGES = 10
HISTORY_KINDS = {
    "created": _("created"),
    "changed": _("changed"),
    "deleted": _("deleted"),
    "archived": _("archived"),
    "restored": _("restored"),
}


class BookAdminForm(VersionedFormMixin, forms.ModelForm):
    published = forms.CharField(
        label=_("Published"), required=False, help_text=_("YYYY-MM-DD, YYYY-MM or YYYY, as printed.")
    )

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

    def clean_isbn(self):
        return isbn13(self.cleaned_data["isbn"])

    def clean_language(self):
        return normalize_language(self.cleaned_data["language"])

    def clean_tags(self):
        return list(dict.fromkeys(tag.strip().lower() for tag in self.cleaned_data["tags"] if tag.strip()))

    def clean_authors(self):
        return list(dict.fromkeys(name.strip() for name in self.cleaned_data["authors"] if name.strip()))

    def clean_published(self):
        text = self.cleaned_data["published"].strip()
        return PartialDate.parse(text) if text else None

    def _post_clean(self):
        published = self.cleaned_data.get("published")
        self.instance.published_date = published.start if published else None
        self.instance.published_date_precision = published.precision if published else ""
        super()._post_clean()


def _changed_fields(entry) -> str:
    fields = ", ".join(change.field for change in entry.changes)
    return f" · {fields}" if fields else ""


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


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, ArrayField):
            # Names such as "Tolkien, J. R. R." hold commas; the CSV import uses ";" too.
            kwargs["delimiter"] = LIST_SEPARATOR
            kwargs.setdefault("help_text", _("Separate entries with “%(separator)s”.") % {"separator": LIST_SEPARATOR})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
                    HISTORY_KINDS.get(entry.kind, entry.kind),
                    entry.actor,
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

    @admin.action(description=_("Archive selected books"), permissions=["change"])
    def archive_books(self, request, queryset):
        books = list(queryset.active())
        for book in books:
            services.book_archive(book=book)
        message = ngettext("Archived %d book.", "Archived %d books.", len(books)) % len(books)
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Restore selected books"), permissions=["change"])
    def restore_books(self, request, queryset):
        books = list(queryset.archived())
        for book in books:
            services.book_restore(book=book)
        message = ngettext("Restored %d book.", "Restored %d books.", len(books)) % len(books)
        self.message_user(request, message, messages.SUCCESS)
