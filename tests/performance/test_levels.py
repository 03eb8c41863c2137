"""Client-manager levels (performance/levels.py): grades over consecutive published
months move a manager's level once per streak; a month not published moves nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from performance.levels import Rule, level_of, levels_update, next_level
from performance.models import ManagerLevel, ResultVersion
from performance.publication import publication_decide, publication_propose
from performance.schemes import BandInput, scheme_bands_set, scheme_copy, scheme_decide, scheme_submit
from performance.scoring import score_version
from tests.performance import scheme_helpers
from tests.performance.scheme_helpers import approved_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
D = Decimal
RULE = Rule(periods=2, promote=frozenset({"A"}), demote=frozenset({"D"}))


def test_the_rule():
    assert next_level("junior", ["A", "A"], RULE) == "intermediate"
    assert next_level("junior", ["A", "B"], RULE) == "junior"
    assert next_level("senior", ["D", "D"], RULE) == "intermediate"
    assert next_level("junior", ["D", "D"], RULE) == "junior"  # no level below the first
    assert next_level("principal", ["A", "A"], RULE) == "principal"
    assert next_level("junior", ["A"], RULE) == "junior"


def _publish(code, bms, jobs):
    maker, checker = bms
    with jobs():
        publication = publication_propose(code=code, by=maker, reason="month closed")
    publication_decide(publication=publication, by=checker, approve=True)
    version = ResultVersion.objects.get(period__code=code, number=1)
    score_version(version)
    return version


@pytest.fixture
def two_months(bms, managers):
    maker, checker = bms
    november = approved_scheme(bms, managers)
    # October graded by share: the first of four is in the top 25% (A); November's
    # m1 scores 80 (A)
    october = scheme_copy(scheme=november, by=maker, period="2026-10")
    scheme_bands_set(
        scheme=october, by=maker, bands=[BandInput("A", share=D(25)), BandInput("B", share=D(100))]
    )
    scheme_submit(scheme=october, by=maker)
    scheme_decide(scheme=october, by=checker, approve=True)
    return october, november


def test_two_published_months_graded_a_move_a_manager_up_once(bms, managers, two_months, jobs):
    _publish("2026-10", bms, jobs)
    with pytest.raises(ValidationError, match="no published figures"):
        levels_update(period="2026-11")
    _publish("2026-11", bms, jobs)  # publishing a month moves the levels

    moves = list(ManagerLevel.objects.all())
    assert [(row.manager, row.previous, row.level) for row in moves] == [
        (managers["m1"], "junior", "intermediate")
    ]
    assert moves[0].grades == [["2026-10", "A"], ["2026-11", "A"]]
    assert level_of(managers["m1"].pk) == "intermediate" and level_of(managers["m2"].pk) == "junior"
    assert AuditEvent.objects.filter(action="manager_level_changed").count() == 1
    # the same month again changes nothing
    assert levels_update(period="2026-11") == [] and ManagerLevel.objects.count() == 1


def test_one_published_month_is_not_a_streak(bms, managers, two_months, jobs):
    _publish("2026-10", bms, jobs)
    assert levels_update(period="2026-10") == []
    with pytest.raises(ValidationError, match="months only"):
        levels_update(period="2026-Q4")
