"""Benchmark: how the costs of search, the customer 360, the nightly load and the tier
evaluation grow with the number of customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/growth.py --sizes 250000,1000000,4000000 \\
        [--benches search,360,ingest,tiers] [--reuse] [--drop]

DATABASE_URL names the server (its database is not touched). Sizes run smallest
first; for each size N:

1. ``ingest``: ``bench/ingest.py --customers N --db ingest_g<N> --skip-baseline
   --skip-loan-status`` (a generated batch of N customers loaded into a fresh
   database; the batch is kept under var/bench/<N>-<seed> for later runs), its
   database's size read and the database dropped (``--keep-ingest`` leaves it);
2. a seeded database ``crm_bench_g<N>``: ``bench/seed_customers.py --db crm_bench_g<N>
   --customers N --skip-baseline``, or with ``--reuse`` the one already there when it
   holds exactly N customers;
3. against it, each in its own process: ``bench/search.py --samples S
   --baseline-samples B``, ``bench/customer_360.py --samples S`` (``--samples``,
   default 100; ``--baseline-samples``, default 20) and ``bench/tier_evaluation.py
   --skip-baseline`` (the per-customer ORM loop is extrapolated linearly by
   construction, so says nothing about growth; the fair one-UPDATE baseline runs
   beside every step). Search and tiers roll back what they write; ``--drop`` drops
   the seeded database once its size is measured.

Each bench writes the figures it prints with ``--json``; kept here: search p50 and
p95 ms per kind and role (``--search-by kind``: pooled over the roles) and the plain
trigram search's p95 per kind; the 360's p50 and p95 per path and the page's
queries; the load's wall seconds, rows/s, loading seconds and peak memory; the tier
evaluation's seconds and the fair UPDATE's per step; the seeded and loaded
databases' sizes. Then one table: each figure at each size, its ratio to the
smallest size, and the exponent k of cost ~ size^k fitted by least squares on the
logarithms (with two sizes: log of the ratio over log of the size ratio), read as

    falling       k < -0.2
    flat         -0.2 <= k <= 0.2    (4x the customers: at most 1.32x the cost)
    sub-linear    0.2 < k < 0.8
    linear        0.8 <= k <= 1.2    (4x the customers: 3.0x to 5.3x)
    super-linear  k > 1.2

A rate (rows/s) reads the same way: "flat" rows/s is a per-row cost that does not
grow. Timings of a few milliseconds at small sizes carry the machine's noise: read
the exponent of figures that are large enough to time.

Results are written after every bench to var/bench/growth-<sizes>.json (``--out``).
With ``--reuse``, a bench's figures at a size already in any growth-*.json beside the
results file (var/bench unless ``--out`` names another directory), measured with the
same options, are taken from there instead of measured again, so a run interrupted,
or a later run with more sizes, carries on where the earlier one stopped; remove the
file to measure again. Before a size, the disk it needs is
estimated from the largest database measured so far (bytes per customer); a size
that would not fit in the free space is skipped with the larger ones.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.search import pct  # noqa: E402  (the search bench's own percentile)

RESULTS = ROOT / "var" / "bench"
BENCHES = ("ingest", "search", "360", "tiers")  # the order they run in at each size
SEEDED = ("search", "360", "tiers")  # the benches that read the seeded database
FLAT, LINEAR_LOW, LINEAR_HIGH = 0.2, 0.8, 1.2
DISK_MARGIN = 1.25
TIER_STEPS = {"1": "first run", "2": "same night again", "3": "month end", "4": "next night"}
PATH_360 = {
    "page_head_office": "page, head office",
    "page_client_manager": "page, client manager",
    "page_template": "page (template)",
    "portal": "data path",
    "fair": "fair baseline",
    "naive": "naive baseline",
}


# --- arithmetic ------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """The sizes of "250000,1000000": [250000, 1000000], sorted; each positive, none twice."""
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part.isdigit() or int(part) <= 0:
            raise argparse.ArgumentTypeError(f"not a positive number of customers: {part!r}")
        sizes.append(int(part))
    if len(set(sizes)) != len(sizes):
        raise argparse.ArgumentTypeError("a size is given twice")
    return sorted(sizes)


def parse_benches(text: str) -> list[str]:
    names = [b.strip() for b in text.split(",") if b.strip()]
    unknown = [b for b in names if b not in BENCHES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"benches are some of {', '.join(BENCHES)}; not {unknown or text!r}")
    return [b for b in BENCHES if b in names]


def exponent(points: Iterable[tuple[int, float | None]]) -> float | None:
    """k of value ~ size^k: the least-squares slope of log(value) on log(size) over the
    points with a positive value; None with fewer than two sizes to fit."""
    logs = [(math.log(s), math.log(v)) for s, v in points if v is not None and v > 0 and s > 0]
    if len({x for x, _y in logs}) < 2:
        return None
    mx = sum(x for x, _y in logs) / len(logs)
    my = sum(y for _x, y in logs) / len(logs)
    return sum((x - mx) * (y - my) for x, y in logs) / sum((x - mx) ** 2 for x, _y in logs)


def reading(k: float | None) -> str:
    """One word for an exponent (thresholds in the module's docstring)."""
    if k is None:
        return "-"
    if k < -FLAT:
        return "falling"
    if k <= FLAT:
        return "flat"
    if k < LINEAR_LOW:
        return "sub-linear"
    if k <= LINEAR_HIGH:
        return "linear"
    return "super-linear"


def ratio(value: float | None, first: float | None) -> float | None:
    if value is None or first is None or value <= 0 or first <= 0:
        return None
    return value / first


def growth_rows(results: dict[int, dict[str, float]], sizes: list[int]) -> list[dict]:
    """One row per figure (in the order they first appear, smallest size first): its
    value at each size, its ratio to the smallest size, k and the reading."""
    names: list[str] = []
    for size in sizes:
        names += [name for name in results.get(size, {}) if name not in names]
    rows = []
    for name in names:
        values = {size: results.get(size, {}).get(name) for size in sizes}
        k = exponent(values.items())
        rows.append(
            {
                "figure": name,
                "values": values,
                "ratios": {size: ratio(values[size], values[sizes[0]]) for size in sizes[1:]},
                "k": k,
                "reading": reading(k),
            }
        )
    return rows


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def table(rows: list[dict], sizes: list[int]) -> list[str]:
    """The growth table as lines of text."""
    width = max([len("figure"), *(len(r["figure"]) for r in rows)])
    head = f"{'figure':<{width}} " + " ".join(f"{size:>11,}" for size in sizes)
    head += "".join(f" {'x ' + format(size, ','):>13}" for size in sizes[1:])
    head += f" {'k':>6}  reading"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r['figure']:<{width}} " + " ".join(f"{number(r['values'][s]):>11}" for s in sizes)
        line += "".join(
            f" {(format(r['ratios'][s], '.2f') + 'x') if r['ratios'][s] is not None else '-':>13}"
            for s in sizes[1:]
        )
        line += f" {format(r['k'], '.2f') if r['k'] is not None else '-':>6}  {r['reading']}"
        lines.append(line)
    return lines


