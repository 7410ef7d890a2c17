from companies.checks import pipefy_field_map_check


def test_field_map_must_name_company_attributes(settings):
    settings.PIPEFY_FIELD_MAP = ["cnpj"]
    assert [problem.id for problem in pipefy_field_map_check()] == ["companies.E001"]
    settings.PIPEFY_FIELD_MAP = {"cnpj_formatted": "cnpj", "revenue": "faturamento"}
    assert [problem.id for problem in pipefy_field_map_check()] == ["companies.E002"]
    settings.PIPEFY_FIELD_MAP = {"cnpj_formatted": "cnpj", "legal_name": "razao_social"}
    assert pipefy_field_map_check() == []
