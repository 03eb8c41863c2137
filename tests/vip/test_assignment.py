"""Who looks after whom: assignment from the pool, transfers with approval, recall
of a leaving manager's book, temporary shares that expire, batch assignment, and
the database's one-open-primary rule under two racing transactions."""

import datetime
import io
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.roles import Role
from accounts.services import user_disable
from care.choices import AlertKind
from care.models import Alert
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from customers.services import assignment_set_primary
from tests.customers.conftest import log_in
from vip.choices import BatchRowOutcome, TransferStatus
from vip.models import AssignmentBatch, TransferRequest
from vip.services import (
    batch_execute,
    batch_prepare,
    customer_assign,
    customer_share,
    customers_recall,
    manager_book_recall,
    parse_assignment_file,
    shares_expire,
    transfer_approve,
    transfer_reject,
    transfer_request,
)

pytestmark = pytest.mark.django_db


def _open_primaries(customer):
    return list(
        CustomerAssignment.objects.filter(
            customer=customer, role=AssignmentRole.PRIMARY, end_date__isnull=True
        )
    )


class TestAssign:
    def test_a_pool_customer_is_assigned_with_history_audit_and_a_reminder(self, users, new_customer):
        customer = new_customer(branch="11101")
        customer_assign(
            customer=customer, manager=users["demo_cm1"], by=users["demo_bh"], reason="new account"
        )
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm1"]
        (row,) = _open_primaries(customer)
        assert (
            row.manager == users["demo_cm1"]
            and row.created_by == users["demo_bh"]
            and row.reason == "new account"
        )
        assert AuditEvent.objects.filter(
            action=Action.ASSIGNMENT_CHANGED, target_id=str(customer.pk)
        ).exists()
        assigned = Alert.objects.get(assignee=users["demo_cm1"], kind=AlertKind.CUSTOMER_ASSIGNED)
        assert assigned.figures == {"by": users["demo_bh"].employee_no} and assigned.customer == customer

    def test_a_customer_with_a_manager_moves_only_by_transfer(self, users, new_customer):
        customer = new_customer(manager=users["demo_cm1"])
        with pytest.raises(ValidationError, match="request a transfer"):
            customer_assign(
                customer=customer, manager=users["demo_cm2"], by=users["demo_bh"], reason="move it"
            )
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm1"]

    def test_only_to_an_active_client_manager_within_reach(self, users, new_customer):
        customer = new_customer(branch="11101")
        with pytest.raises(ValidationError):  # not a client manager
            customer_assign(customer=customer, manager=users["demo_bm"], by=users["demo_bh"], reason="no way")
        with pytest.raises(ValidationError):  # a manager in Shanghai, outside the branch head's subtree
            customer_assign(
                customer=customer, manager=users["demo_cm3"], by=users["demo_bh"], reason="no way"
            )
        with pytest.raises(PermissionDenied):  # a client manager may not assign
            customer_assign(
                customer=customer, manager=users["demo_cm1"], by=users["demo_cm2"], reason="no way"
            )
        other = new_customer(branch="12101")
        with pytest.raises(PermissionDenied):  # a customer outside the branch head's scope
            customer_assign(customer=other, manager=users["demo_cm1"], by=users["demo_bh"], reason="no way")
        assert not CustomerAssignment.objects.exists()