# --- the figures each bench writes (its --json) ------------------------------------------


def search_figures(raw: dict, by: str = "role") -> dict[str, float | None]:
    """The portal's p50/p95 per kind and role (`by="kind"`: pooled over the roles),
    the plain trigram search's p95 per kind (pooled), the worst p95."""
    kinds: dict[str, dict[str, list]] = {}
    for r in raw["results"]:
        pooled = kinds.setdefault(r["kind"], {"times": [], "baseline": [], "roles": []})
        pooled["times"] += r["times"]
        pooled["baseline"] += r["baseline"]["times"]
        pooled["roles"].append(r)
    out: dict[str, float | None] = {}
    for kind in sorted(kinds):
        pooled = kinds[kind]
        if by == "kind":
            out[f"search {kind}: p50 ms"] = pct(pooled["times"], 50)
            out[f"search {kind}: p95 ms"] = pct(pooled["times"], 95)
        else:
            for r in pooled["roles"]:
                out[f"search {kind}, {r['role']}: p50 ms"] = r["p50"]
                out[f"search {kind}, {r['role']}: p95 ms"] = r["p95"]
    for kind in sorted(kinds):
        times = kinds[kind]["baseline"]
        out[f"search plain trigram {kind}: p95 ms"] = pct(times, 95) if times else None
    out["search worst p95 ms"] = raw["worst_p95"]
    return out


def figures_360(raw: dict) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, label in PATH_360.items():
        row = raw["paths"].get(key)
        if row:
            out[f"360 {label}: p50 ms"] = row["p50"]
            out[f"360 {label}: p95 ms"] = row["p95"]
    page = raw["paths"].get("page_head_office") or raw["paths"].get("page_template")
    if page:
        out["360 page: queries (median)"] = page["q_med"]
    return out


