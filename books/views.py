"""The /api/books/ endpoints: thin views over books.selectors and books.services."""

from __future__ import annotations

import pymongo
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from access.actor import current_actor
from access.permissions import HasAPIAccess
from books import services
from books.filters import BookFilter, StrictBooleanFormField
from books.imports import ImportFileError, check_import_file, decode_import_file
from books.models import Book
from books.pagination import BookHistoryPagination, BookPagination
from books.permissions import BookActionPermissions
from books.selectors import (
    book_get,
    book_history_entries,
    book_history_previous,
    book_history_records,
    book_list,
)
from books.serializers import (
    BookImportAcceptedSerializer,
    BookImportSerializer,
    BookSerializer,
    BookVersionSerializer,
)
from books.tasks import import_books
from core import etags, outages
from core.etags import check_if_match, etag_of, has_if_match, json_with_etag
from core.exceptions import Conflict, PayloadTooLarge, api_validation_error
from tasks.services import task_enqueue

LIST_PARAMETERS = frozenset({"cursor", "page_size", "ordering"})


class ImportFileTooLarge(PayloadTooLarge):
    field = "file"


def _as_api_error(error: DjangoValidationError) -> serializers.ValidationError:
    return api_validation_error(error)


@extend_schema_view(
    list=extend_schema(summary="List books (archived ones only with include_archived=true)"),
    create=extend_schema(summary="Add a book (409 with existing_url when the ISBN is taken)"),
    retrieve=extend_schema(
        summary="One book (an archived one with include_archived=true)",
        parameters=[
            OpenApiParameter("include_archived", OpenApiTypes.BOOL, description="true/false/1/0"),
            *etags.READ_PARAMETERS,
        ],
        responses={200: BookSerializer, 304: etags.NOT_MODIFIED},
    ),
    update=extend_schema(
        summary="Replace a book's fields", parameters=etags.WRITE_PARAMETERS,
        responses={200: BookSerializer, 412: etags.STALE},
    ),
    partial_update=extend_schema(
        summary="Change some fields", parameters=etags.WRITE_PARAMETERS,
        responses={200: BookSerializer, 412: etags.STALE},
    ),
    destroy=extend_schema(summary="Archive a book (it stays stored and can be restored)"),
)
class BookViewSet(viewsets.GenericViewSet):
    serializer_class = BookSerializer
    queryset = Book.objects.all()  # the model HasAPIAccess checks permissions against
    permission_classes = (HasAPIAccess, BookActionPermissions)
    pagination_class = BookPagination
    filter_backends = (DjangoFilterBackend,)  # documents BookFilter; book_list applies it
    filterset_class = BookFilter
    lookup_value_regex = "[^/]+"

    def dispatch(self, request, *args, **kwargs):
        # Every MongoDB operation of the request shares one deadline (pymongo's client-side
        # timeout): a hung server answers 503 within MONGODB_OPERATION_TIMEOUT_MS. Not the import,
        # which runs as a task (in the request only when tasks run eagerly, `make run`).
        if getattr(self, "action_map", {}).get(request.method.lower()) == "import_books":
            return super().dispatch(request, *args, **kwargs)
        with pymongo.timeout(settings.MONGODB_OPERATION_TIMEOUT_MS / 1000):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # MongoDB failed a moment ago (timed out, refused): answer 503 at once instead of waiting
        # for it again (core.outages); it is tried again after REDIS_DOWN_SECONDS.
        if outages.MONGODB.down_for():
            raise outages.MONGODB.refusal()
        super().initial(request, *args, **kwargs)

    def get_object(self, *, include_archived: bool = False) -> Book:
        try:
            return book_get(book_id=self.kwargs["pk"], include_archived=include_archived)
        except Book.DoesNotExist:
            raise exceptions.NotFound("No book with this id.") from None

    def _conflict(self, error: services.DuplicateIsbn) -> Conflict:
        existing = error.existing
        url = self.request.build_absolute_uri(reverse("book-detail", kwargs={"pk": str(existing.pk)}))
        if existing.is_archived:
            url += "?include_archived=true"
        extra = {
            "existing_id": str(existing.pk),
            "existing_url": url,
            "existing_archived": existing.is_archived,
        }
        message = "A book with this ISBN already exists."
        if existing.is_archived:
            message += " It is archived; restore it instead of adding it again."
        return Conflict(message, code="duplicate_isbn", field="isbn", extra=extra)

    def _write(self, service, **kwargs) -> Book:
        try:
            return service(**kwargs)
        except services.DuplicateIsbn as error:
            raise self._conflict(error) from None
        except DjangoValidationError as error:
            raise _as_api_error(error) from None

    def list(self, request):
        unknown = sorted(set(request.query_params) - LIST_PARAMETERS - set(BookFilter.base_filters))
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        try:
            books = book_list(filters=request.query_params)
        except DjangoValidationError as error:
            raise _as_api_error(error) from None
        page = self.paginate_queryset(books)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        book = self._write(services.book_create, **serializer.validated_data)
        data = self.get_serializer(book).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])})

    def retrieve(self, request, pk=None):
        """One book; an archived one with `?include_archived=true` (where a 409's existing_url points)."""
        unknown = sorted(set(request.query_params) - {"include_archived"})
        if unknown:
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        try:
            raw = request.query_params.get("include_archived")
            include_archived = StrictBooleanFormField(required=False).clean(raw)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"include_archived": error.messages}) from None
        return json_with_etag(request, self._document(self.get_object(include_archived=bool(include_archived))))

    def update(self, request, pk=None, partial=False):
        book = self.get_object()
        serializer = self.get_serializer(book, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not partial:
            # PUT replaces the editable fields: what the body leaves out goes back to its default.
            for name in services.EDITABLE_FIELDS:
                data.setdefault(name, Book._meta.get_field(name).get_default())
        precondition = None
        if has_if_match(request):
            # Checked under the book's write lock, against what is stored now: of two writes
            # holding the same ETag, only the first lands.
            def precondition(stored: Book) -> None:
                check_if_match(request, etag_of(self._document(stored)))

        book = self._write(services.book_update, book=book, data=data, precondition=precondition)
        return json_with_etag(request, self._document(book))

    def _document(self, book: Book) -> bytes:
        """The book's answer (the bytes its ETag is made of)."""
        return JSONRenderer().render(self.get_serializer(book).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        book = self.get_object()
        precondition = None
        if has_if_match(request):  # as for PUT and PATCH: only the version the client holds is archived

            def precondition(stored: Book) -> None:
                check_if_match(request, etag_of(self._document(stored)))

        services.book_archive(book=book, precondition=precondition)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, summary="Bring an archived book back into the catalogue")
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        book = services.book_restore(book=self.get_object(include_archived=True))
        return Response(self.get_serializer(book).data)

    @extend_schema(
        responses=BookVersionSerializer(many=True),
        summary="Every change, newest first, with who made it (paged as the company history)",
    )
    @action(detail=True, methods=["get"], pagination_class=BookHistoryPagination, filter_backends=())
    def history(self, request, pk=None):
        """The book's versions, newest first, a page at a time, in the company history's shape."""
        book = self.get_object(include_archived=True)
        if unknown := sorted(set(request.query_params) - {"page_size", "cursor"}):
            raise exceptions.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        records = self.paginate_queryset(book_history_records(book=book))
        previous = book_history_previous(book=book, before=records[-1]) if records else None
        entries = book_history_entries(records, previous=previous)
        ids = {entry.user_id for entry in entries if entry.user_id is not None}
        usernames = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}
        results = BookVersionSerializer(entries, many=True, context={"usernames": usernames}).data
        return self.get_paginated_response(results)

    @extend_schema(
        request={"multipart/form-data": BookImportSerializer},
        responses={202: BookImportAcceptedSerializer},
        summary="Import a CSV or JSON-lines file in the background (upsert by ISBN)",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=(MultiPartParser,),
            filter_backends=(), pagination_class=None)
    def import_books(self, request):
        serializer = BookImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > settings.BOOKS_IMPORT_MAX_BYTES:
            raise ImportFileTooLarge(
                f"The import file is {upload.size} bytes; the limit is {settings.BOOKS_IMPORT_MAX_BYTES}."
                " Use `manage.py import_books` for larger files."
            )
        try:
            content = decode_import_file(upload.read())
            check_import_file(content=content, filename=upload.name)
        except ImportFileError as error:
            raise serializers.ValidationError({"file": [str(error)]}) from None
        queued = task_enqueue(import_books, content, filename=upload.name, requested_by=current_actor() or "")
        return Response(queued.as_dict(), status=status.HTTP_202_ACCEPTED)
