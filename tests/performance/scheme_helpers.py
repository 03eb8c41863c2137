"""A client-manager scheme of November 2026 over the known data set (conftest's
`world`), worked out by hand:

| manager | deposit avg | target | completion → points ×50% | total contrib. | ÷ 60 | step → ×50% | score |
|---------|-------------|--------|--------------------------|----------------|------|-------------|-------|
| m1      | 7,700.00    | 7,700  | 100% → 50.00             | 40.27          | 67%  | 60 → 30.00  | 80.00 |
| m2      | 700.00      | 1,400  | 50% → 25.00              | 70.08          | 117% | 100 → 50.00 | 75.00 |
| m3, m4  | (none) 0    | 1,000  | 0% → 0                   | 0              | 0%   | 0           | 0.00  |

Ranks 1, 2, 3, 3 (m3 and m4 tie); bands A ≥ 80, B ≥ 60, C ≥ 0. m5 works at a
sub-branch: a peer group of their own.
"""

from decimal import Decimal

import pytest

from marketing.models import Indicator
from performance.schemes import (
    BandInput,
    scheme_bands_set,
    scheme_create,
    scheme_decide,
    scheme_indicator_set,
    scheme_submit,
    scheme_target_set,
)
from performance.services import performance_run

D = Decimal


@pytest.fixture
def bms(make_user):
    return make_user("business_manager", "10000", username="bm1"), make_user(
        "business_manager", "10000", username="bm2"
    )


@pytest.fixture
def managers(world, make_user):
    return {
        **{k: world[k] for k in ("m1", "m2")},
        "m3": make_user("client_manager", "11101", username="m3"),
        "m4": make_user("client_manager", "11101", username="m4"),
        "m5": make_user("client_manager", "11100", username="m5"),
    }


@pytest.fixture
def november(world):
    return performance_run("2026-11")


def draft_scheme(by, managers, *, name="Client managers 2026-11"):
    scheme = scheme_create(by=by, period="2026-11", role="client_manager", name=name)
    deposit = scheme_indicator_set(
        scheme=scheme,
        by=by,
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=50,
        formula="completion",
        params={"floor": 0, "cap": 120},
        target_source="per_unit",
    )
    for key, target in (("m1", 7700), ("m2", 1400), ("m3", 1000), ("m4", 1000), ("m5", 1000)):
        scheme_target_set(scheme_indicator=deposit, by=by, unit=managers[key].employee_no, target=D(target))
    scheme_indicator_set(
        scheme=scheme,
        by=by,
        indicator=Indicator.objects.get(code="contribution_total"),
        weight=50,
        formula="steps",
        params={"steps": [[50, 60], [100, 100]]},
        target_source="fixed",
        target=60,
    )
    scheme_bands_set(
        scheme=scheme,
        by=by,
        bands=[
            BandInput("A", min_score=D(80)),
            BandInput("B", min_score=D(60)),
            BandInput("C", min_score=D(0)),
        ],
    )
    return scheme


def approved_scheme(bms, managers, **kwargs):
    maker, checker = bms
    scheme = draft_scheme(maker, managers, **kwargs)
    scheme_submit(scheme=scheme, by=maker)
    return scheme_decide(scheme=scheme, by=checker, approve=True)
