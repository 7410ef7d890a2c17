"""The book catalogue, stored in MongoDB (the `mongo` alias, see routers.py)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_mongodb_backend.fields import ArrayField
from django_mongodb_backend.queryset import MongoQuerySet
from django_mongodb_backend.validators import ArrayMinLengthValidator

from books.history import MongoHistoricalRecords
from books.isbn import isbn10, isbn_display, validate_isbn13
from books.languages import validate_language
from books.published import PartialDate, Precision


class BookQuerySet(MongoQuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)


class Book(models.Model):
    title = models.CharField(_("title"), max_length=500)
    subtitle = models.CharField(_("subtitle"), max_length=500, blank=True, default="")
    authors = ArrayField(
        models.CharField(max_length=200),
        max_size=50,
        validators=[ArrayMinLengthValidator(1)],
        verbose_name=_("authors"),
    )
    isbn = models.CharField(
        _("ISBN-13"), max_length=13, unique=True, validators=[validate_isbn13],
        help_text=_("13 digits; ISBN-10 input is converted."),
    )
    publisher = models.CharField(_("publisher"), max_length=200, blank=True, default="")
    published_date = models.DateField(
        _("published date"), null=True, blank=True, help_text=_("The first day of the period given by the precision.")
    )
    published_date_precision = models.CharField(
        _("published date precision"), max_length=5, choices=Precision.choices, blank=True, default=""
    )
    language = models.CharField(
        _("language"), max_length=2, blank=True, default="", validators=[validate_language], help_text=_("ISO 639-1")
    )
    page_count = models.PositiveIntegerField(
        _("page count"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    tags = ArrayField(models.CharField(max_length=50), max_size=50, default=list, blank=True, verbose_name=_("tags"))
    description = models.TextField(_("description"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # No index: nearly every book matches `archived_at: null`, so one would only slow writes.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    objects = BookQuerySet.as_manager()
    # History rows are looked up by book id and date only; other indexes would only slow writes.
    history = MongoHistoricalRecords(no_db_index=["isbn"])

    class Meta:
        verbose_name = _("book")
        verbose_name_plural = _("books")
        ordering = ("-created_at", "-id")
        indexes = [
            # `unique=True` makes django-mongodb-backend 5.2.4 create a *partial* unique index
            # ({isbn: {$type: "string"}}) that the query planner skips for `isbn = ...` and
            # `isbn IN (...)` (a collection scan per lookup). This plain index serves lookups;
            # the unique one still enforces uniqueness.
            models.Index(fields=["isbn"], name="book_isbn_idx"),
            # The list's orderings, each with the id that breaks ties: a page is one range of one of
            # these, `field >= v AND (field > v OR (field = v AND _id > k))` (core.pagination), which
            # ends at the page size.
            models.Index(fields=["created_at", "id"], name="book_created_id_idx"),
            models.Index(fields=["published_date", "id"], name="book_published_id_idx"),
            models.Index(fields=["title", "id"], name="book_title_id_idx"),
            # The list's production filters (docs/architecture/books.md). A tag or a language is an
            # equality that may match many books, so each leads an index ordered like the default
            # list (newest first): that filter on the default ordering is one range ending at the
            # page size; on another ordering the planner sorts the filter's matches or walks that
            # ordering's index, whichever its trial finds cheaper. `tags` is an array (a multikey
            # index, one key per tag). The author filter ignores case, a regex no index bounds: the
            # `authors` index lets MongoDB test the regex on index keys and fetch only the matching
            # books, which are few per author, instead of reading every book.
            models.Index(fields=["tags", "created_at", "id"], name="book_tags_created_id_idx"),
            models.Index(fields=["language", "created_at", "id"], name="book_language_created_id_idx"),
            models.Index(fields=["authors"], name="book_authors_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.isbn})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def published(self) -> PartialDate | None:
        if self.published_date is None:
            return None
        return PartialDate(self.published_date, self.published_date_precision or Precision.DAY)

    @property
    def isbn10(self) -> str | None:
        return isbn10(self.isbn)

    @property
    def isbn_display(self) -> str:
        return isbn_display(self.isbn)
