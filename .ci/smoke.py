"""Embedded-default smoke test: every demo user logs in through the real login
form and gets their home page; the health endpoint answers."""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
os.environ["DEBUG"] = "False"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from demo.org import DEMO_USERS  # noqa: E402

logging.getLogger("django.request").setLevel(logging.ERROR)  # the expected 403 is not news
setup_test_environment()  # response.context, and "testserver" as an allowed host
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
    listing = client.get("/customers/")
    if username == "demo_pm":
        if listing.status_code != 403:
            failures.append(f"{username}: /customers/ answered {listing.status_code}, not 403")
        continue
    if listing.status_code != 200 or not listing.context["customers"]:
        failures.append(f"{username}: /customers/ answered {listing.status_code} with no customers")
        continue
    first = listing.context["customers"][0]
    if client.get(f"/customers/{first.customer_no}/").status_code != 200:
        failures.append(f"{username}: 360 view of {first.customer_no} did not answer 200")
if failures:
    print("SMOKE FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"smoke: healthz ok; {len(DEMO_USERS)} demo users saw their home page, customers and a 360 view")
