"""The outbox: the contact policy applied when a message is sent (quiet hours hold
and never drop, the frequency cap counts campaign contacts and care messages
together in both directions, opt-out per channel refuses with the reason), a
message sent once under a repeated job, retries with back-off then failure, no full
personal data in a body or a log, care messages from alerts once per alert."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from care.choices import AlertKind, MessageStatus, ServiceKind, SubscriptionChannel
from care.models import Alert, Message, MessageTemplate
from care.models.outbox import render_text, validate_template_text
from care.selectors.outbox import messages_for, messages_needing_attention
from care.services import outbox
from care.services.subscriptions import subscription_add
from customers.choices import ContactType
from customers.services import assignment_set_primary
from marketing import services as marketing
from marketing.choices import ContactOutcome
from marketing.policy import ContactRefused
from tests.customers.factories import AccountFactory, ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
SENT: list[tuple[str, str]] = []


def at(day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


class RecordingSms:
    """An SMS gateway that records what it was given."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        SENT.append((to, text))


class FailingSms:
    def send(self, *, to: str, text: str, reference: str) -> None:
        raise ConnectionError("gateway down")


class Clock:
    def __init__(self, moment: datetime.datetime):
        self.moment = moment

    def __call__(self) -> datetime.datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moment = Clock(at(10, 12))
    monkeypatch.setattr("django.utils.timezone.now", moment)
    return moment


@pytest.fixture(autouse=True)
def _outbox(settings):
    settings.CARE_SMS_BACKEND = "tests.care.test_outbox.RecordingSms"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SENT.clear()
    outbox.register_policy_source()
    outbox.templates_ensure()


@pytest.fixture
def cm1(demo_users):
    return demo_users["demo_cm1"]


@pytest.fixture
def make_customer(org, demo_users):
    def _make(manager="demo_cm1", branch="11101", **fields):
        defaults = {"name": "王建国", "gender": "M"}
        customer = CustomerFactory(home_branch=org[branch], **{**defaults, **fields})
        ContactPointFactory(
            customer=customer, type=ContactType.MOBILE, value=customer.mobile, is_primary=True
        )
        ContactPointFactory(customer=customer, type=ContactType.EMAIL, value="wangjianguo@example.com")
        assignment_set_primary(
            customer=customer,
            manager=demo_users[manager],
            by=None,
            reason="test",
            on=datetime.date(2020, 1, 1),
        )
        customer.refresh_from_db()
        return customer

    return _make


@pytest.fixture
def customer(make_customer):
    return make_customer()


def greet(customer, key="greeting", template="birthday_sms", **options) -> Message:
    return outbox.message_queue(
        template=template,
        customer=customer,
        variables={"date": datetime.date(2026, 6, 10), "age": 60},
        dedupe_key=key,
        **options,
    )


def send(clock: Clock, moment: datetime.datetime) -> dict[str, int]:
    clock.moment = moment
    return outbox.message_send_due()


def reload(message: Message) -> Message:
    message.refresh_from_db()
    return message


class TestQuietHours:
    def test_a_message_in_quiet_hours_is_held_until_they_end_then_sent(self, clock, customer):
        clock.moment = at(10, 22)
        message = greet(customer)

        send(clock, at(10, 22, 5))

        message = reload(message)
        assert message.status == MessageStatus.HELD
        assert message.held_until == at(11, 8)
        assert "held until 2026-06-11 08:00" in message.reason
        assert SENT == []

        send(clock, at(11, 7, 55))  # still quiet: not due, nothing happens
        assert reload(message).status == MessageStatus.HELD

        send(clock, at(11, 8, 0))
        message = reload(message)
        assert message.status == MessageStatus.SENT
        assert message.sent_at == at(11, 8)
        assert len(SENT) == 1

    def test_held_not_dropped_even_when_its_validity_passes_in_the_quiet_hours(self, clock, customer):
        clock.moment = at(10, 22)
        message = greet(customer, valid_until=at(11, 0))

        send(clock, at(10, 22, 5))
        send(clock, at(11, 8))

        assert reload(message).status == MessageStatus.SENT

    def test_the_outbox_page_shows_held_until(self, clock, customer, login, cm1, demo_password, monkeypatch):
        clock.moment = at(10, 23)
        greet(customer)
        send(clock, at(10, 23, 5))
        monkeypatch.undo()  # the real clock again for logging in
        client = login(cm1, demo_password)

        page = client.get("/care/outbox/?status=held")

        assert page.status_code == 200
        text = page.content.decode()
        assert "Held until 2026-06-11 08:00" in text
        assert "Quiet hours (21:00-08:00)" in text

    def test_e_mail_is_not_under_the_quiet_hours_of_the_default_policy(self, clock, customer):
        clock.moment = at(10, 23)
        message = greet(customer, template="birthday_email")

        send(clock, at(10, 23, 5))

        assert reload(message).status == MessageStatus.SENT
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["wangjianguo@example.com"]
        assert "王先生" in mail.outbox[0].body


