from integrations.checks import integration_settings_check


def _ids(settings_overrides, settings):
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    return [problem.id for problem in integration_settings_check()]


def test_default_settings_pass(settings):
    assert _ids({"PIPEFY_AUTO_PUSH": False, "PIPEFY_FIELD_MAP": {}}, settings) == []


def test_unknown_provider(settings):
    assert _ids({"CNPJ_PROVIDERS": ["brasilapi", "serpro"]}, settings) == ["integrations.E001"]


def test_bad_rate(settings):
    assert _ids({"CNPJ_RATE_LIMITS": {"receitaws": "lots"}}, settings) == ["integrations.E002"]


def test_field_map_must_name_company_attributes(settings):
    assert _ids({"PIPEFY_FIELD_MAP": ["cnpj"]}, settings) == ["integrations.E003"]
    overrides = {"PIPEFY_FIELD_MAP": {"cnpj_formatted": "cnpj", "revenue": "faturamento"}}
    assert _ids(overrides, settings) == ["integrations.E004"]


def test_auto_push_without_credentials_warns(settings):
    assert _ids({"PIPEFY_AUTO_PUSH": True, "PIPEFY_TOKEN": "", "PIPEFY_PIPE_ID": "1"}, settings) == [
        "integrations.W001"
    ]
