import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from demo.org import DEMO_USERS

# The queries of each role's default home page (its widgets' bounded reads: a
# client manager's "my day" reads the most); see tests/care/test_home.py. "My
# customers" reads the kept figures with their build in one query, or, before the
# first build, the build's absence and then the customers (one more).
HOME_QUERIES = {
    "demo_admin": 12,
    "demo_pm": 10,
    "demo_bm": 12,
    "demo_audit": 13,
    "demo_bh": 16,
    "demo_cm1": 20,
    "demo_cm2": 20,
    "demo_cm3": 20,
}


@pytest.mark.django_db
@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_every_role_gets_its_home_page(
    client, demo_users, demo_password, username, django_assert_max_num_queries
):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    with django_assert_max_num_queries(HOME_QUERIES[username]):
        response = client.get("/")
    assert response.status_code == 200
    assert b'data-testid="home-title"' in response.content
    assert b"will appear here" not in response.content  # no placeholder is left
    assert response.context["panels"], "every role has widgets"


@pytest.mark.django_db
def test_navigation_shows_each_role_what_it_may_use(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    nav = {item["url_name"] for item in client.get("/").context["nav_items"]}
    assert "accounts:audit_list" not in nav and "admin:index" not in nav
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "demo_audit", "password": demo_password})
    nav = {item["url_name"] for item in client.get("/").context["nav_items"]}
    assert {"accounts:audit_list", "accounts:user_list"} <= nav
    assert "care:meeting" not in nav


