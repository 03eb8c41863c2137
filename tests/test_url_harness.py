"""Roles × URLs: every URL pattern of the portal, walked from Django's URL resolver,
requested by each of the 8 demo roles and anonymous, with an object the role owns
and a foreign one (another manager's customer, another branch's share...), by GET
and, where it writes, by POST.

What is checked, per role, URL, case and method (the table: tests/url_table.py):
- the status the table says (a customer outside the scope answers 404, or 400 when
  typed into a form, and its refusal is audited: `customer_access_refused` by the
  user, the only event a refused request may write);
- a write that succeeds changed business rows and wrote an audit event by the user,
  in that request; a refused one (and every read) changed nothing and wrote no
  audit event. Writes are seen in the SQL the request ran (INSERT/UPDATE/DELETE
  outside a rolled-back savepoint), sessions, login bookkeeping and the audit trail
  itself aside;
- the method a URL does not accept answers 405 (probed once per URL);
- and that every pattern the resolver knows has an entry (a new URL, or a new
  ModelAdmin, fails `test_every_url_pattern_has_an_entry` until it has one).

The world (tests/url_world.py) is built once for the module in a transaction rolled
back at its end; every check runs in a savepoint of it, so a write never leaks into
the next check. The demo users log in once (a real login) and each check reuses
their session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEvent
from tests.url_table import ADMIN_MODELS, ADMIN_PAGES, DEFECTS, GET, POST, URLS, Case, Url
from tests.url_world import ANONYMOUS, ROLES, Subject, World, build_world

# --- the URL patterns, from the resolver ----------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # the pattern, e.g. "vip/customers/<str:customer_no>/"
    name: str | None  # "vip:customer", or None for an unnamed pattern
    view: str
    admin_model: str = ""  # "app_label.model_name" of an admin-generated page
    admin_page: str = ""  # changelist, add, change, delete, history, object, ...

    @property
    def key(self) -> str:
        """The table's key: the URL name, or the pattern of an unnamed one."""
        return self.name or self.route


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            view = f"{callback.__module__}.{getattr(callback, '__qualname__', callback.__class__.__name__)}"
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name, view


ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/(?P<rest>.*)$")


def all_routes() -> list[Route]:
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    routes = []
    for route, name, view in _walk(get_resolver().url_patterns):
        match = ADMIN_MODEL_ROUTE.match(route)
        if match and f"{match['app']}.{match['model']}" in registered and match["rest"] in ADMIN_PAGES:
            routes.append(
                Route(route, name, view, f"{match['app']}.{match['model']}", ADMIN_PAGES[match["rest"]])
            )
        else:
            routes.append(Route(route, name, view))
    return routes


ROUTES = all_routes()


def test_every_url_pattern_has_an_entry():
    missing = []
    for route in ROUTES:
        if route.admin_model:
            if route.admin_model not in ADMIN_MODELS:
                missing.append(
                    f"admin page {route.route!r} of {route.admin_model}: add ADMIN_MODELS[{route.admin_model!r}]"
                    " = AdminRule(view=..., add=..., change=...) in tests/url_table.py"
                )
        elif route.key not in URLS:
            missing.append(
                f"{route.route!r} (name {route.name!r}, view {route.view}): add URLS[{route.key!r}] = Url(...)"
                " in tests/url_table.py — its arguments, POST body and the status per role"
                " (see that module's docstring)"
            )
    assert not missing, "URL patterns without an entry in the roles × URLs table:\n" + "\n".join(missing)
    assert len(ROUTES) > 200  # the admin's pages included


def test_the_table_has_no_entry_for_a_pattern_that_is_gone():
    known = {route.key for route in ROUTES}
    stale = sorted(set(URLS) - known)
    assert not stale, f"entries of tests/url_table.py URLS for no URL pattern: {stale}"
    registered = {route.admin_model for route in ROUTES if route.admin_model}
    assert not set(ADMIN_MODELS) - registered, sorted(set(ADMIN_MODELS) - registered)


# --- the checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One request: a URL (by its table key), a case, a method and a role."""

    key: str
    case: Case
    method: str
    role: str
    token: str
    url: Url | None = None

    @property
    def id(self) -> str:
        return f"{self.key}[{self.case.label}]-{self.method}-{self.role}"

    @property
    def subject(self) -> Subject:
        return Subject(self.role, foreign=self.case.foreign)


