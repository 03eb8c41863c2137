"""The jobs that follow a load run however the batch arrives: a batch loaded by
`manage.py import_extract` in a fresh process (which is not a Celery worker and
has not discovered the task modules) leaves customers with the AUM of the loaded
balances; an administrator runs the jobs again for a loaded date, from the command
line or the load's admin page, audited; a date that was not loaded is refused."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import AuditEvent
from accounts.roles import Role
from customers.choices import ASSET_CATEGORIES, BatchStatus
from customers.models import AccountBalance, BatchLoad, Customer
from tests.customers.ingest_helpers import DAY, batch, load

ROOT = Path(__file__).resolve().parents[2]


def _loaded_aum() -> dict[int, Decimal]:
    """Per customer, the sum of the loaded asset balances of the day: what AUM must be."""
    rows = (
        AccountBalance.objects.filter(business_date=DAY, account__category__in=ASSET_CATEGORIES)
        .values("account__customer_id")
        .annotate(total=Sum("cny_balance"))
    )
    return {r["account__customer_id"]: r["total"] for r in rows if r["total"]}


def _stored_aum() -> dict[int, Decimal]:
    return dict(Customer.objects.filter(aum__gt=0).values_list("pk", "aum"))


def _manage(*args: str) -> subprocess.CompletedProcess:
    """`manage.py` in a fresh process on the test database, tasks run in-process
    (the embedded default: no broker)."""
    db = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="crm_portal.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a second process reads the test database on PostgreSQL only (CI runs it)")


@pytest.mark.django_db(transaction=True)
def test_a_batch_loaded_by_the_command_gets_its_aum_and_can_be_refreshed_again(postgres_only, org, tmp_path):
    path = batch(tmp_path, customers=40).path
    done = _manage("import_extract", str(path))
    assert done.returncode == 0, done.stderr
    assert "no task" not in done.stderr
    expected = _loaded_aum()
    assert len(expected) > 20
    assert _stored_aum() == expected
    assert not Customer.objects.exclude(aum_date=DAY).exists()

    # Loading again is a duplicate that says how to run the jobs again...
    again = _manage("import_extract", str(path))
    assert again.returncode == 0, again.stderr
    assert "Already loaded" in again.stdout and "after_load 20260302" in again.stdout
    # ... and the command does it, audited.
    Customer.objects.update(aum=0, aum_date=None)
    rerun = _manage("after_load", "20260302")
    assert rerun.returncode == 0, rerun.stderr
    assert _stored_aum() == expected
    assert AuditEvent.objects.filter(details__after_load_again="2026-03-02", details__started=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_a_date_that_was_not_loaded(postgres_only, org):
    for bad, message in (("20260303", "No batch of 2026-03-03 is loaded"), ("2026-03-02", "is not a date")):
        done = _manage("after_load", bad)
        assert done.returncode == 1
        assert message in done.stderr


def test_an_administrator_runs_the_jobs_after_a_load_again_from_its_page(
    org, tmp_path, make_user, login, client
):
    record = load(batch(tmp_path, customers=30).path)  # loaded without the jobs
    assert record.status == BatchStatus.LOADED and not _stored_aum()
    page = f"/admin/customers/batchload/{record.pk}/change/"
    action = f"/admin/customers/batchload/{record.pk}/after-load/"

    for role in (Role.AUDITOR, Role.BUSINESS_MANAGER, Role.BRANCH_HEAD):
        login(make_user(role, "10000"))
        assert client.post(action).status_code in (302, 403)
        assert not _stored_aum()
        client.logout()

    admin = login(make_user(Role.SYSTEM_ADMIN, "10000"))
    assert action.encode() in admin.get(page).content
    assert admin.get(action).status_code == 403  # a write is a POST
    response = admin.post(action, follow=True)
    assert response.status_code == 200
    assert _stored_aum() == _loaded_aum() != {}
    event = AuditEvent.objects.get(details__after_load_again="2026-03-02")
    assert event.actor.username.startswith("system_admin") and event.target_id == str(record.pk)


def test_a_batch_that_did_not_load_offers_no_jobs_to_run_again(org, tmp_path, make_user, login):
    path = batch(tmp_path, customers=10).path
    (path / "BATCH.ok").unlink()
    record = load(path)
    assert record.status != BatchStatus.LOADED
    admin = login(make_user(Role.SYSTEM_ADMIN, "10000"))
    action = f"/admin/customers/batchload/{record.pk}/after-load/"
    assert action.encode() not in admin.get(f"/admin/customers/batchload/{record.pk}/change/").content
    response = admin.post(action, follow=True)
    assert "Only a loaded batch has jobs to run after it." in response.content.decode()
    assert not BatchLoad.objects.filter(status=BatchStatus.LOADED).exists()
