"""The nights benchmark (bench/nights.py): its own arithmetic, without a database (the
business dates its batches carry, the flatness verdict it prints and the steps it
says grow; a wrong date sequence would load a weekend batch or refuse one out of
order, a wrong verdict would call a growing night flat), and on PostgreSQL the
history it writes before night 0 (`--history-days`), at a tiny size, between night
0 and night 1 loaded by the nightly job as the benchmark loads them."""

import datetime

import pytest
from django.db import connection

from bench import nights
from bench.nights import (
    business_dates,
    cents_of,
    growing_steps,
    history_dates,
    money,
    report,
    slope,
    verdict,
)


def test_business_dates_skip_weekends_and_run_on_into_the_next_month():
    friday = datetime.date(2026, 3, 27)
    days = business_dates(friday, 4)
    assert days == [
        datetime.date(2026, 3, 27),
        datetime.date(2026, 3, 30),
        datetime.date(2026, 3, 31),
        datetime.date(2026, 4, 1),
    ]
    assert all(day.weekday() < 5 for day in business_dates(datetime.date(2026, 3, 2), 31))
    assert business_dates(datetime.date(2026, 3, 2), 31)[-1] == datetime.date(2026, 4, 13)


def test_a_first_date_on_a_weekend_starts_on_the_monday():
    assert business_dates(datetime.date(2026, 3, 7), 2) == [
        datetime.date(2026, 3, 9),
        datetime.date(2026, 3, 10),
    ]


def test_the_verdict_is_flat_within_ten_percent_either_way_and_not_beyond():
    assert verdict(100.0, 110.0) == (1.1, True)
    assert verdict(100.0, 90.0)[1] is True
    ratio, flat = verdict(100.0, 111.0)
    assert round(ratio, 2) == 1.11 and flat is False
    assert verdict(100.0, 85.0)[1] is False
    assert verdict(0.0, 0.0) == (1.0, True)
    assert verdict(0.0, 1.0)[1] is False


def test_a_step_growing_with_the_nights_is_named_and_a_flat_or_noisy_one_is_not():
    series = {
        "aum": [2.0, 2.2, 2.4, 2.6, 2.8],  # +0.2 s a night
        "alerts": [1.0, 1.02, 0.98, 1.01, 1.0],  # noise
        "tiny": [0.01, 0.02, 0.03, 0.04, 0.05],  # grows 5x, but by 0.04 s
    }
    growing = growing_steps(series)
    assert [name for name, _per_night, _growth in growing] == ["aum"]
    name, per_night, growth = growing[0]
    assert round(per_night, 3) == 0.2 and round(growth, 2) == 0.8
    assert slope([3.0]) == 0.0


def test_amounts_go_through_cents_unchanged():
    for text in ("0.00", "12.30", "123456789.99", "-5.07", "7"):
        assert money(cents_of(text)) == (text if "." in text else text + ".00")


def _night(night, load, after, aum):
    return {
        "night": night,
        "date": f"2026-03-0{night + 2}",
        "load": load,
        "after_load": after,
        "wall": load + after,
        "steps": {"aum": aum, "alerts": after - aum},
        "post_load": {"aum": "ok", "alerts": "ok"},
        "rejected": 0,
        "tables": {
            "customers_accountbalance": 1000 * (night + 1),
            "customers_customerdailyaum": 400 * (night + 1),
        },
        "database_bytes": 2**20,
    }


def test_the_report_says_flat_when_night_n_stays_within_ten_percent(capsys):
    report([_night(0, 30.0, 40.0, 10.0), _night(1, 10.0, 20.0, 5.0), _night(2, 10.5, 20.5, 5.0)])
    out = capsys.readouterr().out
    assert "flat: yes" in out
    assert "nothing: every step's time stays within 10%" in out


