"""No internal code reaches a screen: every demo role walks the portal from its home
page (the menu, then the links and htmx panels of the pages the menu opens), in
Chinese, and no page shows as text

- a choice's code (`platinum`, `registered`, `branch_head`, `call`, `DEP_CUR`...):
  every string value of a model field's `choices` and of every TextChoices class of
  the project's apps, and the codes of the rows that have names (tier levels,
  catalogue products: `gold`, `TD-03M`), as a whole word, case as stored;
- a database constraint's name (`tierlevel_threshold_positive`, or any
  `..._positive` / `..._unique` token);
- a Python dict or list repr (`{'`, `['`), an ISO 8601 duration (`PT15M`);
- a date in another format than Y-m-d (2027年1月5日), an amount with decimals but
  without thousands separators (2899500.00);
- a dropdown's empty choice that says nothing ("—", "---------"): it says what
  choosing nothing means ("全部等级", "不指定").

Only what a user reads counts: the text of the page, not its tags, attribute values
(an `<option value="gold">` is fine), scripts or styles.

The world is the roles × URLs harness's (tests/url_world.py): every page has rows.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from django.utils import timezone, translation

from care.choices import AlertKind
from care.reasons import alert_reason, reason_context
from customers.choices import AccountCategory, RiskClass
from customers.models import LoanStatus
from marketing.models import Product
from tests.customers.factories import AccountFactory
from tests.url_world import ANONYMOUS, ROLES, build_world
from vip.forms import LevelProposalForm
from vip.models import TierLevel

LANGUAGE = "zh-hans"
MAX_DEPTH = 2  # home (0) → a menu page (1) → a page it links to (2)
MAX_PAGES_PER_ROLE = 150
MAX_PER_VIEW = 3  # addresses of one URL pattern a role visits (three customers, three filters...)

# Addresses not walked, with the reason.
SKIPPED: dict[str, str] = {
    "/accounts/logout/": "ends the session",
    "/accounts/audit/": "the audit trail is rebuilt on its own and tested with it",
    "/admin/": "Django's generated admin, a staff tool outside the portal's pages",
    "/api/": "JSON for programs, not a page",
    "/i18n/": "switches the language (POST)",
    "/static/": "files",
}
SKIPPED_WORDS = re.compile(r"export|download|\.csv|\.xlsx|/logout", re.IGNORECASE)

# Text that may hold a code, per view name ("*": every page): a pattern of the
# text around it, and why. A match inside such a text is excused.
ALLOWED: list[tuple[str, str, str]] = [
    (
        "marketing:indicator_create",
        r"(?s).*",
        "the parameters are typed as JSON: the form's reference table lists the kinds'"
        " and parameters' codes a business manager types",
    ),
    ("marketing:indicator_edit", r"(?s).*", "the same form, editing an indicator"),
    (
        "vip:batch_start",
        r"customer_no（[^）]*）、manager（[^）]*）、reason",
        "the column names the uploaded file must carry, said as they are to be typed",
    ),
    (
        "marketing:indicator_list",
        r"（WEALTH类）",
        "an indicator's description, written by a business manager (the demo library's text)",
    ),
    (
        "marketing:product_list",
        r"(?m)^[A-Z0-9][A-Z0-9-]+$",
        "the catalogue's code column: the product's reference in core banking, beside its name",
    ),
    (
        "*",
        r"(?m)^(ATM|POS)$",
        "core banking's transaction channels ATM and POS are called so (their names are the codes)",
    ),
    # free text the harness world wrote (reasons, notes, a user's display name)
    ("performance:disputes", r"moved to my colleague", "a dispute's reason, as its author wrote it"),
    ("performance:period", r"month end close", "a submission note, as its author wrote it"),
    ("vip:approvals", r"contact review", "a proposal's reason, as its author wrote it"),
    ("customers:detail", r"joint care", "a share's reason, as its author wrote it"),
    ("customers:detail", r"harness spouse", "a related person's name, as the manager typed it"),
    ("*", r"pending[ _]cm\d", "a user's username and display name, as given"),
]
# A text node that is the code of a row of these (a code the bank gives an indicator,
# which the demo library makes equal to its kind's code) is an identifier, not a choice.
IDENTIFIERS = ("marketing.Indicator.code", "marketing.Channel.code")

# Pages the walk must reach (it is bounded: a walk that misses them checks too little).
MUST_WALK = {
    "home",
    "customers:list",
    "customers:detail",
    "vip:customer",
    "vip:approvals",
    "vip:parameters",
    "vip:reports",
    "accounts:user_list",
    "marketing:campaign_detail",
    "marketing:target_detail",
    "marketing:indicator_list",
    "marketing:product_list",
    "care:alert_list",
    "care:alerts_panel",
    "performance:scheme",
    "performance:manager",
}

# --- what must not show -------------------------------------------------------------------


def _project_apps() -> list:
    root = str(settings.BASE_DIR)
    return [a for a in apps.get_app_configs() if a.path.startswith(root) and "site-packages" not in a.path]


def _flatten(choices) -> Iterator[object]:
    for value, label in choices:
        if isinstance(label, (list, tuple)):  # a named group
            yield from _flatten(label)
        else:
            yield value


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def choice_codes() -> dict[str, str]:
    """Every string choice value of the project: code → where it is defined."""
    get_resolver().url_patterns  # noqa: B018  (imports every view, and the choices they use)
    names = {a.name.split(".")[0] for a in _project_apps()}
    codes: dict[str, str] = {}
    for app in _project_apps():
        for model in app.get_models():
            for f in model._meta.get_fields():
                for value in _flatten(getattr(f, "choices", None) or ()):
                    if isinstance(value, str):
                        codes.setdefault(value, f"{model._meta.label}.{f.name}")
    for cls in _subclasses(models.Choices):
        if cls.__module__.split(".")[0] in names:
            for member in cls:
                if isinstance(member.value, str):
                    codes.setdefault(member.value, f"{cls.__module__}.{cls.__qualname__}")
    # the tiers are rows, not choices: their codes are codes all the same
    for code in TierLevel.objects.values_list("code", flat=True):
        codes.setdefault(code, "vip.TierLevel.code")
    # and a product with a name shows by its name
    for code in Product.objects.exclude(name="").values_list("code", flat=True):
        codes.setdefault(code, "marketing.Product.code")
    # codes too short or too common to be told from text
    return {code: where for code, where in codes.items() if len(code) >= 3 and not code.isdigit()}


def constraint_names() -> set[str]:
    return {
        c.name for a in _project_apps() for model in a.get_models() for c in model._meta.constraints if c.name
    }


def _word(token: str) -> str:
    # ASCII word boundaries: a code beside a Chinese character still counts as a word
    return rf"(?<![A-Za-z0-9_]){re.escape(token)}(?![A-Za-z0-9_])"


REPRS = {
    "a dict repr": re.compile(r"\{'"),
    "a list repr": re.compile(r"\['"),
    "an ISO 8601 duration": re.compile(
        r"(?<![A-Za-z0-9_])P(?:\d+D)?T\d+[HMS]\w*|(?<![A-Za-z0-9_])P\d+D(?![\w])"
    ),
    "a date not in Y-m-d": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|[A-Z][a-z]{2}\.? \d{1,2}, \d{4}"),
    "an amount without thousands separators": re.compile(r"(?<![\d,.])\d{4,}\.\d{2}(?!\d)"),
    "a constraint name": re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9_]+_(?:positive|unique)(?![A-Za-z0-9_])"),
}


UNLABELLED = re.compile(r"^[-—–_\s]*$")


# --- reading a page -----------------------------------------------------------------------


class Page(HTMLParser):
    """A page's visible text and the addresses it links to (`<a href>`, `hx-get`)."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.panels: list[str] = []
        self.blank_choices: list[str] = []  # the text of each <option value="">
        self._hidden = 0
        self._blank_option: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("hx-get"):
            self.panels.append(attributes["hx-get"])
        if tag == "option" and attributes.get("value") == "":
            self._blank_option = []

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "option" and self._blank_option is not None:
            self.blank_choices.append("".join(self._blank_option).strip())
            self._blank_option = None

    def handle_data(self, data):
        if self._blank_option is not None:
            self._blank_option.append(data)
        if not self._hidden and data.strip():
            self.text.append(data.strip())


