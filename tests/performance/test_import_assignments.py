"""`manage.py import_assignments FILE.csv [--dry-run]` as docs/performance.md
("Entry points") defines it: each row makes a client manager the customer's manager
of record from its date and ends the previous assignment the day before; one
customer's rows in date order; bad rows reported with their line and not applied;
exit 0 only when every row applied; the same file again changes nothing and exits 0,
also after a later file; audited; --dry-run writes nothing."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.services import user_disable
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment
from customers.services import assignment_set_primary
from performance.assignments import SYSTEM_ACTOR
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

D = datetime.date
HEADER = "customer_no,employee_no,start_date"


@pytest.fixture
def users(demo_users):
    return demo_users


@pytest.fixture
def make_customer(request):
    """A customer at a branch (`tests.customers.conftest.new_customer`)."""
    return request.getfixturevalue("new_customer")


@pytest.fixture
def csv_file(tmp_path):
    counter = {"n": 0}

    def _write(*lines: str, header: str = HEADER) -> str:
        counter["n"] += 1
        path = tmp_path / f"assignments{counter['n']}.csv"
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        return str(path)

    return _write


def run(path: str, *args: str) -> tuple[int, str, str]:
    """The command as the shell runs it: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_assignments", path, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def history(customer) -> list[tuple[str, datetime.date, datetime.date | None]]:
    rows = CustomerAssignment.objects.filter(customer=customer, role=AssignmentRole.PRIMARY)
    return [
        (row.manager.employee_no, row.start_date, row.end_date)
        for row in rows.select_related("manager").order_by("start_date", "pk")
    ]


def manager_of_record(customer):
    return Customer.objects.get(pk=customer.pk).primary_manager


def assigned_since(customer, manager, day):
    assignment_set_primary(customer=customer, manager=manager, by=None, reason="test", on=day)


def assignment_events() -> int:
    return AuditEvent.objects.filter(action=Action.ASSIGNMENT_CHANGED).count()


class TestApplied:
    def test_a_row_makes_the_manager_of_record_and_ends_the_previous_assignment_the_day_before(
        self, users, make_customer, csv_file
    ):
        customer = make_customer(branch="11101")
        assigned_since(customer, users["demo_cm1"], D(2025, 1, 1))
        # a manager of another branch: the customer's home branch stays
        path = csv_file(f"{customer.customer_no},E1201,2025-03-01")

        status, out, err = run(path)

        assert (status, err) == (0, "")
        assert "1 rows: 1 applied (1 new assignments, 0 already in the history), 0 not applied." in out
        assert manager_of_record(customer) == users["demo_cm3"]
        assert history(customer) == [("E1101", D(2025, 1, 1), D(2025, 2, 28)), ("E1201", D(2025, 3, 1), None)]
        assert Customer.objects.get(pk=customer.pk).home_branch.code == "11101"

    def test_a_customer_of_the_pool_gets_a_manager(self, users, make_customer, csv_file):
        customer = make_customer(branch="11101")

        status, _out, _err = run(csv_file(f"{customer.customer_no},E1102,20250115"))

        assert status == 0
        assert manager_of_record(customer) == users["demo_cm2"]
        assert history(customer) == [("E1102", D(2025, 1, 15), None)]

    def test_one_customers_rows_apply_in_date_order_whatever_the_file_order(
        self, users, make_customer, csv_file
    ):
        customer = make_customer(branch="11101")
        no = customer.customer_no
        path = csv_file(f"{no},E1102,2025-05-01", f"{no},E1101,2025-02-01", f"{no},E1201,2025-03-15")

        status, _out, _err = run(path)

        assert status == 0
        assert history(customer) == [
            ("E1101", D(2025, 2, 1), D(2025, 3, 14)),
            ("E1201", D(2025, 3, 15), D(2025, 4, 30)),
            ("E1102", D(2025, 5, 1), None),
        ]
        assert manager_of_record(customer) == users["demo_cm2"]

    def test_both_date_formats(self, users, make_customer, csv_file):
        compact, dashed = make_customer(), make_customer()
        path = csv_file(f"{compact.customer_no},E1101,20250203", f"{dashed.customer_no},E1101,2025-02-03")

        status, _out, _err = run(path)

        assert status == 0
        assert history(compact) == history(dashed) == [("E1101", D(2025, 2, 3), None)]

    def test_the_manager_of_record_continuing_counts_as_applied_and_changes_nothing(
        self, users, make_customer, csv_file
    ):
        customer = make_customer()
        assigned_since(customer, users["demo_cm1"], D(2025, 1, 1))

        status, out, _err = run(csv_file(f"{customer.customer_no},E1101,2025-06-01"))

        assert status == 0
        assert "1 applied (0 new assignments, 1 already in the history)" in out
        assert history(customer) == [("E1101", D(2025, 1, 1), None)]


