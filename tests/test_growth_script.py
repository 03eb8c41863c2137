"""The growth benchmark (bench/growth.py): its arithmetic without a database (the
exponent k of cost ~ size^k, its one-word reading, the table), the figures it keeps
from each bench's JSON, its run over the sizes with the benches and the server faked
(a failing bench recorded and the others measured, earlier figures reused, the disk
check)."""

import json
import math
from pathlib import Path

import pytest

from bench import growth
from bench.growth import (
    earlier_results,
    exponent,
    figures_360,
    growth_rows,
    ingest_figures,
    parse_benches,
    parse_sizes,
    ratio,
    reading,
    reusable,
    search_figures,
    table,
    tier_figures,
)

ROOT = Path(__file__).resolve().parent.parent


# --- arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 2.0, -0.5])
def test_the_exponent_of_an_exact_power_law_is_recovered(k):
    sizes = [1_000, 4_000, 16_000, 64_000]
    assert exponent((s, 3.0 * s**k) for s in sizes) == pytest.approx(k, abs=1e-9)


def test_with_two_sizes_the_exponent_is_the_log_ratio_over_the_log_size_ratio():
    assert exponent([(250_000, 2.0), (1_000_000, 6.0)]) == pytest.approx(math.log(3) / math.log(4))
    assert exponent([(1_000_000, 6.0), (250_000, 2.0)]) == pytest.approx(math.log(3) / math.log(4))


def test_the_exponent_is_fitted_on_the_logarithms_of_noisy_points():
    # log-log points (0, 0), (1, 1.2), (2, 1.8): least-squares slope 0.9
    points = [(1, 1.0), (math.e, math.exp(1.2)), (math.e**2, math.exp(1.8))]
    assert exponent(points) == pytest.approx(0.9)


def test_missing_or_non_positive_values_are_left_out_of_the_fit_and_one_point_fits_nothing():
    assert exponent([(1_000, None), (2_000, 2.0), (4_000, 4.0)]) == pytest.approx(1.0)
    assert exponent([(1_000, 0.0), (2_000, 2.0), (4_000, 4.0)]) == pytest.approx(1.0)
    assert exponent([(1_000, 1.0), (2_000, None)]) is None
    assert exponent([(1_000, -1.0), (2_000, 5.0)]) is None
    assert exponent([]) is None
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(6.0, 0.0) is None and ratio(None, 2.0) is None and ratio(1.0, None) is None


def test_the_reading_of_each_exponent_at_and_around_the_thresholds():
    assert reading(None) == "-"
    assert reading(-0.5) == "falling"
    assert reading(-0.2) == "flat"
    assert reading(0.0) == "flat"
    assert reading(0.2) == "flat"
    assert reading(0.21) == "sub-linear"
    assert reading(0.79) == "sub-linear"
    assert reading(0.8) == "linear"
    assert reading(1.0) == "linear"
    assert reading(1.2) == "linear"
    assert reading(1.21) == "super-linear"
    assert reading(2.0) == "super-linear"


def test_sizes_are_sorted_positive_and_unique():
    assert parse_sizes("1000000,250000") == [250_000, 1_000_000]
    assert parse_sizes(" 2_000 , 4000") == [2_000, 4_000]
    for bad in ("0", "-5", "abc", "1000,,2000", "1000,1000", "1.5"):
        with pytest.raises(Exception, match="positive|twice"):
            parse_sizes(bad)


def test_benches_run_in_their_own_order_and_an_unknown_one_is_refused():
    assert parse_benches("tiers,search") == ["search", "tiers"]
    assert parse_benches("360, ingest") == ["ingest", "360"]
    for bad in ("", "search,vip", "ingest;tiers"):
        with pytest.raises(Exception, match="benches are some of"):
            parse_benches(bad)


