"""Jobs that need no batch run daily on their own schedule: on a day when no batch
was loaded (a weekend, a late extract), a major customer's overdue contact still
warns the manager and an expired risk assessment still reaches the data-quality
queue."""

import datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from care.choices import AlertKind
from care.models import Alert
from crm_portal.celery import app
from crm_portal.schedule import ensure_default_schedule
from crm_portal.tasks import run_post_load
from customers.choices import QualityIssueKind
from customers.models import BatchLoad, CustomerAssignment, DataQualityIssue

pytestmark = pytest.mark.django_db

DAILY = {
    "vip.contact_warnings": "Daily overdue-contact warnings",
    "customers.quality_scan": "Daily data-quality scan",
}


def test_warnings_and_the_quality_scan_refresh_on_a_day_without_a_batch(users, new_customer):
    cm1 = users["demo_cm1"]
    today = timezone.localdate()
    major = new_customer(manager=cm1, aum="900000")  # the largest of a one-customer book: major
    CustomerAssignment.objects.update(start_date=today - datetime.timedelta(days=200))
    expired = new_customer(manager=cm1, risk_level="C3", risk_expiry=today - datetime.timedelta(days=1))
    assert not BatchLoad.objects.exists()
    assert run_post_load([]) == {}  # nothing loaded: the load's chain has nothing to do

    ensure_default_schedule()
    app.loader.import_default_modules()
    for task_name, entry in DAILY.items():
        periodic = PeriodicTask.objects.get(name=entry)
        assert periodic.task == task_name and periodic.enabled
        assert periodic.crontab.day_of_week == "*" and periodic.crontab.hour != "*"  # once a day, every day
        app.tasks[periodic.task].delay().get()

    warned = Alert.objects.open().filter(assignee=cm1, kind=AlertKind.CONTACT_OVERDUE)
    assert major.pk in set(warned.values_list("customer_id", flat=True))
    issues = DataQualityIssue.objects.filter(kind=QualityIssueKind.RISK_EXPIRED, resolved_at__isnull=True)
    assert set(issues.values_list("customer_id", flat=True)) == {expired.pk}


def test_an_administrator_changed_time_is_kept(db):
    ensure_default_schedule()
    periodic = PeriodicTask.objects.get(name=DAILY["customers.quality_scan"])
    periodic.crontab.hour = "7"
    periodic.crontab.save()
    ensure_default_schedule()
    assert PeriodicTask.objects.get(name=DAILY["customers.quality_scan"]).crontab.hour == "7"
    assert PeriodicTask.objects.filter(name__in=DAILY.values()).count() == 2


def test_the_schedule_is_named_in_the_portals_language_and_an_english_row_is_renamed(db):
    from django.utils import translation

    ensure_default_schedule()  # an earlier version's rows, named in English
    english = PeriodicTask.objects.get(name="Daily data-quality scan")
    english.crontab.hour = "7"  # a time an administrator changed
    english.crontab.save()
    count = PeriodicTask.objects.count()
    with translation.override("zh-hans"):
        ensure_default_schedule()
    renamed = PeriodicTask.objects.get(pk=english.pk)
    assert renamed.name == "每日数据质量扫描" and renamed.crontab.hour == "7"
    assert PeriodicTask.objects.count() == count  # renamed, not created twice
    assert not PeriodicTask.objects.filter(name="Nightly core-banking load").exists()
    assert PeriodicTask.objects.filter(name="核心系统夜间数据加载", task="crm_portal.nightly_load").exists()