def _is_success(token: str) -> bool:
    return token[0] in "23"


def _admin_case(route: Route) -> Case:
    rule = ADMIN_MODELS[route.admin_model]
    tokens = " ".join(rule.status(route.admin_page, role) for role in ROLES)
    label = route.admin_model

    def kwargs(w: World, s: Subject) -> dict:
        if "<path:object_id>" in route.route:
            return {"object_id": w.objects["admin_object"][label]}
        if "<id>" in route.route:
            return {"id": w.objects["admin_object"][label]}
        return {}

    return Case(label=label, kwargs=kwargs, get=tokens)


def _probe(key: str, url: Url) -> Check | None:
    """The method the URL does not accept, by one role that may use it."""
    accepted = url.methods
    if accepted == {GET, POST}:
        return None
    method = POST if accepted == {GET} else GET
    first = url.cases[0]
    tokens = first.tokens(GET if method == POST else POST)
    assert tokens is not None
    role = url.probe_role or next(
        (r for r, t in zip(ROLES, tokens, strict=True) if r != ANONYMOUS and _is_success(t)), None
    )
    if role is None:
        return None
    probe = Case(label="probe", kwargs=first.kwargs, foreign=first.foreign, htmx=first.htmx)
    return Check(key, probe, method, role, url.probe_status, url)


def all_checks() -> list[Check]:
    checks: list[Check] = []
    for route in ROUTES:
        if route.admin_model:
            if route.admin_model not in ADMIN_MODELS:
                continue  # reported by test_every_url_pattern_has_an_entry
            case = _admin_case(route)
            url = Url(case, path=None if route.name else _admin_object_path(route))
            for role, token in zip(ROLES, case.tokens(GET), strict=True):
                checks.append(Check(route.key, case, GET, role, token, url))
            continue
        url = URLS.get(route.key)
        if url is None:
            continue  # reported by test_every_url_pattern_has_an_entry
        for case in url.cases:
            for method in (GET, POST):
                tokens = case.tokens(method)
                if tokens is None:
                    continue
                for role, token in zip(ROLES, tokens, strict=True):
                    checks.append(Check(route.key, case, method, role, token, url))
        probe = _probe(route.key, url)
        if probe is not None:
            checks.append(probe)
    return checks


def _admin_object_path(route: Route):
    """The address of an unnamed admin pattern (the object page that redirects to
    its change page)."""

    def path(w: World, s: Subject) -> str:
        app, model = route.admin_model.split(".")
        return f"/admin/{app}/{model}/{w.objects['admin_object'][route.admin_model]}/"

    return path


def _marks(check: Check) -> list:
    reason = DEFECTS.get((check.key, check.case.label, check.method, check.role))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


CHECKS = all_checks()
PARAMS = [pytest.param(check, id=check.id, marks=_marks(check)) for check in CHECKS]


def test_every_defect_names_a_check():
    ids = {(c.key, c.case.label, c.method, c.role) for c in CHECKS}
    assert not set(DEFECTS) - ids, sorted(set(DEFECTS) - ids)


# --- the world, once per module ---------------------------------------------------------


def _log_in_everyone(world: World) -> dict[str, str]:
    sessions = {}
    for role in ROLES:
        if role == ANONYMOUS:
            continue
        client = Client(REMOTE_ADDR="10.9.9.9")
        response = client.post("/accounts/login/", {"username": role, "password": settings.DEMO_PASSWORD})
        assert response.status_code == 302, (role, response.status_code)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


def _admin_objects() -> dict[str, str]:
    from django.contrib.admin.utils import quote

    objects = {}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, (
            f"the world has no {label} for the admin's change/delete/history pages:"
            " add one in tests/url_world.py::_build_admin_objects"
        )
        objects[label] = quote(obj.pk)
    return objects


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            # a failed login, so that the lockout tables have rows for their admin pages
            Client(REMOTE_ADDR="10.8.8.8").post("/accounts/login/", {"username": "demo_cm1", "password": "x"})
            AccessFailureLog.objects.get_or_create(
                username="demo_cm1", ip_address="10.8.8.8", user_agent="harness", path_info="/accounts/login/"
            )
            built.sessions = _log_in_everyone(built)
            built.objects["admin_object"] = _admin_objects()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- running one check ---------------------------------------------------------------------

