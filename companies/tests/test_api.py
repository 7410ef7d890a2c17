import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companies.models import Company
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, cnpj_for, numeric_cnpj

pytestmark = pytest.mark.django_db
URL = "/api/companies/"


def detail(cnpj):
    return f"{URL}{cnpj}/"


# --- create ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
    ],
)
def test_post_creates_with_location_for_numeric_and_alphanumeric_cnpjs(api, sent, stored):
    response = api.post(URL, {"cnpj": sent, "legal_name": "Acme Ltda", "state": "sp"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cnpj"] == stored
    assert body["cnpj_formatted"] == f"{stored[:2]}.{stored[2:5]}.{stored[5:8]}/{stored[8:12]}-{stored[12:]}"
    assert body["state"] == "SP" and body["enrichment_status"] == "pending"
    assert response["Location"] == f"http://testserver{detail(stored)}" == body["url"]
    assert Company.objects.get(cnpj=stored).legal_name == "Acme Ltda"


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("11.222.333/0001-82", "invalid_check_digits"),
        ("11.222.333/0001", "invalid_length"),
        ("11.222.333/0001-8100", "invalid_length"),
        ("11.222.333?0001-81", "invalid_format"),
        ("12ABC34501DEXY", "invalid_format"),
        ("", "blank"),
    ],
)
def test_post_with_an_invalid_cnpj_names_the_field_and_the_reason(api, sent, code):
    response = api.post(URL, {"cnpj": sent}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "cnpj"
    assert body["code"] == code
    assert not Company.objects.exists()


def test_post_without_cnpj_or_with_bad_fields_is_400(api):
    assert api.post(URL, {"legal_name": "x"}, format="json").json()["field"] == "cnpj"
    response = api.post(URL, {"cnpj": numeric_cnpj(1), "state": "XX", "zip_code": "123"}, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"state", "zip_code"}
    response = api.post(URL, {"cnpj": numeric_cnpj(1), "pipefy_card_id": "9", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("pipefy_card_id", "read_only"),
        ("colour", "unknown"),
    }
    assert api.post(URL, ["not", "an", "object"], format="json").status_code == 400
    assert not Company.objects.exists()


def test_post_of_a_stored_cnpj_is_409_with_the_existing_url(api):
    stored = CompanyFactory(alphanumeric=True)
    response = api.post(URL, {"cnpj": stored.cnpj_formatted.lower()}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["field"] == "cnpj" and body["code"] == "company_exists"
    assert body["existing_url"] == f"http://testserver{detail(stored.cnpj)}"
    assert Company.objects.count() == 1


def test_writes_need_a_full_access_key(read_only_api, client_anon):
    assert read_only_api.post(URL, {"cnpj": numeric_cnpj(1)}, format="json").status_code == 403
    assert client_anon.get(URL).status_code == 401
    assert read_only_api.get(URL).status_code == 200


# --- retrieve, update -----------------------------------------------------------------------
def test_get_by_cnpj_in_any_case_and_404s(api):
    company = CompanyFactory(alphanumeric=True)
    assert api.get(detail(company.cnpj.lower())).json()["cnpj"] == company.cnpj
    missing = api.get(detail(numeric_cnpj(999)))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    invalid = api.get(detail(company.cnpj[:-1] + ("0" if company.cnpj[-1] != "0" else "1")))
    assert invalid.status_code == 404 and invalid["Content-Type"] == "application/json"
    assert api.get(f"{URL}not-a-cnpj/").status_code == 404


def test_patch_changes_fields_and_records_who(api):
    company = CompanyFactory()
    response = api.patch(detail(company.cnpj), {"trade_name": "Novo", "zip_code": "01310-100"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["trade_name"], response.json()["zip_code"]) == ("Novo", "01310100")
    assert company.history.latest().history_actor == "api_key:test-service"


def test_cnpj_cannot_change_and_bookkeeping_is_read_only(api):
    company = CompanyFactory()
    response = api.patch(detail(company.cnpj), {"cnpj": alphanumeric_cnpj(1)}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "cnpj"
    assert response.json()["code"] == "immutable"
    same = api.patch(detail(company.cnpj), {"cnpj": company.cnpj_formatted, "size": "ME"}, format="json")
    assert same.status_code == 200
    for field, value in [("enrichment_status", "ok"), ("registry_source", "x"), ("pipefy_card_id", "1")]:
        response = api.patch(detail(company.cnpj), {field: value}, format="json")
        assert response.status_code == 400
        read_only = {"field": field, "code": "read_only", "message": "This field is read-only."}
        assert response.json()["errors"] == [read_only]
    company.refresh_from_db()
    assert company.enrichment_status == "pending" and company.pipefy_card_id == ""


def test_put_replaces_editable_fields_and_accepts_what_was_read(api):
    company = CompanyFactory(phone="11 5555-0000")
    body = api.get(detail(company.cnpj)).json()
    body["legal_name"] = "Replaced Ltda"
    assert api.put(detail(company.cnpj), body, format="json").status_code == 200
    response = api.put(detail(company.cnpj), {"cnpj": company.cnpj, "legal_name": "Only"}, format="json")
    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.legal_name, company.phone, company.state) == ("Only", "", "")


# --- never delete ---------------------------------------------------------------------------
def test_delete_is_405_json_saying_companies_are_never_deleted(api):
    company = CompanyFactory()
    for url in (detail(company.cnpj), URL):
        response = api.delete(url)
        assert response.status_code == 405
        assert "never deleted" in response.json()["message"]
        assert "DELETE" not in response["Allow"]
    assert Company.objects.filter(pk=company.pk).exists()


# --- list -----------------------------------------------------------------------------------
def _cnpjs(response):
    assert response.status_code == 200, response.content
    return [row["cnpj"] for row in response.json()["results"]]


def test_list_filters(api):
    sp = CompanyFactory(city="São Paulo", state="SP", registration_status="ATIVA", main_activity_code="6201501")
    rj = CompanyFactory(city="Rio de Janeiro", state="RJ", registration_status="BAIXADA", main_activity_code="4712100")
    branch = CompanyFactory(cnpj=cnpj_for(f"{sp.root}0002"), city="SÃO PAULO", state="SP", enrichment_status="failed")
    assert set(_cnpjs(api.get(URL, {"status": "baixada"}))) == {rj.cnpj}
    assert set(_cnpjs(api.get(URL, {"state": "sp"}))) == {sp.cnpj, branch.cnpj}
    assert set(_cnpjs(api.get(URL, {"city": "são paulo"}))) == {sp.cnpj, branch.cnpj}
    assert set(_cnpjs(api.get(URL, {"cnae": "47.12-1-00"}))) == {rj.cnpj}
    assert set(_cnpjs(api.get(URL, {"root": sp.root}))) == {sp.cnpj, branch.cnpj}
    assert set(_cnpjs(api.get(URL, {"enrichment_status": "failed"}))) == {branch.cnpj}
    Company.objects.filter(pk=rj.pk).update(updated_at="2030-01-01T00:00:00Z")
    assert _cnpjs(api.get(URL, {"updated_after": "2029-12-31T00:00:00Z"})) == [rj.cnpj]
    # Offsets PostgreSQL would refuse (beyond ±15:59) are compared in UTC.
    assert _cnpjs(api.get(URL, {"updated_after": "2030-01-01T20:44:00+20:45"})) == [rj.cnpj]


def test_list_search_by_names_or_cnpj_prefix(api):
    acme = CompanyFactory(legal_name="Acme Comércio Ltda", trade_name="Loja Azul")
    other = CompanyFactory(alphanumeric=True, legal_name="Outra S.A.", trade_name="Verde")
    assert _cnpjs(api.get(URL, {"search": "acme"})) == [acme.cnpj]
    assert _cnpjs(api.get(URL, {"search": "AZUL"})) == [acme.cnpj]
    assert _cnpjs(api.get(URL, {"search": acme.cnpj_formatted[:6]})) == [acme.cnpj]
    assert _cnpjs(api.get(URL, {"search": other.cnpj[:5].lower()})) == [other.cnpj]
    assert _cnpjs(api.get(URL, {"search": "100%"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "ACTIVE"}, "status"),
        ({"state": "XX"}, "state"),
        ({"cnae": "12"}, "cnae"),
        ({"root": "123"}, "root"),
        ({"enrichment_status": "done"}, "enrichment_status"),
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"updated_after": "9999-12-31T23:00:00-05:00"}, "updated_after"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"ordering": "phone"}, "ordering"),
        ({"cursor": "garbage"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_list_bad_parameters_are_400_naming_the_parameter(api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_cursor_pagination_forward_and_back_with_duplicate_names(api):
    companies = [CompanyFactory(legal_name="Same Name") for _ in range(7)]
    expected = sorted(company.cnpj for company in companies)
    first = api.get(URL, {"page_size": 3, "ordering": "legal_name"}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = [row["cnpj"] for page in (first, second, third) for row in page["results"]]
    assert sorted(seen) == expected and len(seen) == 7
    assert third["next"] is None and first["previous"] is None
    back = api.get(third["previous"]).json()
    assert [row["cnpj"] for row in back["results"]] == [row["cnpj"] for row in second["results"]]


def test_default_page_size_ordering_and_descending(api):
    for n in range(55):
        CompanyFactory(cnpj=numeric_cnpj(n))
    page = api.get(URL).json()
    assert len(page["results"]) == 50
    assert [row["cnpj"] for row in page["results"]] == sorted(numeric_cnpj(n) for n in range(55))[:50]
    assert "registry_payload" not in page["results"][0]
    descending = api.get(URL, {"ordering": "-cnpj", "page_size": 200}).json()
    assert [row["cnpj"] for row in descending["results"]] == sorted((numeric_cnpj(n) for n in range(55)), reverse=True)
    assert descending["next"] is None


def test_ordering_by_updated_at_pages_through_timestamps(api):
    companies = [CompanyFactory() for _ in range(5)]
    for minute, company in enumerate(companies):
        Company.objects.filter(pk=company.pk).update(updated_at=f"2030-01-01T00:{minute % 3:02d}:00Z")
    seen, url, params = [], URL, {"ordering": "-updated_at", "page_size": 2}
    while url:
        page = api.get(url, params).json()
        seen += [row["cnpj"] for row in page["results"]]
        url, params = page["next"], None
    by_time = sorted(companies, key=lambda c: (Company.objects.get(pk=c.pk).updated_at, c.pk), reverse=True)
    assert seen == [company.cnpj for company in by_time]


def test_a_cursor_from_another_ordering_is_refused(api):
    for _ in range(3):
        CompanyFactory()
    next_link = api.get(URL, {"page_size": 1}).json()["next"]
    response = api.get(next_link.replace("ordering=", "x=") + "&ordering=legal_name")
    assert response.status_code == 400 and response.json()["field"] == "cursor"


# --- query counts ---------------------------------------------------------------------------
def _company_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "companies_" in q["sql"]], len(queries.captured_queries)


def test_list_query_count_does_not_grow_with_the_page_size(api):
    for _ in range(60):
        CompanyFactory(partners=[{"name": "Ana"}], secondary_activities=[{"code": "4712100"}])
    api.get("/api/auth/me/")  # the API key's record is read once, then cached
    small = _company_queries(api, URL, {"page_size": 5})
    large = _company_queries(api, URL, {"page_size": 60, "state": "SP", "search": "Exemplo"})
    assert len(small[0]) == len(large[0]) == 1
    assert small[1] == large[1]


def test_retrieve_query_count_is_constant_and_zero_on_a_cache_hit(api):
    companies = [CompanyFactory(), CompanyFactory(alphanumeric=True, partners=[{"name": "A"}, {"name": "B"}])]
    api.get("/api/auth/me/")  # the API key's record is read once, then cached
    counts = {_company_queries(api, detail(company.cnpj))[1] for company in companies}
    assert len(counts) == 1
    company_queries, _ = _company_queries(api, detail(companies[0].cnpj))
    assert company_queries == []


# --- history ---------------------------------------------------------------------------------
def test_history_is_newest_first_with_changes_and_actor(api, jwt_client):
    response = api.post(URL, {"cnpj": numeric_cnpj(3), "legal_name": "Primeiro"}, format="json")
    url = response.json()["url"]
    api.patch(url, {"legal_name": "Segundo", "city": "Campinas"}, format="json")
    person = jwt_client("maria", perms=["companies.change_company"])
    assert person.patch(url, {"legal_name": "Terceiro"}, format="json").status_code == 200
    versions = api.get(f"{url}history/").json()["results"]
    assert [v["history_type"] for v in versions] == ["updated", "updated", "created"]
    assert [v["actor"] for v in versions] == ["user:maria", "api_key:test-service", "api_key:test-service"]
    assert versions[0]["changes"] == [{"field": "legal_name", "old": "Segundo", "new": "Terceiro"}]
    assert {(c["field"], c["old"], c["new"]) for c in versions[1]["changes"]} == {
        ("legal_name", "Primeiro", "Segundo"),
        ("city", "", "Campinas"),
    }
    assert {"field": "cnpj", "old": None, "new": numeric_cnpj(3)} in versions[2]["changes"]


def test_history_pages_keep_changes_across_the_page_boundary(api):
    company = CompanyFactory(legal_name="v0")
    for n in range(1, 4):
        api.patch(detail(company.cnpj), {"legal_name": f"v{n}"}, format="json")
    first = api.get(f"{detail(company.cnpj)}history/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert [v["changes"][0]["new"] for v in first["results"]] == ["v3", "v2"]
    assert second["results"][0]["changes"] == [{"field": "legal_name", "old": "v0", "new": "v1"}]
    assert api.get(f"{detail(numeric_cnpj(500))}history/").status_code == 404


def test_null_characters_and_forged_cursors_are_400_not_500(api):
    import base64
    import json

    company = CompanyFactory()
    assert api.patch(detail(company.cnpj), {"trade_name": "a\x00b"}, format="json").status_code == 400
    assert api.get(URL, {"search": "a\x00b"}).status_code == 400
    for position in (
        {"o": "cnpj", "v": "a\x00", "k": 1, "b": False},
        {"o": "cnpj", "v": "x", "k": 10**30, "b": False},
        {"o": "updated_at", "v": "not a date", "k": 1, "b": False},
        {"o": "updated_at", "v": 5, "k": 1, "b": False},
        {"o": "-updated_at", "v": True, "k": 1, "b": False},
    ):
        cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
        response = api.get(URL, {"cursor": cursor, "ordering": position["o"]})
        assert response.status_code == 400 and response.json()["field"] == "cursor", position


def test_a_cursor_edited_by_hand_or_from_another_list_is_400(api):
    from urllib.parse import parse_qs, urlsplit

    CompanyFactory.create_batch(3)
    first = api.get(URL, {"page_size": 1}).json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    assert api.get(URL, {"page_size": 1, "cursor": cursor}).status_code == 200
    edited = [
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),  # the signature
        ("x" if cursor[0] != "x" else "y") + cursor[1:],  # the position
        cursor[: len(cursor) // 2],  # truncated
        cursor + "=",
        "",
    ]
    books_cursor = api.get("/api/books/", {"page_size": 1}).json().get("next")
    for forged in edited + ([parse_qs(urlsplit(books_cursor).query)["cursor"][0]] if books_cursor else []):
        response = api.get(URL, {"page_size": 1, "cursor": forged})
        if forged == "":
            assert response.status_code == 200  # no cursor: the first page
            continue
        assert response.status_code == 400, forged
        assert response.json()["field"] == "cursor" and response.json()["code"] == "invalid"


FULLWIDTH_CODE = "".join(chr(0xFF10 + int(digit)) for digit in "6201501")


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("partners", [{}], "name"),
        ("partners", [{"name": "Ana", "cpf": "123"}], "cpf"),
        ("partners", [{"name": "Ana", "since": "01/02/2020"}], "since"),
        ("partners", [{"name": "Ana", "since": "2020-02-30"}], "since"),
        ("partners", ["Ana"], "object"),
        ("partners", {"name": "Ana"}, "list"),
        ("secondary_activities", [{"code": "abc"}], "code"),
        ("secondary_activities", [{"code": "620150"}], "code"),
        ("secondary_activities", [{"code": "62015011"}], "code"),
        ("secondary_activities", [{"code": FULLWIDTH_CODE}], "code"),
        ("secondary_activities", [{"code": "6201501", "text": "x"}], "text"),
    ],
)
def test_nested_lists_are_validated_like_their_top_level_counterparts(api, field, value, named):
    response = api.post(URL, {"cnpj": numeric_cnpj(901), field: value, "enrich": False}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field or body["field"].startswith(f"{field}.0"), body  # the item, or its key
    assert named in (body["field"] + " " + body["message"]).lower(), body
    assert not Company.objects.filter(cnpj=numeric_cnpj(901)).exists()


def test_valid_nested_lists_are_stored_normalised(api):
    body = {
        "cnpj": numeric_cnpj(902),
        "enrich": False,
        "secondary_activities": [{"code": "62.01-5-01", "description": "Software"}],
        "partners": [{"name": "Ana", "role": "Sócia", "since": "2020-02-01"}, {"name": "Bia"}],
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    company = Company.objects.get(cnpj=numeric_cnpj(902))
    assert company.secondary_activities == [{"code": "6201501", "description": "Software"}]
    assert company.partners[1] == {"name": "Bia", "role": "", "since": None}


@pytest.mark.django_db(transaction=True)
def test_parallel_patches_of_different_fields_of_one_company_all_land(api_key):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from rest_framework.test import APIClient

    company = CompanyFactory()
    changes = {
        "trade_name": "Paralela",
        "email": "p@example.com",
        "phone": "1133334444",
        "city": "Campinas",
        "district": "Centro",
        "street": "Rua Um",
        "street_number": "10",
        "complement": "Sala 2",
    }

    def patch(item):
        try:
            return (
                APIClient(HTTP_X_API_KEY=api_key).patch(detail(company.cnpj), dict([item]), format="json").status_code
            )
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(changes)) as pool:
        assert list(pool.map(patch, changes.items())) == [200] * len(changes)
    company.refresh_from_db()
    assert {name: getattr(company, name) for name in changes} == changes
    versions = api_get_history(api_key, company.cnpj)
    assert sorted(tuple(c["field"] for c in v["changes"]) for v in versions[:-1]) == sorted((n,) for n in changes)


def api_get_history(api_key, cnpj):
    from rest_framework.test import APIClient

    return APIClient(HTTP_X_API_KEY=api_key).get(f"{detail(cnpj)}history/", {"page_size": 50}).json()["results"]


def test_a_cursor_from_one_companys_history_is_refused_on_anothers(api):
    first, second = CompanyFactory(), CompanyFactory()
    for company in (first, second):
        for n in range(3):
            api.patch(detail(company.cnpj), {"trade_name": f"v{n}"}, format="json")
    page = api.get(f"{detail(first.cnpj)}history/", {"page_size": 1}).json()
    cursor = page["next"].split("cursor=")[1].split("&")[0]
    from urllib.parse import unquote

    assert api.get(f"{detail(first.cnpj)}history/", {"page_size": 1, "cursor": unquote(cursor)}).status_code == 200
    response = api.get(f"{detail(second.cnpj)}history/", {"page_size": 1, "cursor": unquote(cursor)})
    assert response.status_code == 400 and response.json()["field"] == "cursor"


def test_an_unknown_query_parameter_on_a_company_is_400(api):
    company = CompanyFactory()
    response = api.get(detail(company.cnpj), {"foo": "1"})
    assert response.status_code == 400 and response.json()["field"] == "foo"
    assert api.get(detail(company.cnpj)).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("main_activity_code", "abc"), ("main_activity_code", "abc6201501"), ("zip_code", "01310-100x"),
     ("zip_code", "abcdefgh"), ("city_ibge_code", "35503O8")],
)
def test_codes_with_letters_are_refused_not_stripped(api, field, value):
    from companies.services import company_create

    company_create(cnpj="11222333000181", legal_name="Códigos Ltda", enrich=False)
    response = api.patch("/api/companies/11222333000181/", {field: value})
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert api.patch("/api/companies/11222333000181/", {"main_activity_code": "62.01-5-01"}).status_code == 200
