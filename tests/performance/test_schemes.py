"""Assessment schemes (performance/schemes.py): checked before they go for approval,
approved by a second person, never edited once approved, targets imported from
Excel whole or not at all; every write audited."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from accounts.models import AuditEvent
from marketing.models import Indicator
from performance.models import SchemeTarget
from performance.schemes import (
    scheme_create,
    scheme_decide,
    scheme_indicator_set,
    scheme_problems,
    scheme_submit,
    scheme_target_set,
    scheme_targets_import,
)
from tests.performance import scheme_helpers
from tests.performance.scheme_helpers import approved_scheme, draft_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
D = Decimal


def test_weights_that_do_not_add_up_to_100_are_refused(bms, managers):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    scheme_indicator_set(
        scheme=scheme,
        by=maker,
        indicator=Indicator.objects.get(code="loan_avg"),
        weight=10,
        formula="completion",
        target_source="fixed",
        target=1000,
    )
    with pytest.raises(ValidationError) as refused:
        scheme_submit(scheme=scheme, by=maker)
    assert "The weights add up to 110, not 100." in refused.value.messages
    scheme.refresh_from_db()
    assert scheme.status == "draft"


def test_a_deduction_weighs_nothing_and_is_outside_the_100(bms, managers):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    lost = Indicator.objects.get(code="lost_gold_vips")
    with pytest.raises(ValidationError, match="weight of 0"):
        scheme_indicator_set(
            scheme=scheme,
            by=maker,
            indicator=lost,
            weight=5,
            formula="deduction",
            params={"per_unit": 2, "max": 10},
        )
    scheme_indicator_set(
        scheme=scheme,
        by=maker,
        indicator=lost,
        weight=0,
        formula="deduction",
        params={"per_unit": 2, "max": 10},
    )
    assert scheme_problems(scheme) == []


def test_an_empty_scheme_says_what_it_lacks(bms):
    maker, _checker = bms
    scheme = scheme_create(by=maker, period="2026-11", role="client_manager", name="Empty")
    assert scheme_problems(scheme) == ["Add at least one indicator.", "Add the grade bands."]


def test_bad_formula_parameters_and_a_switched_off_indicator_are_refused(bms):
    maker, _checker = bms
    scheme = scheme_create(by=maker, period="2026-11", role="client_manager", name="S")
    deposit = Indicator.objects.get(code="deposit_avg")
    with pytest.raises(ValidationError, match="is not allowed"):
        scheme_indicator_set(
            scheme=scheme,
            by=maker,
            indicator=deposit,
            weight=100,
            formula="expression",
            params={"expression": "__import__('os').system('true')"},
            target_source="fixed",
            target=1,
        )
    with pytest.raises(ValidationError, match="floor"):
        scheme_indicator_set(
            scheme=scheme,
            by=maker,
            indicator=deposit,
            weight=100,
            formula="completion",
            params={"floor": 150, "cap": 120},
            target_source="fixed",
            target=1,
        )
    Indicator.objects.filter(pk=deposit.pk).update(active=False)
    deposit.refresh_from_db()
    with pytest.raises(ValidationError, match="switched off"):
        scheme_indicator_set(
            scheme=scheme, by=maker, indicator=deposit, weight=100, formula="completion", target=1
        )
    assert not scheme.indicators.exists()


def test_the_proposer_cannot_approve_their_own_scheme(bms, managers):
    maker, checker = bms
    scheme = draft_scheme(maker, managers)
    scheme_submit(scheme=scheme, by=maker)
    with pytest.raises(PermissionDenied, match="another user"):
        scheme_decide(scheme=scheme, by=maker, approve=True)
    scheme.refresh_from_db()
    assert scheme.status == "pending"

    scheme_decide(scheme=scheme, by=checker, approve=True)

    scheme.refresh_from_db()
    assert scheme.status == "approved" and scheme.decided_by == checker and scheme.proposed_by == maker
    actions = list(AuditEvent.objects.filter(target_id=str(scheme.pk)).values_list("action", flat=True))
    assert {"scheme_created", "scheme_changed", "scheme_submitted", "scheme_approved"} <= set(actions)


def test_a_client_manager_may_neither_draft_nor_approve(bms, managers):
    with pytest.raises(PermissionDenied):
        scheme_create(by=managers["m1"], period="2026-11", role="client_manager", name="Mine")
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    scheme_submit(scheme=scheme, by=maker)
    with pytest.raises(PermissionDenied):
        scheme_decide(scheme=scheme, by=managers["m1"], approve=True)


def test_a_rejection_says_why_and_the_scheme_may_be_changed_and_submitted_again(bms, managers):
    maker, checker = bms
    scheme = draft_scheme(maker, managers)
    scheme_submit(scheme=scheme, by=maker)
    with pytest.raises(ValidationError, match="reason"):
        scheme_decide(scheme=scheme, by=checker, approve=False)
    scheme_decide(scheme=scheme, by=checker, approve=False, note="Targets too low")
    scheme.refresh_from_db()
    assert scheme.status == "rejected"

    scheme_target_set(
        scheme_indicator=scheme.indicators.get(indicator__code="deposit_avg"),
        by=maker,
        unit=managers["m2"].employee_no,
        target=D(2000),
    )

    scheme.refresh_from_db()
    assert scheme.status == "draft"
    assert scheme_submit(scheme=scheme, by=maker).status == "pending"


def test_an_approved_scheme_is_not_edited(bms, managers):
    scheme = approved_scheme(bms, managers)
    with pytest.raises(ValidationError, match="copy it"):
        scheme_indicator_set(
            scheme=scheme,
            by=bms[0],
            indicator=Indicator.objects.get(code="deposit_avg"),
            weight=100,
            formula="completion",
            target=1,
        )


def _workbook(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_targets_imported_from_excel(bms, managers):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    data = _workbook(
        [
            ["indicator", "unit", "target"],
            ["deposit_avg", managers["m1"].employee_no, 9000],
            ["deposit_avg", managers["m3"].employee_no, "2500.50"],
        ]
    )

    report = scheme_targets_import(scheme=scheme, by=maker, workbook=data)

    assert report.applied == 2 and report.errors == []
    targets = dict(
        SchemeTarget.objects.filter(scheme_indicator__scheme=scheme).values_list(
            "manager__username", "target"
        )
    )
    assert targets["m1"] == D("9000.00") and targets["m3"] == D("2500.50") and targets["m2"] == D("1400.00")
    assert AuditEvent.objects.filter(action="scheme_targets_imported", target_id=str(scheme.pk)).exists()


def test_a_bad_row_is_reported_with_its_line_and_nothing_is_applied(bms, managers):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    data = _workbook(
        [
            ["indicator", "unit", "target"],
            ["deposit_avg", managers["m1"].employee_no, 9000],
            ["deposit_avg", "NOBODY", 10],
            ["contribution_total", managers["m1"].employee_no, 10],
            ["deposit_avg", managers["m2"].employee_no, "lots"],
        ]
    )

    report = scheme_targets_import(scheme=scheme, by=maker, workbook=data)

    assert report.applied == 0
    assert report.errors == [
        "line 3: NOBODY is not a unit this scheme assesses.",
        "line 4: contribution_total is not an indicator of this scheme with targets per unit.",
        "line 5: the target must be a number, 0 or more.",
    ]
    m1_target = SchemeTarget.objects.get(scheme_indicator__scheme=scheme, manager=managers["m1"]).target
    assert m1_target == D("7700.00")  # the good row was not applied either


def test_a_file_that_is_not_a_workbook_or_lacks_the_header_is_refused(bms, managers):
    maker, _checker = bms
    scheme = draft_scheme(maker, managers)
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        scheme_targets_import(scheme=scheme, by=maker, workbook=b"employee,target\n1,2\n")
    with pytest.raises(ValidationError, match="header"):
        scheme_targets_import(scheme=scheme, by=maker, workbook=_workbook([["who", "what"], ["a", 1]]))
