"""Embedded-default smoke test: every demo user logs in through the real login
form and gets their home page; the health endpoint answers."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
os.environ["DEBUG"] = "False"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.demo import DEMO_USERS  # noqa: E402

failures = []
health = Client().get("/healthz")
if health.status_code != 200 or health.json() != {"database": "ok", "broker": "eager"}:
    failures.append(f"healthz: {health.status_code} {health.content!r}")
for username, *_ in DEMO_USERS:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": settings.DEMO_PASSWORD})
    if response.status_code != 302:
        failures.append(f"{username}: login answered {response.status_code}")
        continue
    home = client.get("/")
    if home.status_code != 200 or b'data-testid="home-title"' not in home.content:
        failures.append(f"{username}: home answered {home.status_code}")
if failures:
    print("SMOKE FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"smoke: healthz ok, {len(DEMO_USERS)} demo users logged in and saw their home page")
