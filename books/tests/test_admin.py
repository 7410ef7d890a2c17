"""The books admin on the mongo alias: list, search, filter, edit, archive and restore, no delete."""

import datetime

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from books.models import Book
from books.tests.conftest import mongo_db
from books.tests.factories import BookFactory

CHANGELIST = reverse("admin:books_book_changelist")


def _messages(response):
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def form_data(**overrides):
    data = {
        "title": "Dune",
        "subtitle": "",
        "authors": "Herbert, Frank; Brian Herbert",
        "isbn": "0-441-17271-7",
        "publisher": "Chilton",
        "published": "1965-08",
        "language": "EN",
        "page_count": "412",
        "tags": "SF; Classic",
        "description": "",
    }
    data.update(overrides)
    return data


@mongo_db
def test_admin_lists_searches_filters_adds_and_edits(admin_client):
    BookFactory(title="Emma", authors=["Jane Austen"], language="en")
    BookFactory(title="Solaris", authors=["Stanisław Lem"], language="pl")

    page = admin_client.get(CHANGELIST)
    assert page.status_code == 200 and b"Emma" in page.content and b"Solaris" in page.content
    found = admin_client.get(CHANGELIST, {"q": "Austen"})
    assert b"Emma" in found.content and b"Solaris" not in found.content
    polish = admin_client.get(CHANGELIST, {"language": "pl"})
    assert b"Solaris" in polish.content and b"Emma" not in polish.content

    added = admin_client.post(reverse("admin:books_book_add"), form_data())
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else added
    dune = Book.objects.get(isbn="9780441172719")
    assert dune.authors == ["Herbert, Frank", "Brian Herbert"]
    assert dune.tags == ["sf", "classic"] and dune.language == "en"
    assert str(dune.published) == "1965-08"
    assert dune.history.get().history_actor == "user:admin"

    change_url = reverse("admin:books_book_change", args=[dune.pk])
    form = admin_client.get(change_url)
    assert form.status_code == 200 and b"1965-08" in form.content and b"Herbert, Frank;Brian Herbert" in form.content
    edited = admin_client.post(change_url, form_data(title="Dune (50th anniversary)", published="1965"))
    assert edited.status_code == 302
    dune.refresh_from_db()
    assert dune.title == "Dune (50th anniversary)" and dune.published_date_precision == "year"
    assert [h.history_type for h in dune.history.all()] == ["~", "+"]
    shown = admin_client.get(change_url).content.decode()
    assert "Alterado · admin · título, data de publicação, precisão da data de publicação<br>" in shown  # pt-BR
    assert "Criado · admin</div>" in shown
    assert not LogEntry.objects.filter(content_type__app_label="books").exists()  # nothing in SQL

    duplicate = admin_client.post(reverse("admin:books_book_add"), form_data(isbn="978-0-441-17271-9"))
    assert duplicate.status_code == 200
    assert "isbn" in duplicate.context["adminform"].form.errors
    invalid = admin_client.post(reverse("admin:books_book_add"), form_data(isbn="0-441-17271-8", published="1965-13"))
    errors = invalid.context["adminform"].form.errors
    assert "isbn" in errors and "published" in errors
    assert Book.objects.count() == 3


@mongo_db
def test_admin_archives_and_restores_but_never_deletes(admin_client, in_english):
    book, other = BookFactory(title="Kept"), BookFactory(title="Other")

    page = admin_client.get(CHANGELIST)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert {"archive_books", "restore_books"} <= set(actions)
    change_page = admin_client.get(reverse("admin:books_book_change", args=[book.pk]))
    assert b"deletelink" not in change_page.content
    assert admin_client.get(reverse("admin:books_book_delete", args=[book.pk])).status_code == 403
    refused = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [str(book.pk)]}, follow=True
    )
    assert refused.status_code in (200, 302)

    selected = {"action": "archive_books", "_selected_action": [str(book.pk)]}
    archiving = admin_client.post(CHANGELIST, selected, follow=True)
    assert _messages(archiving) == ["1 book archived."]
    book.refresh_from_db()
    assert book.archived_at is not None and Book.objects.count() == 2
    archived = admin_client.get(CHANGELIST, {"status": "archived"})
    assert b"Kept" in archived.content and b"Other" not in archived.content

    both = [str(book.pk), str(other.pk)]
    again = admin_client.post(CHANGELIST, {"action": "archive_books", "_selected_action": both}, follow=True)
    assert _messages(again) == ["1 book archived; 1 skipped: 1 was already archived."]
    restoring = admin_client.post(CHANGELIST, {"action": "restore_books", "_selected_action": both}, follow=True)
    assert _messages(restoring) == ["2 books restored."]
    nothing = admin_client.post(CHANGELIST, {"action": "restore_books", "_selected_action": both}, follow=True)
    assert _messages(nothing) == ["0 books restored; 2 skipped: 2 were not archived."]
    book.refresh_from_db()
    assert book.archived_at is None
    assert [h.history_actor for h in book.history.all()[:2]] == ["user:admin", "user:admin"]
    assert Book.objects.count() == 2


@mongo_db
def test_book_history_page_in_plain_words(admin_client, settings, in_english):
    settings.TIME_ZONE = "America/Sao_Paulo"
    admin_client.post(reverse("admin:books_book_add"), form_data())
    dune = Book.objects.get(isbn="9780441172719")
    change_url = reverse("admin:books_book_change", args=[dune.pk])
    admin_client.post(change_url, form_data(title="Dune Messiah", page_count="256"))
    admin_client.post(CHANGELIST, {"action": "archive_books", "_selected_action": [str(dune.pk)]})
    at_noon_utc = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)
    dune.history.filter(history_type="+").update(history_date=at_noon_utc)

    page = admin_client.get(reverse("admin:books_book_history", args=[dune.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    rows = html.split('<tr class="history-row')[1:]
    assert len(rows) == 3
    archived, changed, created = rows
    assert "Archived" in archived and "Archived at" in archived
    assert "Dune</span>&nbsp;&rarr;&nbsp;<span class=\"history-new\">Dune Messiah" in changed
    assert "412</span>&nbsp;&rarr;&nbsp;<span class=\"history-new\">256" in changed
    assert "Created" in created and "admin" in created
    assert 'datetime="2025-01-15T09:00:00-03:00"' in created  # 12:00 UTC, in São Paulo
    table = html.split('id="change-history"')[1]
    for raw in ("user:admin", "None", "Change reason"):
        assert raw not in table, raw
    assert admin_client.get(reverse("admin:books_book_history", args=["not-an-id"])).status_code == 404


def test_a_hyphenated_isbn_gets_no_error_when_another_field_has_one(admin_client, in_english):
    response = admin_client.post(
        reverse("admin:books_book_add"), form_data(isbn="978-0-306-40615-7", page_count="0")
    )
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert "page_count" in errors and "isbn" not in errors, errors


@mongo_db
def test_an_action_with_a_hand_edited_selection_is_refused_with_a_message(admin_client):
    response = admin_client.post(
        reverse("admin:books_book_changelist"), {"action": "archive_books", "_selected_action": ["zzz"]}, follow=True
    )
    assert response.status_code == 200
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