def test_the_rows_and_the_table_show_values_ratios_k_and_the_reading():
    sizes = [1_000, 4_000]
    results = {
        1_000: {"search p95 ms": 2.0, "load s": 10.0, "only small": 1.0},
        4_000: {"search p95 ms": 2.2, "load s": 41.0, "only large": 3.0},
    }
    rows = growth_rows(results, sizes)
    assert [r["figure"] for r in rows] == ["search p95 ms", "load s", "only small", "only large"]
    search, load, small, large = rows
    assert search["ratios"] == {4_000: pytest.approx(1.1)}
    assert search["reading"] == "flat"
    assert load["k"] == pytest.approx(math.log(4.1) / math.log(4))
    assert load["reading"] == "linear"
    assert small["values"] == {1_000: 1.0, 4_000: None} and small["k"] is None and small["reading"] == "-"
    assert large["ratios"] == {4_000: None} and large["reading"] == "-"

    lines = table(rows, sizes)
    assert lines[0].split() == ["figure", "1,000", "4,000", "x", "4,000", "k", "reading"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["search", "p95", "ms", "2", "2.2", "1.10x", "0.07", "flat"]
    assert lines[3].split() == ["load", "s", "10", "41", "4.10x", "1.02", "linear"]
    assert lines[4].split() == ["only", "small", "1", "-", "-", "-", "-"]
    assert growth.number(1_234_567.8) == "1,234,568" and growth.number(0.01234) == "0.0123"


# --- the figures kept from each bench's JSON ------------------------------------------------


def _search_raw():
    def result(role, kind, times, base):
        return {
            "role": role,
            "kind": kind,
            "p50": growth.pct(times, 50),
            "p95": growth.pct(times, 95),
            "times": times,
            "baseline": {"times": base},
        }

    return {
        "results": [
            result("client manager", "mobile", [1.0, 2.0, 3.0], [10.0]),
            result("head office", "mobile", [5.0, 6.0, 7.0], [30.0, 50.0]),
            result("client manager", "full pinyin", [4.0], []),
        ],
        "worst_p95": 7.0,
    }


def test_search_figures_per_kind_and_role_and_pooled_over_the_roles():
    by_role = search_figures(_search_raw())
    assert by_role["search mobile, client manager: p50 ms"] == 2.0
    assert by_role["search mobile, head office: p95 ms"] == 7.0
    assert by_role["search full pinyin, client manager: p95 ms"] == 4.0
    assert by_role["search plain trigram mobile: p95 ms"] == 50.0
    assert by_role["search plain trigram full pinyin: p95 ms"] is None  # none timed
    assert by_role["search worst p95 ms"] == 7.0

    by_kind = search_figures(_search_raw(), by="kind")
    assert by_kind["search mobile: p50 ms"] == growth.pct([1.0, 2.0, 3.0, 5.0, 6.0, 7.0], 50)
    assert by_kind["search mobile: p95 ms"] == 7.0
    assert not any("client manager" in name for name in by_kind)


def test_360_ingest_and_tier_figures_and_their_checks():
    row = {"p50": 10.0, "p95": 20.0, "q_med": 24}
    raw_360 = {"paths": {"page_head_office": row, "portal": {**row, "p50": 5.0}}, "differ": {"a": 0, "b": 2}}
    assert figures_360(raw_360) == {
        "360 page, head office: p50 ms": 10.0,
        "360 page, head office: p95 ms": 20.0,
        "360 data path: p50 ms": 5.0,
        "360 data path: p95 ms": 20.0,
        "360 page: queries (median)": 24,
    }
    assert growth.checks_of("360", raw_360) == {"360 data differs": 2}

    full = {"wall": 12.0, "rows_per_s": 1500.0, "loader": 10.0, "max_rss_mb": 300.0}
    assert ingest_figures({"full": full}) == {
        "ingest whole load: s": 12.0,
        "ingest whole load: rows/s": 1500.0,
        "ingest loading (in the load): s": 10.0,
        "ingest loader peak RSS: MB": 300.0,
    }

    runs = [
        {
            "label": "1. first run (initial tiering)",
            "wall": 3.0,
            "fair": {"seconds": 1.0},
            "disagreements": 0,
        },
        {
            "label": "3. month end: new month's averages",
            "wall": 4.0,
            "fair": {"seconds": 2.0},
            "disagreements": 1,
        },
    ]
    assert tier_figures({"runs": runs}) == {
        "tiers first run: evaluation s": 3.0,
        "tiers first run: fair UPDATE s": 1.0,
        "tiers month end: evaluation s": 4.0,
        "tiers month end: fair UPDATE s": 2.0,
    }
    assert growth.checks_of("tiers", {"runs": runs}) == {"tier disagreements": 1}


def test_earlier_figures_are_reused_only_with_the_same_options_newest_first(tmp_path):
    def entry(at, samples, value):
        return {"options": {"samples": samples}, "figures": {"x": value}, "at": at}

    (tmp_path / "growth-1000.json").write_text(
        json.dumps({"results": {"1000": {"360": entry("2026-01-01T00:00:00", 100, 1.0)}}})
    )
    (tmp_path / "growth-1000-2000.json").write_text(
        json.dumps(
            {
                "results": {
                    "1000": {
                        "360": entry("2026-02-01T00:00:00", 100, 2.0),
                        "search": {"error": "exit code 1"},
                    },
                    "2000": {"360": entry("2026-02-01T00:00:00", 50, 3.0)},
                }
            }
        )
    )
    (tmp_path / "growth-broken.json").write_text("{not json")
    earlier = earlier_results(tmp_path)
    assert reusable(earlier, 1000, "360", {"samples": 100})["figures"] == {"x": 2.0}
    assert reusable(earlier, 2000, "360", {"samples": 100}) is None
    assert reusable(earlier, 2000, "360", {"samples": 50})["figures"] == {"x": 3.0}
    assert reusable(earlier, 1000, "search", {}) is None  # a failed run is measured again


# --- the run over the sizes, benches and server faked ----------------------------------------


class FakeServer:
    """Databases as a dict of customer counts; the benches write canned figures that
    grow with the size."""

    def __init__(self, fail: tuple[str, int] | None = None):
        self.customers: dict[str, int] = {}
        self.commands: list[list[str]] = []
        self.dropped: list[str] = []
        self.fail = fail
        self.free = 10**12

    def run_command(self, args, env):
        self.commands.append(args)
        script = Path(args[0]).name
        if script == "seed_customers.py":
            self.customers[args[args.index("--db") + 1]] = int(args[args.index("--customers") + 1])
            return 0
        database = env["DATABASE_URL"].rsplit("/", 1)[1]
        size = self.customers.get(database) or int(args[args.index("--customers") + 1])
        if self.fail == (script, size):
            return 1
        out = Path(args[args.index("--json") + 1])
        if script == "ingest.py":
            self.customers[args[args.index("--db") + 1]] = size
            raw = {"full": {"wall": size / 100, "rows_per_s": 100.0, "loader": size / 120, "max_rss_mb": 200}}
        elif script == "tier_evaluation.py":
            raw = {
                "runs": [
                    {
                        "label": "2. same night again",
                        "wall": size / 1000,
                        "fair": {"seconds": 1.0},
                        "disagreements": 0,
                    }
                ]
            }
        elif script == "customer_360.py":
            raw = {"paths": {"portal": {"p50": 5.0, "p95": 9.0, "q_med": 11}}, "differ": {"x": 0}}
        else:
            raw = {"results": [], "worst_p95": 3.0}
        out.write_text(json.dumps(raw))
        return 0

    def install(self, monkeypatch):
        monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        monkeypatch.setattr(growth, "run_command", self.run_command)
        monkeypatch.setattr(growth, "customers_in", lambda url, db: self.customers.get(db))
        monkeypatch.setattr(growth, "database_bytes", lambda url, db: self.customers.get(db, 0) * 1024 * 1024)
        monkeypatch.setattr(
            growth, "drop", lambda url, db: (self.dropped.append(db), self.customers.pop(db, None))
        )
        monkeypatch.setattr(growth, "free_bytes", lambda url: self.free)

    def scripts(self):
        return [Path(c[0]).name for c in self.commands]


def test_each_size_is_seeded_measured_and_tabled_and_a_failing_bench_is_recorded(
    monkeypatch, tmp_path, capsys
):
    server = FakeServer(fail=("customer_360.py", 2000))
    server.install(monkeypatch)
    out = tmp_path / "growth.json"
    growth.main(["--sizes", "2000,1000", "--out", str(out), "--drop", "--samples", "7"])

    assert server.scripts() == [
        *["ingest.py", "seed_customers.py", "search.py", "customer_360.py", "tier_evaluation.py"],
        *["ingest.py", "seed_customers.py", "search.py", "customer_360.py", "tier_evaluation.py"],
    ]
    assert server.commands[1][1:] == ["--db", "crm_bench_g1000", "--customers", "1000", "--skip-baseline"]
    assert server.commands[0][1:5] == ["--customers", "1000", "--db", "ingest_g1000"]
    assert server.commands[3][1:3] == ["--samples", "7"]
    assert server.dropped == [
        *["ingest_g1000", "ingest_g1000_template", "crm_bench_g1000"],
        *["ingest_g2000", "ingest_g2000_template", "crm_bench_g2000"],
    ]

    data = json.loads(out.read_text())
    assert data["sizes"] == [1000, 2000]
    assert data["results"]["2000"]["360"]["error"] == "exit code 1"
    assert data["results"]["1000"]["360"]["figures"]["360 data path: p50 ms"] == 5.0
    rows = {r["figure"]: r for r in data["table"]}
    assert rows["ingest whole load: s"]["reading"] == "linear"
    assert rows["ingest whole load: s"]["k"] == pytest.approx(1.0)
    assert rows["ingest whole load: rows/s"]["reading"] == "flat"
    assert rows["seeded database: MB"]["values"] == {"1000": 1000.0, "2000": 2000.0}
    assert rows["360 data path: p50 ms"]["values"] == {"1000": 5.0, "2000": None}

    printed = capsys.readouterr().out
    assert "== How the costs grow with the number of customers (1,000, 2,000)" in printed
    assert "360 at 2,000: not measured (exit code 1)" in printed
    assert "== 360 at 2,000: FAILED (exit code 1)" in printed
    assert "360 at 1,000: not measured" not in printed


def test_with_reuse_earlier_figures_and_a_seeded_database_are_not_measured_again(
    monkeypatch, tmp_path, capsys
):
    server = FakeServer()
    server.install(monkeypatch)
    first = tmp_path / "growth-1000.json"
    growth.main(["--sizes", "1000", "--benches", "tiers", "--out", str(first)])
    assert server.scripts() == ["seed_customers.py", "tier_evaluation.py"]
    assert server.customers["crm_bench_g1000"] == 1000  # left in place without --drop

    server.commands.clear()
    growth.main(
        [
            "--sizes",
            "1000,3000",
            "--benches",
            "tiers,360",
            "--reuse",
            "--out",
            str(tmp_path / "growth-b.json"),
        ]
    )
    # 1,000: tiers reused from the earlier file, 360 measured on the database kept; 3,000: seeded
    assert server.scripts() == [
        "customer_360.py",
        "seed_customers.py",
        "customer_360.py",
        "tier_evaluation.py",
    ]
    printed = capsys.readouterr().out
    assert "== crm_bench_g1000: reused (1,000 customers)" in printed
    assert "== tiers at 1,000: figures of" in printed
    rows = {r["figure"]: r for r in json.loads((tmp_path / "growth-b.json").read_text())["table"]}
    assert rows["tiers same night again: evaluation s"]["values"] == {"1000": 1.0, "3000": 3.0}
    assert rows["tiers same night again: evaluation s"]["reading"] == "linear"

    # every figure already there: nothing runs, the database's size comes along
    server.commands.clear()
    growth.main(
        ["--sizes", "1000,3000", "--benches", "tiers", "--reuse", "--out", str(tmp_path / "growth-c.json")]
    )
    assert server.commands == []
    rows = {r["figure"]: r for r in json.loads((tmp_path / "growth-c.json").read_text())["table"]}
    assert rows["seeded database: MB"]["values"] == {"1000": 1000.0, "3000": 3000.0}


def test_a_size_that_would_not_fit_on_the_disk_is_skipped_with_the_larger_ones(monkeypatch, tmp_path, capsys):
    server = FakeServer()
    server.install(monkeypatch)
    server.free = 4_900 * 1024 * 1024  # 1 MB a customer measured at 1,000: 4,000 needs 5,000 MB
    growth.main(["--sizes", "1000,4000,8000", "--benches", "tiers", "--out", str(tmp_path / "g.json")])
    assert server.scripts() == ["seed_customers.py", "tier_evaluation.py"]
    assert "== 4,000 customers and larger skipped" in capsys.readouterr().out


def test_the_run_refuses_a_server_that_is_not_postgresql_and_a_prefix_it_would_not_seed(
    monkeypatch, tmp_path
):
    server = FakeServer()
    server.install(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    with pytest.raises(SystemExit, match="PostgreSQL server"):
        growth.main(["--sizes", "1000"])
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with pytest.raises(SystemExit, match="prefix starting crm_bench"):
        growth.main(["--sizes", "1000", "--db-prefix", "nights_"])
    with pytest.raises(SystemExit, match="not a plain database name"):
        growth.main(["--sizes", "1000", "--db-prefix", "crm_bench-g", "--out", str(tmp_path / "g.json")])
    assert server.commands == []