@pytest.mark.django_db
def test_navigation_leads_managers_to_their_day_and_heads_to_the_meeting(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    nav = {item["url_name"] for item in client.get("/").context["nav_items"]}
    assert {"care:alert_list", "care:calendar", "care:journal"} <= nav
    assert "care:meeting" not in nav
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    nav = {item["url_name"] for item in client.get("/").context["nav_items"]}
    assert {"care:alert_list", "care:meeting"} <= nav


# Every page a role works on, as its menu must list it (the pages reached from a
# list, with an object or by a button, are not in menus).
_CARE_CM = {"care:alert_list", "care:calendar", "care:journal", "care:outbox"}
_MARKETING_READ = {
    "marketing:campaign_list",
    "marketing:opportunity_list",
    "marketing:task_list",
    "marketing:product_list",
    "marketing:indicator_list",
    "marketing:channel_list",
    "marketing:channel_report",
    "marketing:opening_list",
    "marketing:opening_calendar",
    "marketing:opening_funnel",
}
_CLIENT_MANAGER_MENU = {
    "home",
    *_CARE_CM,
    "customers:list",
    "customers:employer_list",
    "vip:my_customers",
    "vip:prospects",
    "vip:approvals",
    *_MARKETING_READ,
    "marketing:my_targets",
    "performance:figures",
    "performance:disputes",
    "analysis:save_list",
    "credit:queries_list",
}
_ANALYSIS_HEAD_OFFICE = ("analysis:save_list", "analysis:reports", "analysis:models")
_CREDIT_READ = ("credit:reports", "credit:queries_list")
ROLE_MENUS = {
    "demo_admin": {
        "home",
        "customers:list",
        "customers:employer_list",
        "vip:approvals",
        "vip:parameters",
        "performance:figures",
        "performance:branches",
        "performance:periods",
        "performance:ftp",
        "accounts:user_list",
        "accounts:user_change_list",
        "accounts:audit_list",
        "accounts:audit_report",
        "accounts:audit_usage",
        "admin:index",
    },
    "demo_pm": {
        "home",
        "vip:approvals",
        "vip:parameters",
        "marketing:product_list",
        "performance:figures",
        "performance:branches",
        "performance:ftp",
        "admin:index",
    },
    "demo_bm": {
        "home",
        "care:alert_list",
        "care:outbox",
        "customers:list",
        "customers:employer_list",
        "customers:quality_queue",
        "customers:export_list",
        "vip:my_customers",
        "vip:pool",
        "vip:managers",
        "vip:batch_start",
        "vip:prospects",
        "vip:approvals",
        "vip:reports",
        "vip:parameters",
        *_MARKETING_READ,
        "marketing:segment_list",
        "performance:figures",
        "performance:branches",
        "performance:periods",
        "performance:schemes",
        "performance:ftp",
        *_ANALYSIS_HEAD_OFFICE,
        *_CREDIT_READ,
        "accounts:user_list",
    },
    "demo_audit": {
        "home",
        "care:alert_list",
        "care:journal",
        "care:outbox",
        "customers:list",
        "customers:employer_list",
        "customers:quality_queue",
        "customers:export_list",
        "vip:reports",
        "vip:parameters",
        *_MARKETING_READ,
        "marketing:segment_list",
        "performance:figures",
        "performance:branches",
        "performance:periods",
        "performance:schemes",
        "performance:ftp",
        *_ANALYSIS_HEAD_OFFICE,
        *_CREDIT_READ,
        "accounts:user_list",
        "accounts:audit_list",
        "accounts:audit_report",
        "accounts:audit_usage",
        "admin:index",
    },
    "demo_bh": {
        "home",
        *_CARE_CM,
        "care:meeting",
        "customers:list",
        "customers:employer_list",
        "customers:quality_queue",
        "customers:export_list",
        "vip:my_customers",
        "vip:pool",
        "vip:managers",
        "vip:batch_start",
        "vip:prospects",
        "vip:approvals",
        "vip:reports",
        *_MARKETING_READ,
        "marketing:segment_list",
        "performance:figures",
        "performance:branches",
        "performance:disputes",
        "analysis:save_list",
        "analysis:reports",
        *_CREDIT_READ,
        "credit:queries_approvals",
        "accounts:user_list",
    },
    "demo_cm1": _CLIENT_MANAGER_MENU,
    "demo_cm2": _CLIENT_MANAGER_MENU,
    "demo_cm3": _CLIENT_MANAGER_MENU,
}


@pytest.mark.django_db
@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_each_role_s_menu_lists_the_pages_it_works_on_and_each_opens(
    client, demo_users, demo_password, username
):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    items = client.get("/").context["nav_items"]
    assert {item["url_name"] for item in items} == ROLE_MENUS[username]
    assert len(items) == len(ROLE_MENUS[username]), "no page twice"
    for item in items:
        response = client.get(item["url"])
        assert response.status_code == 200, f"{username}: {item['url_name']} answered {response.status_code}"


@pytest.mark.django_db
def test_the_parameter_manager_reaches_the_tier_parameters_from_the_menu(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_pm", "password": demo_password})
    menu = client.get("/").context["nav_menu"]
    vip = next(entry for entry in menu if entry["label"] == "VIP")
    assert [child["url_name"] for child in vip["children"]] == ["vip:approvals", "vip:parameters"]


@pytest.mark.django_db
def test_the_menu_groups_pages_in_dropdowns_and_marks_the_page_shown(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_bm", "password": demo_password})
    response = client.get("/vip/parameters/")
    menu = response.context["nav_menu"]
    # a short bar: a few dropdowns rather than two dozen links
    assert len(menu) <= 8
    assert [entry["label"] for entry in menu if "children" in entry] == [
        "Keep close",
        "Customers",
        "VIP",
        "Marketing",
        "Performance",
        "Analysis and credit",
    ]
    # a group with one page for this role is that page's link, not a dropdown of one
    users = menu[-1]
    assert users["url_name"] == "accounts:user_list" and "children" not in users
    # the page shown and its group are marked
    assert [entry["label"] for entry in menu if entry["active"]] == ["VIP"]
    page = response.content.decode()
    assert 'class="nav-link dropdown-toggle active"' in page
    assert 'class="dropdown-item active" href="/vip/parameters/" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1


@pytest.mark.django_db
def test_home_page_in_chinese_by_default_and_english_on_request(client, demo_users, demo_password, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    assert "欢迎" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Welcome" in client.get("/").content.decode()


@pytest.mark.django_db
class TestHealthz:
    def test_reports_database_and_eager_broker(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"database": "ok", "broker": "eager"}

    def test_reports_a_broker_that_does_not_answer(self, client, broker_down):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["broker"] == "down"


@pytest.fixture
def broker_down(settings):
    """A broker configured (tasks not eager) that does not answer."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from crm_portal.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    app.conf.broker_url = old


@pytest.mark.django_db
class TestReadyz:
    def test_ready_when_the_database_is_migrated(self, client):
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"ready": True, "database": "ok", "migrations": "ok", "broker": "eager"}

    def test_not_ready_while_migrations_are_pending(self, client, monkeypatch):
        from django.db.migrations.recorder import MigrationRecorder

        from crm_portal import views

        # the database as it was before the newest credit migration was applied
        monkeypatch.setattr(views, "_MIGRATED", False)
        newest = MigrationRecorder.Migration.objects.filter(app="credit").order_by("-name").first()
        newest.delete()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "ready": False,
            "database": "ok",
            "migrations": "pending",
            "broker": "eager",
        }

    def test_not_ready_when_the_broker_does_not_answer(self, client, broker_down):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["broker"] == "down"


@pytest.mark.django_db
def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = User.objects.count()
    call_command("seed_demo")
    assert User.objects.count() == first
    out = capsys.readouterr().out
    assert "Demo password:" in out and "11100" in out


@pytest.mark.django_db
def test_create_api_token_prints_a_working_token(client, demo_users, capsys):
    call_command("create_api_token", "demo_cm1")
    key = capsys.readouterr().out.strip()
    assert len(key) == 40
    from rest_framework.authtoken.models import Token

    assert Token.objects.get(key=key).user.username == "demo_cm1"


@pytest.mark.django_db
def test_create_api_token_for_an_unknown_user_fails(demo_users):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody")


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner settings are PostgreSQL's")
def test_read_with_applies_settings_to_its_block_only():
    from core.db import read_with

    def jit():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit')")
            return cursor.fetchone()[0]

    before = jit()
    with read_with(jit="off" if before == "on" else "on"):
        assert jit() != before
    assert jit() == before  # also inside the test's own transaction
