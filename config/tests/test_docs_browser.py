"""Swagger UI in a real browser renders our operations from our own assets only."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_swagger_ui_renders_operations_without_leaving_the_machine(browser_page, screenshot):
    page, base = browser_page, browser_page.base
    outside = []
    page.on("request", lambda request: None if request.url.startswith(base) else outside.append(request.url))
    page.goto(f"{base}/api/doc/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Companies and Books API")
    expect(page.locator(".opblock-summary-path", has_text="/api/companies/").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/books/").first).to_be_visible()
    assert page.locator(".opblock").count() > 10
    screenshot("swagger-ui")
    assert outside == []
