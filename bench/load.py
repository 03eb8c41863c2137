"""Load test at bank scale: client managers and branch heads using the portal at once.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres   # the server; --db names the database
    .venv/bin/python bench/seed_customers.py --customers 1000000 --db crm_bench --skip-baseline
    .venv/bin/python bench/load.py --db crm_bench --reshape --managers 2000 --outlets 200 --pool 4
    .venv/bin/python bench/load.py --db crm_bench --users 100 --think 3-10 --duration 600
    .venv/bin/python bench/load.py --db crm_bench --ceiling

1. ``--reshape`` (once, on a seeded database): the demo organisation becomes a bank
   (bench/load_reshape.py): about `--managers` client managers over `--outlets`
   outlets, books of `--book-min`..`--book-max` customers, `--pool` pool managers
   holding the long tail, a branch head at every outlet, sub-branch and branch; the
   customers reassigned set-based through their assignments; one password
   (`--password`, default the demo password) for every new user. Then the steps of
   the nightly chain the pages read (`--rebuild`: tiers, book figures, alerts,
   performance figures, the customer table's vacuum). Prints the counts.
2. The run: starts gunicorn with `deploy/gunicorn.conf.py` (`--workers`,
   `--threads`) and the production settings (a random SECRET_KEY, DEBUG off, static
   files collected once and served by WhiteNoise, CONN_MAX_AGE=60, the PII keys of
   the seeded data, REDIS_URL when set) on a free local port, waits for `/readyz`,
   then runs `--users` virtual users (bench/load_driver.py): each logs in through the
   login form (measured apart) and goes through its role's pages with a think time
   drawn from `--think`; users start over `--ramp` seconds and the `--duration`
   seconds after that are the steady state measured. `--url` runs against a server
   already running instead. `--ceiling` steps the users up (`--steps`) at 0.5-2 s of
   think time, `--step-duration` each, until p95 crosses 300 ms.
   Prints per page requests, errors, p50/p95/p99; the throughput; the CPU a
   request cost the web workers, PostgreSQL, the driver and the machine in the
   steady state (read from /proc); the server's settings; the CPUs; and a verdict against the goals: 100 users at 3-10 s of think
   time with p95 <= 300 ms on every page and no error; a ceiling >= 80 requests/s.
   Exit status 1 when the verdict is FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_driver import Browser, RunResult, VirtualUser, format_cpu, format_result, run_load  # noqa: E402
from bench.load_reshape import DEFAULT_REBUILD, HEAD_USERNAME, MANAGER_USERNAME  # noqa: E402

GOAL_USERS = 100
GOAL_THINK = (3.0, 10.0)
GOAL_P95_MS = 300.0
GOAL_CEILING = 80.0  # page requests a second
CEILING_STEPS = (20, 40, 60, 80, 100, 140, 180, 220, 260, 300)
CUSTOMERS_PER_USER = 20


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    import django

    django.setup()


def parse_think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    think = (float(low), float(high or low))
    if think[0] < 0 or think[1] < think[0]:
        raise argparse.ArgumentTypeError(f"think time {text!r}: give A-B seconds, A <= B")
    return think


# --- the virtual users (Django set up) -------------------------------------------------


def pick_users(count: int, *, head_share: float, seed: int) -> list[VirtualUser]:
    """`count` virtual users among the reshaped client managers (pool managers left
    out) and branch heads, `head_share` of them heads (at least one when asked for
    and there are two users or more), each with a sample of customers they may see."""
    from accounts.models import User
    from accounts.roles import Role
    from customers.models import Customer

    rng = random.Random(seed)
    heads_wanted = round(count * head_share)
    if head_share > 0 and count >= 2:
        heads_wanted = max(1, heads_wanted)
    managers = list(
        User.objects.filter(
            is_active=True, groups__name=Role.CLIENT_MANAGER, username__regex=MANAGER_USERNAME
        )
        .order_by("pk")
        .values_list("pk", "username")
    )
    heads = list(
        User.objects.filter(is_active=True, groups__name=Role.BRANCH_HEAD, username__regex=HEAD_USERNAME)
        .select_related("branch")
        .order_by("pk")
    )
    if not managers:
        raise SystemExit("no reshaped client manager in this database: run --reshape first")

    def sample(pool: list, n: int) -> list:
        """n of the pool, each once while there are enough, then again at random."""
        if not pool or n <= 0:
            return []
        picked = rng.sample(pool, min(n, len(pool)))
        return picked + [rng.choice(pool) for _ in range(n - len(picked))]

    heads_taken = min(heads_wanted, count) if heads else 0
    chosen: list[VirtualUser] = []
    visible = Customer.objects.filter(merged_into__isnull=True)
    for pk, username in sample(managers, count - heads_taken):
        customers = visible.filter(primary_manager_id=pk).order_by("?").values_list("customer_no", "name")
        chosen.append(VirtualUser(username, "manager", tuple(customers[:CUSTOMERS_PER_USER])))
    for head in sample(heads, heads_taken):
        assert head.branch is not None  # a branch head has their branch
        customers = (
            visible.filter(home_branch__path__startswith=head.branch.path)
            .order_by("?")
            .values_list("customer_no", "name")
        )
        chosen.append(VirtualUser(head.username, "head", tuple(customers[:CUSTOMERS_PER_USER])))
    rng.shuffle(chosen)
    return chosen


# --- the web server -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(base_url: str, *, forwarded_https: bool, timeout: float = 5) -> bool:
    answer = Browser(base_url, forwarded_https=forwarded_https, timeout=timeout).request("GET", "/readyz")
    return answer.status == 200


def server_environment(database_url: str, *, workers: int, port: int, static_root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.load_settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOAD_STATIC_ROOT": str(static_root),
    }
    if not (os.environ.get("PII_KEY_FILE") or os.environ.get("PII_ENCRYPTION_KEYS")):
        # the keys the seeded data was encrypted with (the embedded default's)
        env["PII_KEY_FILE"] = str(ROOT / "var" / "pii.keys")
    return env


@contextmanager
def gunicorn(
    database_url: str, *, workers: int, threads: int, log_path: Path, static_root: Path
) -> Iterator[tuple[str, int, dict[str, str]]]:
    """gunicorn on a free local port with deploy/gunicorn.conf.py; yields its URL, its
    master's process id and the settings used, stops it at the end."""
    port = free_port()
    env = server_environment(database_url, workers=workers, port=port, static_root=static_root)
    metrics_dir = Path(tempfile.mkdtemp(prefix="crm-load-metrics-"))
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    print(f"static files collected into {static_root} ({time.perf_counter() - started:.1f} s)")
    # no control socket: its default path is shared by every gunicorn of the machine
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "deploy/gunicorn.conf.py",
        "--no-control-socket",
    ]
    if threads > 1:
        command += ["--threads", str(threads)]
    command.append("crm_portal.wsgi")
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not ready(base_url, forwarded_https=True):
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn stopped (exit {proc.returncode}): see {log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn not ready after 120 s: see {log_path}")
            time.sleep(0.5)
        print(f"gunicorn ready at {base_url} in {time.perf_counter() - started:.1f} s (log: {log_path})")
        yield (
            base_url,
            proc.pid,
            {
                "config": "deploy/gunicorn.conf.py",
                "workers": str(workers),
                "threads": str(threads),
                "worker class": "gthread" if threads > 1 else "sync",
                "settings": env["DJANGO_SETTINGS_MODULE"] + " (production, static root moved)",
                "CONN_MAX_AGE": env["CONN_MAX_AGE"],
                "REDIS_URL": env.get("REDIS_URL") or "unset (local-memory cache, tasks in-process)",
                "DEBUG": "off",
            },
        )
    finally:
        proc.terminate()
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)


