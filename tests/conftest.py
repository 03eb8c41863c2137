import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Branch, User
from accounts.roles import sync_roles
from accounts.services import user_provision
from demo.org import seed_org, seed_users
from tests.browser import browser_page  # noqa: F401  (fixture)

PASSWORD = "Test-Pass-2026!"


@pytest.fixture(autouse=True)
def _plain_language(settings):
    # Assertions read English text unless a test asks for Chinese.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def org(db) -> dict[str, Branch]:
    sync_roles()
    return seed_org()


@pytest.fixture
def demo_users(org) -> dict[str, User]:
    return {u.username: u for u in seed_users(org)}


@pytest.fixture
def make_user(org):
    counter = {"n": 0}

    def _make(role: str, branch_code: str = "11101", username: str | None = None) -> User:
        counter["n"] += 1
        name = username or f"{role}_{counter['n']}"
        return user_provision(
            username=name,
            employee_no=f"T{counter['n']:05d}{branch_code}",
            display_name=name,
            branch=org[branch_code],
            roles=[role],
            password=PASSWORD,
            source="test",
        )

    return _make


@pytest.fixture
def login(client):
    def _login(user: User, password: str = PASSWORD):
        response = client.post(
            "/accounts/login/",
            {"username": user.username, "password": password},
            REMOTE_ADDR="10.1.1.1",
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return _login


@pytest.fixture
def demo_password():
    return settings.DEMO_PASSWORD


@pytest.fixture
def api():
    """An API client authenticated with the user's token."""

    def _client(user) -> APIClient:
        token, _created = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