class TestBadRows:
    def test_every_kind_of_bad_row_is_reported_with_its_line_and_not_applied_the_others_are(
        self, users, make_customer, csv_file
    ):
        good, later, merged, survivor = make_customer(), make_customer(), make_customer(), make_customer()
        pool = make_customer()
        assigned_since(later, users["demo_cm1"], D(2025, 4, 1))
        Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
        left = users["demo_cm2"]
        user_disable(user=left, disabled_by=users["demo_admin"], reason="left the bank")
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        path = csv_file(
            f"{good.customer_no},E1101,2025-01-01",  # line 2: applied
            "9999999999,E1101,2025-01-01",  # 3: unknown customer
            f"{pool.customer_no},E9999,2025-01-01",  # 4: unknown employee
            f"{pool.customer_no},E0003,2025-01-01",  # 5: a business manager
            f"{pool.customer_no},E1102,2025-01-01",  # 6: a client manager who left
            f"{pool.customer_no},E1201,{tomorrow:%Y%m%d}",  # 7: in the future
            f"{later.customer_no},E1201,2025-03-01",  # 8: before the current assignment
            f"{later.customer_no},E1201,2025-04-01",  # 9: the day the current one starts
            f"{pool.customer_no},E1201,2025-02-30",  # 10: not a date
            f"{pool.customer_no},E1201,01/02/2025",  # 11: another format
            f"{merged.customer_no},E1201,2025-01-01",  # 12: merged into another record
            f"{pool.customer_no},E1201",  # 13: a field missing
            f"{later.customer_no},E1201,2025-05-01",  # 14: applied
        )

        status, out, err = run(path)

        assert status == 1
        assert "13 rows: 2 applied (2 new assignments, 0 already in the history), 11 not applied." in out
        reported = dict(line.split(":", 1) for line in err.strip().splitlines())
        assert list(reported) == [f"line {n}" for n in range(3, 14)]  # in line order
        assert "No customer 9999999999" in reported["line 3"]
        assert "No employee E9999" in reported["line 4"]
        assert "E0003 is not an active client manager" in reported["line 5"]
        assert "E1102 is not an active client manager" in reported["line 6"]
        assert "in the future" in reported["line 7"]
        assert "on or before the customer's current assignment (E1101 from 2025-04-01)" in reported["line 8"]
        assert "on or before the customer's current assignment" in reported["line 9"]
        assert "is not a date (YYYYMMDD or YYYY-MM-DD)" in reported["line 10"]
        assert "is not a date" in reported["line 11"]
        assert f"merged into {survivor.customer_no}" in reported["line 12"]
        assert "2 fields instead of 3" in reported["line 13"]
        # the bad rows changed nothing, the good ones applied
        assert history(pool) == history(merged) == []
        assert manager_of_record(pool) is None
        assert history(good) == [("E1101", D(2025, 1, 1), None)]
        assert history(later) == [("E1101", D(2025, 4, 1), D(2025, 4, 30)), ("E1201", D(2025, 5, 1), None)]
        assert manager_of_record(later) == users["demo_cm3"]

    def test_a_bad_row_of_a_customer_does_not_stop_its_later_rows(self, users, make_customer, csv_file):
        customer = make_customer()
        no = customer.customer_no
        path = csv_file(f"{no},E1101,2025-01-01", f"{no},E0003,2025-02-01", f"{no},E1201,2025-03-01")

        status, _out, err = run(path)

        assert status == 1
        assert err.startswith("line 3:")
        assert history(customer) == [("E1101", D(2025, 1, 1), D(2025, 2, 28)), ("E1201", D(2025, 3, 1), None)]

    def test_a_row_after_a_customer_left_for_the_pool_must_start_after_that(
        self, users, make_customer, csv_file
    ):
        customer = make_customer()
        CustomerAssignment.objects.create(
            customer=customer,
            manager=users["demo_cm1"],
            start_date=D(2025, 1, 1),
            end_date=D(2025, 3, 31),
        )

        status, _out, err = run(csv_file(f"{customer.customer_no},E1201,2025-02-01"))

        assert status == 1
        assert "on or before the end of the customer's last assignment (2025-03-31)" in err
        assert history(customer) == [("E1101", D(2025, 1, 1), D(2025, 3, 31))]


