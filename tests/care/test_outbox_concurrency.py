"""Two send jobs at the same time, each in its own transaction and connection: the
one that takes a message first holds its row lock while the channel sends, the
other skips it (SKIP LOCKED) and finds it sent afterwards. Sent once."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from care.choices import MessageStatus
from care.models import Message
from care.services import outbox
from customers.choices import ContactType
from customers.services import assignment_set_primary
from tests.customers.factories import ContactPointFactory, CustomerFactory

ENTERED = threading.Event()
RELEASE = threading.Event()
SENT: list[str] = []


class SlowSms:
    """A gateway that keeps the first job inside its transaction until released."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        SENT.append(reference)
        ENTERED.set()
        assert RELEASE.wait(20), "the test never released the gateway"


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_send_jobs_send_a_message_once(org, demo_users, settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks and SKIP LOCKED are PostgreSQL's: SQLite locks the whole database for a writer"
        )
    settings.CARE_SMS_BACKEND = "tests.care.test_outbox_concurrency.SlowSms"
    ENTERED.clear(), RELEASE.clear(), SENT.clear()
    outbox.templates_ensure()
    customer = CustomerFactory(home_branch=org["11101"], name="张伟", gender="M")
    ContactPointFactory(customer=customer, type=ContactType.MOBILE, value=customer.mobile, is_primary=True)
    assignment_set_primary(
        customer=customer, manager=demo_users["demo_cm1"], by=None, reason="t", on=datetime.date(2020, 1, 1)
    )
    # in the daytime, so the quiet hours do not hold it
    noon = datetime.datetime(2026, 6, 10, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Shanghai
    message = outbox.message_queue(
        template="birthday_sms",
        customer=customer,
        variables={"date": datetime.date(2026, 6, 10)},
        dedupe_key="overlap",
    )
    Message.objects.filter(pk=message.pk).update(next_attempt_at=noon)
    results: dict[str, dict] = {}

    def first_job() -> None:
        try:
            results["first"] = outbox.message_send_due(now=noon)
        finally:
            connection.close()

    worker = threading.Thread(target=first_job)
    worker.start()
    try:
        assert ENTERED.wait(20), "the first job never reached the gateway"
        # the first job holds the message's lock, inside the gateway
        results["second"] = outbox.message_send_due(now=noon)
    finally:
        RELEASE.set()
        worker.join(20)

    assert results["first"] == {"sent": 1}
    assert results["second"] == {"skipped": 1}
    assert len(SENT) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    # and a third run afterwards finds nothing due
    assert outbox.message_send_due(now=noon) == {}
