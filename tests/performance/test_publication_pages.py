"""Closing a period on the portal: the proposal's figures are computed by a job after
the request (a period takes about a minute at the bank's size); until they are ready
nobody can approve them; a failure is shown and the proposer withdraws; the page
says what the version changes per manager; every version stays readable, a version
never in force only to those who publish figures."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.aum import write_daily_figures
from customers.models import AccountBalance
from performance import services
from performance.choices import PeriodStatus, VersionStatus
from performance.models import ManagerResult, Period, Publication, ResultVersion
from performance.publication import publication_decide, publication_propose, publication_withdraw
from performance.services import performance_run
from tests.performance.conftest import BATCHES

pytestmark = pytest.mark.django_db

PERIODS = "/performance/periods/"


@pytest.fixture
def people(world, demo_users, make_user):
    return {
        "maker": demo_users["demo_bm"],
        "checker": make_user("business_manager", "10000", username="bm2"),
        "auditor": demo_users["demo_audit"],
    }


def test_a_proposal_is_computed_after_the_request_and_approved_only_then(
    computed, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs:
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    version = publication.version
    assert version.computing and not version.managers.exists()
    with pytest.raises(ValidationError, match="still being computed"):
        publication_decide(publication=publication, by=people["checker"], approve=True)
    publication.refresh_from_db()
    assert publication.status == "pending"

    for job in jobs:  # the job, once the proposal is committed
        job()
    version.refresh_from_db()
    assert not version.computing and version.managers.exists()
    counted = ManagerResult.objects.filter(version=version).count()
    # delivered twice: computed once
    assert services.queued_version_compute(version_id=version.pk)["computed"] is False
    assert ManagerResult.objects.filter(version=version).count() == counted

    publication_decide(publication=publication, by=people["checker"], approve=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert Period.objects.get(code="2026-11").status == PeriodStatus.CLOSED


def test_a_failed_computation_is_shown_cannot_be_approved_and_is_withdrawn(
    computed, people, as_user, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "compute_version", broken)
    with django_capture_on_commit_callbacks() as jobs:
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    with pytest.raises(RuntimeError):
        jobs[0]()
    version = ResultVersion.objects.get(pk=publication.version_id)
    assert not version.computing and version.failure == "disk full"
    with pytest.raises(ValidationError, match="failed"):
        publication_decide(publication=publication, by=people["checker"], approve=True)

    page = as_user(people["maker"]).get(f"{PERIODS}2026-11/")
    assert page.status_code == 200
    assert 'data-testid="failed"' in page.content.decode() and "disk full" in page.content.decode()

    publication_withdraw(publication=publication, by=people["maker"])
    version.refresh_from_db()
    assert version.status == VersionStatus.WITHDRAWN
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = publication_propose(code="2026-11", by=people["maker"], reason="Month end close, again")
    assert again.version.number == version.number + 1


def test_from_proposal_to_publication_on_the_pages(
    computed, people, as_user, django_capture_on_commit_callbacks
):
    # a balance corrected after the provisional figures: the closing changes M1's
    world = computed
    account = world["a"].accounts.order_by("pk").first()
    AccountBalance.objects.filter(account=account, business_date=BATCHES[-1]).update(
        balance=Decimal("9000"), cny_balance=Decimal("9000")
    )
    write_daily_figures(BATCHES[-1])

    maker = as_user(people["maker"])
    bad = maker.post(PERIODS, {"period": "2026-13", "reason": "Month end close"})
    assert bad.status_code == 400 and "is not a period" in bad.content.decode()
    with django_capture_on_commit_callbacks() as jobs:
        response = maker.post(PERIODS, {"period": "2026-11", "reason": "Month end close"})
    assert response.status_code == 302 and response["Location"] == f"{PERIODS}2026-11/"
    waiting = maker.get(f"{PERIODS}2026-11/").content.decode()
    assert 'data-testid="computing"' in waiting and 'data-testid="withdraw-publication"' in waiting
    for job in jobs:
        job()

    checker = as_user(people["checker"])
    page = checker.get(f"{PERIODS}2026-11/")
    html = page.content.decode()
    assert (
        'data-testid="approve-publication"' in html
        and "disabled" not in html.split("approve-publication")[1][:20]
    )
    assert 'data-testid="change-row"' in html
    assert world["m1"].display_name in html and "loaded data" in html or "已加载的数据" in html
    publication = Publication.objects.get(version__period__code="2026-11")
    assert {row["manager"] for row in publication.changes} >= {world["m1"].pk}

    decided = checker.post(f"/performance/publications/{publication.pk}/approve/")
    assert decided.status_code == 302
    publication.refresh_from_db()
    assert publication.status == "approved" and publication.version.status == VersionStatus.PUBLISHED

    # the provisional figures stay readable beside the published ones
    old = checker.get("/performance/", {"period": "2026-11", "version": "0"})
    assert old.status_code == 200 and 'data-testid="version-status"' in old.content.decode()


def test_a_version_never_in_force_is_read_only_by_those_who_publish(computed, people, as_user, jobs):
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    number = publication.version.number
    manager = as_user(computed["m1"]).get("/performance/", {"period": "2026-11", "version": number})
    assert 'data-testid="no-version"' in manager.content.decode()
    head_office = as_user(people["checker"]).get("/performance/", {"period": "2026-11", "version": number})
    assert 'data-testid="no-version"' not in head_office.content.decode()


def test_who_may_open_propose_and_decide(computed, people, as_user, demo_users, jobs):
    assert as_user(computed["m1"]).get(PERIODS).status_code == 403
    assert as_user(demo_users["demo_bh"]).get(PERIODS).status_code == 403
    auditor = as_user(people["auditor"]).get(PERIODS)
    assert auditor.status_code == 200 and 'data-testid="publication-form"' not in auditor.content.decode()
    assert (
        as_user(people["auditor"]).post(PERIODS, {"period": "2026-11", "reason": "x" * 8}).status_code == 403
    )
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    # the proposer may not approve their own: refused with the reason, nothing decided
    own = as_user(people["maker"]).post(f"/performance/publications/{publication.pk}/approve/", follow=True)
    assert "another user must decide" in own.content.decode() or "其他用户" in own.content.decode()
    publication.refresh_from_db()
    assert publication.status == "pending"
    # a rejection needs a note
    as_user(people["checker"]).post(f"/performance/publications/{publication.pk}/reject/")
    publication.refresh_from_db()
    assert publication.status == "pending"


def test_the_pages_run_a_bounded_number_of_queries(
    computed, people, as_user, jobs, django_assert_max_num_queries
):
    with jobs():
        publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    for code in ("2026-Q4", "2026"):
        performance_run(code)
    client = as_user(people["checker"])
    with django_assert_max_num_queries(13):  # three periods; as many for thirty
        assert client.get(PERIODS).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"{PERIODS}2026-11/").status_code == 200
    assert client.get(f"{PERIODS}2031-01/").status_code == 404
    assert client.get(f"{PERIODS}nonsense/").status_code == 404
    assert client.get(PERIODS, {"kind": "decade"}).status_code == 400


def test_a_dispute_page_says_the_periods_are_being_computed_again(computed, demo_users, as_user):
    from performance.choices import DisputeClaim
    from performance.disputes import dispute_decide, dispute_raise

    world = computed
    dispute = dispute_raise(
        by=world["m1"],
        period=Period.objects.get(code="2026-11"),
        customer=world["d"],
        claim=DisputeClaim.MINE,
        first_day=BATCHES[1],
        last_day=BATCHES[2],
        reason="I opened this account",
    )
    dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True)  # its job not run yet
    page = as_user(demo_users["demo_bh"]).get("/performance/disputes/")
    assert 'data-testid="recalculating"' in page.content.decode()


def test_a_note_too_long_decides_nothing(computed, people, as_user, jobs):
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    page = as_user(people["checker"]).post(
        f"/performance/publications/{publication.pk}/reject/", {"note": "x" * 301}, follow=True
    )
    assert page.status_code == 200 and "300" in page.content.decode()  # the limit is said
    publication.refresh_from_db()
    assert publication.status == "pending"
