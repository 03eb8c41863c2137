"""Credit-report queries (credit.services, credit.views_queries): a query without the
customer's valid written authorization for its purpose is refused with the reason;
a second person in the customer's branch subtree approves; the bureau's reference or
error is stored; every write is audited; and nobody works on a customer outside
their scope."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.audit import Action
from accounts.audit_display import detail_text, value_text
from accounts.models import AuditEvent
from credit import query_selectors, services
from credit.bureau import BureauRequest, BureauResult
from credit.choices import QueryPurpose, QueryStatus
from credit.models import CreditAuthorization, CreditQuery

pytestmark = pytest.mark.django_db

LOAN = QueryPurpose.LOAN_APPROVAL
CARD = QueryPurpose.CARD_APPROVAL


class RecordingBureau:
    """Answers with a reference, keeping what it was asked."""

    asked: list[BureauRequest] = []

    def query(self, request: BureauRequest) -> BureauResult:
        RecordingBureau.asked.append(request)
        return BureauResult(reference=f"PBOC-{request.query_id}")


def _today() -> datetime.date:
    return timezone.localdate()


def _days(n: int) -> datetime.date:
    return _today() + datetime.timedelta(days=n)


@pytest.fixture
def people(make_user):
    return {
        "cm": make_user("client_manager", "11101"),
        "colleague": make_user("client_manager", "11101"),
        "head": make_user("branch_head", "11100"),
        "other_head": make_user("branch_head", "12100"),
    }


@pytest.fixture
def customer(new_customer, people):
    return new_customer(branch="11101", manager=people["cm"], name="欧阳明月")


def _authorize(customer, by, *, purpose=LOAN, signed=-10, until=100, form="SCAN-2026-001"):
    return services.authorization_record(
        customer=customer,
        form_reference=form,
        purpose=purpose,
        signed_on=_days(signed),
        valid_until=_days(until),
        by=by,
    )


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- authorizations -------------------------------------------------------------------------


def test_recording_an_authorization_is_audited(customer, people):
    authorization = _authorize(customer, people["cm"])

    assert authorization.recorded_by == people["cm"]
    [event] = _events(Action.CREDIT_AUTHORIZATION_RECORDED)
    assert event.actor == people["cm"]
    assert event.details["authorization"] == authorization.pk
    assert event.details["form_reference"] == "SCAN-2026-001"
    # the audit trail names the purpose, never its code; an unknown one as it is
    shown = detail_text(event.action, event.details)
    assert "Loan approval" in shown and "loan_approval" not in shown
    assert "Scanned form reference: SCAN-2026-001" in shown
    assert value_text("no_such_purpose", "purpose") == "no_such_purpose"


@pytest.mark.parametrize(
    ("signed", "until", "field", "words"),
    [
        (1, 100, "signed_on", "cannot be signed in the future"),
        (-10, -10, "valid_until", "must end after the day it was signed"),
        (-10, 400, "valid_until", "at most 366 days"),
    ],
)
def test_an_authorization_with_impossible_dates_is_refused(customer, people, signed, until, field, words):
    with pytest.raises(ValidationError) as refused:
        _authorize(customer, people["cm"], signed=signed, until=until)

    assert words in " ".join(refused.value.message_dict[field])
    assert not CreditAuthorization.objects.exists()
    assert not _events(Action.CREDIT_AUTHORIZATION_RECORDED)


def test_revoking_is_audited_once(customer, people):
    authorization = _authorize(customer, people["cm"])

    services.authorization_revoke(authorization=authorization, by=people["cm"])
    services.authorization_revoke(authorization=authorization, by=people["cm"])

    authorization.refresh_from_db()
    assert authorization.revoked_by == people["cm"]
    assert len(_events(Action.CREDIT_AUTHORIZATION_REVOKED)) == 1


# --- refusals -------------------------------------------------------------------------------


def _refused(customer, by, purpose=LOAN) -> CreditQuery:
    query = services.query_request(customer=customer, purpose=purpose, by=by)
    assert query.status == QueryStatus.REFUSED
    [event] = _events(Action.CREDIT_QUERY_REFUSED)
    assert event.actor == by
    assert event.details["query"] == query.pk
    assert event.details["reason"] == query.refusal
    assert not _events(Action.CREDIT_QUERY_REQUESTED)
    return query


def test_refused_without_any_authorization(customer, people):
    query = _refused(customer, people["cm"])

    assert query.refusal == "No written authorization of this customer for Loan approval is recorded."
    assert query.authorization is None


def test_refused_when_the_authorization_expired(customer, people):
    authorization = _authorize(customer, people["cm"], signed=-200, until=-1, form="SCAN-OLD")

    query = _refused(customer, people["cm"])

    assert query.refusal == (
        f"The customer's authorization for Loan approval (form SCAN-OLD) expired on {_days(-1):%Y-%m-%d}."
    )
    assert query.authorization == authorization


def test_refused_when_the_authorization_was_revoked(customer, people):
    authorization = _authorize(customer, people["cm"], form="SCAN-REV")
    services.authorization_revoke(authorization=authorization, by=people["cm"])

    query = _refused(customer, people["cm"])

    assert query.refusal == (
        f"The customer's authorization for Loan approval (form SCAN-REV) was revoked on {_today():%Y-%m-%d}."
    )


def test_refused_when_the_authorization_is_for_another_purpose(customer, people):
    _authorize(customer, people["cm"], purpose=CARD)

    query = _refused(customer, people["cm"], purpose=LOAN)

    assert (
        query.refusal
        == "The customer authorized queries for Credit card approval only, not for Loan approval."
    )


def test_refused_when_only_another_customer_authorized(customer, new_customer, people):
    other = new_customer(branch="11101", manager=people["cm"], name="李四")
    _authorize(other, people["cm"])

    query = _refused(customer, people["cm"])

    assert query.refusal == "No written authorization of this customer for Loan approval is recorded."


def test_a_valid_authorization_makes_a_pending_query(customer, people):
    authorization = _authorize(customer, people["cm"])

    query = services.query_request(customer=customer, purpose=LOAN, by=people["cm"])

    assert query.status == QueryStatus.PENDING
    assert query.authorization == authorization
    [event] = _events(Action.CREDIT_QUERY_REQUESTED)
    assert event.details["query"] == query.pk
    with pytest.raises(ValidationError, match="already waiting for approval"):
        services.query_request(customer=customer, purpose=LOAN, by=people["cm"])


# --- the decision and the bureau ----------------------------------------------------------


@pytest.fixture
def pending(customer, people):
    _authorize(customer, people["cm"])
    return services.query_request(customer=customer, purpose=LOAN, by=people["cm"])


def test_a_second_person_approves_and_the_reference_is_stored(pending, people, settings):
    settings.CREDIT_BUREAU_BACKEND = "tests.credit.test_queries.RecordingBureau"
    RecordingBureau.asked = []

    query = services.query_approve(query=pending, by=people["head"], note="核实无误")

    query.refresh_from_db()
    assert query.status == QueryStatus.DONE
    assert query.decided_by == people["head"]
    assert query.result_reference == f"PBOC-{query.pk}"
    [asked] = RecordingBureau.asked
    assert asked.customer_no == query.customer.customer_no
    assert asked.authorization_reference == "SCAN-2026-001"
    assert asked.approved_by == people["head"].employee_no
    [decided] = _events(Action.CREDIT_QUERY_DECIDED)
    assert decided.actor == people["head"]
    assert decided.details["decision"] == "approved"
    [sent] = _events(Action.CREDIT_QUERY_SENT)
    assert sent.details["reference"] == f"PBOC-{query.pk}"


def test_the_logging_bureau_answers_a_log_reference(pending, people, caplog):
    with caplog.at_level("INFO", logger="credit.bureau"):
        query = services.query_approve(query=pending, by=people["head"])

    assert query.result_reference == f"LOG-{query.pk}"
    # no personal data in the log line
    assert "欧阳" not in caplog.text
    assert query.customer.id_number not in caplog.text


def test_the_requester_cannot_approve_their_own_query(customer, people):
    _authorize(customer, people["head"])
    query = services.query_request(customer=customer, purpose=LOAN, by=people["head"])

    assert query not in query_selectors.queries_to_decide(people["head"])  # not offered
    with pytest.raises(PermissionDenied, match="another user must decide"):
        services.query_approve(query=query, by=people["head"])

    query.refresh_from_db()
    assert query.status == QueryStatus.PENDING
    assert not _events(Action.CREDIT_QUERY_DECIDED)


def test_a_client_manager_cannot_approve(pending, people):
    with pytest.raises(PermissionDenied):
        services.query_approve(query=pending, by=people["colleague"])


def test_a_branch_head_outside_the_customers_branch_cannot_approve(pending, people):
    with pytest.raises(PermissionDenied, match="not in your scope"):
        services.query_approve(query=pending, by=people["other_head"])

    pending.refresh_from_db()
    assert pending.status == QueryStatus.PENDING


def test_a_rejection_needs_a_reason(pending, people):
    with pytest.raises(ValidationError, match="Give a reason"):
        services.query_reject(query=pending, by=people["head"], note="")

    query = services.query_reject(query=pending, by=people["head"], note="用途与授权不符")

    assert query.status == QueryStatus.REJECTED
    [event] = _events(Action.CREDIT_QUERY_DECIDED)
    assert event.details["decision"] == "rejected"
    assert event.details["note"] == "用途与授权不符"
    assert not _events(Action.CREDIT_QUERY_SENT)


def test_an_authorization_revoked_since_the_request_stops_the_approval(pending, people):
    services.authorization_revoke(authorization=pending.authorization, by=people["cm"])

    with pytest.raises(ValidationError, match="was revoked on"):
        services.query_approve(query=pending, by=people["head"])

    pending.refresh_from_db()
    assert pending.status == QueryStatus.PENDING


def test_a_failing_bureau_leaves_the_query_failed_and_it_can_be_sent_again(pending, people, settings):
    settings.CREDIT_BUREAU_BACKEND = "tests.credit.world_queries.FailingBureau"

    query = services.query_approve(query=pending, by=people["head"])

    query.refresh_from_db()
    assert query.status == QueryStatus.FAILED
    assert query.failure == "bureau unreachable (timeout after 30 s)"
    assert query.result_reference == ""
    [sent] = _events(Action.CREDIT_QUERY_SENT)
    assert sent.details["error"] == "bureau unreachable (timeout after 30 s)"
    with pytest.raises(PermissionDenied):
        services.query_retry(query=query, by=people["cm"])

    settings.CREDIT_BUREAU_BACKEND = "credit.bureau.LoggingBureau"
    query = services.query_retry(query=query, by=people["head"])

    assert query.status == QueryStatus.DONE
    assert query.result_reference == f"LOG-{query.pk}"
    assert query.failure == ""
    assert len(_events(Action.CREDIT_QUERY_SENT)) == 2


def test_only_the_requester_withdraws(pending, people):
    with pytest.raises(PermissionDenied):
        services.query_withdraw(query=pending, by=people["head"])

    query = services.query_withdraw(query=pending, by=people["cm"])

    assert query.status == QueryStatus.WITHDRAWN
    [event] = _events(Action.CREDIT_QUERY_DECIDED)
    assert event.details["decision"] == "withdrawn"


# --- the pages ------------------------------------------------------------------------------


def _authorization_data(**changes) -> dict[str, str]:
    return {
        "form_reference": "SCAN-PAGE-7",
        "purpose": LOAN,
        "signed_on": _days(-1).isoformat(),
        "valid_until": _days(180).isoformat(),
        **changes,
    }


def test_a_manager_records_and_requests_from_the_customer_page(client, login, customer, people):
    login(people["cm"])
    url = f"/credit/queries/customer/{customer.customer_no}/"

    page = client.get(url)
    assert page.status_code == 200
    assert "欧阳*" in page.content.decode()  # the name masked
    assert "欧阳明月" not in page.content.decode()

    recorded = client.post(f"{url}authorizations/", _authorization_data(), follow=True)
    assert "Authorization of" in recorded.content.decode()
    assert CreditAuthorization.objects.filter(customer=customer, form_reference="SCAN-PAGE-7").exists()

    asked = client.post(f"{url}request/", {"purpose": LOAN}, follow=True)
    assert "it waits for a second person&#x27;s approval" in asked.content.decode()
    assert CreditQuery.objects.get(customer=customer).status == QueryStatus.PENDING


def test_the_page_says_why_a_query_was_refused(client, login, customer, people):
    login(people["cm"])

    response = client.post(
        f"/credit/queries/customer/{customer.customer_no}/request/", {"purpose": CARD}, follow=True
    )

    text = response.content.decode()
    assert "refused: No written authorization of this customer for Credit card approval is recorded." in text
    assert "Refused" in text  # the status by its label, in the customer's queries


def test_impossible_dates_come_back_on_the_form(client, login, customer, people):
    login(people["cm"])

    response = client.post(
        f"/credit/queries/customer/{customer.customer_no}/authorizations/",
        _authorization_data(valid_until=_days(-5).isoformat()),
    )

    assert response.status_code == 400
    assert "must end after the day it was signed" in response.content.decode()
    assert not CreditAuthorization.objects.exists()


def test_a_manager_cannot_work_on_a_customer_outside_their_scope(client, login, customer, people):
    login(people["colleague"])
    url = f"/credit/queries/customer/{customer.customer_no}/"

    assert client.get(url).status_code == 404
    assert client.post(f"{url}authorizations/", _authorization_data()).status_code == 404
    assert client.post(f"{url}request/", {"purpose": LOAN}).status_code == 404
    assert not CreditAuthorization.objects.exists()
    assert not CreditQuery.objects.exists()
    with pytest.raises(PermissionDenied):
        services.query_request(customer=customer, purpose=LOAN, by=people["colleague"])


def test_the_branch_head_approves_from_the_queue(client, login, pending, people):
    login(people["head"])

    queue = client.get("/credit/queries/approvals/")
    assert queue.status_code == 200
    assert pending.customer.customer_no in queue.content.decode()

    no_reason = client.post(f"/credit/queries/{pending.pk}/reject/", {"note": ""}, follow=True)
    assert "Give a reason (at least 4 characters)." in no_reason.content.decode()
    pending.refresh_from_db()
    assert pending.status == QueryStatus.PENDING

    approved = client.post(f"/credit/queries/{pending.pk}/approve/", {"note": ""}, follow=True)
    assert f"report reference LOG-{pending.pk}" in approved.content.decode()


def test_a_branch_head_of_another_branch_gets_404(client, login, pending, people):
    login(people["other_head"])

    assert client.post(f"/credit/queries/{pending.pk}/approve/").status_code == 404
    assert "nothing-to-decide" in client.get("/credit/queries/approvals/").content.decode()
    pending.refresh_from_db()
    assert pending.status == QueryStatus.PENDING


def test_the_list_filters_and_masks(client, login, pending, customer, new_customer, people):
    other = new_customer(branch="11101", manager=people["cm"], name="赵六")
    services.query_request(customer=other, purpose=CARD, by=people["cm"])  # refused
    login(people["head"])

    everything = client.get("/credit/queries/")
    refused = client.get("/credit/queries/", {"status": QueryStatus.REFUSED})
    by_number = client.get("/credit/queries/", {"q": customer.customer_no})
    bad_range = client.get(
        "/credit/queries/", {"date_from": _days(0).isoformat(), "date_to": _days(-3).isoformat()}
    )

    assert everything.content.decode().count('data-testid="query-row"') == 2
    assert "欧阳明月" not in everything.content.decode()
    assert refused.content.decode().count('data-testid="query-row"') == 1
    assert other.customer_no in refused.content.decode()
    assert by_number.content.decode().count('data-testid="query-row"') == 1
    assert customer.customer_no in by_number.content.decode()
    assert bad_range.status_code == 400
    assert "The date range ends before it starts." in bad_range.content.decode()


def test_the_list_filters_by_requester_and_purpose(client, login, pending, people, customer):
    login(people["head"])

    mine = client.get("/credit/queries/", {"requester": people["cm"].employee_no, "purpose": LOAN})
    theirs = client.get("/credit/queries/", {"requester": people["cm"].employee_no, "purpose": CARD})

    assert mine.content.decode().count('data-testid="query-row"') == 1
    assert theirs.content.decode().count('data-testid="query-row"') == 0


def test_the_pages_read_a_bounded_number_of_queries(
    client, login, customer, new_customer, people, django_assert_max_num_queries
):
    for name in ("赵六", "钱七", "孙八"):
        other = new_customer(branch="11101", manager=people["cm"], name=name)
        _authorize(other, people["cm"])
        services.query_request(customer=other, purpose=LOAN, by=people["cm"])
        services.query_request(customer=other, purpose=CARD, by=people["cm"])  # refused
    _authorize(customer, people["cm"])
    services.query_request(customer=customer, purpose=LOAN, by=people["cm"])
    login(people["head"])
    # each page: the request's own (session, user, permissions, scope: 7), its reads
    # (3 whatever the number of rows), the session saved (3)

    with django_assert_max_num_queries(13):
        listed = client.get("/credit/queries/")
    with django_assert_max_num_queries(13):
        queue = client.get("/credit/queries/approvals/")
    with django_assert_max_num_queries(13):
        page = client.get(f"/credit/queries/customer/{customer.customer_no}/")

    assert listed.content.decode().count('data-testid="query-row"') == 7
    assert queue.content.decode().count('data-testid="query-to-decide"') == 4
    assert page.status_code == 200
