"""The churn model versions pages (/analysis/models/): who may read them, what they
show of each version (labels, never feature codes), the empty state, and a bounded
number of queries however many versions there are."""

from __future__ import annotations

import datetime

import pytest

from accounts.roles import Role
from analysis.features import FEATURES
from analysis.models import ChurnModel
from analysis.training import churn_model_record

pytestmark = pytest.mark.django_db

BACKTEST = {
    "as_of": "2025-09-30",
    "flagged": 137,
    "flagged_left": 0.7007,
    "others": 712,
    "others_left": 0.0522,
}
CALIBRATION = [
    {"low": 0.0, "high": 0.1, "predicted": 0.0514, "observed": 0.0522, "customers": 712},
    {"low": 0.6, "high": 0.7, "predicted": 0.6853, "observed": 0.7007, "customers": 137},
]


def record(number_of_versions: int = 1) -> list[ChurnModel]:
    models = []
    for k in range(number_of_versions):
        coefficients = {
            "intercept": -2.9,
            "features": {
                name: {"coef": -1.25 if name == "aum_change_3m" else 0.01 * i, "mean": 0.5, "scale": 2.0}
                for i, name in enumerate(FEATURES)
            },
        }
        models.append(
            churn_model_record(
                as_of=datetime.date(2025, 12, 31),
                months=12 + k,
                samples=8500 + k,
                positives=900,
                coefficients=coefficients,
                calibration=CALIBRATION,
                backtest=BACKTEST,
                metrics={"auc": 0.8123, "brier": 0.0567, "holdout": "2025-09-30"},
                seconds=3.5,
            )
        )
    return models


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.BUSINESS_MANAGER, 200),
        (Role.AUDITOR, 200),
        (Role.BRANCH_HEAD, 403),
        (Role.CLIENT_MANAGER, 403),
    ],
)
def test_head_office_and_the_auditor_read_the_versions_others_are_refused(make_user, login, role, status):
    model = record()[0]
    client = login(make_user(role, "10000" if status == 200 else "11100"))

    assert client.get("/analysis/models/").status_code == status
    assert client.get(f"/analysis/models/{model.number}/").status_code == status


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/analysis/models/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_a_model_the_page_says_the_rules_score_until_there_is_enough_history(make_user, login):
    client = login(make_user(Role.BUSINESS_MANAGER, "10000"))

    html = client.get("/analysis/models/").content.decode()

    assert "No churn model has been trained yet." in html
    assert "at least 9 months of monthly AUM and 50 customers who left" in html
    assert 'data-testid="model-card"' not in html


def test_the_versions_show_their_figures_by_label_newest_first(make_user, login):
    first, second = record(2)
    first.refresh_from_db()
    client = login(make_user(Role.AUDITOR, "10000"))

    html = client.get("/analysis/models/").content.decode()

    # the version in use on top, then every version, newest first
    assert html.count('data-testid="model-card"') == 1
    assert "Version 2 · Logistic regression" in html
    assert html.index("Version 2</a>") < html.index("Version 1</a>")
    assert html.count('data-testid="model-in-use"') == 1 and not first.active
    assert "8,501" in html and "0.812" in html and "0.0567" in html
    assert (
        "Back-test as of 2025-09-30: of the 137 customers it would have flagged (probability 50% or more), "
        "70.1% left within 3 months, against 5.2% of the other 712."
    ) in html
    # the coefficients by the feature's label, largest effect first; no feature code on screen
    assert html.index("AUM change over 3 months") < html.index("AUM change over 6 months")
    assert "-1.2500" in html and "raises the risk" in html and "lowers the risk" in html
    assert "Baseline (intercept)" in html
    for name in FEATURES:  # "outflow" is a word of its label too: as a cell's whole text
        assert (name not in html) if "_" in name else (f">{name}<" not in html)
    # the calibration table
    assert html.count('data-testid="calibration-row"') == 2
    assert "60–70%" in html and "68.5%" in html and "70.1%" in html


def test_an_older_version_stays_readable(make_user, login):
    first, _second = record(2)
    client = login(make_user(Role.BUSINESS_MANAGER, "10000"))

    response = client.get(f"/analysis/models/{first.number}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Version 1 · Logistic regression" in html and "Retired" in html
    assert "AUM change over 3 months" in html
    assert client.get("/analysis/models/99/").status_code == 404


def test_the_list_is_paged_and_its_queries_do_not_grow_with_the_versions(
    make_user, login, django_assert_max_num_queries
):
    client = login(make_user(Role.BUSINESS_MANAGER, "10000"))
    record(2)
    # the session, the user and their permissions, the navigation; then the version
    # in use, the count and the page of versions
    with django_assert_max_num_queries(13) as few:
        client.get("/analysis/models/")
    record(30)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/analysis/models/")

    html = response.content.decode()
    assert html.count('data-testid="model-row"') == 25
    assert "Version 32</a>" in html and "Version 7</a>" not in html
    page_two = client.get("/analysis/models/?page=2").content.decode()
    assert page_two.count('data-testid="model-row"') == 7 and "Version 1</a>" in page_two
    with django_assert_max_num_queries(12):
        assert client.get("/analysis/models/1/").status_code == 200


def test_a_version_without_measures_says_so(make_user, login):
    churn_model_record(
        as_of=datetime.date(2025, 12, 31),
        months=9,
        samples=4000,
        positives=60,
        coefficients={
            "intercept": -3.0,
            "features": {"aum_change_3m": {"coef": -1.0, "mean": 0.0, "scale": 1.0}},
        },
        calibration=[],
        backtest={},
        metrics={},
        seconds=1.0,
    )
    client = login(make_user(Role.BUSINESS_MANAGER, "10000"))

    html = client.get("/analysis/models/").content.decode()

    assert "No back-test: the history before it had no customer who left." in html
    assert (
        "No calibration: no month-end of the history had both customers who left and customers who stayed to measure it on."
        in html
    )
    assert "Brier score 0" not in html and 'data-testid="calibration-row"' not in html


def test_a_back_test_that_flagged_nobody_says_so(make_user, login):
    (model,) = record()
    model.backtest = {
        "as_of": "2025-09-30",
        "flagged": 0,
        "flagged_left": 0.0,
        "others": 849,
        "others_left": 0.0624,
    }
    model.save()
    client = login(make_user(Role.AUDITOR, "10000"))

    html = client.get(f"/analysis/models/{model.number}/").content.decode()

    assert (
        "Back-test as of 2025-09-30: it would have flagged no customer (probability 50% or more); "
        "6.2% of the 849 customers left within 3 months."
    ) in html