class TestFrequencyCap:
    def log_contact(self, cm1, customer, moment):
        return marketing.contact_log(
            user=cm1,
            customer=customer,
            channel="call",
            outcome=ContactOutcome.NOT_REACHED,
            occurred_at=moment,
        )

    def test_campaign_contacts_fill_the_cap_a_care_message_is_held_until_a_slot_frees(
        self, clock, cm1, customer
    ):
        for day in (1, 2, 3):
            self.log_contact(cm1, customer, at(day))
        clock.moment = at(4, 12)
        message = greet(customer)

        send(clock, at(4, 12))

        message = reload(message)
        assert message.status == MessageStatus.HELD
        assert message.reason_code == "frequency"
        assert message.held_until == at(8, 10)  # the first contact leaves the 7-day window
        assert "3 contacts within 7 days" in message.reason
        assert "Held until 2026-06-08 10:00" in message.reason

        send(clock, at(8, 10))
        assert reload(message).status == MessageStatus.SENT

    def test_over_the_cap_with_no_slot_before_it_lapses_it_is_refused_with_the_reason(
        self, clock, cm1, customer
    ):
        for day in (1, 2, 3):
            self.log_contact(cm1, customer, at(day))
        clock.moment = at(4, 12)
        message = greet(customer, valid_until=at(6, 0))

        send(clock, at(4, 12))

        message = reload(message)
        assert message.status == MessageStatus.REFUSED
        assert "No slot frees before the message lapses on 2026-06-06 00:00" in message.reason
        assert SENT == []

    def test_a_sent_care_message_counts_in_marketings_cap(self, clock, cm1, customer):
        self.log_contact(cm1, customer, at(1))
        self.log_contact(cm1, customer, at(2))
        clock.moment = at(4, 12)
        greet(customer)
        send(clock, at(4, 12))
        assert len(SENT) == 1

        with pytest.raises(ContactRefused) as refused:
            self.log_contact(cm1, customer, at(5))

        assert refused.value.code == "frequency"
        assert "already had 3 marketing contacts" in refused.value.messages[0]

    def test_care_messages_alone_count_against_the_cap(self, clock, customer):
        for day in (1, 2, 3):
            clock.moment = at(day, 12)
            greet(customer, key=f"g{day}")
            send(clock, at(day, 12))
        clock.moment = at(4, 12)
        fourth = greet(customer, key="g4")

        send(clock, at(4, 12))

        assert reload(fourth).status == MessageStatus.HELD
        assert len(SENT) == 3


class TestWhoMayReceive:
    def test_opted_out_of_sms_a_greeting_by_sms_is_refused_with_the_reason_e_mail_still_goes(
        self, clock, make_customer
    ):
        customer = make_customer(consent_sms=False)
        by_sms = greet(customer, key="sms")
        by_email = greet(customer, key="email", template="birthday_email")

        send(clock, at(10, 12))

        by_sms = reload(by_sms)
        assert by_sms.status == MessageStatus.REFUSED
        assert by_sms.reason == "The customer has opted out of SMS."
        assert reload(by_email).status == MessageStatus.SENT
        assert SENT == [] and len(mail.outbox) == 1

    def test_a_maturity_notice_by_sms_needs_sms_consent_or_a_notice_subscription(
        self, clock, cm1, make_customer
    ):
        opted_out = make_customer(consent_sms=False)
        subscribed = make_customer(consent_sms=False)
        subscription_add(
            customer=subscribed,
            service=ServiceKind.PHONE_NOTICE,
            channel=SubscriptionChannel.PHONE,
            consent_date=datetime.date(2026, 6, 1),
            user=cm1,
        )
        variables = {"date": datetime.date(2026, 6, 20), "amount": Decimal("500000"), "account_tail": "1496"}
        refused = outbox.message_queue(
            template="maturity_sms", customer=opted_out, variables=variables, dedupe_key="a"
        )
        allowed = outbox.message_queue(
            template="maturity_sms", customer=subscribed, variables=variables, dedupe_key="b"
        )

        send(clock, at(10, 12))

        refused = reload(refused)
        assert refused.status == MessageStatus.REFUSED
        assert "no service subscription for notices by SMS" in refused.reason
        assert reload(allowed).status == MessageStatus.SENT

    def test_a_greeting_is_not_sent_on_a_subscription_alone(self, clock, cm1, make_customer):
        customer = make_customer(consent_sms=False)
        subscription_add(
            customer=customer,
            service=ServiceKind.SMS_BALANCE_ALERT,
            channel=SubscriptionChannel.SMS,
            consent_date=datetime.date(2026, 6, 1),
            user=cm1,
        )
        message = greet(customer)

        send(clock, at(10, 12))

        assert reload(message).status == MessageStatus.REFUSED


