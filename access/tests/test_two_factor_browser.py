"""Two-factor sign-in in a real browser: a superuser who must use it is sent to set it up, scans
(reads) the key, confirms a code, keeps the recovery codes; then signs in with a code from the
app or a recovery code (each once), and not with the password alone."""

from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "Segundo-Fator-2026!"


def code_for(key: str, *, step_ahead: int = 0) -> str:
    """What the authenticator app shows now (or `step_ahead` 30-second steps later)."""
    totp = TOTP(b32decode(key), drift=step_ahead)
    return f"{totp.token():06d}"


def sign_in(page, base, password, code=""):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "chefe")
    page.fill("#id_password", password)
    page.fill("#id_otp_token", code)
    page.click("input[type=submit]")


def sign_out(page):
    page.click("#logout-form button")
    expect(page.locator("#content h1, #content-main h1").first).to_be_visible()


def test_enrol_then_sign_in_with_the_app_or_a_recovery_code(browser_page, screenshot, settings):
    settings.ADMIN_REQUIRE_2FA = True
    get_user_model().objects.create_superuser("chefe", "chefe@example.com", PASSWORD)
    page, base = browser_page, browser_page.base

    # Password accepted, but the back office waits until two-factor sign-in is set up.
    sign_in(page, base, PASSWORD)
    expect(page).to_have_url(f"{base}/admin/2fa/")
    page.goto(f"{base}/admin/companies/company/")
    expect(page).to_have_url(f"{base}/admin/2fa/")
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot("admin-2fa-enrol")
    key = page.locator("#totp-key").inner_text().strip()

    page.fill("#id_token", "000000" if code_for(key) != "000000" else "111111")
    page.click("input[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("not the one the app shows")

    page.wait_for_timeout(2100)  # after a wrong code, django-otp waits a moment before the next try
    page.fill("#id_token", code_for(key))
    page.click("input[type=submit]")
    codes = page.locator("ul.recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = [text.strip() for text in codes.all_inner_texts()]
    screenshot("admin-2fa-recovery-codes")
    page.click("text=Continue to the back office")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/companies/company/")
    expect(page).to_have_url(f"{base}/admin/companies/company/")
    sign_out(page)

    # The password alone is no longer enough.
    sign_in(page, base, PASSWORD)
    expect(page.locator(".errornote")).to_contain_text("authenticator app")
    expect(page).to_have_url(f"{base}/admin/login/?next=/admin/")

    # A recovery code works once.
    sign_in(page, base, PASSWORD, recovery[0])
    expect(page.locator("#site-name")).to_be_visible()
    expect(page).to_have_url(f"{base}/admin/")
    sign_out(page)
    sign_in(page, base, PASSWORD, recovery[0])
    expect(page.locator(".errornote")).to_contain_text("authenticator app")
    page.wait_for_timeout(2100)

    # A code from the app (the next one: the current one was spent setting up).
    sign_in(page, base, PASSWORD, code_for(key, step_ahead=1))
    expect(page).to_have_url(f"{base}/admin/")
    screenshot("admin-2fa-signed-in")