class TestHeader:
    @pytest.mark.parametrize(
        "header",
        ["customer_no,employee,start_date", "customer_no,employee_no", "", "C123,E1101,2025-01-01"],
        ids=["misspelled", "a column missing", "empty", "no header"],
    )
    def test_a_file_without_the_header_is_refused_whole(self, users, make_customer, csv_file, header):
        customer = make_customer()
        path = csv_file(f"{customer.customer_no},E1101,2025-01-01", header=header)
        events = AuditEvent.objects.count()

        status, _out, err = run(path)

        assert status == 1
        assert "The first line must be the header customer_no,employee_no,start_date" in err
        assert history(customer) == []
        assert AuditEvent.objects.count() == events

    def test_columns_in_another_order_and_a_byte_order_mark_are_read(self, users, make_customer, tmp_path):
        customer = make_customer()
        path = tmp_path / "excel.csv"
        path.write_bytes(
            f"start_date,customer_no,employee_no\r\n20250101,{customer.customer_no},E1101\r\n".encode(
                "utf-8-sig"
            )
        )

        status, _out, _err = run(str(path))

        assert status == 0
        assert history(customer) == [("E1101", D(2025, 1, 1), None)]

    def test_a_file_that_is_not_utf8_is_refused(self, tmp_path):
        path = tmp_path / "gbk.csv"
        path.write_bytes(f"{HEADER}\n客户,E1101,20250101\n".encode("gbk"))

        status, _out, err = run(str(path))

        assert status == 1
        assert "not UTF-8" in err


class TestAgain:
    def test_the_same_file_again_exits_0_and_changes_nothing_also_after_a_later_file(
        self, users, make_customer, csv_file
    ):
        first, second = make_customer(), make_customer()
        earlier = csv_file(
            f"{first.customer_no},E1101,2025-01-10",
            f"{second.customer_no},E1101,2025-01-01",
            f"{second.customer_no},E1101,2025-01-20",  # the same manager carrying on
            f"{second.customer_no},E1102,2025-02-01",
        )
        later = csv_file(f"{first.customer_no},E1201,2025-03-01", f"{second.customer_no},E1201,2025-03-01")
        assert run(earlier)[0] == 0
        after_first_run = (history(first), history(second), assignment_events())

        status, out, _err = run(earlier)

        assert status == 0
        assert "4 rows: 4 applied (0 new assignments, 4 already in the history), 0 not applied." in out
        assert (history(first), history(second)) == after_first_run[:2]
        assert assignment_events() == after_first_run[2] + 1  # the run's own event only

        assert run(later)[0] == 0
        after_later = (history(first), history(second), manager_of_record(first), manager_of_record(second))
        assert after_later[2] == after_later[3] == users["demo_cm3"]

        status, out, err = run(earlier)

        assert (status, err) == (0, "")
        assert "4 applied (0 new assignments, 4 already in the history)" in out
        assert (
            history(first),
            history(second),
            manager_of_record(first),
            manager_of_record(second),
        ) == after_later


class TestDryRun:
    def test_a_dry_run_reports_and_writes_nothing(self, users, make_customer, csv_file):
        customer, other = make_customer(), make_customer()
        assigned_since(customer, users["demo_cm1"], D(2025, 1, 1))
        path = csv_file(f"{customer.customer_no},E1201,2025-03-01", f"{other.customer_no},E0003,2025-03-01")
        before = (history(customer), CustomerAssignment.objects.count(), AuditEvent.objects.count())

        status, out, err = run(path, "--dry-run")

        assert status == 1
        assert "2 rows: 1 applied (1 new assignments, 0 already in the history), 1 not applied." in out
        assert "Dry run: nothing was written." in out
        assert err.startswith("line 3:")
        assert (history(customer), CustomerAssignment.objects.count(), AuditEvent.objects.count()) == before
        assert manager_of_record(customer) == users["demo_cm1"]

        # the real run does what the dry run said
        status, out, _err = run(path)
        assert "1 applied (1 new assignments" in out
        assert manager_of_record(customer) == users["demo_cm3"]


class TestAudit:
    def test_each_new_assignment_and_the_run_are_audited(self, users, make_customer, csv_file):
        customer, bad = make_customer(), make_customer()
        assigned_since(customer, users["demo_cm1"], D(2025, 1, 1))
        path = csv_file(f"{customer.customer_no},E1201,2025-03-01", f"{bad.customer_no},E0003,2025-03-01")
        since = timezone.now()

        run(path)

        events = AuditEvent.objects.filter(action=Action.ASSIGNMENT_CHANGED, occurred_at__gte=since)
        on_customer = events.get(target_type="customers.customer", target_id=str(customer.pk))
        assert on_customer.actor_username == SYSTEM_ACTOR
        assert on_customer.details == {
            "from": "E1101",
            "to": "E1201",
            "start_date": "2025-03-01",
            "reason": "assignment history import",
        }
        assert not events.filter(target_id=str(bad.pk)).exists()
        run_event = events.get(target_type="")
        assert run_event.details == {
            "import": "assignments",
            "rows": 2,
            "assigned": 1,
            "unchanged": 0,
            "rejected": 1,
        }
