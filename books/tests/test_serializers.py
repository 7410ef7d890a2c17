"""MongoModelSerializer: ObjectIds as strings and array fields as lists (DRF alone gets both wrong)."""

import pytest
from bson import ObjectId
from rest_framework import serializers

from books.models import Book
from books.serializers import MongoModelSerializer, ObjectIdField


class PlainBookSerializer(MongoModelSerializer):
    class Meta:
        model = Book
        fields = ("id", "title", "authors", "tags", "created_at")


def test_mongo_fields_map_to_string_ids_and_lists():
    fields = PlainBookSerializer().fields
    assert isinstance(fields["id"], ObjectIdField) and fields["id"].read_only
    assert isinstance(fields["authors"], serializers.ListField)
    assert isinstance(fields["authors"].child, serializers.CharField)
    assert fields["authors"].child.max_length == 200 and fields["authors"].max_length == 50
    assert isinstance(fields["tags"], serializers.ListField) and not fields["tags"].required

    object_id = ObjectId()
    book = Book(id=object_id, title="Dune", authors=["Frank Herbert"], tags=["sf"])
    data = PlainBookSerializer(book).data
    assert data["id"] == str(object_id) and data["authors"] == ["Frank Herbert"] and data["tags"] == ["sf"]

    incoming = PlainBookSerializer(data={"title": "Dune", "authors": ["Frank Herbert"], "tags": "sf"})
    assert not incoming.is_valid() and "tags" in incoming.errors
    incoming = PlainBookSerializer(data={"title": "Dune", "authors": []})
    assert not incoming.is_valid() and "authors" in incoming.errors


def test_object_id_field_parses_only_24_hex_characters():
    field = ObjectIdField()
    object_id = ObjectId()
    assert field.to_internal_value(str(object_id)) == object_id
    for bad in ("not-an-id", "123", "a" * 12, 42, None):
        with pytest.raises(serializers.ValidationError):
            field.to_internal_value(bad)