class TestSentOnce:
    def test_the_same_event_queued_twice_is_one_message(self, clock, customer):
        first = greet(customer, key="birthday:alert:1")
        second = greet(customer, key="birthday:alert:1")

        assert first.pk == second.pk
        assert Message.objects.count() == 1

    def test_the_send_job_run_twice_sends_once(self, clock, customer):
        message = greet(customer)

        first = send(clock, at(10, 12))
        second = send(clock, at(10, 12, 1))

        assert first == {"sent": 1}
        assert second == {}
        assert len(SENT) == 1
        assert reload(message).attempts == 1


class TestRetries:
    def test_a_failing_channel_is_retried_with_back_off_then_fails(self, clock, customer, settings):
        settings.CARE_SMS_BACKEND = "tests.care.test_outbox.FailingSms"
        clock.moment = at(10, 12)
        message = greet(customer)
        gaps = []
        moment = at(10, 12)
        for attempt in range(1, outbox.MAX_ATTEMPTS):
            send(clock, moment)
            message = reload(message)
            assert (message.status, message.attempts) == (MessageStatus.QUEUED, attempt)
            assert "SMS: ConnectionError" in message.reason
            gaps.append(message.next_attempt_at - moment)
            send(clock, message.next_attempt_at - datetime.timedelta(seconds=1))  # not yet due
            assert reload(message).attempts == attempt
            moment = message.next_attempt_at

        send(clock, moment)

        message = reload(message)
        assert [gap.total_seconds() / 60 for gap in gaps] == [2, 4, 8, 16]
        assert message.status == MessageStatus.FAILED
        assert message.attempts == outbox.MAX_ATTEMPTS
        assert message.reason.startswith("Failed after 5 attempts")
        assert message.next_attempt_at is None

    def test_a_retry_that_succeeds_is_sent(self, clock, customer, settings):
        settings.CARE_SMS_BACKEND = "tests.care.test_outbox.FailingSms"
        message = greet(customer)
        send(clock, at(10, 12))
        settings.CARE_SMS_BACKEND = "tests.care.test_outbox.RecordingSms"

        send(clock, at(10, 12, 2))

        message = reload(message)
        assert (message.status, message.attempts, message.reason) == (MessageStatus.SENT, 2, "")


