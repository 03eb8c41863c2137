"""The nights benchmark's own arithmetic (bench/nights.py), without a database: the
business dates its batches carry, the flatness verdict it prints and the steps it
says grow. A wrong date sequence would load a weekend batch or refuse one out of
order; a wrong verdict would call a growing night flat."""

import datetime

from bench.nights import business_dates, cents_of, growing_steps, money, report, slope, verdict


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
