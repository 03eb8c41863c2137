"""Benchmark: CPU per request of the heavy pages, in-process, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/page_cpu.py [--customers 20000] [--reuse] [--db h_cpu_bench]
        [--requests 50] [--profile alerts] [--mix [--manager U --head U]]

DATABASE_URL names the server. Unless `--reuse`, the database `--db` is dropped,
created, migrated and seeded with the demo bank (`manage.py seed_demo --customers N`,
in a process of its own, Celery eager). Then, in this process, a `django.test.Client`
logged in as a client manager (`demo_cm1`) and as a branch head (`demo_bh`) requests
each page `--requests` times after `--warmup` warm-ups and prints per page:

* CPU ms per request, the median (`time.process_time`: Python, template rendering
  and the database driver's client side, not the database server's work; the median
  because on a shared machine a request now and then pays for the others' load),
* wall p50 / p95 ms,
* queries per request and the SQL wall ms per request (timed around every execute
  with `connection.execute_wrapper`),
* DB CPU: the CPU ms per request of the PostgreSQL backend serving the requests
  (parsing, planning, executing), read from /proc when the server runs on this
  host: on a web host that also runs the database, the two CPU columns added are
  what a page costs the machine,

for the alerts list, the customer 360 page and the morning meeting beside home and
the VIP book (pages of the same size for comparison, measured in the same run).
`--profile PAGE` (a page name as printed, e.g. "alerts" or "meeting") prints the top
25 functions of that page by cumulative time under cProfile.

`--mix` measures every page of the load test's two scenarios (bench/load_driver.py:
each page with its weight, a search by number and one by two characters of a name,
and the lazy panels each page shows, a request of their own) and prints the mean
CPU per request of the load test's mix, the process's and the database backend's
added: two cores serve at most 2,000 / that many requests a second when the web
process and PostgreSQL share them (the goal's 80 requests/s: 25 ms). `--manager` and
`--head` name other users (e.g. those of a bank reshaped by bench/load.py).

`--baseline DIR` measures a copy of the source tree as it was before a change (e.g.
`git worktree add DIR HEAD`, or a copy with the changed files put back) against this
tree on the same database: a worker process for each tree, each page asked of one
then the other in batches, by turns (`--rounds` turns, `--requests` in all per page
and tree). On a shared machine the CPU a request costs drifts with the other load;
batches seconds apart see the same load, so the two columns compare.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import admin, plain, with_database  # noqa: E402
from bench.load_driver import (  # noqa: E402
    HEAD_STEPS,
    LAZY,
    MANAGER_STEPS,
    PATHS,
    customer_360_path,
    percentile,
    search_paths,
)

MANAGER = "demo_cm1"
HEAD = "demo_bh"
# (page name, role, path or None when built from a customer the user may see)
PAGES: tuple[tuple[str, str, str | None], ...] = (
    ("home", MANAGER, PATHS["home"]),
    ("book", MANAGER, PATHS["book"]),
    ("alerts", MANAGER, PATHS["alerts"]),
    ("customer 360", MANAGER, None),
    ("alerts", HEAD, PATHS["alerts"]),
    ("customer 360", HEAD, None),
    ("meeting", HEAD, PATHS["meeting"]),
)


def build(url: str, database: str, customers: int) -> None:
    """A fresh database seeded with the demo bank, in a process of its own (Celery
    eager: no REDIS_URL, so the jobs after the load run in the seeding process)."""
    admin(url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    admin(url, f"CREATE DATABASE {database}")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        DATABASE_URL=with_database(url, database),
        DJANGO_SETTINGS_MODULE="crm_portal.settings.local",
        DEBUG="False",
    )
    started = time.perf_counter()
    for args in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--customers", str(customers)]):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    print(f"seeded {database} with {customers:,} demo customers in {time.perf_counter() - started:.0f} s")


@dataclass
class Figures:  # per request
    cpu_ms: float
    p50: float
    p95: float
    queries: float
    sql_ms: float
    db_cpu_ms: float  # the PostgreSQL backend's CPU, a mean (NaN: a server elsewhere)
    status: int


class SqlTimer:
    """Counts the queries and sums their wall time (an execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def visible_customer(username: str) -> tuple[str, str]:
    """The number and name of a customer the user may see: the manager's own, or one
    of the head's branch."""
    from accounts.models import User
    from customers.models import Customer

    user = User.objects.select_related("branch").get(username=username)
    visible = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    found = visible.order_by("pk").values_list("customer_no", "name")[
        len(username) * 7 : len(username) * 7 + 1
    ]
    if not found:
        raise SystemExit(f"{username} sees no customer: seed some (--customers)")
    return found[0]


def customer_path(username: str) -> str:
    return customer_360_path(visible_customer(username)[0])


def warm(client, path: str, warmup: int) -> None:
    for _ in range(warmup):
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}")