def test_the_report_says_not_flat_and_names_the_step_that_grows(capsys):
    nights = [_night(0, 30.0, 40.0, 10.0)] + [_night(k, 10.0, 15.0 + 2 * k, 5.0 + 2 * k) for k in (1, 2, 3)]
    nights[2]["post_load"]["alerts"] = "failed"
    report(nights)
    out = capsys.readouterr().out
    assert "flat: no" in out
    assert "after-load       17.0 s      21.0 s  ratio  1.24  OUTSIDE 10%" in out
    growth = out.split("== What grows")[1]
    assert growth.split("\n")[1].startswith("aum ")
    assert "night 2: after-load step alerts FAILED" in out


def test_history_dates_are_the_weekdays_of_the_window_before_night_0s_month():
    monday = datetime.date(2026, 3, 2)
    year = history_dates(monday, 365)
    assert year[0] == datetime.date(2025, 3, 3)  # 2 March 2025 is a Sunday
    assert year[-1] == datetime.date(2026, 2, 27)  # the Friday before 1 March
    assert len(year) == 260
    assert all(day.weekday() < 5 for day in year)
    assert year == sorted(set(year))
    # night 0 in the middle of its month: the days of that month before it are left out
    mid = history_dates(datetime.date(2026, 3, 18), 30)
    assert mid[0] == datetime.date(2026, 2, 16) and mid[-1] == datetime.date(2026, 2, 27)
    assert all(day < datetime.date(2026, 3, 1) for day in mid)
    assert history_dates(datetime.date(2026, 3, 18), 17) == []
    assert history_dates(monday, 0) == []


# --- the history before night 0, on PostgreSQL --------------------------------------------

HISTORY_DAYS = 130
# daily AUM from the month of night 0 less the large-outflow lookback (7 days)
DAILY_FROM = datetime.date(2026, 2, 1)
NIGHT_0 = datetime.date(2026, 3, 2)


def _latest_figures() -> dict:
    from customers.models import Customer

    return {
        row[0]: row[1:]
        for row in Customer.objects.values_list("id", "aum", "liabilities", "aum_date", "month_avg_aum")
    }


def _dates(table: str, column: str = "business_date") -> list[datetime.date]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {column} FROM {table} ORDER BY 1")  # noqa: S608  (test constants)
        return [row[0] for row in cursor.fetchall()]