# Tables whose rows every request may write: sessions, login bookkeeping (django-axes,
# the session index) and the audit trail, which is checked on its own.
VOLATILE_TABLES = {
    "django_session",
    "accounts_usersession",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "accounts_auditevent",
}
WRITE = re.compile(
    r'\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+"?(\w+)"?'
    r'|\bUPDATE\s+"?(\w+)"?\s+(?:AS\s+\w+\s+)?SET\b',
    re.IGNORECASE,
)
SAVEPOINT = re.compile(r'^\s*(SAVEPOINT|ROLLBACK TO SAVEPOINT|RELEASE SAVEPOINT)\s+"?(\w+)"?', re.IGNORECASE)


class WriteLog:
    """The tables a request wrote, leaving out writes rolled back to a savepoint."""

    def __init__(self):
        self.frames: list[tuple[str, set[str]]] = [("", set())]

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        text = sql if isinstance(sql, str) else str(sql)
        savepoint = SAVEPOINT.match(text)
        if savepoint:
            verb, name = savepoint.group(1).upper(), savepoint.group(2)
            if verb == "SAVEPOINT":
                self.frames.append((name, set()))
            else:
                while len(self.frames) > 1:
                    frame_name, tables = self.frames.pop()
                    if verb == "RELEASE SAVEPOINT":
                        self.frames[-1][1].update(tables)
                    if frame_name == name:
                        break
        else:
            for match in WRITE.finditer(text):
                self.frames[-1][1].add((match.group(1) or match.group(2)).lower())
        return result

    @property
    def tables(self) -> set[str]:
        return set().union(*(tables for _name, tables in self.frames))


def _request(check: Check, world: World, client: Client):
    case, subject = check.case, check.subject
    if check.url is not None and check.url.path is not None:
        path = check.url.path(world, subject)
    else:
        path = reverse(check.key, kwargs=case.kwargs(world, subject))
    headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
    if check.method == GET:
        query = case.query(world, subject) if case.query else {}
        return path, client.get(path, query, **headers)
    data = case.data(world, subject) if case.data else {}
    if case.json:
        return path, client.post(path, json.dumps(data), content_type="application/json", **headers)
    return path, client.post(path, data, **headers)


@pytest.mark.parametrize("check", PARAMS)
def test_role_url_method(check: Check, world: World, client: Client, db):
    if check.role != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[check.role]
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    log = WriteLog()
    with connection.execute_wrapper(log):
        path, response = _request(check, world, client)
    where = f"{check.role} {check.method} {path} ({check.key}, case {check.case.label})"
    token = check.token
    status = response.status_code
    if token in ("login", "adminlogin"):
        target = "/accounts/login/" if token == "login" else "/admin/login/"
        assert status == 302 and response["Location"].startswith(target), (
            f"{where}: expected a redirect to {target}, got {status} {response.get('Location', '')}"
        )
    else:
        expected = int(token.rstrip("wa"))
        assert status == expected, (
            f"{where}: expected {expected}, got {status} {response.get('Location', '')}"
            f"\n{getattr(response, 'content', b'')[:300]!r}"
        )
    writes = sorted(log.tables - VOLATILE_TABLES)
    events = list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", "actor_username"))
    actor = check.case.actor(check.subject) if check.case.actor else check.role
    if token.endswith("w"):
        assert writes, f"{where}: expected a write, nothing was written"
        assert any(user == actor for _action, user in events), (
            f"{where}: wrote {writes} with no audit event by {actor} (events: {events})"
        )
    elif token.endswith("a"):
        assert not writes, f"{where}: expected no business write, wrote {writes}"
        assert any(user == actor for _action, user in events), (
            f"{where}: no audit event by {actor} (events: {events})"
        )
    else:
        assert not writes, f"{where}: expected nothing written, wrote {writes}"
        if status in (400, 404):  # a customer outside the scope, opened or typed: its refusal is audited
            events = [e for e in events if e != ("customer_access_refused", actor)]
        assert not events, f"{where}: expected no audit event, got {events}"