@dataclass
class Sample:
    """Raw figures of some requests of a page: per request CPU and wall ms, and in all
    the queries and their SQL seconds."""

    cpus: list[float]
    walls: list[float]
    queries: int = 0
    sql_seconds: float = 0.0
    db_cpu_seconds: float = 0.0  # NaN: a server elsewhere
    status: int = 0

    def add(self, other: Sample) -> None:
        self.cpus += other.cpus
        self.walls += other.walls
        self.queries += other.queries
        self.sql_seconds += other.sql_seconds
        self.db_cpu_seconds += other.db_cpu_seconds
        self.status = other.status

    def figures(self) -> Figures:
        walls = sorted(self.walls)
        return Figures(
            cpu_ms=statistics.median(self.cpus),
            p50=percentile(walls, 0.50),
            p95=percentile(walls, 0.95),
            queries=self.queries / len(self.cpus),
            sql_ms=self.sql_seconds * 1000 / len(self.cpus),
            db_cpu_ms=self.db_cpu_seconds * 1000 / len(self.cpus),
            status=self.status,
        )


def backend_cpu(pid: int) -> float:
    """The CPU seconds a PostgreSQL backend has used (user and system), read from
    /proc: NaN when the server runs on another host."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def sample(client, path: str, requests: int) -> Sample:
    from django.db import connection

    found = Sample([], [])
    timer = SqlTimer()
    # the test client keeps the connection from request to request: one backend
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db_started = backend_cpu(pid)
    with connection.execute_wrapper(timer):
        for _ in range(requests):
            cpu_started, started = time.process_time(), time.perf_counter()
            answer = client.get(path)
            found.walls.append((time.perf_counter() - started) * 1000)
            found.cpus.append((time.process_time() - cpu_started) * 1000)
    found.db_cpu_seconds = backend_cpu(pid) - db_started
    found.queries, found.sql_seconds, found.status = timer.count, timer.seconds, answer.status_code
    return found


def measure(client, path: str, requests: int, warmup: int) -> Figures:
    warm(client, path, warmup)
    return sample(client, path, requests).figures()


def profile(client, path: str, requests: int, order: str = "cumulative") -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    print(f"\ncProfile of {path} ({requests} requests), top 25 by {order} time:")
    pstats.Stats(profiler).sort_stats(order).print_stats(25)


def logged_in() -> dict:
    from django.test import Client

    from accounts.models import User

    # Not setup_test_environment(): its instrumented template rendering copies the
    # context of every template rendered, a cost no real request pays. Hence a host
    # of ALLOWED_HOSTS's default rather than "testserver".
    clients = {}
    for username in (MANAGER, HEAD):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    return clients


def measure_pages(args) -> list[tuple[str, str, Figures]]:
    clients = logged_in()
    if args.profile:
        wanted = {"manager": MANAGER, "head": HEAD}.get(args.role or "")
        for name, username, path in PAGES:
            if name == args.profile and (wanted is None or username == wanted):
                path = path or customer_path(username)
                warm(clients[username], path, args.warmup)
                profile(clients[username], path, args.requests, args.order)
                return []
        raise SystemExit(f"no page {args.profile!r}: one of {sorted({p[0] for p in PAGES})}")
    found = []
    for name, username, path in PAGES:
        path = path or customer_path(username)
        found.append((name, username, measure(clients[username], path, args.requests, args.warmup)))
    return found


def mix_paths(username: str, page: str) -> list[str]:
    """The paths the load test asks for `page` (bench/load_driver.py): a search is by
    customer number or by the first two characters of a name, half and half."""
    if page == "customer 360":
        return [customer_path(username)]
    if page == "search":
        return list(search_paths(*visible_customer(username)))
    return [PATHS[page]]


def measure_mix(args) -> None:
    """Each page of both scenarios and each lazy panel it shows, measured as in the
    table; then the mean per request of the load test's mix (pages by their weights,
    a lazy panel a request of its own, `--head-share` of the users heads): the
    process's CPU plus the database backend's, and how many requests a second two
    cores could serve at most at that cost, with the web process and PostgreSQL on
    them (the ceiling, where p95 crosses 300 ms, is below that)."""
    from django.test import Client

    from accounts.models import User

    print(f"the load test's pages, {args.requests} requests each after {args.warmup} warm-ups")
    print(f"{HEADER} {'weight':>7}")
    means = {}
    unread = False
    for role, username, steps in (("manager", args.manager, MANAGER_STEPS), ("head", args.head, HEAD_STEPS)):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        cpu = requests = 0.0
        for page, weight in steps:
            paths = mix_paths(username, page)
            for path in paths:
                share = weight / len(paths)
                body = client.get(path).content.decode("utf-8", "replace")
                for name, target in [(page, path)] + [
                    (f"{page} (lazy)", lazy) for lazy in LAZY.findall(body)
                ]:
                    f = measure(client, target.replace("&amp;", "&"), args.requests, args.warmup)
                    unread = unread or math.isnan(f.db_cpu_ms)
                    cpu += share * (f.cpu_ms + (0.0 if math.isnan(f.db_cpu_ms) else f.db_cpu_ms))
                    requests += share
                    print(f"{line(name, username, f)} {share:7.2f}", flush=True)
        means[role] = cpu / requests
    mean = (1 - args.head_share) * means["manager"] + args.head_share * means["head"]
    if unread:
        print("the database's CPU was not read (a server on another host): the process's alone below")
    print(
        f"CPU per request, process and database: managers {means['manager']:.1f} ms, heads "
        f"{means['head']:.1f} ms; the mix ({args.head_share:.0%} heads) {mean:.1f} ms: at most "
        f"{2000 / mean:.0f} requests/s on 2 cores (the goal's 80 needs {2000 / 80:.0f} ms)"
    )


def serve(args) -> None:
    """A worker of `compare`: warms every page, then measures the page asked for on
    stdin ("<page index> <requests>") and answers with the raw sample in JSON."""
    clients = logged_in()
    pages = [(clients[username], path or customer_path(username)) for _name, username, path in PAGES]
    for client, path in pages:
        warm(client, path, args.warmup)
    print("ready", flush=True)
    for command in sys.stdin:
        index, requests = (int(x) for x in command.split())
        client, path = pages[index]
        print(json.dumps(sample(client, path, requests).__dict__), flush=True)


HEADER = (
    f"{'page':<14} {'user':<9} {'CPU ms':>7} {'p50 ms':>7} {'p95 ms':>7} {'queries':>8} {'SQL ms':>7}"
    f" {'DB CPU':>7}"
)


def line(name: str, username: str, f: Figures) -> str:
    return (
        f"{name:<14} {username:<9} {f.cpu_ms:7.1f} {f.p50:7.1f} {f.p95:7.1f} {f.queries:8.1f} {f.sql_ms:7.1f}"
        f" {f.db_cpu_ms:7.1f}"
    )


def compare(args, database: str) -> None:
    """This tree against `--baseline`: a worker process for each, the same page asked
    of one then the other in small batches, by turns, `--rounds` times; a batch of
    one tree and the next of the other run seconds apart, under the same load."""
    baseline = Path(args.baseline).resolve()
    if not (baseline / "manage.py").exists():
        raise SystemExit(f"{baseline} is not a copy of the source tree")
    workers = {}
    for label, tree in (("before", baseline), ("after", ROOT)):
        command = [
            sys.executable, str(Path(__file__).resolve()), "--reuse", "--db", database,
            "--tree", str(tree), "--serve", "--warmup", str(args.warmup),
        ]  # fmt: skip
        worker = subprocess.Popen(
            command, cwd=tree, env=os.environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert worker.stdout is not None
        for text in worker.stdout:  # wait for its warm-up
            if text.strip() == "ready":
                break
        else:
            raise SystemExit(f"the {label} worker stopped")
        workers[label] = worker
    batch = max(1, args.requests // args.rounds)
    samples = {(label, index): Sample([], []) for label in workers for index in range(len(PAGES))}
    for round_no in range(args.rounds):
        for index in range(len(PAGES)):
            order = ("before", "after") if (round_no + index) % 2 == 0 else ("after", "before")
            for label in order:
                worker = workers[label]
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write(f"{index} {batch}\n")
                worker.stdin.flush()
                samples[label, index].add(Sample(**json.loads(worker.stdout.readline())))
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    print(
        f"{batch * args.rounds} requests a page in each tree, by turns in batches of {batch}, database {database}"
    )
    print(f"{'':<7} {HEADER}")
    for index, (name, username, _path) in enumerate(PAGES):
        for label in ("before", "after"):
            print(f"{label:<7} {line(name, username, samples[label, index].figures())}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="h_cpu_bench")
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--reuse", action="store_true", help="measure the existing --db, do not seed it")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", metavar="PAGE", help='e.g. "alerts", "customer 360", "meeting"')
    parser.add_argument(
        "--role", choices=("manager", "head"), help="with --profile: whose page (default: first)"
    )
    parser.add_argument(
        "--order",
        choices=("cumulative", "tottime"),
        default="cumulative",
        help="with --profile: by time in a function and what it calls, or in itself",
    )
    parser.add_argument(
        "--mix",
        action="store_true",
        help="every page of the load test's scenarios by its weight: the machine's CPU per request",
    )
    parser.add_argument(
        "--head-share", type=float, default=0.1, help="with --mix: share of branch heads, as bench/load.py"
    )
    parser.add_argument("--manager", default=MANAGER, help="with --mix: the client manager")
    parser.add_argument("--head", default=HEAD, help="with --mix: the branch head")
    parser.add_argument("--baseline", metavar="DIR", help="a copy of the source tree before the change")
    parser.add_argument("--rounds", type=int, default=10, help="with --baseline: turns of each tree")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # the source tree a round measures
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # a worker of --baseline
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server")
    database = plain(args.db)
    if not args.reuse:
        build(url, database, args.customers)
    if args.baseline:
        compare(args, database)
        return

    if args.tree:  # its apps, templates and settings rather than this tree's
        tree = str(Path(args.tree).resolve())
        sys.path.insert(0, tree)
        os.chdir(tree)  # Celery's loader puts the working directory first on the path
    os.environ["DATABASE_URL"] = with_database(url, database)
    os.environ.setdefault("DATABASE_JIT", "off")  # as the web process (deploy/gunicorn.conf.py)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ["DEBUG"] = "False"
    import django

    django.setup()
    if args.serve:
        serve(args)
        return
    if args.mix:
        measure_mix(args)
        return
    found = measure_pages(args)
    if found:
        print(f"{args.requests} requests a page after {args.warmup} warm-ups, database {database}")
        print(HEADER)
        for name, username, f in found:
            print(line(name, username, f), flush=True)


if __name__ == "__main__":
    main()
