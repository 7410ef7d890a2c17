"""Where books live (MongoDB, never SQL) and the history of every change, with its actor."""

import os

import pymongo
from bson import ObjectId
from django.db import connections
from django.test.utils import CaptureQueriesContext

from books.models import Book
from books.tests.conftest import mongo_db

URL = "/api/books/"


@mongo_db
def test_books_live_in_mongodb_and_an_archived_book_stays_there(api, book_payload):
    with CaptureQueriesContext(connections["default"]) as sql_queries:
        created = api.post(URL, book_payload(), format="json").json()
        assert len(api.get(URL).json()["results"]) == 1
        assert api.delete(created["url"]).status_code == 204
    assert sql_queries.captured_queries  # the API key is checked in SQL...
    assert not [q["sql"] for q in sql_queries.captured_queries if "books" in q["sql"]]  # ...books never

    settings_dict = connections["mongo"].settings_dict
    with pymongo.MongoClient(os.environ["MONGODB_URI"]) as client:
        database = client[settings_dict["NAME"]]
        document = database["books_book"].find_one({"_id": ObjectId(created["id"])})
        assert document is not None
        assert document["isbn"] == "9780306406157"
        assert document["authors"] == ["Harold Abelson", "Gerald Jay Sussman"]
        assert document["archived_at"] is not None
        assert database["books_historicalbook"].count_documents({"id": ObjectId(created["id"])}) == 2

    # Nothing about books reaches the SQL database, and nothing else reaches MongoDB.
    sql_tables = connections["default"].introspection.table_names()
    assert not [name for name in sql_tables if name.startswith("books_")]
    indexes = {
        index["name"]: (list(index["key"]), index.get("unique", False))
        for index in connections["mongo"].database["books_book"].list_indexes()
    }
    assert (["isbn"], True) in indexes.values()
    for fields in (["isbn"], ["published_date", "_id"], ["title", "_id"], ["created_at", "_id"]):
        assert (fields, False) in indexes.values(), fields
    mongo_collections = set(connections["mongo"].database.list_collection_names())
    assert mongo_collections - {"django_migrations"} == {"books_book", "books_historicalbook"}


@mongo_db
def test_history_records_every_change_with_its_actor(api, jwt_client, book_payload):
    created = api.post(URL, book_payload(), format="json").json()
    editor = jwt_client("alice", perms=["books.add_book", "books.change_book", "books.delete_book"])
    assert editor.patch(created["url"], {"title": "SICP", "tags": ["lisp"]}, format="json").status_code == 200
    assert editor.patch(created["url"], {"title": "SICP"}, format="json").status_code == 200  # no change
    assert editor.delete(created["url"]).status_code == 204
    assert api.post(f"{created['url']}restore/").status_code == 200

    response = api.get(f"{created['url']}history/")
    assert response.status_code == 200
    page = response.json()
    assert (page["next"], page["previous"]) == (None, None)
    history = page["results"]  # the company history's shape and names
    assert [(entry["history_type"], entry["actor"]) for entry in history] == [
        ("restored", "api_key:test-service"),
        ("archived", "user:alice"),
        ("updated", "user:alice"),
        ("created", "api_key:test-service"),
    ]
    changed = {change["field"]: change for change in history[2]["changes"]}
    assert set(changed) == {"title", "tags"}
    assert changed["title"]["old"] == "Structure and Interpretation of Computer Programs"
    assert changed["title"]["new"] == "SICP"
    assert changed["tags"]["new"] == ["lisp"]
    assert history[1]["user"] == "alice" and history[3]["user"] is None
    assert set(history[0]) == {"history_id", "history_date", "history_type", "actor", "user", "changes"}

    book = Book.objects.get(pk=ObjectId(created["id"]))
    assert book.history.count() == 4
    # Read-only callers may read the history; it is served for archived books too.
    api.delete(created["url"])
    assert api.get(f"{created['url']}history/").json()["results"][0]["history_type"] == "archived"

    # Pages, as for companies: follow next, then previous back.
    first = api.get(f"{created['url']}history/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2 and first["previous"] is None
    assert [v["history_id"] for v in second["results"]][:1] == [history[1]["history_id"]]
    back = api.get(second["previous"]).json()
    assert [v["history_id"] for v in back["results"]] == [v["history_id"] for v in first["results"]]
    tampered = api.get(f"{created['url']}history/", {"cursor": second["previous"].split("cursor=")[1] + "x"})
    assert tampered.status_code == 400 and tampered.json()["field"] == "cursor"
    assert api.get(f"{created['url']}history/", {"page_size": "0"}).status_code == 400
