import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from companies.models import Company
from companies.tests.factories import CompanyFactory, cnpj_for


@pytest.mark.django_db
def test_root_and_head_office_are_derived_from_the_cnpj():
    head_office = CompanyFactory(cnpj=cnpj_for("12ABC3450001"))
    branch = CompanyFactory(cnpj=cnpj_for("12ABC3450002"))
    assert head_office.root == branch.root == "12ABC345"
    assert head_office.is_head_office and not branch.is_head_office
    assert head_office.cnpj_formatted.startswith("12.ABC.345/0001-")


@pytest.mark.django_db
def test_raw_sql_delete_is_refused_by_the_database():
    company = CompanyFactory()
    with pytest.raises(ProgrammingError, match="Cannot delete"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM companies_company WHERE id = %s", [company.pk])
    assert Company.objects.filter(pk=company.pk).exists()


@pytest.mark.django_db
def test_queryset_and_instance_delete_are_refused():
    company = CompanyFactory()
    with pytest.raises(ProgrammingError), transaction.atomic():
        Company.objects.all().delete()
    with pytest.raises(ProgrammingError), transaction.atomic():
        company.delete()
    assert Company.objects.count() == 1


@pytest.mark.django_db
def test_the_database_keeps_the_cnpj_immutable():
    company = CompanyFactory()
    with pytest.raises(ProgrammingError), transaction.atomic():
        Company.objects.filter(pk=company.pk).update(cnpj=cnpj_for("999999990001"))
    company.refresh_from_db()
    assert company.cnpj != cnpj_for("999999990001")


@pytest.mark.django_db
def test_check_constraint_refuses_a_cnpj_not_in_compact_form():
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyFactory(cnpj="12.345.678/00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"state": "XX"},
        {"registration_status": "ACTIVE"},
        {"enrichment_status": "done"},
        {"zip_code": "0131-100"},
        {"main_activity_code": "62.01-5"},
        {"city_ibge_code": "35503"},
        {"share_capital": -1},
    ],
)
def test_check_constraints_refuse_invalid_values(change):
    company = CompanyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.filter(pk=company.pk).update(**change)
