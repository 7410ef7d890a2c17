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
    assert _ids({"PROVIDER_RATES": {"receitaws": "lots"}}, settings) == ["integrations.E002"]
    assert _ids({"PROVIDER_RATES": {"receitaws": ""}}, settings) == []  # empty: no limit


def test_auto_push_without_credentials_warns(settings):
    assert _ids({"PIPEFY_AUTO_PUSH": True, "PIPEFY_TOKEN": "", "PIPEFY_PIPE_ID": "1"}, settings) == [
        "integrations.W001"
    ]
