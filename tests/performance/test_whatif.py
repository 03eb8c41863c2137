"""What-if (performance/whatif.py): a scheme with changed weights, parameters or
targets scored beside the scheme as it is, writing nothing."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from performance.formulas import Band
from performance.whatif import what_if
from tests.performance import scheme_helpers
from tests.performance.scheme_helpers import approved_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
november = scheme_helpers.november  # fixture
D = Decimal


def _counts():
    counts = {
        model._meta.label: model.objects.count() for model in apps.get_app_config("performance").get_models()
    }
    counts["audit"] = AuditEvent.objects.count()
    return counts


def test_changed_weights_side_by_side_and_nothing_written(bms, managers, november):
    scheme = approved_scheme(bms, managers)
    before = _counts()

    result = what_if(
        scheme=scheme,
        user=bms[0],
        weights={"deposit_avg": 80, "contribution_total": 20},
        bands=[Band("A", min_score=D(90)), Band("B", min_score=D(50)), Band("C", min_score=D(0))],
    )

    assert _counts() == before
    rows = {row.manager.username: row for row in result.rows}
    assert (rows["m1"].before.score, rows["m1"].after.score) == (D("80.00"), D("92.00"))
    assert (rows["m2"].before.score, rows["m2"].after.score) == (D("75.00"), D("60.00"))
    assert (rows["m1"].before.grade, rows["m1"].after.grade) == ("A", "A")
    assert (rows["m2"].before.grade, rows["m2"].after.grade) == ("B", "B")
    assert rows["m2"].score_change == D("-15.00") and rows["m1"].rank_change == 0


def test_changed_targets_and_parameters_move_ranks(bms, managers, november):
    scheme = approved_scheme(bms, managers)

    result = what_if(
        scheme=scheme,
        user=bms[0],
        targets={"contribution_total": 40},  # m1 100%, m2 175%
        params={"deposit_avg": {"floor": 0, "cap": 100}, "contribution_total": {"steps": [[100, 100]]}},
    )

    rows = {row.manager.username: row for row in result.rows}
    assert rows["m1"].after.score == D("100.00") and rows["m2"].after.score == D("75.00")
    assert rows["m1"].after.rank == 1 and rows["m3"].after.rank == 3


def test_weights_that_do_not_add_up_to_100_are_refused(bms, managers, november):
    scheme = approved_scheme(bms, managers)
    with pytest.raises(ValidationError, match="add up to 90"):
        what_if(scheme=scheme, user=bms[0], weights={"deposit_avg": 40})


def test_bad_parameters_are_refused(bms, managers, november):
    scheme = approved_scheme(bms, managers)
    with pytest.raises(ValidationError, match="floor"):
        what_if(scheme=scheme, user=bms[0], params={"deposit_avg": {"floor": 200}})


def test_a_branch_head_sees_their_subtree_ranked_in_the_whole_group(bms, managers, november, make_user):
    scheme = approved_scheme(bms, managers)
    head = make_user("branch_head", "11102", username="bh_wudaokou")

    result = what_if(scheme=scheme, user=head)

    assert [(row.manager.username, row.before.rank) for row in result.rows] == [("m2", 2)]
