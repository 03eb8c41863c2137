"""The load test's virtual users (bench/load.py): threads speaking HTTP with
`http.client`, no Django here.

A virtual user is a client manager or a branch head with a sample of the customers
they may see. It opens the login page, posts the form with its CSRF token (the
login is measured apart: it runs the password hasher at full strength), then visits
every page of its role's scenario once and goes on with pages drawn by their
weights, a think time drawn from `think` between two. A page that shows a lazy
panel (htmx `hx-trigger="load"`) has it fetched right after, as a browser does,
measured as `<page> (lazy)`.

An error is a request that failed, an answer 4xx/5xx, or the login page instead of
the page asked for (a redirect to it, or its form).
"""

from __future__ import annotations

import http.client
import math
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import quote, urlencode, urlsplit

LOGIN_PATH = "/accounts/login/"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
LAZY = re.compile(r'<[^>]*\bhx-get="([^"]+)"[^>]*\bhx-trigger="load[^"]*"', re.S)
LOGIN_FORM = re.compile(r'name="username"[^>]*>.*?type="password"|type="password".*?name="username"', re.S)

# (page, weight): what each role does in a day, the heavier the more often
MANAGER_STEPS: tuple[tuple[str, float], ...] = (
    ("home", 3),
    ("search", 3),
    ("customer 360", 3),
    ("alerts", 2),
    ("scorecard", 1),
    ("book", 1),
)
HEAD_STEPS: tuple[tuple[str, float], ...] = (
    ("home", 3),
    ("search", 2),
    ("customer 360", 2),
    ("alerts", 1),
    ("team board", 2),
    ("meeting", 1),
    ("export", 0.5),
)
# the pages themselves ("search" and "customer 360" are built from the user's sample)
PATHS = {
    "home": "/",
    "alerts": "/care/alerts/",
    "scorecard": "/performance/",
    "team board": "/performance/",
    "book": "/vip/my/",
    "meeting": "/care/meeting/",
    # the VIP report of their branches as an Excel workbook
    "export": "/vip/reports/export/",
}


def search_paths(number: str, name: str) -> tuple[str, str]:
    """The two searches the scenario makes for a customer: by their number, and by
    the first two characters of their name."""
    return f"/customers/?q={quote(number)}", f"/customers/?q={quote(name[: max(1, min(2, len(name)))])}"


def customer_360_path(number: str) -> str:
    return f"/customers/{quote(number)}/"


@dataclass(frozen=True)
class VirtualUser:
    username: str
    role: str  # "manager" or "head"
    customers: tuple[tuple[str, str], ...]  # (customer number, name) they may see

    @property
    def steps(self) -> tuple[tuple[str, float], ...]:
        return HEAD_STEPS if self.role == "head" else MANAGER_STEPS


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class PageFigures:
    requests: int = 0
    errors: int = 0
    p50: float = 0.0  # ms
    p95: float = 0.0
    p99: float = 0.0
    examples: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    users: int
    think: tuple[float, float]
    duration: float  # seconds of the steady state
    pages: dict[str, PageFigures]
    logins: dict[str, PageFigures]  # "login form", "login"
    overall: PageFigures
    throughput: float  # page requests a second in the steady state
    warmup_requests: int = 0
    # CPU ms per page request of the steady state, by part (web, database, driver,
    # machine), and the machine's cores busy in it (%), when `run_load` could read them
    cpu_ms: dict[str, float] = field(default_factory=dict)
    busy_percent: float = 0.0

    @property
    def page_errors(self) -> int:
        return sum(p.errors for p in self.pages.values())

    @property
    def login_errors(self) -> int:
        return sum(p.errors for p in self.logins.values())