class TestNoPersonalData:
    def test_bodies_greet_by_surname_and_title_and_show_only_the_account_tail(
        self, clock, make_customer, caplog, settings
    ):
        customer = make_customer(name="欧阳明华", gender="F")
        account = AccountFactory(customer=customer, account_no="6222020200112233445")
        caplog.set_level(logging.INFO)
        settings.CARE_SMS_BACKEND = "care.channels.LoggingSmsBackend"
        message = outbox.message_queue(
            template="maturity_sms",
            customer=customer,
            variables={
                "date": datetime.date(2026, 6, 20),
                "amount": Decimal("500000"),
                "account_tail": "3445",
            },
            dedupe_key="m",
        )

        send(clock, at(10, 12))

        message = reload(message)
        assert message.status == MessageStatus.SENT
        assert message.body.startswith(
            "尊敬的欧阳女士，您尾号3445的账户将于2026-06-20到期，金额500,000.00元。"
        )
        assert message.destination_masked == f"{customer.mobile[:3]}****{customer.mobile[-4:]}"
        secrets = [customer.name, customer.id_number, customer.mobile, account.account_no, "wangjianguo"]
        stored = f"{message.body} {message.subject} {message.variables} {message.destination_masked}"
        logged = caplog.text
        for secret in secrets:
            assert secret not in stored
            assert secret not in logged
        assert f"{customer.mobile[:3]}****{customer.mobile[-4:]}" in logged  # the masked line of the SMS log

    def test_variables_are_numbers_and_dates_only(self, clock, customer):
        with pytest.raises(ValidationError):
            outbox.message_queue(
                template="maturity_sms", customer=customer, variables={"amount": "王建国"}, dedupe_key="x"
            )
        with pytest.raises(ValidationError):
            outbox.message_queue(
                template="maturity_sms", customer=customer, variables={"id_number": "1101"}, dedupe_key="y"
            )
        assert not Message.objects.exists()

    def test_templates_use_only_whitelisted_variables_and_are_not_interpreted(self, db):
        with pytest.raises(ValidationError):
            validate_template_text("您好{customer.id_number}")
        with pytest.raises(ValidationError):
            validate_template_text("您好{mobile}")
        with pytest.raises(ValidationError):
            validate_template_text("{0.__class__}")
        template = MessageTemplate(code="bad", name="bad", channel="sms", purpose="greeting", body="{name}")
        with pytest.raises(ValidationError):
            template.full_clean()
        # a value is inserted as text, never formatted again
        assert render_text("{date} {amount}", {"date": "{name_title}", "amount": "1"}) == "{name_title} 1"

    def test_an_inactive_template_is_not_used(self, clock, customer):
        MessageTemplate.objects.filter(code="birthday_sms").update(active=False)
        with pytest.raises(ValidationError):
            greet(customer)


class TestInApp:
    def test_an_in_app_message_to_a_user_is_delivered_at_once_and_shown_to_them_only(self, demo_users):
        template = MessageTemplate.objects.create(
            code="note", name="note", channel="in_app", purpose="internal", body="{date} 有 {age} 位客户生日"
        )
        message = outbox.message_queue(
            template=template,
            recipient_user=demo_users["demo_cm1"],
            variables={"date": datetime.date(2026, 6, 10), "age": 3},
            dedupe_key="note:1",
        )

        assert message.status == MessageStatus.SENT
        assert messages_for(demo_users["demo_cm1"], 5) == [message]
        assert messages_for(demo_users["demo_cm2"], 5) == []
        assert message not in Message.objects.visible_to(demo_users["demo_cm2"])


class TestFromAlerts:
    def alert(self, customer, kind, figures, event_key, event_date):
        return Alert.objects.create(
            kind=kind,
            customer=customer,
            event_key=event_key,
            event_date=event_date,
            due_date=event_date,
            figures=figures,
            assignee=customer.primary_manager,
            branch=customer.home_branch,
        )

    def test_a_greeting_and_a_notice_per_open_alert_once_within_consent(self, clock, cm1, make_customer):
        clock.moment = at(5, 7, 30)
        happy = make_customer()
        silent = make_customer(consent_sms=False, consent_email=False)
        noticed = make_customer(consent_sms=False, consent_email=False)
        subscription_add(
            customer=noticed,
            service=ServiceKind.PHONE_NOTICE,
            channel=SubscriptionChannel.SMS,
            consent_date=datetime.date(2026, 6, 1),
            user=cm1,
        )
        birthday = {"birthday": "2026-06-10", "age": 60, "calendar": "solar"}
        maturity = {
            "account_tail": "1496",
            "category": "DEP_TIME",
            "maturity_date": "2026-06-20",
            "amount": "500000.00",
        }
        greeting_alert = self.alert(happy, AlertKind.BIRTHDAY, birthday, "2026", datetime.date(2026, 6, 10))
        self.alert(silent, AlertKind.BIRTHDAY, birthday, "2026", datetime.date(2026, 6, 10))
        notice_alert = self.alert(
            noticed, AlertKind.MATURITY, maturity, "1:2026-06-20", datetime.date(2026, 6, 20)
        )

        first = outbox.care_messages_from_alerts(day=datetime.date(2026, 6, 5))
        second = outbox.care_messages_from_alerts(day=datetime.date(2026, 6, 5))

        assert first == {"queued": 2, "not_allowed": 1, "lapsed": 0}
        assert second == {"queued": 0, "not_allowed": 1, "lapsed": 0}
        greeting = Message.objects.get(alert=greeting_alert)
        assert greeting.dedupe_key == f"birthday:alert:{greeting_alert.pk}"
        assert greeting.next_attempt_at == at(10, 9)  # on the birthday, at nine
        assert greeting.body.startswith("尊敬的王先生，今天是您的生日")
        notice = Message.objects.get(alert=notice_alert)
        assert notice.channel == "sms" and notice.next_attempt_at == at(5, 9)
        assert "尾号1496" in notice.body and "500,000.00" in notice.body
        assert notice.variables == {"date": "2026-06-20", "amount": "500,000.00", "account_tail": "1496"}

        assert send(clock, at(5, 9)) == {"sent": 1}  # the notice; the greeting waits for its day
        assert send(clock, at(10, 9)) == {"sent": 1}


