"""A tidy admin index: the framework's internal models in one "Sistema" section for superusers
only, and two ready staff groups ("Operadores" edit, "Leitores" read)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from companies.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-Battery-9"


def _sections(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return {str(app["name"]): [str(model["name"]) for model in app["models"]] for app in response.context["app_list"]}


def test_superusers_find_the_internal_models_under_sistema(admin_client):
    sections = _sections(admin_client)
    assert "Sistema" in sections
    internal = " ".join(sections["Sistema"]).lower()
    assert "blacklisted tokens" in internal and "periodic tasks" in internal and "task results" in internal
    for hidden in ("Token Blacklist", "Periodic Tasks", "Celery Results"):
        assert hidden not in sections
    assert "Empresas" in sections  # the index speaks Portuguese by default


def _staff_in(group_name, make_user):
    user = make_user(username=group_name.lower(), password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


def test_readers_see_companies_and_books_read_only_and_no_sistema(make_user):
    client = _staff_in("Leitores", make_user)
    sections = _sections(client)
    assert "Sistema" not in sections
    assert set(sections) == {"Empresas", "Livros"}
    company = CompanyFactory()
    page = client.get(f"/admin/companies/company/{company.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content  # view only
    assert client.get("/admin/companies/company/add/").status_code == 403


def test_operators_edit_companies_and_books(make_user):
    client = _staff_in("Operadores", make_user)
    assert set(_sections(client)) == {"Empresas", "Livros"}
    company = CompanyFactory()
    page = client.get(f"/admin/companies/company/{company.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' in page.content
    assert client.get("/admin/companies/company/add/").status_code == 200
    assert client.get("/admin/books/book/add/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_groups_survive_a_flush():
    from django.core.management import call_command

    call_command("flush", "--noinput", verbosity=0)
    readers = Group.objects.get(name="Leitores")
    assert set(readers.permissions.values_list("codename", flat=True)) == {"view_company", "view_book"}
    assert Group.objects.get(name="Operadores").permissions.count() == 6