@dataclass
class Finding:
    what: str
    pages: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    context: str = ""


def _view_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def _skipped(url: str) -> bool:
    path = urlsplit(url).path
    return any(path.startswith(prefix) for prefix in SKIPPED) or bool(SKIPPED_WORDS.search(url))


def crawl(client: Client) -> Iterator[tuple[str, str, str, list[str]]]:
    """(address, view name, visible text, the texts of its empty dropdown choices) of
    every page a logged-in client reaches."""
    queue: list[tuple[str, int, bool]] = [("/", 0, False)]
    seen: set[str] = set()
    per_view: dict[str, int] = defaultdict(int)
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url, depth, panel = queue.pop(0)
        if url in seen or _skipped(url):
            continue
        view = _view_name(url)
        if view is None or per_view[view] >= MAX_PER_VIEW:
            continue
        seen.add(url)
        per_view[view] += 1
        headers = {"HTTP_HX_REQUEST": "true"} if panel else {}
        with transaction.atomic():
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=LANGUAGE, **headers)
            transaction.set_rollback(True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = Page()
        page.feed(response.content.decode())
        yield url, view, "\n".join(page.text), page.blank_choices
        for link in page.panels:
            queue.append((_same_origin(url, link), depth, True))
        if depth < MAX_DEPTH:
            for link in page.links:
                queue.append((_same_origin(url, link), depth + 1, False))


def _same_origin(base: str, link: str) -> str:
    absolute = urldefrag(urljoin("http://testserver" + base, link)).url
    parts = urlsplit(absolute)
    if parts.netloc != "testserver" or parts.scheme not in ("http", "https"):
        return "/static/"  # another site, mailto:, tel:, javascript:: skipped
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the tests ----------------------------------------------------------------------------


def test_the_lockout_page_says_how_many_minutes(client, make_user, settings):
    # given a username locked out after repeated failures
    user = make_user("client_manager")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/", {"username": user.username, "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    # when they try again
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "x"}, REMOTE_ADDR="10.0.0.9"
    )
    # then the page says the wait in minutes, not as an ISO 8601 duration
    assert response.status_code == 429
    page = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"Try again in {minutes} minutes" in page
    assert "PT" not in page.split('data-testid="locked-out"')[1].split("</p>")[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("threshold", "message"),
    [("0", "must be more than 0"), ("500000", "Another active level has this minimum average AUM")],
)
def test_a_tier_threshold_refused_says_why_in_words(threshold, message):
    # given the default levels (gold at 500,000.00)
    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)
    # when a new level is proposed with a threshold the constraints refuse
    form = LevelProposalForm(
        data={
            "code": "silver",
            "name": "Silver",
            "aum_threshold": threshold,
            "contact_interval_days": 120,
            "is_active": True,
            "reason": "a new level",
        }
    )
    # then the form says so in words, on the field, and never by the constraint's name
    assert not form.is_valid()
    assert message in " ".join(form.errors["aum_threshold"])
    assert "tierlevel_" not in str(form.errors)