class TestOutboxPage:
    @pytest.fixture
    def messages(self, make_customer):
        own = make_customer()
        colleague = make_customer(manager="demo_cm2", branch="11102")
        shanghai = make_customer(manager="demo_cm3", branch="12101")
        rows = {}
        for name, customer in (("own", own), ("colleague", colleague), ("shanghai", shanghai)):
            rows[name] = greet(customer, key=name)
        Message.objects.filter(pk=rows["own"].pk).update(
            status=MessageStatus.REFUSED, reason_code="opted_out", reason_params={"channel": "sms"}
        )
        return rows

    def test_a_manager_sees_their_customers_messages_only_masked_with_labels(
        self, login, demo_users, demo_password, messages, django_assert_max_num_queries
    ):
        client = login(demo_users["demo_cm1"], demo_password)
        with django_assert_max_num_queries(12):
            page = client.get("/care/outbox/")
        text = page.content.decode()
        assert page.status_code == 200
        assert f'data-testid="message-{messages["own"].pk}"' in text
        assert f'data-testid="message-{messages["colleague"].pk}"' not in text
        assert "王*" in text and "王建国" not in text  # the name masked
        assert messages["own"].customer.mobile not in text
        assert "Refused" in text and "The customer has opted out of SMS." in text
        assert ">refused<" not in text and ">sms<" not in text  # labels, not codes

    def test_a_branch_head_sees_their_subtree(self, login, demo_users, demo_password, messages):
        client = login(demo_users["demo_bh"], demo_password)
        text = client.get("/care/outbox/").content.decode()
        assert f'data-testid="message-{messages["own"].pk}"' in text
        assert f'data-testid="message-{messages["colleague"].pk}"' in text
        assert f'data-testid="message-{messages["shanghai"].pk}"' not in text

    def test_filters_and_a_bad_filter(self, login, demo_users, demo_password, messages):
        client = login(demo_users["demo_bh"], demo_password)
        refused = client.get("/care/outbox/?status=refused&channel=sms").content.decode()
        assert f'data-testid="message-{messages["own"].pk}"' in refused
        assert f'data-testid="message-{messages["colleague"].pk}"' not in refused
        bad = client.get("/care/outbox/?status=lost")
        assert bad.status_code == 400
        assert 'data-testid="filter-error"' in bad.content.decode()
        backwards = client.get("/care/outbox/?date_from=2026-06-10&date_to=2026-06-01")
        assert backwards.status_code == 400

    def test_pagination(self, login, demo_users, demo_password, make_customer):
        customer = make_customer()
        for n in range(55):
            greet(customer, key=f"p{n}")
        client = login(demo_users["demo_cm1"], demo_password)
        first = client.get("/care/outbox/").content.decode()
        second = client.get("/care/outbox/?page=2").content.decode()
        assert first.count('data-testid="message-') == 50
        assert second.count('data-testid="message-') == 5

    def test_a_role_without_the_outbox_is_refused(self, login, demo_users, demo_password, messages):
        client = login(demo_users["demo_pm"], demo_password)
        assert client.get("/care/outbox/").status_code == 403

    def test_home_helper_lists_held_and_refused_of_the_managers_customers(self, demo_users, messages):
        attention = messages_needing_attention(demo_users["demo_cm1"], 5)
        assert [m.pk for m in attention] == [messages["own"].pk]
        assert messages_needing_attention(demo_users["demo_cm2"], 5) == []