class TestTransfer:
    def test_a_transfer_takes_effect_only_when_approved_and_keeps_the_history(self, users, new_customer):
        cm1, cm2, bh = users["demo_cm1"], users["demo_cm2"], users["demo_bh"]
        customer = new_customer(manager=cm1)
        # given: the manager asks for the customer to go to a colleague
        transfer = transfer_request(customer=customer, to_manager=cm2, by=cm1, reason="moved to Wudaokou")
        customer.refresh_from_db()
        assert customer.primary_manager == cm1  # nothing yet
        # the requester cannot approve, nor can the new manager's colleague without the right
        with pytest.raises(PermissionDenied):
            transfer_approve(transfer=transfer, by=cm1)
        with pytest.raises(PermissionDenied):
            transfer_approve(transfer=transfer, by=cm2)
        # a second request for the same customer waits behind the first
        with pytest.raises(ValidationError):
            transfer_request(customer=customer, to_manager=cm2, by=bh, reason="again please")
        # when: the branch head approves
        transfer_approve(transfer=transfer, by=bh, note="fine")
        # then
        customer.refresh_from_db()
        transfer.refresh_from_db()
        assert customer.primary_manager == cm2
        assert transfer.status == TransferStatus.APPROVED and transfer.decided_by == bh
        history = list(
            customer.assignments.order_by("start_date", "id").values_list("manager_id", "end_date")
        )
        assert history[0] == (cm1.pk, timezone.localdate()) and history[1] == (cm2.pk, None)
        details = [
            e.details
            for e in AuditEvent.objects.filter(action=Action.ASSIGNMENT_CHANGED, target_id=str(customer.pk))
        ]
        assert {d.get("status") for d in details} >= {"requested", "approved"}
        assert any(d.get("to") == cm2.employee_no and d.get("from") == cm1.employee_no for d in details)
        assert Alert.objects.filter(
            assignee=cm2, customer=customer, kind=AlertKind.CUSTOMER_ASSIGNED
        ).exists()

    def test_a_rejected_transfer_changes_nothing(self, users, new_customer):
        customer = new_customer(manager=users["demo_cm1"])
        transfer = transfer_request(
            customer=customer, to_manager=users["demo_cm2"], by=users["demo_cm1"], reason="asking"
        )
        with pytest.raises(ValidationError):
            transfer_reject(transfer=transfer, by=users["demo_bh"], note="")
        transfer_reject(transfer=transfer, by=users["demo_bh"], note="keep him")
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm1"]
        decided = Alert.objects.get(assignee=users["demo_cm1"], kind=AlertKind.TRANSFER_DECIDED)
        assert decided.figures == {"decision": "rejected"}

    def test_a_transfer_overtaken_by_events_is_refused(self, users, new_customer):
        customer = new_customer(manager=users["demo_cm1"])
        transfer = transfer_request(
            customer=customer, to_manager=users["demo_cm2"], by=users["demo_cm1"], reason="asking"
        )
        customers_recall(customers=[customer], by=users["demo_bh"], reason="manager on leave")
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.CANCELLED  # the recall cancelled it
        t2 = TransferRequest.objects.create(
            customer=customer, from_manager=users["demo_cm1"], to_manager=users["demo_cm2"], reason="x",
            proposed_by=users["demo_cm1"],
        )  # fmt: skip
        with pytest.raises(ValidationError, match="changed since"):
            transfer_approve(transfer=t2, by=users["demo_bh"])

    def test_the_branch_head_approves_only_in_their_subtree(self, users, new_customer, make_user):
        shanghai = make_user(Role.CLIENT_MANAGER, "12102")
        customer = new_customer(branch="12101", manager=users["demo_cm3"])
        transfer = transfer_request(
            customer=customer, to_manager=shanghai, by=users["demo_cm3"], reason="rebalance"
        )
        with pytest.raises(PermissionDenied):
            transfer_approve(transfer=transfer, by=users["demo_bh"])
        transfer_approve(transfer=transfer, by=users["demo_bm"])
        customer.refresh_from_db()
        assert customer.primary_manager == shanghai


