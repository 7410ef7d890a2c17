"""The back office in a real browser: log in, create a company, find it, read its history,
and see that there is no way to delete it."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from companies.models import Company

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "Adm1n-Passw0rd!"
CNPJ_FORMATTED = "12.ABC.345/01DE-35"


def test_admin_create_find_history_and_no_delete(browser_page, screenshot):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    page, base = browser_page, browser_page.base

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    screenshot("admin-index")

    page.goto(f"{base}/admin/companies/company/add/")
    page.fill("#id_cnpj", CNPJ_FORMATTED.lower())
    page.fill("#id_legal_name", "Navegador Testes Ltda")
    page.fill("#id_trade_name", "Navegador")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    company = Company.objects.get(cnpj="12ABC34501DE35")
    assert company.legal_name == "Navegador Testes Ltda"
    screenshot("admin-company-added")

    page.goto(f"{base}/admin/companies/company/?q={CNPJ_FORMATTED}")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CNPJ_FORMATTED)
    expect(page.locator("select[name=action] option[value=delete_selected]")).to_have_count(0)
    screenshot("admin-company-list")

    page.goto(f"{base}/admin/companies/company/{company.pk}/change/")
    expect(page.locator("a.deletelink")).to_have_count(0)
    page.fill("#id_trade_name", "Navegador Dois")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    screenshot("admin-company-change")

    page.goto(f"{base}/admin/companies/company/{company.pk}/history/")
    history_rows = page.locator("#change-history tbody tr")
    expect(history_rows).to_have_count(2)
    expect(page.locator("#change-history .history-who").first).to_have_text("root")
    screenshot("admin-company-history")

    response = page.goto(f"{base}/admin/companies/company/{company.pk}/delete/")
    assert response.status == 403 or re.search(r"/change/|/admin/", page.url)
    assert Company.objects.filter(pk=company.pk).exists()