@contextmanager
def server(args, database_url: str) -> Iterator[tuple[str, dict[str, str], bool, int | None]]:
    """The server to load: --url as given, else a gunicorn started here. Yields the
    URL, its settings as known, whether requests say they came over HTTPS (as the
    bank's load balancer does in front of the production settings), and gunicorn's
    process id when it runs here."""
    if args.url:
        yield args.url, {"server": f"already running at {args.url}"}, args.forwarded_https, None
        return
    log_path = Path(args.server_log or tempfile.gettempdir()) / f"crm-load-gunicorn-{os.getpid()}.log"
    if args.server_log and not Path(args.server_log).is_dir():
        log_path = Path(args.server_log)
    with gunicorn(
        database_url,
        workers=args.workers,
        threads=args.threads,
        log_path=log_path,
        static_root=Path(args.static_root),
    ) as (base_url, pid, settings):
        yield base_url, settings, True, pid


# --- where the CPU goes ---------------------------------------------------------------


def _process_cpu() -> list[tuple[int, int, str, float, float]]:
    """(pid, parent pid, command, CPU seconds, CPU seconds of its ended children) of
    every process of this host."""
    tick = os.sysconf("SC_CLK_TCK")
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        children = (int(fields[13]) + int(fields[14])) / tick
        rows.append((int(entry.name), int(fields[1]), command, own, children))
    return rows


