"""Every page needs a login, except the login page, static files, /healthz, /readyz and
/metrics (answered to the allowed addresses or the metrics token only). The
test walks the URL resolver, so a page added later is covered without a new test."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"/accounts/login/", "/healthz", "/readyz", "/metrics"}
SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _sample(route: str) -> str | None:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    if "(?P" in route or "(" in route:
        # regex routes (the admin's): fill simple groups with a sample value
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
        if "(" in route:
            return None
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER.get(m.group(1) or "str", "x"), route)
    return "/" + route


def all_urls():
    urls = sorted({u for u in (_sample(r) for r in _walk(get_resolver().url_patterns)) if u})
    return urls


def test_the_walk_finds_the_pages():
    urls = all_urls()
    assert "/" in urls and "/accounts/users/" in urls and "/admin/" in urls
    assert len(urls) > 30


@pytest.mark.django_db
@pytest.mark.parametrize("url", all_urls())
def test_anonymous_user_is_sent_to_login(client, url):
    response = client.get(url)
    if url in PUBLIC or url.startswith("/static/"):
        assert response.status_code in (200, 405)
        return
    if url.startswith("/api/"):
        # The API authenticates itself (token or session) and says so.
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 302, f"{url} answered {response.status_code}"
    target = response["Location"]
    if target.startswith("/admin/login/"):
        # the admin's own login page forwards to the one login page
        target = client.get(target)["Location"]
    assert target.startswith("/accounts/login/"), f"{url} redirected to {target}"


@pytest.mark.django_db
def test_public_pages_answer_anonymously(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code == 200