def ingest_figures(raw: dict) -> dict[str, float | None]:
    full = raw["full"]
    return {
        "ingest whole load: s": full["wall"],
        "ingest whole load: rows/s": full["rows_per_s"],
        "ingest loading (in the load): s": full["loader"],
        "ingest loader peak RSS: MB": full["max_rss_mb"],
    }


def tier_figures(raw: dict) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for run in raw["runs"]:
        step = TIER_STEPS.get(run["label"].split(".")[0], run["label"])
        out[f"tiers {step}: evaluation s"] = run["wall"]
        out[f"tiers {step}: fair UPDATE s"] = run["fair"]["seconds"]
    return out


def checks_of(bench: str, raw: dict) -> dict:
    """What must be 0: the 360's customers whose data differs from the fair baseline's,
    the tier steps' disagreements with the fair UPDATE."""
    if bench == "360":
        return {"360 data differs": sum(raw.get("differ", {}).values())}
    if bench == "tiers":
        return {"tier disagreements": sum(run["disagreements"] for run in raw["runs"])}
    return {}


def figures_of(bench: str, raw: dict, search_by: str) -> dict[str, float | None]:
    if bench == "search":
        return search_figures(raw, search_by)
    if bench == "360":
        return figures_360(raw)
    if bench == "ingest":
        return ingest_figures(raw)
    return tier_figures(raw)


# --- earlier results ------------------------------------------------------------------


def earlier_results(*directories: Path) -> dict[tuple[int, str], list[dict]]:
    """(size, bench) -> the entries of every growth-*.json in `directories`, newest first."""
    found: dict[tuple[int, str], list[dict]] = {}
    names = {name for directory in directories for name in glob.glob(str(directory / "growth-*.json"))}
    for name in sorted(names):
        try:
            data = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for size, benches in data.get("results", {}).items():
            for bench, entry in benches.items():
                if isinstance(entry, dict) and ("figures" in entry or "database: MB" in entry):
                    found.setdefault((int(size), bench), []).append({**entry, "file": name})
    for entries in found.values():
        entries.sort(key=lambda e: e.get("at", ""), reverse=True)
    return found


def reusable(earlier: dict, size: int, bench: str, options: dict | None) -> dict | None:
    """The newest earlier entry of `bench` at `size` measured with `options` (None: any;
    the seeded database's size is kept under "database")."""
    for entry in earlier.get((size, bench), []):
        if options is None or entry.get("options") == options:
            return entry
    return None


# --- the server ---------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def plain(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    return name


