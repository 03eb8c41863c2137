"""The deployment files (deploy/, docs/operations.md) agree with the code: gunicorn's
configuration loads the portal, the Celery worker units serve every queue and are
given time to finish a task before systemd kills them, nginx takes the largest
upload the portal accepts and serves the collected static files, the example
environment names every setting production requires, and PostgreSQL accepts the
server settings file."""

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crm_portal.queues import QUEUE_NAMES, QUEUES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return unit


def test_gunicorns_configuration_loads_the_portal():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    done = subprocess.run(
        [str(gunicorn), "--check-config", "-c", "deploy/gunicorn.conf.py", "crm_portal.wsgi"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    web = _unit("crm-web.service")["Service"]["ExecStart"]
    assert "--config deploy/gunicorn.conf.py crm_portal.wsgi" in web


def test_the_worker_units_serve_every_queue_and_outwait_its_longest_task():
    served: list[str] = []
    limits = {q.name: q.time_limit for q in QUEUES}
    for path in sorted((DEPLOY / "systemd").glob("crm-worker-*.service")):
        service = _unit(path.name)["Service"]
        queues = re.search(r" -Q (\S+)", service["ExecStart"])
        assert queues is not None, path.name
        names = queues.group(1).split(",")
        served += names
        assert int(service["TimeoutStopSec"]) >= max(limits[n] for n in names), path.name
    assert sorted(served) == sorted(QUEUE_NAMES)  # each queue by one unit


def test_nginx_takes_the_largest_upload_and_serves_static_files():
    conf = (DEPLOY / "nginx" / "crm.conf").read_text(encoding="utf-8")
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size is not None and int(size.group(1)) * 1024 * 1024 >= settings.INGEST_UPLOAD_MAX_BYTES
    assert re.search(
        rf"location {re.escape(settings.STATIC_URL)} \{{\s*alias \S+/{settings.STATIC_ROOT.name}/;", conf
    )
    bind = re.search(r'"GUNICORN_BIND", "([^"]+)"', (DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8"))
    assert bind is not None and f"server {bind.group(1)} " in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf  # production's SECURE_PROXY_SSL_HEADER
    # through nginx every request comes from 127.0.0.1: nginx keeps /metrics internal
    for internal in ("/metrics", "/readyz"):
        block = re.search(rf"location = {internal} \{{([^}}]*)\}}", conf)
        assert block is not None and "deny all;" in block.group(1), internal


def test_the_example_environment_names_what_production_requires():
    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "crm.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    production = (ROOT / "crm_portal" / "settings" / "production.py").read_text(encoding="utf-8")
    required = set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"(?!,\s*default)', production)) - {
        "PII_ENCRYPTION_KEYS"
    }
    assert required <= names | {"PII_KEY_FILE"}, required - names
    assert {
        "DJANGO_SETTINGS_MODULE",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "PII_KEY_FILE",
        "LOG_FORMAT",
    } <= names


def _postgresql_settings() -> dict[str, str]:
    found = {}
    for line in (DEPLOY / "postgresql" / "crm.conf").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (part.strip() for part in line.split("=", 1))
            found[name] = value.strip("'")
    return found


UNITS = {"8kB": "memory", "kB": "memory", "MB": "memory", "ms": "time", "s": "time", "min": "time"}


@pytest.mark.django_db
def test_the_servers_settings_file_holds_settings_postgresql_accepts():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL server's settings")
    wanted = _postgresql_settings()
    # the checkpoints the night needs: far fewer than the default's, whole pages compressed
    assert {"shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression"} <= set(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, vartype, unit, enumvals, context FROM pg_settings WHERE name = ANY(%s)",
            [list(wanted)],
        )
        known = {row[0]: row[1:] for row in cursor.fetchall()}
    assert set(wanted) <= set(known), set(wanted) - set(known)
    for name, value in wanted.items():
        vartype, unit, choices, context = known[name]
        assert context in ("postmaster", "sighup", "superuser"), name  # not a user's to change
        if vartype == "enum":
            assert value in choices, (name, value, choices)  # lz4: a server built with it
        else:
            amount = re.fullmatch(r"(\d+)\s*(kB|MB|GB|TB|ms|s|min|h|d)?", value)
            assert amount is not None, (name, value)
            if amount.group(2) is not None:  # else a number in the setting's own unit
                kind = "memory" if amount.group(2) in ("kB", "MB", "GB", "TB") else "time"
                assert UNITS.get(unit) == kind, (name, value, unit)