class Recorder:
    """Every request's page, start, duration and outcome, from every thread; and how
    many users are through their first login (logged in or given up)."""

    def __init__(self, users: int = 0) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[str, float, float, bool, str]] = []
        self.users = users
        self.through_login = 0
        self.all_through_login = threading.Event()

    def login_done(self) -> None:
        with self.lock:
            self.through_login += 1
            if self.through_login >= self.users:
                self.all_through_login.set()

    def add(self, page: str, started: float, seconds: float, ok: bool, note: str = "") -> None:
        with self.lock:
            self.rows.append((page, started, seconds, ok, note))

    def count(self) -> int:
        with self.lock:
            return len(self.rows)

    @staticmethod
    def figures(rows: list[tuple[str, float, float, bool, str]]) -> PageFigures:
        times = sorted(r[2] * 1000 for r in rows)
        examples: list[str] = []
        for r in rows:
            if not r[3] and r[4] not in examples and len(examples) < 3:
                examples.append(r[4])
        return PageFigures(
            requests=len(rows),
            errors=sum(1 for r in rows if not r[3]),
            p50=percentile(times, 0.50),
            p95=percentile(times, 0.95),
            p99=percentile(times, 0.99),
            examples=examples,
        )


class Browser:
    """One user's cookies, speaking to the portal a request at a time (a new
    connection each: gunicorn's sync workers close it after every answer)."""

    def __init__(self, base_url: str, *, forwarded_https: bool, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.netloc = parts.netloc
        self.forwarded_https = forwarded_https
        self.origin = f"{'https' if (self.https or forwarded_https) else 'http'}://{self.netloc}"
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = {
            "Host": self.netloc,
            "User-Agent": "crm-load-test/1",
            "Accept": "text/html,application/xhtml+xml,*/*",
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
        if self.forwarded_https:
            # what the load balancer in front of gunicorn says (TLS ended there)
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection_class = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = connection_class(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for raw in response.headers.get_all("Set-Cookie") or []:
                self._keep(raw)
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds)
        except (OSError, http.client.HTTPException) as exc:
            return Answer(0, {}, b"", time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    def _keep(self, raw: str) -> None:
        cookie = SimpleCookie()
        try:
            cookie.load(raw)
        except Exception:  # a cookie the standard parser does not read is not ours
            return
        for name, morsel in cookie.items():
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def judge(answer: Answer) -> tuple[bool, str]:
    """Whether the answer is the page asked for, and if not, why."""
    if answer.status == 0:
        return False, answer.error
    if answer.status >= 400:
        return False, f"HTTP {answer.status}"
    if 300 <= answer.status < 400:
        location = answer.headers.get("location", "")
        if LOGIN_PATH in location:
            return False, "sent to the login page"
        return True, ""
    if answer.headers.get("content-type", "").startswith("text/html") and LOGIN_FORM.search(
        answer.body.decode("utf-8", "replace")
    ):
        return False, "the login page instead of the page"
    return True, ""


class VirtualUserThread(threading.Thread):
    def __init__(
        self,
        user: VirtualUser,
        *,
        base_url: str,
        password: str,
        think: tuple[float, float],
        start_after: float,
        stop: threading.Event,
        recorder: Recorder,
        forwarded_https: bool,
        timeout: float,
        login_attempts: int,
        seed: int,
    ) -> None:
        super().__init__(name=f"vu-{user.username}", daemon=True)
        self.user = user
        self.password = password
        self.think = think
        self.start_after = start_after
        self.stop = stop
        self.recorder = recorder
        self.login_attempts = login_attempts
        self.rng = random.Random(seed)
        self.browser = Browser(base_url, forwarded_https=forwarded_https, timeout=timeout)

    def pause(self) -> bool:
        """Think; False when the run is over."""
        return not self.stop.wait(self.rng.uniform(*self.think))

    def log_in(self) -> bool:
        for _attempt in range(self.login_attempts):
            if self.stop.is_set():
                return False
            self.browser.cookies.clear()
            started = time.monotonic()
            form = self.browser.request("GET", LOGIN_PATH)
            token = CSRF_FIELD.search(form.body.decode("utf-8", "replace"))
            ok = form.status == 200 and token is not None
            self.recorder.add("login form", started, form.seconds, ok, form.error or f"HTTP {form.status}")
            if ok and token is not None:
                started = time.monotonic()
                answer = self.browser.request(
                    "POST",
                    LOGIN_PATH,
                    {
                        "csrfmiddlewaretoken": token.group(1),
                        "username": self.user.username,
                        "password": self.password,
                    },
                )
                location = answer.headers.get("location", "")
                logged_in = answer.status in (301, 302, 303) and LOGIN_PATH not in location
                note = answer.error or (
                    f"HTTP {answer.status}: the login form again (wrong password or locked)"
                    if answer.status == 200
                    else f"HTTP {answer.status}"
                )
                self.recorder.add("login", started, answer.seconds, logged_in, note)
                if logged_in:
                    return True
            if not self.pause():
                return False
        return False

    def visit(self, page: str) -> bool:
        """One page of the scenario (and its lazy panels); False when it showed the
        login page (the session is gone)."""
        if page == "search":
            number, name = self.rng.choice(self.user.customers)
            by_number, by_name = search_paths(number, name)
            path = by_number if self.rng.random() < 0.5 else by_name
        elif page == "customer 360":
            number, _name = self.rng.choice(self.user.customers)
            path = customer_360_path(number)
        else:
            path = PATHS[page]
        started = time.monotonic()
        answer = self.browser.request("GET", path)
        ok, note = judge(answer)
        self.recorder.add(page, started, answer.seconds, ok, f"{path}: {note}" if note else "")
        if not ok:
            return "login" not in note
        if answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html"):
            for lazy in LAZY.findall(answer.body.decode("utf-8", "replace")):
                started = time.monotonic()
                panel = self.browser.request("GET", lazy.replace("&amp;", "&"))
                ok, note = judge(panel)
                self.recorder.add(
                    f"{page} (lazy)", started, panel.seconds, ok, f"{lazy}: {note}" if note else ""
                )
        return True

    def run(self) -> None:
        if self.stop.wait(self.start_after):
            self.recorder.login_done()
            return
        steps = [s for s in self.user.steps if self.user.customers or s[0] not in ("search", "customer 360")]
        pages = [p for p, _w in steps]
        weights = [w for _p, w in steps]
        first = True
        while not self.stop.is_set():
            logged_in = self.log_in()
            if first:
                first = False
                self.recorder.login_done()
            if not logged_in:
                return
            # the first round visits every page once, then pages by their weights
            tour = list(pages)
            while not self.stop.is_set():
                page = tour.pop(0) if tour else self.rng.choices(pages, weights)[0]
                if not self.visit(page):
                    break  # logged out: log in again
                if not self.pause():
                    return


def run_load(
    base_url: str,
    users: Sequence[VirtualUser],
    *,
    password: str,
    think: tuple[float, float],
    duration: float,
    ramp: float,
    forwarded_https: bool = False,
    timeout: float = 60.0,
    login_attempts: int = 3,
    seed: int = 1,
    log: Callable[[str], object] = print,
    cpu: Callable[[], dict[str, float]] | None = None,
) -> RunResult:
    """`users` start one after the other over `ramp` seconds and log in; the steady
    state is the `duration` seconds from the end of the ramp or, when later, from the
    moment every user is through their login (the password hasher's work is over),
    and only the pages asked for in it are counted (logins, at any time, apart).
    `cpu` reads CPU seconds by part (and "cores", "machine" for the whole machine's
    busy seconds): read at both ends of the steady state, it gives the CPU a request
    costs each part."""
    if not users:
        raise ValueError("no virtual user to run")
    recorder = Recorder(len(users))
    stop = threading.Event()
    threads = [
        VirtualUserThread(
            user,
            base_url=base_url.rstrip("/"),
            password=password,
            think=think,
            start_after=ramp * i / len(users),
            stop=stop,
            recorder=recorder,
            forwarded_https=forwarded_https,
            timeout=timeout,
            login_attempts=login_attempts,
            seed=seed * 100_003 + i,
        )
        for i, user in enumerate(users)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    next_note = began + 10
    # the ramp, and the logins still waiting on the server after it (2 minutes at most)
    while time.monotonic() < began + ramp or not recorder.all_through_login.is_set():
        if time.monotonic() > began + ramp + 120 or all(not t.is_alive() for t in threads):
            break
        recorder.all_through_login.wait(0.2)
    steady_from = time.monotonic()
    steady_to = steady_from + duration
    cpu_from = cpu() if cpu else {}
    log(
        f"  {steady_from - began:5.0f} s: steady state from here ({recorder.through_login} users through login)"
    )
    while (now := time.monotonic()) < steady_to:
        if all(not t.is_alive() for t in threads):
            break
        time.sleep(min(1.0, steady_to - now))
        if time.monotonic() >= next_note:
            next_note += 10
            log(f"  {time.monotonic() - began:5.0f} s: {recorder.count():,} requests")
    cpu_to = cpu() if cpu else {}
    stop.set()
    for thread in threads:
        thread.join(timeout + 5)
    with recorder.lock:
        rows = list(recorder.rows)
    login_rows = [r for r in rows if r[0] in ("login form", "login")]
    steady = [r for r in rows if r[0] not in ("login form", "login") and steady_from <= r[1] < steady_to]
    warmup = [r for r in rows if r[0] not in ("login form", "login") and r[1] < steady_from]
    by_page: dict[str, list] = {}
    for r in steady:
        by_page.setdefault(r[0], []).append(r)
    return RunResult(
        users=len(users),
        think=think,
        duration=duration,
        pages={page: Recorder.figures(page_rows) for page, page_rows in sorted(by_page.items())},
        logins={
            name: Recorder.figures([r for r in login_rows if r[0] == name])
            for name in ("login form", "login")
            if any(r[0] == name for r in login_rows)
        },
        overall=Recorder.figures(steady),
        throughput=len(steady) / duration if duration else 0.0,
        warmup_requests=len(warmup),
        **cpu_split(cpu_from, cpu_to, requests=len(steady), seconds=duration),
    )


def cpu_split(before: dict[str, float], after: dict[str, float], *, requests: int, seconds: float) -> dict:
    """CPU ms a request by part between two readings, and the machine's cores busy (%)."""
    if not before or not after or not requests:
        return {}
    parts = {k: 1000 * (after[k] - before[k]) / requests for k in before if k != "cores" and k in after}
    busy = 100 * (after.get("machine", 0) - before.get("machine", 0)) / (seconds * before.get("cores", 1))
    return {"cpu_ms": parts, "busy_percent": busy}


def format_cpu(result: RunResult) -> str:
    """ "CPU a request: web 20.1 ms, database 6.2, ..." or "" when not read."""
    if not result.cpu_ms:
        return ""
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in result.cpu_ms.items())
    return f"CPU ms a request: {parts} (cores {result.busy_percent:.0f}% busy)"


def format_result(result: RunResult) -> list[str]:
    lines = [
        f"{'page':24} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for page, f in result.pages.items():
        lines.append(f"{page:24} {f.requests:>9,} {f.errors:>7,} {f.p50:>8.0f} {f.p95:>8.0f} {f.p99:>8.0f}")
    o = result.overall
    lines.append(
        f"{'all pages':24} {o.requests:>9,} {o.errors:>7,} {o.p50:>8.0f} {o.p95:>8.0f} {o.p99:>8.0f}"
    )
    lines.append(
        f"throughput: {result.throughput:.1f} page requests/s over {result.duration:.0f} s of steady state "
        f"({result.users} users, think {result.think[0]:g}-{result.think[1]:g} s; "
        f"{result.warmup_requests:,} requests during the ramp and logins not counted)"
    )
    if result.cpu_ms:
        lines.append(format_cpu(result))
    lines.append("logins (apart from the steady state):")
    for name, f in result.logins.items():
        lines.append(f"  {name:22} {f.requests:>9,} {f.errors:>7,} {f.p50:>8.0f} {f.p95:>8.0f} {f.p99:>8.0f}")
    for page, f in [*result.pages.items(), *result.logins.items()]:
        for example in f.examples:
            lines.append(f"  error on {page}: {example}")
    return lines
