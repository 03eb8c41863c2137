"""A role's day in the browser: every page it visits is checked the way a bank user
would notice (no error page, no 4xx/5xx answer, no internal code, no amount without
its separators) and photographed to var/screenshots/<role>/<nn>-<page>.png."""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings

from tests.browser import log_in
from tests.test_no_codes import (
    ALLOWED,
    IDENTIFIERS,
    REPRS,
    SKIPPED,
    _view_name,
    _word,
    choice_codes,
    constraint_names,
)

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# An amount as a user reads it: thousands separators and two decimals.
AMOUNT = re.compile(r"^-?\d{1,3}(?:,\d{3})*\.\d{2}$")
AMOUNT_IN_TEXT = re.compile(r"-?\d{1,3}(?:,\d{3})*\.\d{2}")
# Django's own pages: its debug pages (DEBUG on) and the bare ones its handlers give
# when a template is missing or the CSRF check fails.
DJANGO_ERROR_PAGE = re.compile(
    r"Traceback \(most recent call last\)|Exception Value:|Using the URLconf defined in"
    r"|Server Error \(500\)|Bad Request \(400\)|Forbidden \(403\)|CSRF verification failed"
    r"|Not Found</h1>|TemplateDoesNotExist|NoReverseMatch"
)
# Requests the browser makes on its own.
NOT_OURS = ("/favicon.ico",)
# Characters of Chinese text (a page in the user's language has them).
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row: a sentence left untranslated ("is done", "in your plan").
ENGLISH = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")


# The page's text as tests/test_no_codes.py reads it: each text node on its own line,
# scripts and styles left out (its excuses are written for that text).
TEXT_NODES = """() => {
  const hidden = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (hidden.has(el.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return node.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    },
  });
  const lines = [];
  while (walker.nextNode()) lines.push(walker.currentNode.textContent.trim());
  return lines.join('\\n');
}"""
# Resolves once no htmx request has been in flight for two looks 60 ms apart.
SETTLE = """async () => {
  const busy = () => document.querySelector('.htmx-request') !== null;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 60));
  for (let i = 0; i < 160; i++) {
    if (!busy()) { await pause(); if (!busy()) return true; }
    await pause();
  }
  return false;
}"""


@cache
def _searches() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """What must not show, as tests/test_no_codes.py defines it."""
    searches = [
        (f"code {code!r} ({where})", re.compile(_word(code))) for code, where in choice_codes().items()
    ]
    searches += [(f"constraint {name!r}", re.compile(_word(name))) for name in constraint_names()]
    searches += list(REPRS.items())
    return tuple(searches)


@cache
def _identifiers() -> frozenset[str]:
    return frozenset(
        code
        for label in IDENTIFIERS
        for code in apps.get_model(label.rsplit(".", 1)[0]).objects.values_list(
            label.rsplit(".", 1)[1], flat=True
        )
    )


def codes_in(text: str, path: str) -> list[tuple[str, str]]:
    """The codes, reprs and unformatted amounts a page's text shows (the crawl's rules
    and excuses, tests/test_no_codes.py)."""
    view = _view_name(path) or ""
    excused = [
        found.span()
        for where, allowed, _reason in ALLOWED
        if where in (view, "*")
        for found in re.finditer(allowed, text)
    ]
    found = []
    for what, pattern in _searches():
        for match in pattern.finditer(text):
            if any(start <= match.start() and match.end() <= end for start, end in excused):
                continue
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            if text[line_start : line_end if line_end >= 0 else len(text)].strip() in _identifiers():
                continue
            snippet = text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " | ")
            found.append((what, f"…{snippet}…"))
    return found