class TestRecall:
    def test_a_leaving_managers_whole_book_goes_back_to_the_pool_in_one_action(self, users, new_customer):
        cm1, bh = users["demo_cm1"], users["demo_bh"]
        book = [new_customer(manager=cm1) for _ in range(6)]
        kept = new_customer(manager=users["demo_cm2"])
        shared = new_customer(manager=users["demo_cm2"])
        customer_share(
            customer=shared, with_user=cm1, by=users["demo_cm2"],
            until=timezone.now() + datetime.timedelta(days=5), reason="holiday cover",
        )  # fmt: skip
        waiting = transfer_request(customer=kept, to_manager=cm1, by=users["demo_cm2"], reason="handing over")
        user_disable(user=cm1, disabled_by=users["demo_admin"], reason="left the bank")
        # when
        result = manager_book_recall(manager=cm1, by=bh, reason="left the bank")
        # then
        assert result.recalled == 6 and result.outside_scope == 0
        assert result.shares_revoked == 1 and result.transfers_cancelled == 1
        assert not Customer.objects.filter(primary_manager=cm1).exists()
        for customer in book:
            assert _open_primaries(customer) == []
            (row,) = CustomerAssignment.objects.filter(customer=customer)
            assert row.manager == cm1 and row.end_date == timezone.localdate()  # the history stays
        assert not CustomerUserObjectPermission.objects.filter(user=cm1).exists()
        waiting.refresh_from_db()
        assert waiting.status == TransferStatus.CANCELLED
        events = AuditEvent.objects.filter(action=Action.ASSIGNMENT_CHANGED, actor=bh)
        assert {e.target_id for e in events} >= {str(c.pk) for c in book}

    def test_only_what_the_recaller_may_see(self, users, new_customer):
        cm1 = users["demo_cm1"]
        new_customer(manager=cm1, branch="11101")
        new_customer(manager=cm1, branch="12101")  # a customer of a Shanghai outlet
        result = manager_book_recall(manager=cm1, by=users["demo_bh"], reason="reorganisation")
        assert result.recalled == 1 and result.outside_scope == 1
        with pytest.raises(PermissionDenied):
            manager_book_recall(manager=users["demo_cm3"], by=users["demo_bh"], reason="not mine")
        with pytest.raises(PermissionDenied):
            manager_book_recall(manager=cm1, by=users["demo_cm2"], reason="not allowed")

    def test_the_recall_page(self, client, users, new_customer, demo_password):
        for _ in range(3):
            new_customer(manager=users["demo_cm1"])
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/managers/E1101/recall/")
        assert page.context["size"] == 3
        assert client.post("/vip/managers/E1101/recall/", {"reason": ""}).status_code == 400
        assert client.post("/vip/managers/E1101/recall/", {"reason": "left the bank"}).status_code == 302
        assert not Customer.objects.filter(primary_manager=users["demo_cm1"]).exists()
        assert client.get("/vip/managers/E1201/recall/").status_code == 404  # Shanghai: not in scope