def query(url: str, database: str, sql: str):
    """The first value of `sql` in `database`; None when the database or table is not there."""
    import psycopg

    try:
        with psycopg.connect(with_database(url, database), autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def customers_in(url: str, database: str) -> int | None:
    return query(url, database, "SELECT count(*) FROM customers_customer")


def database_bytes(url: str, database: str) -> int | None:
    return query(url, database, "SELECT pg_database_size(current_database())")


def drop(url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {plain(database)} WITH (FORCE)")


def free_bytes(url: str) -> int | None:
    """Free space where the server keeps its data, when that directory is on this machine."""
    directory = query(url, "postgres", "SHOW data_directory")
    if not directory or not Path(directory).exists():
        return None
    return shutil.disk_usage(directory).free


def run_command(args: list[str], env: dict[str, str]) -> int:
    """Run a bench in its own process, its output indented beneath ours; its exit code."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        print("    " + line.rstrip(), flush=True)
    return proc.wait()


# --- one size ---------------------------------------------------------------------------


def bench_options(bench: str, args: argparse.Namespace) -> dict:
    """What a bench runs with at a size (figures are reused only with the same)."""
    if bench == "search":
        return {"samples": args.samples, "baseline_samples": args.baseline_samples, "by": args.search_by}
    if bench == "360":
        return {"samples": args.samples}
    if bench == "ingest":
        return {"skip": ["baseline", "loan-status"]}
    return {"skip": ["per-customer loop"]}


def bench_command(bench: str, size: int, args: argparse.Namespace, out: str) -> list[str]:
    if bench == "search":
        return ["bench/search.py", "--samples", str(args.samples), "--baseline-samples",
                str(args.baseline_samples), "--json", out]  # fmt: skip
    if bench == "360":
        return ["bench/customer_360.py", "--samples", str(args.samples), "--json", out]
    if bench == "ingest":
        return ["bench/ingest.py", "--customers", str(size), "--db", ingest_database(args, size),
                "--skip-baseline", "--skip-loan-status", "--json", out]  # fmt: skip
    return ["bench/tier_evaluation.py", "--skip-baseline", "--json", out]


def seeded_database(args: argparse.Namespace, size: int) -> str:
    return plain(f"{args.db_prefix}{size}")


def ingest_database(args: argparse.Namespace, size: int) -> str:
    return plain(f"{args.ingest_prefix}{size}")


def bench_env(url: str, database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": with_database(url, database),
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
        "DEBUG": "False",
    }


def run_bench(bench: str, size: int, url: str, args: argparse.Namespace) -> dict:
    """Run one bench at one size; its entry for the results (figures, or the error)."""
    database = "postgres" if bench == "ingest" else seeded_database(args, size)
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(scratch) / f"{bench}.json")
        started = time.perf_counter()
        code = run_command(bench_command(bench, size, args, out), bench_env(url, database))
        seconds = time.perf_counter() - started
        raw = json.loads(Path(out).read_text(encoding="utf-8")) if Path(out).exists() else None
    loaded = ingest_database(args, size) if bench == "ingest" else None
    loaded_mb = mb(database_bytes(url, loaded)) if loaded and raw is not None else None
    if loaded and not args.keep_ingest:
        drop(url, loaded)
        drop(url, f"{loaded}_template")  # dropped by the bench unless it failed
    if code != 0 or raw is None:
        return {"error": f"exit code {code}" if code else "no figures written", "seconds": seconds}
    figures = figures_of(bench, raw, args.search_by)
    if loaded:
        figures["ingest database: MB"] = loaded_mb
    entry = {
        "options": bench_options(bench, args),
        "figures": figures,
        "checks": checks_of(bench, raw),
        "seconds": seconds,
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    return entry


def mb(size: int | None) -> float | None:
    return None if size is None else size / 1024 / 1024


def seed(url: str, database: str, size: int, args: argparse.Namespace) -> bool:
    """Seed `database` with `size` customers (or reuse it); whether it holds them."""
    if args.reuse and customers_in(url, database) == size:
        print(f"== {database}: reused ({size:,} customers)", flush=True)
        return True
    print(f"== {database}: seeding {size:,} customers (bench/seed_customers.py)", flush=True)
    command = ["bench/seed_customers.py", "--db", database, "--customers", str(size), "--skip-baseline"]
    if args.force:
        command.append("--force")
    code = run_command(command, bench_env(url, "postgres"))
    held = customers_in(url, database)
    if code != 0 or held != size:
        print(f"== {database}: seeding failed (exit code {code}, {held} customers)", flush=True)
        return False
    return True


def needed_bytes(results: dict, size: int) -> float | None:
    """The disk a size needs at once (the larger of its seeded and its loaded database),
    from the most bytes per customer measured so far; None before any is measured."""
    per_customer = 0.0
    for measured, entry in results.items():
        for value in (
            entry.get("database", {}).get("database: MB"),
            entry.get("ingest", {}).get("figures", {}).get("ingest database: MB"),
        ):
            if value:
                per_customer = max(per_customer, value * 1024 * 1024 / measured)
    return per_customer * size * DISK_MARGIN if per_customer else None


def measure_size(size: int, url: str, args: argparse.Namespace, results: dict, earlier: dict, save) -> None:
    """Every bench at one size, into `results[size]`; saved after each."""
    entry = results.setdefault(size, {})
    for bench in args.benches:
        old = reusable(earlier, size, bench, bench_options(bench, args)) if args.reuse else None
        if old:
            print(f"== {bench} at {size:,}: figures of {old['at']} reused ({old['file']})", flush=True)
            entry[bench] = {k: v for k, v in old.items() if k != "file"}
            continue
        if bench in SEEDED and "database" not in entry:
            database = seeded_database(args, size)
            if not seed(url, database, size, args):
                entry["database"] = {"error": "seeding failed"}
            else:
                entry["database"] = {"name": database, "database: MB": mb(database_bytes(url, database))}
            save()
        if bench in SEEDED and "error" in entry["database"]:
            entry[bench] = {"error": "no seeded database"}
            continue
        print(f"== {bench} at {size:,} customers", flush=True)
        entry[bench] = run_bench(bench, size, url, args)
        if "error" in entry[bench]:
            print(f"== {bench} at {size:,}: FAILED ({entry[bench]['error']})", flush=True)
        else:
            print(f"== {bench} at {size:,}: {entry[bench]['seconds']:.0f} s", flush=True)
        save()
    if "database" not in entry and any(b in SEEDED for b in args.benches):
        old = reusable(earlier, size, "database", None)  # every seeded bench reused: its size too
        if old:
            entry["database"] = {k: v for k, v in old.items() if k != "file"}
    elif args.drop and "name" in entry.get("database", {}):
        drop(url, entry["database"]["name"])
        print(f"== {entry['database']['name']} dropped", flush=True)


def figures_by_size(results: dict, sizes: list[int], benches: list[str]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for size in sizes:
        entry = results.get(size, {})
        figures: dict[str, float] = {}
        for bench in benches:
            figures.update(entry.get(bench, {}).get("figures", {}))
        db_mb = entry.get("database", {}).get("database: MB")
        if db_mb is not None:
            figures["seeded database: MB"] = db_mb
        out[size] = figures
    return out


def report(results: dict, sizes: list[int], benches: list[str]) -> None:
    rows = growth_rows(figures_by_size(results, sizes, benches), sizes)
    print("")
    print(f"== How the costs grow with the number of customers ({', '.join(f'{s:,}' for s in sizes)})")
    print(
        f"k: cost ~ customers^k; flat |k| <= {FLAT}, sub-linear < {LINEAR_LOW}, "
        f"linear {LINEAR_LOW}..{LINEAR_HIGH}, super-linear > {LINEAR_HIGH}, falling < -{FLAT}"
    )
    for line in table(rows, sizes):
        print(line)
    for size in sizes:
        for bench in benches:
            entry = results.get(size, {}).get(bench, {})
            if "error" in entry:
                print(f"{bench} at {size:,}: not measured ({entry['error']})")
            for check, value in entry.get("checks", {}).items():
                if value:
                    print(f"{bench} at {size:,}: {check}: {value} (must be 0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=parse_sizes, required=True, help="customers, e.g. 250000,1000000")
    parser.add_argument("--benches", type=parse_benches, default=list(BENCHES))
    parser.add_argument("--reuse", action="store_true", help="reuse seeded databases and earlier figures")
    parser.add_argument("--drop", action="store_true", help="drop each seeded database once measured")
    parser.add_argument("--samples", type=int, default=100, help="customers sampled (search: per role)")
    parser.add_argument("--baseline-samples", type=int, default=20, help="plain trigram searches per kind")
    parser.add_argument("--search-by", choices=["role", "kind"], default="role")
    parser.add_argument("--db-prefix", default="crm_bench_g")
    parser.add_argument("--ingest-prefix", default="ingest_g")
    parser.add_argument("--keep-ingest", action="store_true", help="leave the loaded databases in place")
    parser.add_argument("--force", action="store_true", help="allow a --db-prefix not starting crm_bench")
    parser.add_argument("--out", help="results file (default var/bench/growth-<sizes>.json)")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://user@host:port/anydb)")
    if not args.db_prefix.startswith("crm_bench") and not args.force:
        raise SystemExit(f"refusing to seed {args.db_prefix!r}: use a prefix starting crm_bench, or --force")
    sizes: list[int] = args.sizes
    for size in sizes:  # plain database names, or stop here
        seeded_database(args, size)
        ingest_database(args, size)
    out = Path(args.out) if args.out else RESULTS / f"growth-{'-'.join(map(str, sizes))}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    earlier = earlier_results(out.parent) if args.reuse else {}
    results: dict[int, dict] = {}

    def save() -> None:
        rows = growth_rows(figures_by_size(results, sizes, args.benches), sizes)
        data = {
            "sizes": sizes,
            "benches": args.benches,
            "results": {str(size): entry for size, entry in results.items()},
            "table": [
                {
                    **r,
                    "values": {str(s): v for s, v in r["values"].items()},
                    "ratios": {str(s): v for s, v in r["ratios"].items()},
                }
                for r in rows
            ],
        }
        out.write_text(json.dumps(data, indent=1), encoding="utf-8")

    started = time.perf_counter()
    for size in sizes:
        needed, free = needed_bytes(results, size), free_bytes(url)
        if needed is not None and free is not None and needed > free:
            print(
                f"== {size:,} customers and larger skipped: about {needed / 1e9:,.1f} GB needed, "
                f"{free / 1e9:,.1f} GB free",
                flush=True,
            )
            break
        measure_size(size, url, args, results, earlier, save)
    save()
    report(results, sizes, args.benches)
    print(f"\nwhole run: {(time.perf_counter() - started) / 60:.1f} min; results in {out}")


if __name__ == "__main__":
    main()