class Journey:
    """One role's browser session: `visit` a page or `look` at the one an action led
    to; each is checked and photographed in order."""

    def __init__(self, page, server, username: str, password: str):
        self.page = page
        self.server = server
        self.username = username
        self.password = password
        self.count = 0
        self.failures: list[str] = []
        self.codes: list[str] = []
        self.seen: set[str] = set()
        self.allowed_status: set[int] = set()
        self.folder = SCREENSHOTS / username
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.failures.append(f"script error: {error}"))

    # --- what a user would notice ---------------------------------------------------------

    def _response(self, response) -> None:
        path = urlsplit(response.url).path
        if not response.url.startswith(self.server.url) or path in NOT_OURS:
            return
        if response.status >= 400 and response.status not in self.allowed_status:
            self.failures.append(f"{response.status} {response.request.method} {path}")

    def check(self) -> str:
        """Fail on an error page or an error answer (the page's or one of its panels');
        note the codes and unformatted amounts it shows. The page's text."""
        page = self.page
        path = urlsplit(page.url).path
        if self.failures:
            errors = page.locator(".invalid-feedback, .errorlist, .alert-danger").all_inner_texts()
            raise AssertionError(f"{path}: {self.failures}; the page says: {errors}")
        html = page.content()
        assert not DJANGO_ERROR_PAGE.search(html), f"{path} shows a Django error page"
        assert page.locator("[data-testid=error-page]").count() == 0, (
            f"{path} shows the portal's error page {page.get_attribute('[data-testid=error-page]', 'data-status')}"
        )
        assert page.evaluate("document.documentElement.lang") == "zh-hans", f"{path} is not in Chinese"
        text = page.inner_text("body")
        assert CHINESE.search(text), f"{path} has no Chinese text"
        # codes are gathered and told together at the end of the journey
        if not any(path.startswith(prefix) for prefix in SKIPPED):  # as the crawl does
            for what, snippet in codes_in(page.evaluate(TEXT_NODES), path):
                if what not in self.seen:  # once, on the first page showing it
                    self.seen.add(what)
                    self.codes.append(f"{path}: {what}: {snippet}")
        return text

    def _settle(self) -> None:
        """Wait for the page and the panels htmx loads into it (a panel's answer may
        bring panels of its own)."""
        self.page.wait_for_load_state("load")
        settled = self.page.evaluate(SETTLE)
        assert settled, f"{self.page.url}: panels still loading after 10 s"

    def look(self, name: str) -> str:
        """Check the page the browser shows and photograph it."""
        self._settle()
        text = self.check()
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)
        return text

    # --- moving around -----------------------------------------------------------------------

    def log_in(self) -> str:
        log_in(self.page, self.server, self.username, self.password)
        return self.look("home")

    def visit(self, path: str, name: str) -> str:
        response = self.page.goto(f"{self.server.url}{path}")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        return self.look(name)

    def follow(self, selector: str, name: str) -> str:
        """Click a link or a button that loads another page, and look at it."""
        with self.page.expect_navigation():
            self.page.click(selector)
        return self.look(name)

    def submit(self, selector: str, name: str, *, status: int | None = None) -> str:
        """Click a form's button; `status` is the answer a refused form gives (400)."""
        if status:
            self.allowed_status.add(status)
        try:
            with self.page.expect_navigation():
                self.page.click(selector)
            return self.look(name)
        finally:
            self.allowed_status.discard(status or 0)

    # --- reading ---------------------------------------------------------------------------------

    def messages(self) -> list[str]:
        """The messages that say what an action did."""
        return [t.strip() for t in self.page.locator(".messages [role=alert]").all_inner_texts()]

    def said(self) -> list[str]:
        """The messages that say what an action did, each noted when it is not
        Chinese (a message left in English)."""
        said = self.messages()
        assert said, f"{self.page.url}: no message says what happened"
        for message in said:
            if not CHINESE.search(message) or ENGLISH.search(message):
                self.codes.append(f"{urlsplit(self.page.url).path}: a message in English: {message!r}")
        return said

    def column_amounts(self, table: str, heading: str) -> list[str]:
        """The cells of a table's column under the heading holding `heading`, in its
        body rows, asserted amounts as a user reads them (a dash for none)."""
        cells = self.page.evaluate(
            """([table, heading]) => {
              const heads = Array.from(document.querySelectorAll(table + ' thead tr:last-child th'));
              const column = heads.findIndex(th => th.innerText.includes(heading));
              if (column < 0) return null;
              return Array.from(document.querySelectorAll(table + ' tbody tr'))
                .map(tr => Array.from(tr.querySelectorAll('td, th')))
                .filter(cells => cells.length === heads.length)
                .map(cells => cells[column].innerText.trim());
            }""",
            [table, heading],
        )
        assert cells is not None, f"{table} has no column headed {heading!r}"
        assert cells, f"{table} has no rows"
        wrong = [cell for cell in cells if not AMOUNT.match(cell) and cell not in ("", "—", "-", "–")]
        assert not wrong, f"{table}, {heading}: not amounts with separators and 2 decimals: {wrong}"
        return cells

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector).strip()

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_inner_texts()]

    def amount(self, selector: str) -> str:
        """The amount an element shows, asserted formatted (1,234,567.89)."""
        value = self.text(selector)
        assert AMOUNT.match(value), (
            f"{selector} shows {value!r}, not an amount with separators and 2 decimals"
        )
        return value

    def finish(self) -> list[str]:
        """The screenshots the journey wrote; fails on an error seen since the last
        check, and on every code the journey's pages showed."""
        assert not self.failures, self.failures
        assert not self.codes, f"{len(self.codes)} codes on the pages of {self.username}:\n" + "\n".join(
            self.codes
        )
        return sorted(p.name for p in self.folder.iterdir())


def zh(text, /, **words) -> str:
    """A msgid or a label as the user reads it (the Chinese catalogue), with its words
    put in: what an action's answer must say."""
    from django.utils import translation

    with translation.override("zh-hans"):
        said = str(translation.gettext(text) if isinstance(text, str) else text)
        return said % {k: str(v) for k, v in words.items()} if words else said
