"""Scores, ranks and grades of a version (performance/scoring.py) under the approved
scheme, on the known data set worked out in scheme_helpers.py."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from marketing.choices import AllocationStatus, TaskStatus
from marketing.indicators import actuals
from marketing.models import Indicator, MarketingTask, TaskAllocation
from performance.models import IndicatorScore, ManagerScore
from performance.schemes import (
    BandInput,
    scheme_bands_set,
    scheme_copy,
    scheme_create,
    scheme_decide,
    scheme_indicator_set,
    scheme_submit,
)
from performance.scoring import score_version
from tests.performance import scheme_helpers
from tests.performance.scheme_helpers import approved_scheme, draft_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
november = scheme_helpers.november  # fixture
D = Decimal


def scores(version, **filters):
    return {
        (row.manager.username if row.manager else row.branch.code): row
        for row in ManagerScore.objects.filter(version=version, **filters).select_related("manager", "branch")
    }


def test_scores_ranks_with_ties_and_grades_by_score(bms, managers, november):
    approved_scheme(bms, managers)

    score_version(november)

    found = scores(november)
    assert {name: (row.score, row.rank, row.grade) for name, row in found.items()} == {
        "m1": (D("80.00"), 1, "A"),
        "m2": (D("75.00"), 2, "B"),
        "m3": (D("0.00"), 3, "C"),
        "m4": (D("0.00"), 3, "C"),
        # a sub-branch's manager is not ranked against the outlets' managers
        "m5": (D("0.00"), 1, "C"),
    }
    assert found["m1"].peers == 4 and found["m5"].peers == 1
    parts = {p.code: p for p in found["m1"].indicators.all()}
    assert parts["deposit_avg"].actual == D("7700.00") and parts["deposit_avg"].target == D("7700.00")
    assert parts["deposit_avg"].points == D("100.00") and parts["deposit_avg"].score == D("50.00")
    assert parts["contribution_total"].actual == D("40.27") and parts["contribution_total"].score == D(
        "30.00"
    )


def test_scoring_again_replaces_the_scores(bms, managers, november):
    approved_scheme(bms, managers)
    score_version(november)
    before = ManagerScore.objects.count(), IndicatorScore.objects.count()

    score_version(november)

    assert (ManagerScore.objects.count(), IndicatorScore.objects.count()) == before == (5, 10)


def test_approval_scores_the_open_period_at_once(bms, managers, november):
    approved_scheme(bms, managers)
    assert scores(november)["m1"].score == D("80.00")


def test_an_unapproved_scheme_does_not_score(bms, managers, november):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    score_version(november)
    assert not ManagerScore.objects.exists()
    scheme_submit(scheme=scheme, by=maker)
    score_version(november)
    assert not ManagerScore.objects.exists()


def test_grades_by_share_of_the_peer_group(bms, managers, november):
    maker, checker = bms
    scheme = draft_scheme(maker, managers)
    scheme_bands_set(
        scheme=scheme,
        by=maker,
        bands=[BandInput("A", share=D(25)), BandInput("B", share=D(50)), BandInput("C", share=D(100))],
    )
    scheme_submit(scheme=scheme, by=maker)
    scheme_decide(scheme=scheme, by=checker, approve=True)

    grades = {name: row.grade for name, row in scores(november).items()}

    assert grades == {"m1": "A", "m2": "B", "m3": "C", "m4": "C", "m5": "A"}


def test_a_copy_approved_supersedes_the_scheme_it_copies(bms, managers, november):
    maker, checker = bms
    original = approved_scheme(bms, managers)
    copy = scheme_copy(scheme=original, by=maker, name="Deposits count more")
    scheme_indicator_set(
        scheme=copy,
        by=maker,
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=80,
        formula="completion",
        params={"floor": 0, "cap": 120},
        target_source="per_unit",
    )
    scheme_indicator_set(
        scheme=copy,
        by=maker,
        indicator=Indicator.objects.get(code="contribution_total"),
        weight=20,
        formula="steps",
        params={"steps": [[50, 60], [100, 100]]},
        target_source="fixed",
        target=60,
    )
    scheme_submit(scheme=copy, by=maker)
    scheme_decide(scheme=copy, by=checker, approve=True)

    original.refresh_from_db()
    assert original.status == "superseded" and copy.copy_of == original
    found = scores(november)
    assert set(ManagerScore.objects.values_list("scheme_id", flat=True)) == {copy.pk}
    assert found["m1"].score == D("92.00")  # 100% × 80 + 60 points × 20%
    assert found["m2"].score == D("60.00")  # 50% × 80 + 100 points × 20%


def test_target_from_the_marketing_task_allocation(bms, managers, november, org):
    maker, checker = bms
    deposit = Indicator.objects.get(code="deposit_avg")
    task = MarketingTask.objects.create(
        name="Deposits November",
        indicator=deposit,
        period_start=november.period.start,
        period_end=november.period.end,
        target=D(30800),
        status=TaskStatus.ISSUED,
        created_by=maker,
    )
    root = TaskAllocation.objects.create(task=task, branch=org["10000"], target=D(30800))
    TaskAllocation.objects.create(
        task=task, parent=root, manager=managers["m1"], target=D(15400), status=AllocationStatus.ACCEPTED
    )
    returned = TaskAllocation.objects.create(
        task=task, parent=root, manager=managers["m2"], target=D(700), status=AllocationStatus.RETURNED
    )
    scheme = scheme_create(by=maker, period="2026-11", role="client_manager", name="From the task")
    scheme_indicator_set(
        scheme=scheme, by=maker, indicator=deposit, weight=100, formula="completion", target_source="task"
    )
    scheme_bands_set(scheme=scheme, by=maker, bands=[BandInput("A", min_score=D(0))])
    scheme_submit(scheme=scheme, by=maker)
    scheme_decide(scheme=scheme, by=checker, approve=True)

    found = scores(november)

    part = found["m1"].indicators.get()
    assert part.target == D("15400.00") and found["m1"].score == D("50.00")  # 7,700 of 15,400
    assert returned.manager.username not in found or found["m2"].indicators.get().target is None


def test_a_branch_scheme_sums_the_subtree_managers_and_pools(bms, managers, november):
    maker, checker = bms
    scheme = scheme_create(by=maker, period="2026-11", role="outlet", name="Outlets")
    scheme_indicator_set(
        scheme=scheme,
        by=maker,
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=100,
        formula="completion",
        params={"cap": 200},
        target_source="fixed",
        target=8500,
    )
    scheme_bands_set(
        scheme=scheme, by=maker, bands=[BandInput("A", share=D(50)), BandInput("B", share=D(100))]
    )
    scheme_submit(scheme=scheme, by=maker)
    scheme_decide(scheme=scheme, by=checker, approve=True)

    found = scores(november, role="outlet")

    # 11101: m1 7,700 + the pool's 800 = 8,500 → 100%; 11102: m2's 700
    assert found["11101"].indicators.get().actual == D("8500.00") and found["11101"].score == D("100.00")
    assert found["11101"].rank == 1 and found["11101"].grade == "A"
    assert found["11102"].score == D("8.24") and found["11102"].rank == 2
    assert found["11101"].manager is None and found["11101"].peers == 8  # every outlet of the bank


def test_performance_kinds_need_a_whole_period(november):
    deposit = Indicator.objects.get(code="deposit_avg")
    with pytest.raises(ValidationError, match="whole periods only"):
        actuals(deposit, november.period.start, november.period.end.replace(day=15))
    rows = actuals(deposit, november.period.start, november.period.end)
    assert sorted(str(r.value) for r in rows) == ["700.00", "7700.00", "800.00"]


def test_a_scheme_for_another_period_does_not_score_this_one(bms, managers, november):
    original = approved_scheme(bms, managers)
    scheme_copy(scheme=original, by=bms[0], period="2026-12")
    score_version(november)
    assert set(ManagerScore.objects.values_list("scheme_id", flat=True)) == {original.pk}


def test_a_scheme_that_cannot_compute_leaves_its_units_unscored_and_the_others_stand(
    bms, managers, november, monkeypatch, caplog
):
    from marketing import indicators

    maker, checker = bms
    approved_scheme(bms, managers)  # deposits and contribution
    outlets = scheme_create(by=maker, period="2026-11", role="outlet", name="Outlets")
    scheme_indicator_set(
        scheme=outlets,
        by=maker,
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=100,
        formula="completion",
        target_source="fixed",
        target=8500,
    )
    scheme_bands_set(scheme=outlets, by=maker, bands=[BandInput("A", min_score=D(0))])
    scheme_submit(scheme=outlets, by=maker)
    scheme_decide(scheme=outlets, by=checker, approve=True)
    monkeypatch.delitem(indicators._REGISTRY, "contribution")

    score_version(november)

    assert set(ManagerScore.objects.values_list("role", flat=True)) == {"outlet"}
    assert "cannot score" in caplog.text


def test_a_scheme_of_a_kind_nothing_computes_is_not_submitted(bms, managers, monkeypatch):
    from marketing import indicators

    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    monkeypatch.delitem(indicators._REGISTRY, "contribution")
    with pytest.raises(ValidationError, match="nothing computes indicators of its kind"):
        scheme_submit(scheme=scheme, by=maker)