@pytest.mark.django_db
def test_an_alert_names_a_colleague_not_their_employee_number(make_user):
    # given a team alert and a hand-over reminder holding employee numbers
    colleague = make_user("client_manager")
    colleague.display_name = "李经理"
    colleague.save()
    team = SimpleNamespace(
        kind=AlertKind.TEAM_OVERDUE, figures={"manager": colleague.employee_no, "count": 46}
    )
    handed = SimpleNamespace(kind=AlertKind.CUSTOMER_ASSIGNED, figures={"by": colleague.employee_no})
    gone = SimpleNamespace(kind=AlertKind.CUSTOMER_SHARED, figures={"by": "E9999"})
    # when their reasons are written, for a page (names read once) or one by one
    with translation.override("en"):
        names = reason_context([team, handed, gone])
        reasons = [alert_reason(a, names) for a in (team, handed, gone)] + [alert_reason(team)]
    # then the colleague reads by name; a number nobody holds any more stays a number
    assert reasons[0] == reasons[3] == "Manager 李经理 has 46 overdue contacts with major customers"
    assert "李经理" in reasons[1] and colleague.employee_no not in reasons[1]
    assert "E9999" in reasons[2]


def _owe_on_loans_and_cards(world) -> None:
    """Every customer of the world holds a mortgage, past due and substandard for
    weeks, and a credit card never reported on: the 360 pages the walk opens show the
    credit panel with its categories, classifications and month ends (credit.panels)."""
    day = timezone.localdate() - datetime.timedelta(days=40)
    for customers in world.customers.values():
        for customer in customers.values():
            mortgage = AccountFactory(
                customer=customer, category=AccountCategory.LOAN_MORTGAGE, balance=Decimal("850000.00")
            )
            AccountFactory(
                customer=customer, category=AccountCategory.CREDIT_CARD, balance=Decimal("2345.67")
            )
            LoanStatus.objects.create(
                account=mortgage,
                business_date=day,
                overdue_days=95,
                overdue_amount=Decimal("12600.00"),
                risk_class=RiskClass.SUBSTANDARD,
            )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            _owe_on_loans_and_cards(world)
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _whole_line(text: str, match: re.Match) -> str:
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return text[start : end if end >= 0 else len(text)]