def cpu_reader(server_pid: int | None):
    """CPU seconds so far by part: gunicorn and its workers ("web", when it runs
    here), PostgreSQL's processes ("database"), this process and its virtual users'
    threads ("driver"), and the whole machine's busy seconds with its cores. A
    process that has ended counts in its parent's children's time: a backend
    PostgreSQL closed (a connection past `CONN_MAX_AGE`) in the postmaster's, a worker
    gunicorn restarted in its master's."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")

    def read() -> dict[str, float]:
        rows = _process_cpu()
        parts: dict[str, float] = {}
        if server_pid is not None:
            parts["web"] = sum(
                own + (children if pid == server_pid else 0.0)
                for pid, parent, _command, own, children in rows
                if server_pid in (pid, parent)  # the master and its workers
            )
        postgres = {pid for pid, _parent, command, _own, _children in rows if command == "postgres"}
        parts["database"] = sum(
            own + (children if parent not in postgres else 0.0)  # the postmaster's ended backends
            for pid, parent, _command, own, children in rows
            if pid in postgres
        )
        usage = resource.getrusage(resource.RUSAGE_SELF)
        parts["driver"] = usage.ru_utime + usage.ru_stime
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(v) for v in first]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and waiting for I/O
        parts["machine"] = (sum(ticks[:8]) - idle) / tick
        parts["cores"] = float(os.cpu_count() or 1)
        return parts

    return read


# --- the verdicts ---------------------------------------------------------------------


def steady_verdict(result: RunResult) -> tuple[bool, str]:
    slow = [p for p, f in result.pages.items() if f.p95 > GOAL_P95_MS]
    passed = not slow and result.page_errors == 0 and result.login_errors == 0 and result.overall.requests > 0
    shape = (
        "the goal's shape"
        if result.users >= GOAL_USERS and result.think == GOAL_THINK
        else f"not the goal's shape ({GOAL_USERS} users at {GOAL_THINK[0]:g}-{GOAL_THINK[1]:g} s)"
    )
    reasons = []
    if slow:
        reasons.append("p95 over 300 ms on " + ", ".join(slow))
    if result.page_errors:
        reasons.append(f"{result.page_errors} page errors")
    if result.login_errors:
        reasons.append(f"{result.login_errors} login errors")
    if not result.overall.requests:
        reasons.append("no page answered in the steady state")
    text = (
        f"VERDICT {'PASS' if passed else 'FAIL'}: {result.users} users at think "
        f"{result.think[0]:g}-{result.think[1]:g} s ({shape}): "
        + ("p95 <= 300 ms on every page, 0 errors" if passed else "; ".join(reasons))
        + f"; worst page p95 {max((f.p95 for f in result.pages.values()), default=0):.0f} ms"
    )
    return passed, text


def print_header(settings: dict[str, str]) -> None:
    print("server: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    print(f"CPUs: {os.cpu_count()} (the load driver runs on the same machine unless --url is remote)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="the database (on the server DATABASE_URL names)")
    parser.add_argument("--reshape", action="store_true", help="reshape the seeded bank, then stop")
    parser.add_argument("--managers", type=int, default=2000, help="client managers in all, pools included")
    parser.add_argument("--outlets", type=int, default=200, help="outlets in all")
    parser.add_argument(
        "--sub-branches", type=int, help="sub-branches in all (default: an outlet in 12, 18 at most)"
    )
    parser.add_argument("--pool", type=int, default=4, help="pool managers")
    parser.add_argument(
        "--pool-size", type=int, help="customers per pool (default min(50,000, customers/5/pools))"
    )
    parser.add_argument("--book-min", type=int, default=200)
    parser.add_argument("--book-max", type=int, default=1500)
    parser.add_argument(
        "--rebuild", default=",".join(DEFAULT_REBUILD), help="post-load steps after the reshape"
    )
    parser.add_argument("--password", help="the users' password (default: the demo password)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument(
        "--think", type=parse_think, help="think time A-B seconds (default 3-10; with --ceiling 0.5-2)"
    )
    parser.add_argument("--duration", type=float, default=300, help="seconds of steady state")
    parser.add_argument(
        "--ramp", type=float, help="seconds over which the users start (default 0.5 s a user)"
    )
    parser.add_argument("--head-share", type=float, default=0.1, help="share of branch heads among the users")
    parser.add_argument("--ceiling", action="store_true", help="step the users up until p95 crosses 300 ms")
    parser.add_argument(
        "--steps", default=",".join(map(str, CEILING_STEPS)), help="users of each ceiling step"
    )
    parser.add_argument("--step-duration", type=float, default=60, help="seconds of steady state a step")
    parser.add_argument("--url", help="a server already running (else gunicorn is started here)")
    parser.add_argument(
        "--forwarded-https",
        action="store_true",
        help="with --url: say X-Forwarded-Proto: https, as a load balancer",
    )
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads a worker (>1: gthread)")
    parser.add_argument("--server-log", help="gunicorn's log file or directory (default the temp directory)")
    parser.add_argument("--static-root", default=str(Path(tempfile.gettempdir()) / "crm-load-static"))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not server_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://user@host:port/anydb)")
    database_url = with_database(server_url, args.db)
    setup_django(database_url)
    from django.conf import settings

    password = args.password or settings.DEMO_PASSWORD

    if args.reshape:
        from bench.load_reshape import consistency, rebuild, reshape, summary

        started = time.perf_counter()
        try:
            reshape(
                managers=args.managers,
                outlets=args.outlets,
                pool=args.pool,
                password=password,
                sub_branches=args.sub_branches,
                pool_size=args.pool_size,
                book_min=args.book_min,
                book_max=args.book_max,
                seed=args.seed,
            )
        except ValueError as refused:
            raise SystemExit(f"reshape refused: {refused}") from refused
        steps = [s for s in args.rebuild.split(",") if s]
        rebuild(steps)
        counts = summary()
        checks = consistency()
        print(f"\n== {args.db} reshaped in {time.perf_counter() - started:.1f} s")
        print(
            f"client managers {counts['client_managers']:,} over {counts['outlets']:,} outlets "
            f"({counts['sub_branches']} sub-branches); books min {counts['book_min']:,} / "
            f"p50 {counts['book_p50']:,} / max {counts['book_max']:,}; "
            f"pool managers {counts['pool_managers']}: {', '.join(f'{n:,}' for n in counts['pool_sizes'])}; "
            f"branch heads {counts['branch_heads']:,}"
        )
        print("checks: " + ", ".join(f"{k} {v:,}" for k, v in checks.items()))
        bad = [k for k in checks if k not in ("customers", "unassigned", "customers_in_books") and checks[k]]
        if bad or checks["customers_in_books"] + checks["unassigned"] != checks["customers"]:
            raise SystemExit("the reshape left inconsistent assignments: " + ", ".join(bad))
        return

    users_wanted = max(int(s) for s in args.steps.split(",")) if args.ceiling else args.users
    users = pick_users(users_wanted, head_share=args.head_share, seed=args.seed)
    print(
        f"{len(users)} virtual users: {sum(u.role == 'manager' for u in users)} client managers, "
        f"{sum(u.role == 'head' for u in users)} branch heads"
    )
    results: dict[str, object] = {}
    passed = True
    with server(args, database_url) as (base_url, server_settings, forwarded_https, server_pid):
        cpu = cpu_reader(server_pid)
        print_header(server_settings)
        if not args.ceiling:
            think = args.think or GOAL_THINK
            ramp = args.ramp if args.ramp is not None else 0.5 * len(users)
            print(
                f"\n== steady run: {len(users)} users, think {think[0]:g}-{think[1]:g} s, "
                f"ramp {ramp:.0f} s, {args.duration:.0f} s measured"
            )
            result = run_load(
                base_url,
                users,
                password=password,
                think=think,
                duration=args.duration,
                ramp=ramp,
                forwarded_https=forwarded_https,
                seed=args.seed,
                cpu=cpu,
            )
            print("\n".join(format_result(result)))
            passed, verdict = steady_verdict(result)
            print(verdict)
            results["steady"] = result
        else:
            think = args.think or (0.5, 2.0)
            steps = [int(s) for s in args.steps.split(",")]
            rows = []
            print(
                f"\n== ceiling: users {steps}, think {think[0]:g}-{think[1]:g} s, {args.step_duration:.0f} s each"
            )
            ceiling = 0.0
            for n in steps:
                step_users = users[:n] if n <= len(users) else [users[i % len(users)] for i in range(n)]
                ramp = args.ramp if args.ramp is not None else 0.5 * n
                result = run_load(
                    base_url,
                    step_users,
                    password=password,
                    think=think,
                    duration=args.step_duration,
                    ramp=ramp,
                    forwarded_https=forwarded_https,
                    seed=args.seed + n,
                    log=lambda _text: None,
                    cpu=cpu,
                )
                o = result.overall
                worst = max(result.pages.items(), key=lambda item: item[1].p95, default=None)
                login = result.logins.get("login")
                rows.append((n, result))
                print(
                    f"  {n:>4} users: {result.throughput:6.1f} req/s, p50 {o.p50:5.0f} ms, p95 {o.p95:5.0f} ms, "
                    f"p99 {o.p99:5.0f} ms, errors {o.errors}, logins p95 {login.p95 if login else 0:.0f} ms; "
                    + (f"slowest page {worst[0]} p95 {worst[1].p95:.0f} ms" if worst else "no page answered")
                )
                if result.cpu_ms:
                    print(f"         {format_cpu(result)}")
                if o.p95 > GOAL_P95_MS or o.errors > 0.01 * max(1, o.requests):
                    break
                ceiling = result.throughput
            results["ceiling"] = {"steps": rows, "ceiling": ceiling}
            passed = ceiling >= GOAL_CEILING
            print(
                f"VERDICT {'PASS' if passed else 'FAIL'}: ceiling {ceiling:.1f} page requests/s with p95 <= "
                f"300 ms (goal >= {GOAL_CEILING:.0f})"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=lambda o: o.__dict__, indent=2))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
