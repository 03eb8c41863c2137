import pytest

from tests.browser import log_in, wait_until

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_log_in_and_see_the_home_page_in_chinese_then_english(
    browser_page, live_server, demo_users, demo_password, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    page = browser_page
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert "登录" in page.content()
    log_in(page, live_server, "demo_cm1", demo_password)
    assert "欢迎" in page.inner_text("[data-testid=home-title]")
    # switch the language from the navigation bar
    page.select_option("[data-testid=language]", "en")
    wait_until(page, "document.documentElement.lang === 'en'")
    assert "Welcome" in page.inner_text("[data-testid=home-title]")
    # no script was blocked by the Content-Security-Policy on the way
    page.click("[data-testid=user-menu]")
    assert page.is_visible("[data-testid=logout]")
