"""Benchmark: the nightly core-banking load (customers.ingest) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/ingest.py --customers 1000000 --db ingest_bench

DATABASE_URL names the server (its database is not touched). The script

1. generates a batch of `--customers` customers with `make_extract` (contacts, about
   2.5 accounts each, a day of balances, transaction summaries, income and the loan
   statuses of about 0.4 loan and card accounts each) under `--dir`, kept and reused
   by later runs with the same size and seed;
2. side by side on the same `--sample` CUSTOMER rows (the first rows of that batch),
   each into an empty customer table of a fresh database: a plain
   django-import-export `ModelResource` import (the baseline a Django team would
   write; it encrypts the ID and computes the name search through the model, but
   checks no ID check digit), then this loader (a batch holding only those rows:
   control check, SQL and Python validation, encryption, name search, merge);
3. loads the whole batch into `--db` (fresh: migrated, demo organisation) and
   prints rows/s per file, the wall time of the whole batch (control check and
   digest, the load, the commit) and the loader's peak memory; leaves `--db` in
   place;
4. (unless `--skip-loan-status`) what LOAN_STATUS.dat adds: the same batch without
   it loaded into a fresh `--db`_v1 (dropped afterwards), its wall time beside the
   whole batch's; then, into `--db`, the next business date's batch holding only
   LOAN_STATUS.dat -- the nightly case: every account again, the few past due a day
   further behind -- where the change log stores only the changes.

With `--json PATH` the figures printed are also written to PATH.

Every phase runs in its own process (`--phase`), DJANGO_SETTINGS_MODULE
crm_portal.settings.local, DATABASE_URL pointing at the phase's database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULT = "BENCH-RESULT "
DAY = "20260302"
LOAN = "LOAN_STATUS.dat"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def plain(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    return name


def run_phase(url: str, database: str | None, *args: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local", "DEBUG": "False"}
    if database:
        env["DATABASE_URL"] = with_database(url, database)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print("    " + line.rstrip(), flush=True)
    if proc.wait() != 0 or result is None:
        raise SystemExit(f"phase {args} failed")
    return result


# --- inside a phase (Django set up) ---------------------------------------------------


def _setup() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()


def phase_generate(customers: int, directory: str, seed: int) -> dict:
    _setup()
    import datetime

    from demo.extract import make_extract

    started = time.perf_counter()
    extract = make_extract(
        Path(directory),
        business_date=datetime.datetime.strptime(DAY, "%Y%m%d").date(),
        customers=customers,
        seed=seed,
    )
    size = sum(f.stat().st_size for f in extract.path.iterdir())
    return {"rows": extract.rows, "seconds": time.perf_counter() - started, "bytes": size}


def phase_prepare() -> dict:
    """Migrate a fresh database and create the demo organisation and users."""
    _setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"seconds": time.perf_counter() - started}


def phase_baseline(path: str, rows: int) -> dict:
    """A plain django-import-export ModelResource import of the first `rows` rows."""
    _setup()
    import resource

    import tablib
    from import_export import fields, resources, widgets

    from accounts.models import Branch
    from customers.ingest.spec import CUSTOMER
    from customers.models import Customer

    def col(attribute: str, name: str, widget=None) -> fields.Field:
        return fields.Field(attribute=attribute, column_name=name, widget=widget)

    day = widgets.DateWidget(format="%Y%m%d")

    class CustomerResource(resources.ModelResource):
        customer_no = col("customer_no", "CUST_NO")
        name = col("name", "NAME")
        id_type = col("id_type", "ID_TYPE")
        id_number = col("id_number", "ID_NO")  # the model's property encrypts
        gender = col("gender", "GENDER")
        birth_date = col("birth_date", "BIRTH_DATE", day)
        nationality = col("nationality", "NATIONALITY")
        occupation = col("occupation", "OCCUPATION")
        employer = col("employer", "EMPLOYER")
        education = col("education", "EDUCATION")
        marital = col("marital", "MARITAL")
        annual_income = col("annual_income", "ANNUAL_INCOME", widgets.DecimalWidget())
        risk_level = col("risk_level", "RISK_LEVEL")
        risk_expiry = col("risk_expiry", "RISK_EXPIRY", day)
        home_branch = col("home_branch", "HOME_BRANCH", widgets.ForeignKeyWidget(Branch, field="code"))
        open_date = col("open_date", "OPEN_DATE", day)
        status = col("status", "STATUS")

        class Meta:
            model = Customer
            import_id_fields = ("customer_no",)
            fields = (
                "customer_no", "name", "id_type", "id_number", "gender", "birth_date", "nationality", "occupation",
                "employer", "education", "marital", "annual_income", "risk_level", "risk_expiry", "home_branch",
                "open_date", "status",
            )  # fmt: skip

    lines = (Path(path) / CUSTOMER.name).read_text(encoding="utf-8").split("\n")
    data = tablib.Dataset(headers=lines[0].split("|"))
    for line in lines[1 : rows + 1]:
        data.append(line.split("|"))
    started = time.perf_counter()
    result = CustomerResource().import_data(data, dry_run=False)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"baseline import failed: {result.totals}")
    return {
        "rows": Customer.objects.count(),
        "seconds": seconds,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def phase_next_day_statuses(path: str, target: str) -> dict:
    """The next business date's batch holding only LOAN_STATUS.dat: the rows of the
    batch at `path`, the accounts past due a day further behind (their class as the
    generator grades it), the others unchanged."""
    _setup()
    import datetime

    from customers.ingest.spec import LOAN_STATUS
    from demo.extract import BatchFolder, risk_class_of

    day = datetime.datetime.strptime(DAY, "%Y%m%d").date() + datetime.timedelta(days=1)
    folder = BatchFolder(Path(target), day)
    changed = 0
    with (Path(path) / LOAN_STATUS.name).open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            account_no, days, amount, risk_class = line.rstrip("\n").split("|")
            if days != "0":
                days = str(int(days) + 1)
                risk_class = str(max(int(risk_class), risk_class_of(int(days)).value))
                changed += 1
            folder.write(LOAN_STATUS.name, [account_no, days, amount, risk_class])
    rows = folder.finish()
    return {"path": str(folder.path), "rows": rows[LOAN_STATUS.name], "changed": changed}


def phase_load(path: str) -> dict:
    """This loader on the batch at `path`, as `manage.py import_extract` runs it."""
    _setup()
    import resource

    from customers.ingest.control import read_batch, verify
    from customers.ingest.runner import batch_load_create, ingest_run

    started = time.perf_counter()
    verify(read_batch(Path(path)))  # the control check alone (the load does it again)
    control_seconds = time.perf_counter() - started
    record = batch_load_create(source=Path(path), started_via="command")
    started = time.perf_counter()
    load = ingest_run(record.pk, notify=False, on_busy="refuse")
    wall = time.perf_counter() - started
    if load.status != "loaded":
        raise SystemExit(f"load failed: {load.message}")
    loader = float(re.search(r"in ([0-9.]+) s\.$", load.message).group(1))
    return {
        "wall": wall,
        "control": control_seconds,
        "loader": loader,
        "files": [
            {
                "name": f.name,
                "rows": f.control_rows,
                "loaded": f.loaded,
                "rejected": f.rejected,
                "seconds": f.seconds,
            }
            for f in load.files.order_by("pk")
        ],
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "stored_statuses": _stored_statuses(load.business_date),
    }


def _stored_statuses(day) -> int:
    from customers.models import LoanStatus

    return LoanStatus.objects.filter(business_date=day).count()


# --- the driver -------------------------------------------------------------------------


def customers_only_batch(source: Path, target: Path, rows: int) -> Path:
    """A batch holding only the first `rows` CUSTOMER rows of `source`."""
    import hashlib

    batch = target / DAY
    batch.mkdir(parents=True, exist_ok=True)
    with (source / "CUSTOMER.dat").open("rb") as handle:
        data = b"".join(line for _n, line in zip(range(rows + 1), handle, strict=False))
    (batch / "CUSTOMER.dat").write_bytes(data)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    (batch / "BATCH.ctl").write_text(
        f"FILE|ROWS|BYTES|MD5|ENCODING\nCUSTOMER.dat|{rows}|{len(data)}|{md5}|UTF-8\n"
    )
    (batch / "BATCH.ok").write_bytes(b"")
    return batch


def without_file(source: Path, target: Path, name: str) -> Path:
    """The batch at `source` without the data file `name` (as core banking writing
    against v1 sends it): the other files hard-linked, the control file without its
    line."""
    batch = target / source.name
    if batch.exists():
        for old in batch.iterdir():
            old.unlink()
    batch.mkdir(parents=True, exist_ok=True)
    for data in source.iterdir():
        if data.name.endswith(".dat") and data.name != name:
            (batch / data.name).hardlink_to(data)
    control = (source / "BATCH.ctl").read_text(encoding="utf-8").split("\n")
    (batch / "BATCH.ctl").write_text("\n".join(line for line in control if not line.startswith(name + "|")))
    (batch / "BATCH.ok").write_bytes(b"")
    return batch


def fresh(url: str, template: str, name: str) -> None:
    admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(url, f"CREATE DATABASE {name} TEMPLATE {template}")


def report_load(title: str, result: dict) -> None:
    print(f"\n== {title}")
    print(f"{'file':16} {'rows':>11} {'loaded':>11} {'rejected':>9} {'seconds':>8} {'rows/s':>10}")
    for f in result["files"]:
        rate = f["loaded"] / f["seconds"] if f["seconds"] else 0
        print(
            f"{f['name']:16} {f['rows']:>11,} {f['loaded']:>11,} {f['rejected']:>9,} {f['seconds']:8.1f} {rate:>10,.0f}"
        )
    rows = sum(f["rows"] for f in result["files"])
    other = result["wall"] - result["loader"]
    print(
        f"whole batch: {rows:,} rows in {result['wall']:.1f} s wall ({result['wall'] / 60:.2f} min, "
        f"{rows / result['wall']:,.0f} rows/s): loading {result['loader']:.1f} s, control check + digest + "
        f"commit + bookkeeping {other:.1f} s (the control check alone: {result['control']:.1f} s)"
    )
    print(
        f"peak memory: loader process {result['max_rss_mb']:,.0f} MB RSS, "
        f"largest Python-check worker {result['max_rss_children_mb']:,.0f} MB RSS"
    )


def report_loan_status(full: dict, without: dict, nightly: dict, next_day: dict) -> None:
    """What LOAN_STATUS.dat adds to the load: its own time in the load (staging,
    checks, merge), the whole batch's wall time beside the same batch's without it
    (two loads: their difference carries the machine's run-to-run noise, seconds on
    a shared machine), and the next night's file, where only the changes are stored."""
    file = next(f for f in full["files"] if f["name"] == LOAN)
    added = full["wall"] - without["wall"]
    print(f"\n== What {LOAN} adds ({file['rows']:,} rows; a first load: every status stored)")
    print(
        f"its own time in the load: {file['seconds']:.1f} s of {full['loader']:.1f} s "
        f"({file['seconds'] / full['loader']:.1%}), {file['loaded'] / max(file['seconds'], 1e-9):,.0f} rows/s"
    )
    print(
        f"whole batch {full['wall']:.1f} s wall, the same batch without {LOAN} {without['wall']:.1f} s "
        f"(difference {added:+.1f} s)"
    )
    again = next(f for f in next_day["files"] if f["name"] == LOAN)
    print(
        f"the next night, {LOAN} alone: {again['rows']:,} rows, {nightly['changed']:,} of them changed; "
        f"{again['seconds']:.1f} s in the load ({again['loaded'] / max(again['seconds'], 1e-9):,.0f} rows/s), "
        f"{next_day['wall']:.1f} s wall; {next_day['stored_statuses']:,} rows stored for the day"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--sample", type=int, default=100_000, help="CUSTOMER rows of the side-by-side baseline"
    )
    parser.add_argument("--db", default="ingest_bench")
    parser.add_argument(
        "--dir", default=str(ROOT / "var" / "bench"), help="where the generated batch is kept"
    )
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--skip-loan-status", action="store_true")
    parser.add_argument("--json", help="also write the figures printed to this file (JSON)")
    parser.add_argument(
        "--phase",
        choices=["generate", "prepare", "baseline", "load", "next_day_statuses"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        result = {
            "generate": lambda: phase_generate(args.customers, args.dir, args.seed),
            "prepare": phase_prepare,
            "baseline": lambda: phase_baseline(args.path, args.rows),
            "load": lambda: phase_load(args.path),
            "next_day_statuses": lambda: phase_next_day_statuses(args.path, args.target),
        }[args.phase]()
        print(RESULT + json.dumps(result), flush=True)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://user@host:port/anydb)")
    db = plain(args.db)
    template, scratch, v1 = f"{db}_template", f"{db}_sample", f"{db}_v1"
    started = time.perf_counter()

    directory = Path(args.dir) / f"{args.customers}-{args.seed}"
    batch = directory / DAY
    if not (batch / "BATCH.ok").exists():
        print(f"== Generating a batch of {args.customers:,} customers in {directory}")
        generated = run_phase(url, None, "--phase", "generate", "--customers", str(args.customers),
                              "--dir", str(directory), "--seed", str(args.seed))  # fmt: skip
        print(
            f"   {generated['seconds']:.0f} s, {generated['bytes'] / 1024 / 1024:,.0f} MB: {generated['rows']}"
        )
    else:
        print(f"== Reusing the batch in {directory}")

    print(f"== A migrated database with the demo organisation ({template})")
    admin(url, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    admin(url, f"CREATE DATABASE {template}")
    run_phase(url, template, "--phase", "prepare")

    if not args.skip_baseline:
        sample = customers_only_batch(batch, directory / "sample", args.sample)
        print(f"== Baseline: django-import-export ModelResource, {args.sample:,} CUSTOMER rows ({scratch})")
        fresh(url, template, scratch)
        baseline = run_phase(
            url, scratch, "--phase", "baseline", "--path", str(batch), "--rows", str(args.sample)
        )
        print(f"== This loader, the same {args.sample:,} CUSTOMER rows ({scratch}, fresh)")
        fresh(url, template, scratch)
        ours = run_phase(url, scratch, "--phase", "load", "--path", str(sample))
        admin(url, f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")

    if not args.skip_full:
        print(f"== The whole batch of {args.customers:,} customers into {db} (fresh)")
        fresh(url, template, db)
        full = run_phase(url, db, "--phase", "load", "--path", str(batch))
    loan_status = not args.skip_full and not args.skip_loan_status
    if loan_status:
        print(f"== The same batch without LOAN_STATUS.dat into {v1} (fresh)")
        fresh(url, template, v1)
        without = run_phase(
            url, v1, "--phase", "load", "--path", str(without_file(batch, directory / "v1", LOAN))
        )
        admin(url, f"DROP DATABASE IF EXISTS {v1} WITH (FORCE)")
        print(f"== The next business date's LOAN_STATUS.dat alone into {db}")
        nightly = run_phase(url, None, "--phase", "next_day_statuses", "--path", str(batch),
                            "--target", str(directory / "next"))  # fmt: skip
        next_day = run_phase(url, db, "--phase", "load", "--path", nightly["path"])
    admin(url, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")

    if not args.skip_baseline:
        base_rate = baseline["rows"] / baseline["seconds"]
        ours_rate = args.sample / ours["wall"]
        ours_customer = ours["files"][0]
        print(f"\n== The same {args.sample:,} CUSTOMER rows into an empty customer table")
        print(f"django-import-export ModelResource: {baseline['seconds']:8.1f} s {base_rate:>10,.0f} rows/s")
        print(
            f"this loader (whole load, control check to commit): {ours['wall']:8.1f} s {ours_rate:>10,.0f} rows/s "
            f"(the CUSTOMER file alone: {ours_customer['seconds']:.1f} s, "
            f"{ours_customer['loaded'] / ours_customer['seconds']:,.0f} rows/s)"
        )
        print(f"ratio: {ours_rate / base_rate:,.0f}x (goal: 50x)")
    if not args.skip_full:
        report_load(f"{args.customers:,} customers, one batch, one transaction ({db})", full)
    if loan_status:
        report_loan_status(full, without, nightly, next_day)
    print(f"\nwhole benchmark: {(time.perf_counter() - started) / 60:.1f} min; {db} is left in place.")
    if args.json:
        out: dict = {"customers": args.customers, "seed": args.seed, "db": db}
        if not args.skip_baseline:
            out["baseline"] = {"sample": args.sample, "import_export": baseline, "loader": ours}
        if not args.skip_full:
            rows = sum(f["rows"] for f in full["files"])
            out["full"] = {**full, "rows": rows, "rows_per_s": rows / full["wall"]}
        if loan_status:
            out["loan_status"] = {"without": without, "nightly": nightly, "next_day": next_day}
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