class TestShare:
    def test_a_share_opens_the_customer_until_it_expires(self, client, users, new_customer, demo_password):
        customer = new_customer(manager=users["demo_cm1"])
        until = timezone.now() + datetime.timedelta(days=3)
        grant = customer_share(
            customer=customer,
            with_user=users["demo_cm2"],
            by=users["demo_cm1"],
            until=until,
            reason="holiday cover",
        )
        assert grant.expires_at == until
        log_in(client, "demo_cm2", demo_password)
        assert client.get(f"/customers/{customer.customer_no}/").status_code == 200
        assert AuditEvent.objects.filter(action=Action.GRANT_CHANGED, target_id=str(customer.pk)).exists()
        # time passes: the share stops counting at once, and the sweeper removes it
        CustomerUserObjectPermission.objects.filter(pk=grant.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert client.get(f"/customers/{customer.customer_no}/").status_code == 404
        assert client.get(f"/vip/customers/{customer.customer_no}/").status_code == 404
        assert shares_expire() == 1
        assert not CustomerUserObjectPermission.objects.exists()
        assert shares_expire() == 0

    def test_only_the_manager_of_record_shares_and_not_for_too_long(self, users, new_customer):
        customer = new_customer(manager=users["demo_cm1"])
        soon = timezone.now() + datetime.timedelta(days=3)
        with pytest.raises(PermissionDenied):
            customer_share(
                customer=customer,
                with_user=users["demo_cm2"],
                by=users["demo_cm2"],
                until=soon,
                reason="please",
            )
        with pytest.raises(ValidationError):
            customer_share(
                customer=customer, with_user=users["demo_cm2"], by=users["demo_cm1"],
                until=timezone.now() + datetime.timedelta(days=365), reason="too long",
            )  # fmt: skip
        with pytest.raises(ValidationError):
            customer_share(
                customer=customer,
                with_user=users["demo_bm"],
                by=users["demo_cm1"],
                until=soon,
                reason="not a manager",
            )
        assert not CustomerUserObjectPermission.objects.exists()


def _upload(text: str, name: str = "list.csv"):
    data = io.BytesIO(text.encode("utf-8"))
    data.name = name
    return data


class TestBatch:
    def test_a_list_with_bad_rows_is_previewed_row_by_row_and_the_good_rows_run(
        self, client, users, new_customer, demo_password
    ):
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        pool_1 = new_customer(branch="11101")
        pool_2 = new_customer(branch="11102")
        with_cm1 = new_customer(manager=cm1)
        already = new_customer(manager=cm2)
        shanghai = new_customer(branch="12101")
        rows = "\n".join(
            [
                "客户号,客户经理工号,原因",
                f"{pool_1.customer_no},E1101,",
                f"{pool_2.customer_no},E1102,opening",
                f"{with_cm1.customer_no},E1102,rebalance",
                f"{already.customer_no},E1102,",
                f"{shanghai.customer_no},E1101,",  # outside the branch head's scope
                "9999999999,E1101,",  # no such customer
                f"{pool_1.customer_no},E1102,",  # twice
                f"{pool_2.customer_no},E9999,",  # no such manager
                f"{pool_2.customer_no},E0003,",  # not a client manager (and a repeat)
                ",E1101,",
            ]
        )
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            "/vip/batch/", {"source": "upload", "reason": "branch reorganisation", "file": _upload(rows)}
        )
        assert response.status_code == 302, response.content.decode()[:1000]
        batch = AssignmentBatch.objects.get()
        outcomes = [(r["line"], r["outcome"]) for r in batch.rows]
        assert outcomes == [
            (2, "assign"), (3, "assign"), (4, "transfer"), (5, "unchanged"), (6, "error"),
            (7, "error"), (8, "error"), (9, "error"), (10, "error"), (11, "error"),
        ]  # fmt: skip
        # the preview changed nothing
        assert not CustomerAssignment.objects.filter(customer__in=[pool_1, pool_2]).exists()
        page = client.get(f"/vip/batch/{batch.pk}/")
        assert page.status_code == 200 and page.context["errors"] == 6
        # confirm
        client.post(f"/vip/batch/{batch.pk}/")
        batch.refresh_from_db()
        assert [r["outcome"] for r in batch.rows[:4]] == ["assigned", "assigned", "requested", "unchanged"]
        assert batch.summary == {"assigned": 2, "requested": 1, "unchanged": 1, "error": 6}
        pool_1.refresh_from_db()
        pool_2.refresh_from_db()
        assert pool_1.primary_manager == cm1 and pool_2.primary_manager == cm2
        assert TransferRequest.objects.get(customer=with_cm1).batch == batch
        # the error report: one line per bad row, with its message
        report = client.get(f"/vip/batch/{batch.pk}/errors.csv").content.decode("utf-8-sig").splitlines()
        assert len(report) == 7 and report[0].startswith("line,customer_no")
        assert "No customer with this number in your scope." in "\n".join(report)
        # a batch runs once
        with pytest.raises(ValidationError):
            batch_execute(batch=batch, by=users["demo_bh"])

    def test_rows_are_checked_again_when_confirmed(self, users, new_customer):
        customer = new_customer(branch="11101")
        batch = batch_prepare(
            by=users["demo_bh"],
            rows=[{"line": 2, "customer_no": customer.customer_no, "manager": "E1101", "reason": ""}],
            source="upload",
            reason="late change",
        )
        assert batch.rows[0]["outcome"] == BatchRowOutcome.ASSIGN
        assignment_set_primary(
            customer=customer, manager=users["demo_cm2"], by=users["demo_bm"], reason="meanwhile"
        )
        batch_execute(batch=batch, by=users["demo_bh"])
        batch.refresh_from_db()
        assert batch.rows[0]["outcome"] == BatchRowOutcome.REQUESTED  # became a transfer, not an overwrite
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm2"]

    def test_an_unreadable_or_headerless_file_is_refused(self):
        for content, name in (
            (b"\x00\x01garbage", "x.xlsx"),
            (b"a,b\n1,2", "x.csv"),
            (b"", "x.csv"),
            (b"x", "x.pdf"),
        ):
            upload = io.BytesIO(content)
            upload.name = name
            with pytest.raises(ValidationError):
                parse_assignment_file(upload)

    def test_from_a_search_result(self, client, users, new_customer, demo_password):
        for _ in range(3):
            new_customer(branch="11102", name="赵钱孙")
        new_customer(branch="11102", name="李四")
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            "/vip/batch/", {"source": "search", "q": "赵钱孙", "to_manager": "E1102", "reason": "new outlet"}
        )
        assert response.status_code == 302
        batch = AssignmentBatch.objects.get()
        assert [r["outcome"] for r in batch.rows] == ["assign"] * 3

    def test_from_a_search_with_an_unknown_branch_says_so(self, client, users, new_customer, demo_password):
        new_customer(branch="11102", name="赵钱孙")
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            "/vip/batch/",
            {
                "source": "search",
                "q": "赵钱孙",
                "branch": "99999",
                "to_manager": "E1102",
                "reason": "new outlet",
            },
        )
        assert response.status_code == 400
        assert 'data-testid="branch-error"' in response.content.decode()
        assert "No branch has the code 99999." in response.content.decode()
        assert not AssignmentBatch.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestOnePrimaryUnderConcurrency:
    """Two transactions racing to give one customer a manager of record."""

    @pytest.fixture(autouse=True)
    def _postgres_only(self):
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: SQLite serialises every writer, so nothing can race")

    def _race(self, targets):
        barrier = threading.Barrier(len(targets))
        results: dict[int, object] = {}

        def run(i, fn):
            try:
                barrier.wait(timeout=10)
                results[i] = fn()
            except Exception as exc:
                results[i] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        return results

    def test_two_assignments_of_a_pool_customer_one_wins(self, users, new_customer):
        customer = new_customer(branch="11101")

        def assign(manager):
            return lambda: customer_assign(
                customer=customer, manager=manager, by=users["demo_bh"], reason="race"
            )

        results = self._race([assign(users["demo_cm1"]), assign(users["demo_cm2"])])
        won = [r for r in results.values() if isinstance(r, CustomerAssignment)]
        lost = [r for r in results.values() if isinstance(r, ValidationError)]
        assert len(won) == 1 and len(lost) == 1, results
        assert len(_open_primaries(customer)) == 1
        customer.refresh_from_db()
        assert customer.primary_manager_id == won[0].manager_id

    def test_the_database_refuses_a_second_open_primary_even_without_the_lock(self, users, new_customer):
        customer = new_customer(branch="11101")
        first_inserted = threading.Event()

        def insert(manager, *, first):
            def run():
                with transaction.atomic():
                    if not first:
                        first_inserted.wait(timeout=10)
                    row = CustomerAssignment.objects.create(customer=customer, manager=manager, reason="raw")
                    if first:
                        first_inserted.set()
                        threading.Event().wait(0.5)  # hold the row while the other one tries
                    return row

            return run

        results = self._race([insert(users["demo_cm1"], first=True), insert(users["demo_cm2"], first=False)])
        assert isinstance(results[0], CustomerAssignment), results
        assert isinstance(results[1], IntegrityError), results
        assert len(_open_primaries(customer)) == 1