def _snippet(text: str, start: int, end: int) -> str:
    return text[max(0, start - 30) : end + 30].replace("\n", " | ")


def test_no_code_reaches_a_screen(world, db, settings):
    settings.LANGUAGE_CODE = LANGUAGE
    codes = choice_codes()
    assert {"platinum", "registered", "branch_head", "call", "wechat"} <= set(codes), sorted(codes)
    searches = [(f"code {code!r} ({where})", re.compile(_word(code))) for code, where in codes.items()]
    searches += [(f"constraint {name!r}", re.compile(_word(name))) for name in constraint_names()]
    searches += list(REPRS.items())
    findings: dict[tuple[str, str], Finding] = {}
    identifiers = {
        code
        for label in IDENTIFIERS
        for code in apps.get_model(label.rsplit(".", 1)[0]).objects.values_list(
            label.rsplit(".", 1)[1], flat=True
        )
    }
    walked = 0
    views_walked: set[str] = set()
    for role in ROLES:
        if role == ANONYMOUS:
            continue
        client = Client(REMOTE_ADDR="10.9.9.7")
        response = client.post("/accounts/login/", {"username": role, "password": settings.DEMO_PASSWORD})
        assert response.status_code == 302, role
        for url, view, text, blank_choices in crawl(client):
            walked += 1
            views_walked.add(view)
            for choice in blank_choices:
                if UNLABELLED.match(choice):
                    what = "an unlabelled empty choice"
                    finding = findings.setdefault((view, what), Finding(what))
                    finding.pages.add(url)
                    finding.roles.add(role)
                    finding.context = finding.context or repr(choice)
            excused = [
                found.span()
                for where, allowed, _reason in ALLOWED
                if where in (view, "*")
                for found in re.finditer(allowed, text)
            ]
            for what, pattern in searches:
                for match in pattern.finditer(text):
                    if any(start <= match.start() and match.end() <= end for start, end in excused):
                        continue
                    if _whole_line(text, match) in identifiers:
                        continue
                    finding = findings.setdefault((view, what), Finding(what))
                    finding.pages.add(url)
                    finding.roles.add(role)
                    finding.context = finding.context or _snippet(text, match.start(), match.end())
    assert walked > 100, f"walked only {walked} pages"
    assert views_walked >= MUST_WALK, f"pages the walk did not reach: {sorted(MUST_WALK - views_walked)}"
    report = [
        f"{view}: {f.what}, e.g. {sorted(f.pages)[0]} as {','.join(sorted(f.roles))}: …{f.context}…"
        for (view, _what), f in sorted(findings.items())
    ]
    assert not report, f"{len(report)} codes on screen:\n" + "\n".join(report)


def test_a_parameter_proposal_reads_as_labels_and_amounts(world, client):
    # given pm2's proposal to raise gold's threshold from 500,000 to 550,000 (the world's)
    client.post("/accounts/login/", {"username": "demo_admin", "password": settings.DEMO_PASSWORD})
    # when demo_admin looks at what waits for them
    page = client.get("/vip/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the change names the level and the field, and formats the amounts
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    gold = TierLevel.objects.get(code="gold")
    assert f"{gold.name} minimum average AUM (CNY): 500,000.00 → 550,000.00" in text
    assert "aum_threshold" not in text