def _count(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


@pytest.fixture
def night_job(monkeypatch, settings, tmp_path):
    """The benchmark's night (`phase_night`) on a batch, through the nightly job; the
    post-load steps it wraps to time them are given back after each night."""
    from crm_portal import tasks

    settings.INGEST_INBOX = tmp_path / "inbox"
    steps, chain = tasks.POST_LOAD_STEPS, tasks.run_post_load
    monkeypatch.setattr(tasks, "POST_LOAD_STEPS", steps)
    monkeypatch.setattr(tasks, "run_post_load", chain)

    def run(path) -> dict:
        try:
            return nights.phase_night(str(path))
        finally:
            tasks.POST_LOAD_STEPS, tasks.run_post_load = steps, chain

    return run


@pytest.mark.django_db
def test_history_before_night_0_on_weekdays_only_leaves_night_0_alone_and_night_1_runs(
    org, tmp_path, night_job
):
    if connection.vendor != "postgresql":
        pytest.skip("the history is written in PostgreSQL's SQL (the benchmark runs on PostgreSQL)")
    from customers.models import Customer, CustomerMonthlyAum, MonthlyAumBuild
    from customers.partitions import partitions_report

    nights.phase_generate(30, 1, str(tmp_path / "batches"), 7, f"{NIGHT_0:%Y%m%d}")
    night_1 = business_dates(NIGHT_0, 2)[1]
    zero = night_job(tmp_path / "batches" / f"{NIGHT_0:%Y%m%d}")
    assert [load["status"] for load in zero["loads"]] == ["loaded"]
    assert set(zero["post_load"].values()) == {"ok"}
    latest = _latest_figures()
    assert any(figures[2] == NIGHT_0 and figures[0] > 0 for figures in latest.values())
    at_night_0 = {
        table: _count(f"SELECT COUNT(*) FROM {table} WHERE business_date >= %s", [NIGHT_0])  # noqa: S608
        for table in ("customers_customerdailyaum", "customers_transactionsummary", "customers_loanstatus")
    }
    monthly_at_night_0 = _count("SELECT COUNT(*) FROM customers_customermonthlyaum")

    written = nights.phase_history(HISTORY_DAYS, f"{NIGHT_0:%Y%m%d}")

    expected = history_dates(NIGHT_0, HISTORY_DAYS)
    assert expected[0] == datetime.date(2025, 10, 23) and expected[-1] == datetime.date(2026, 2, 27)
    assert (written["first"], written["last"], written["dates"]) == (expected[0], expected[-1], len(expected))
    rows = written["rows"]
    # every weekday of the window and nothing else (daily AUM from the month of the
    # outflow lookback on), none on or after night 0's date but night 0's own rows,
    # untouched
    before = [day for day in _dates("customers_customerdailyaum") if day < NIGHT_0]
    assert before == [day for day in expected if day >= DAILY_FROM]
    assert all(day.weekday() < 5 for day in before)
    assert [day for day in _dates("customers_customerdailyaum") if day >= NIGHT_0] == [NIGHT_0]
    assert [day for day in _dates("customers_transactionsummary") if day < NIGHT_0] == expected
    assert [day for day in _dates("customers_transactionsummary") if day >= NIGHT_0] == [NIGHT_0]
    assert all(day in expected for day in _dates("customers_loanstatus") if day < NIGHT_0)
    for table, count in at_night_0.items():
        assert _count(f"SELECT COUNT(*) FROM {table} WHERE business_date >= %s", [NIGHT_0]) == count  # noqa: S608
        assert _count(f"SELECT COUNT(*) FROM {table} WHERE business_date < %s", [NIGHT_0]) == rows[table]  # noqa: S608
    customers = Customer.objects.count()
    assert rows["customers_customerdailyaum"] <= customers * len(before)
    assert rows["customers_customerdailyaum"] >= customers * len(before) * 0.8
    # as dense as the nights: about 30% of the customers a day, 1 to 3 channels each
    active = _count(
        "SELECT COUNT(*) FROM (SELECT DISTINCT business_date, customer_id FROM customers_transactionsummary"
        " WHERE business_date < %s) s",
        [NIGHT_0],
    )
    assert 0.2 * customers * len(expected) <= active <= 0.4 * customers * len(expected)
    assert active <= rows["customers_transactionsummary"] <= 3 * active
    assert (
        _count(
            "SELECT COUNT(*) FROM customers_transactionsummary WHERE business_date < %s"
            " AND (txn_count NOT BETWEEN 1 AND 11 OR txn_amount NOT BETWEEN 1 AND 49999.99)",
            [NIGHT_0],
        )
        == 0
    )
    # the AUM moved a little back in time: within a third of night 0's over two months
    assert (
        _count(
            "SELECT COUNT(*) FROM customers_customerdailyaum h JOIN customers_customerdailyaum n"
            " ON n.customer_id = h.customer_id AND n.business_date = %s"
            " WHERE h.business_date < %s AND (h.aum < n.aum * 0.7 OR h.aum > n.aum * 1.3)",
            [NIGHT_0, NIGHT_0],
        )
        == 0
    )
    # the months' figures, as the AUM step leaves them, marked built
    assert _dates("customers_customermonthlyaum", "month") == [
        datetime.date(2025, 10, 1),
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 2, 1),
        datetime.date(2026, 3, 1),
    ]
    assert _count("SELECT COUNT(*) FROM customers_customermonthlyaum") == (
        monthly_at_night_0 + rows["customers_customermonthlyaum"]
    )
    # February's: its daily rows summed, averaged over the 27 days to its last business date
    february = (
        "SELECT COUNT(*) FROM customers_customermonthlyaum m LEFT JOIN (SELECT customer_id, COUNT(*) AS n,"
        " SUM(aum) AS total, SUM(CASE WHEN business_date = '2026-02-27' THEN aum ELSE 0 END) AS last"
        " FROM customers_customerdailyaum WHERE business_date >= '2026-02-01' AND business_date < '2026-03-01'"
        " GROUP BY customer_id) d ON d.customer_id = m.customer_id WHERE m.month = '2026-02-01'"
        " AND (m.days, m.aum_sum, m.avg_aum, m.end_aum) IS DISTINCT FROM (d.n, d.total, ROUND(d.total / 27, 2), d.last)"
    )
    assert _count(february) == 0
    # October's, without daily rows: up to 7 business days from the 23rd, averaged over 31 days
    october = list(
        CustomerMonthlyAum.objects.filter(month=datetime.date(2025, 10, 1)).values_list(
            "days", "aum_sum", "avg_aum"
        )
    )
    assert october and all(1 <= days <= 7 and avg == round(total / 31, 2) for days, total, avg in october)
    builds = dict(MonthlyAumBuild.objects.values_list("month", "through"))
    assert builds[datetime.date(2025, 10, 1)] == datetime.date(2025, 10, 31)
    assert builds[datetime.date(2026, 1, 1)] == datetime.date(2026, 1, 30)
    assert builds[datetime.date(2026, 2, 1)] == datetime.date(2026, 2, 27)
    assert builds[NIGHT_0.replace(day=1)] == NIGHT_0
    # in their months' partitions, none left to the default ones
    made = {(p.table, p.start) for p in partitions_report() if not p.is_default}
    for table in ("customers_customerdailyaum", "customers_transactionsummary"):
        assert (table, datetime.date(2026, 2, 1)) in made
        assert _count(f"SELECT COUNT(*) FROM {table}_default") == 0  # noqa: S608
    assert ("customers_transactionsummary", datetime.date(2025, 10, 1)) in made
    assert ("customers_customerdailyaum", datetime.date(2026, 1, 1)) not in made
    # night 0's latest figures on the customers, untouched (its chain ran again over it)
    assert _latest_figures() == latest
    # written once: a second history over the first is refused
    with pytest.raises(SystemExit, match="history before 2026-03-02 already"):
        nights.write_history(NIGHT_0, HISTORY_DAYS)

    one = night_job(tmp_path / "batches" / f"{night_1:%Y%m%d}")

    assert [load["status"] for load in one["loads"]] == ["loaded"]
    assert one["post_load"] == dict.fromkeys(one["steps"], "ok") and len(one["steps"]) > 10
    assert not Customer.objects.exclude(aum_date=night_1).filter(aum__gt=0).exists()
    assert [day for day in _dates("customers_customerdailyaum") if day < NIGHT_0] == before


