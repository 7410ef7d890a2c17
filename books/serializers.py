"""API representations of books, and a ModelSerializer base that understands MongoDB fields."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from bson import ObjectId
from django.db import models
from django_mongodb_backend import fields as mongo_fields
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from books.models import Book
from books.selectors import parse_book_id
from core.serializers import NOT_STORED, not_writable_errors, shape_checked


@extend_schema_field({"type": "string", "pattern": "^[0-9a-fA-F]{24}$", "example": "6b01c9272bf436017158f2dc"})
class ObjectIdField(serializers.Field):
    """An ObjectId as its 24-character hex string."""

    default_error_messages = {"invalid": "“{value}” is not a valid id (24 hexadecimal characters)."}

    def to_representation(self, value):
        return str(value)

    def to_internal_value(self, data) -> ObjectId:
        object_id = parse_book_id(data)
        if object_id is None:
            self.fail("invalid", value=data)
        return object_id


class MongoDateTimeField(serializers.DateTimeField):
    """MongoDB keeps milliseconds: answer what a later read will return, not the microseconds."""

    def to_representation(self, value):
        if value:
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return super().to_representation(value)


class MongoModelSerializer(serializers.ModelSerializer):
    """ModelSerializer for django-mongodb-backend models.

    DRF maps ObjectIdAutoField to IntegerField (every read and write then answers 500 on the
    ObjectId) and the backend's ArrayField to ModelField (lists come out as JSON strings).
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        mongo_fields.ObjectIdAutoField: ObjectIdField,
        mongo_fields.ObjectIdField: ObjectIdField,
        mongo_fields.ArrayField: serializers.ListField,
        models.DateTimeField: MongoDateTimeField,
    }

    def get_fields(self):
        # Building the fields from the model's metadata was most of a retrieve's serializer time;
        # build them once per class and give each instance fresh copies, as DRF does with
        # declared fields.
        prototype = type(self).__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            type(self)._fields_prototype = prototype
        return copy.deepcopy(prototype)

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, mongo_fields.ArrayField):
            child_class, child_kwargs = self.build_standard_field("child", model_field.base_field)
            field_kwargs["child"] = child_class(**child_kwargs)
            if model_field.max_size:
                field_kwargs["max_length"] = model_field.max_size
            field_kwargs.pop("model_field", None)
        return field_class, field_kwargs


@extend_schema_field(
    {"type": "string", "nullable": True, "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$", "example": "1965-08"}
)
class PartialDateField(serializers.Field):
    """`published_date` in and out as "YYYY-MM-DD", "YYYY-MM" or "YYYY"; stored as two fields
    (the service reads the text: books.services.book_fields_clean)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, book: Book):
        return str(book.published) if book.published else None


class BookSerializer(MongoModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="book-detail", read_only=True)
    isbn = serializers.CharField(help_text="ISBN-10 or ISBN-13, hyphens and spaces allowed; stored as ISBN-13.")
    isbn10 = serializers.CharField(read_only=True, allow_null=True)
    published_date = PartialDateField(
        required=False, allow_null=True, help_text="YYYY-MM-DD, YYYY-MM or YYYY (as printed)."
    )
    authors = serializers.ListField(
        child=serializers.CharField(max_length=200), min_length=1, max_length=50, allow_empty=False
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=50, required=False)
    language = serializers.CharField(max_length=2, required=False, allow_blank=True, help_text="ISO 639-1")
    page_count = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class Meta:
        model = Book
        fields = (
            "id",
            "url",
            "title",
            "subtitle",
            "authors",
            "isbn",
            "isbn10",
            "publisher",
            "published_date",
            "language",
            "page_count",
            "tags",
            "description",
            "created_at",
            "updated_at",
            "archived_at",
        )
        read_only_fields = ("created_at", "updated_at", "archived_at")

    def to_internal_value(self, data):
        # Shape only: each value's JSON type; the rules on the values (ISBN, language, dates,
        # authors and tags, lengths) are books.services.book_fields_clean's, whose errors answer
        # 400 naming the field.
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object of book fields."]})
        writable = {name for name, field in self.fields.items() if not field.read_only}
        if self.instance is not None:
            readable = self.to_representation(self.instance)
        else:
            readable = dict.fromkeys(self.fields, NOT_STORED)
        if errors := not_writable_errors(data, writable=writable, readable=readable):
            raise serializers.ValidationError(errors)
        return shape_checked(self, data)


class BookChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.SerializerMethodField()
    new = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.ANY)
    def get_old(self, change):
        return _plain(change.old)

    @extend_schema_field(OpenApiTypes.ANY)
    def get_new(self, change):
        return _plain(change.new)


def _plain(value):
    """JSON-friendly form of a stored value (dates as ISO text, ObjectIds as hex)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    return value


class BookVersionSerializer(serializers.Serializer):
    """One version of a book, in the company history's shape: when, what kind of change, by whom,
    and which fields changed."""

    TYPES = {"changed": "updated"}  # the companies' word; archived and restored are books' own

    history_id = ObjectIdField()
    history_date = serializers.DateTimeField(source="date")
    history_type = serializers.SerializerMethodField(help_text="created, updated, archived or restored")
    actor = serializers.CharField(help_text="user:<name>, api_key:<name>, command:<name> or task:<name>")
    user = serializers.SerializerMethodField(help_text="The signed-in person's username, if one acted.")
    changes = BookChangeSerializer(many=True)

    def get_history_type(self, entry) -> str:
        return self.TYPES.get(entry.kind, entry.kind)

    def get_user(self, entry) -> str | None:
        return self.context.get("usernames", {}).get(entry.user_id)


class BookImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header row (.csv) or JSON lines (.jsonl).")


class BookImportAcceptedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.CharField()
