"""The deployment files (deploy/, docs/operations.md) agree with the code: gunicorn's
configuration loads the portal, the Celery worker units serve every queue and are
given time to finish a task before systemd kills them, nginx takes the largest
upload the portal accepts and serves the collected static files, and the example
environment names every setting production requires."""

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

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