def test_an_ordinary_night_moves_the_balances_a_day_moves_and_every_moves_them_all():
    friday, monday = datetime.date(2026, 3, 6), datetime.date(2026, 3, 9)
    tuesday = datetime.date(2026, 3, 10)
    for category in ("DEP_TIME", "INSURANCE", "DEP_CUR", "CREDIT_CARD", "LOAN_MORTGAGE"):
        assert nights.balance_moves("every", category, "A1", False, monday, tuesday)
    for category in nights.PRICED_DAILY:
        assert nights.balance_moves("ordinary", category, "A1", False, monday, tuesday)
    for category in ("DEP_TIME", "INSURANCE"):
        assert not nights.balance_moves("ordinary", category, "A1", True, monday, tuesday)
    for category in nights.WITH_TRANSACTIONS:
        assert nights.balance_moves("ordinary", category, "A1", True, monday, tuesday)
        assert not nights.balance_moves("ordinary", category, "A1", False, monday, tuesday)
    # a loan moves on its repayment day, also when that day fell on the weekend before
    loan = next(no for no in (f"L{n}" for n in range(1000)) if nights.repayment_day(no) == 8)
    assert nights.balance_moves("ordinary", "LOAN_CONSUMER", loan, False, friday, monday)
    assert not nights.balance_moves("ordinary", "LOAN_CONSUMER", loan, False, monday, tuesday)
    assert all(1 <= nights.repayment_day(f"L{n}") <= 28 for n in range(1000))
