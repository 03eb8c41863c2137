"""The data-quality queue: detection, counts under scope, the pages, merge and dismiss."""

import datetime
import itertools
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.audit import Action
from accounts.audit_display import detail_text
from accounts.models import AuditEvent
from customers import merging, quality
from customers.choices import (
    AccountCategory,
    AssignmentRole,
    ContactType,
    CustomerStatus,
    QualityIssueKind,
    QualityIssueStatus,
    RelationType,
)
from customers.idnumbers import make_resident_id
from customers.masking import mask_id_number
from customers.models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMerge,
    CustomerMonthlyAum,
    CustomerUserObjectPermission,
    DataQualityIssue,
    Employer,
    Household,
    Interaction,
    OtherAsset,
    PayrollLink,
    Relationship,
    TransactionSummary,
)
from customers.numbers import format_customer_number
from customers.search import customer_search
from customers.services import assignment_set_primary
from customers.uscc import make_uscc
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

KIND = QualityIssueKind
OPEN = QualityIssueStatus.OPEN
BIRTH = datetime.date(1985, 6, 15)
_numbers = itertools.count(1)


def resident_id(n: int, birth: datetime.date = BIRTH) -> str:
    return make_resident_id(region_code="110108", birth_date=birth, sequence=n % 1000)


@pytest.fixture
def person(org):
    """A complete customer (nothing for the scan to report) unless told otherwise."""

    def _make(
        *, branch="11101", name="李四", id_number=None, mobile=None, birth_date=BIRTH, manager=None, **f
    ):
        n = next(_numbers)
        customer = Customer.objects.create(
            customer_no=format_customer_number(700000 + n),
            name=name,
            id_type=f.pop("id_type", "01"),
            id_number=id_number or resident_id(n, birth_date or BIRTH),
            home_branch=org[branch],
            mobile=f"137{n:08d}" if mobile is None else mobile,
            birth_date=birth_date,
            **f,
        )
        if manager is not None:
            assignment_set_primary(customer=customer, manager=manager, by=None, reason="test")
            customer.refresh_from_db()
        return customer

    return _make


def open_issues(kind=None):
    issues = DataQualityIssue.objects.filter(status=OPEN)
    if kind:
        issues = issues.filter(kind=kind)
    return issues


def pairs(kind):
    return set(open_issues(kind).values_list("customer_id", "other_customer_id"))


# ------------------------------------------------------------------- detection


class TestDetection:
    def test_same_id_under_three_numbers_gives_two_pairs_with_the_oldest(self, person, org):
        # given
        first = person(id_number=resident_id(1))
        second = person(id_number=resident_id(1), branch="12101")
        third = person(id_number=resident_id(1))
        folded = person(id_number=resident_id(1), merged_into=first, status=CustomerStatus.CLOSED)
        person(id_number=resident_id(2))  # someone else
        # when
        counts = quality.quality_scan()
        # then
        assert pairs(KIND.DUPLICATE_ID) == {(first.pk, second.pk), (first.pk, third.pk)}
        assert counts["duplicate_id_created"] == 2
        issue = open_issues(KIND.DUPLICATE_ID).get(other_customer=second)
        assert issue.pair_key == str(second.pk)
        assert issue.branch == org["11101"]  # the older record's branch
        assert not DataQualityIssue.objects.filter(other_customer=folded).exists()

    def test_same_name_birth_date_and_mobile_under_different_ids(self, person):
        a = person(name="王芳", mobile="13811112222")
        b = person(name="王芳", mobile="13811112222")
        person(name="王芳", mobile="13811112222", birth_date=datetime.date(1990, 1, 1))  # other birth date
        person(name="王芳芳", mobile="13811112222")  # other name
        person(name="王芳", mobile="")  # no mobile: never a match
        person(name="王芳", mobile="")

        quality.quality_scan()

        assert pairs(KIND.DUPLICATE_PERSON) == {(a.pk, b.pk)}

    def test_same_id_is_not_also_reported_as_same_person(self, person):
        a = person(name="王芳", mobile="13811112222", id_number=resident_id(3))
        b = person(name="王芳", mobile="13811112222", id_number=resident_id(3))

        quality.quality_scan()

        assert pairs(KIND.DUPLICATE_ID) == {(a.pk, b.pk)}
        assert pairs(KIND.DUPLICATE_PERSON) == set()

    def test_impossible_id_suffix_is_found_by_the_scan(self, person):
        valid = resident_id(4)
        bad_day = person(id_number=valid[:12] + "32" + valid[14:])  # 32nd day of the month
        no_number = person()
        Customer.objects.filter(pk=no_number.pk).update(id_number_enc="", id_hash="")
        person(id_type="02", id_number="E1234567")  # a passport: not a resident ID

        quality.quality_scan()

        found = dict(open_issues(KIND.INVALID_ID).values_list("customer_id", "detail"))
        assert found == {bad_day.pk: "suffix", no_number.pk: "missing"}

    def test_wrong_check_digit_needs_the_full_check_and_resolves_when_corrected(self, person):
        valid = resident_id(5)
        wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
        customer = person(id_number=wrong)

        quality.quality_scan()
        assert not open_issues(KIND.INVALID_ID).exists()  # the suffix looks plausible

        assert quality.quality_check_ids([customer.pk]) == {"created": 1, "resolved": 0}
        assert quality.quality_check_ids([customer.pk]) == {"created": 0, "resolved": 0}
        issue = open_issues(KIND.INVALID_ID).get()
        assert issue.detail == "id_check_digit"

        # a scan keeps it open while it is wrong ...
        quality.quality_scan()
        issue.refresh_from_db()
        assert issue.status == OPEN

        # ... and resolves it once the number is corrected
        customer.id_number = valid
        customer.save()
        counts = quality.quality_scan()
        issue.refresh_from_db()
        assert issue.status == QualityIssueStatus.RESOLVED
        assert issue.resolution == "no longer detected"
        assert counts["invalid_id_resolved"] == 1

    def test_missing_key_data(self, person):
        no_mobile = person(mobile="")
        no_birth_date = person(birth_date=None)
        no_name = person(name="")
        person(mobile="", status=CustomerStatus.CLOSED)  # closed customers are left alone
        person(id_type="02", id_number="E7654321", birth_date=None)  # only resident IDs need one

        quality.quality_scan()

        found = dict(open_issues(KIND.MISSING_DATA).values_list("customer_id", "detail"))
        assert found == {no_mobile.pk: "mobile", no_birth_date.pk: "birth_date", no_name.pk: "name"}

    def test_expired_risk_assessment(self, person):
        today = timezone.localdate()
        expired = person(risk_level="C3", risk_expiry=today - datetime.timedelta(days=1))
        person(risk_level="C3", risk_expiry=today)  # valid through today
        person(risk_level="", risk_expiry=today - datetime.timedelta(days=10))  # no assessment

        quality.quality_scan()

        assert set(open_issues(KIND.RISK_EXPIRED).values_list("customer_id", flat=True)) == {expired.pk}

    def test_scan_twice_creates_nothing_new(self, person):
        person(id_number=resident_id(6))
        person(id_number=resident_id(6), mobile="")
        person(risk_level="C2", risk_expiry=datetime.date(2020, 1, 1))
        first = quality.quality_scan()
        before = list(DataQualityIssue.objects.order_by("pk").values_list("pk", "status"))

        second = quality.quality_scan()

        assert sum(v for k, v in first.items() if k.endswith("_created")) == 3
        assert all(v == 0 for v in second.values()), second
        assert list(DataQualityIssue.objects.order_by("pk").values_list("pk", "status")) == before

    def test_fixed_data_resolves_the_issue_and_a_relapse_opens_a_new_one(self, person):
        a = person(id_number=resident_id(7))
        b = person(id_number=resident_id(7), mobile="")
        quality.quality_scan()
        assert open_issues().count() == 2

        b.id_number = resident_id(8)
        b.mobile = "13912345678"
        b.save()
        counts = quality.quality_scan()

        assert counts["duplicate_id_resolved"] == 1 and counts["missing_data_resolved"] == 1
        assert not open_issues().exists()
        assert set(DataQualityIssue.objects.values_list("resolution", flat=True)) == {"no longer detected"}

        b.id_number = a.id_number
        b.save()
        quality.quality_scan()
        assert pairs(KIND.DUPLICATE_ID) == {(a.pk, b.pk)}
        assert DataQualityIssue.objects.filter(kind=KIND.DUPLICATE_ID).count() == 2

    def test_dismissed_issue_is_not_raised_again(self, person, demo_users):
        a = person(id_number=resident_id(9))
        person(id_number=resident_id(9))
        quality.quality_scan()
        issue = open_issues(KIND.DUPLICATE_ID).get()

        quality.quality_issue_dismiss(issue=issue, by=demo_users["demo_bm"], reason="twins in core banking")
        quality.quality_scan()

        assert not open_issues().filter(customer=a).exists()

    def test_a_renewed_assessment_that_expires_again_is_raised_again(self, person, demo_users):
        today = timezone.localdate()
        customer = person(risk_level="C3", risk_expiry=today - datetime.timedelta(days=30))
        quality.quality_scan()
        quality.quality_issue_dismiss(
            issue=open_issues(KIND.RISK_EXPIRED).get(), by=demo_users["demo_bm"], reason="customer abroad"
        )
        quality.quality_scan()
        assert not open_issues(KIND.RISK_EXPIRED).exists()

        # renewed after the dismissal, expired since
        Customer.objects.filter(pk=customer.pk).update(risk_expiry=today + datetime.timedelta(days=1))
        quality.quality_scan(today=today + datetime.timedelta(days=3))

        assert open_issues(KIND.RISK_EXPIRED).filter(customer=customer).exists()

    def test_open_issue_follows_its_customer_to_another_branch(self, person, org):
        customer = person(mobile="")
        quality.quality_scan()
        Customer.objects.filter(pk=customer.pk).update(home_branch=org["12101"])

        counts = quality.quality_scan()

        assert counts["branch_updated"] == 1
        assert open_issues(KIND.MISSING_DATA).get().branch == org["12101"]

    def test_after_a_merge_the_remaining_duplicates_pair_with_the_new_oldest(self, person, demo_users):
        a = person(id_number=resident_id(12))
        b = person(id_number=resident_id(12))
        c = person(id_number=resident_id(12))
        quality.quality_scan()
        assert pairs(KIND.DUPLICATE_ID) == {(a.pk, b.pk), (a.pk, c.pk)}

        quality.customer_merge(survivor=c, merged=a, merged_by=demo_users["demo_bm"], reason="dup")
        assert pairs(KIND.DUPLICATE_ID) == set()  # both issues of `a` resolved by the merge
        quality.quality_scan()

        assert pairs(KIND.DUPLICATE_ID) == {(b.pk, c.pk)}

    def test_full_check_ignores_other_id_types_merged_and_unknown_customers(self, person):
        passport = person(id_type="02", id_number="E1234567")
        valid = resident_id(13)
        broken = person(id_number=valid[:17] + ("0" if valid[17] != "0" else "1"))
        folded = person(id_number=valid[:17] + ("0" if valid[17] != "0" else "1"), merged_into=broken)

        counts = quality.quality_check_ids([passport.pk, broken.pk, folded.pk, 987654321])

        assert counts == {"created": 1, "resolved": 0}
        assert list(open_issues(KIND.INVALID_ID).values_list("customer_id", flat=True)) == [broken.pk]

    def test_scan_leaves_the_planner_settings_as_it_found_them(self, person):
        if connection.vendor != "postgresql":
            pytest.skip("the scan only changes planner settings on PostgreSQL")
        person(mobile="")
        quality.quality_scan()
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_nestloop")
            assert cursor.fetchone()[0] == "on"

    def test_scan_of_a_clean_book_reports_nothing(self, person):
        person()
        person()
        counts = quality.quality_scan()
        assert set(counts.values()) == {0}
        assert not DataQualityIssue.objects.exists()


# ------------------------------------------------------------- counts and scope


@pytest.fixture
def book(person, demo_users):
    """Issues in three outlets, each customer looked after by that outlet's manager."""
    cm1, cm2, cm3 = demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["demo_cm3"]
    customers = {
        "cm1_a": person(branch="11101", manager=cm1, mobile=""),
        "cm1_b": person(branch="11101", manager=cm1, risk_level="C1", risk_expiry=datetime.date(2021, 1, 1)),
        "cm2_a": person(branch="11102", manager=cm2, mobile=""),
        "cm3_a": person(branch="12101", manager=cm3, mobile=""),
        # the same person under two numbers, in two cities
        "dup_bj": person(branch="11101", manager=cm1, id_number=resident_id(11)),
        "dup_sh": person(branch="12101", manager=cm3, id_number=resident_id(11)),
    }
    quality.quality_scan()
    return customers


def _as_dict(counts):
    return {(row["branch__code"], row["kind"]): row["count"] for row in counts}


class TestCountsUnderScope:
    def test_head_office_sees_every_branch(self, book, demo_users):
        assert _as_dict(quality.quality_counts(user=demo_users["demo_bm"])) == {
            ("11101", KIND.MISSING_DATA): 1,
            ("11101", KIND.RISK_EXPIRED): 1,
            ("11101", KIND.DUPLICATE_ID): 1,
            ("11102", KIND.MISSING_DATA): 1,
            ("12101", KIND.MISSING_DATA): 1,
        }

    def test_branch_head_sees_the_subtree_and_not_a_pair_half_outside_it(self, book, demo_users):
        assert _as_dict(quality.quality_counts(user=demo_users["demo_bh"])) == {
            ("11101", KIND.MISSING_DATA): 1,
            ("11101", KIND.RISK_EXPIRED): 1,
            ("11102", KIND.MISSING_DATA): 1,
        }

    def test_client_manager_sees_only_their_customers(self, book, demo_users):
        assert _as_dict(quality.quality_counts(user=demo_users["demo_cm2"])) == {
            ("11102", KIND.MISSING_DATA): 1,
        }

    def test_the_queue_is_scoped_like_the_counts(self, book, demo_users):
        queue = quality.quality_queue(user=demo_users["demo_bh"])
        assert {i.customer_id for i in queue} == {book["cm1_a"].pk, book["cm1_b"].pk, book["cm2_a"].pk}
        assert quality.quality_queue(user=demo_users["demo_bm"], kind=KIND.DUPLICATE_ID).count() == 1
        assert quality.quality_queue(user=demo_users["demo_bm"], branch="12000").count() == 1
        assert quality.quality_queue(user=demo_users["demo_bm"], branch="nope").count() == 0


# ------------------------------------------------------------------------ pages


class TestQueuePage:
    def test_roles(self, client, book, demo_password):
        assert client.get("/customers/quality/").status_code == 302  # to the login page
        for username, expected in [
            ("demo_bm", 200),
            ("demo_bh", 200),
            ("demo_audit", 200),
            ("demo_cm1", 403),
            ("demo_pm", 403),
        ]:
            client.logout()
            log_in(client, username, demo_password)
            assert client.get("/customers/quality/").status_code == expected, username

    def test_counts_filters_and_rows(self, client, book, demo_password):
        log_in(client, "demo_bh", demo_password)
        response = client.get("/customers/quality/")
        content = response.content.decode()
        assert 'data-testid="quality-counts"' in content
        assert {i.customer_id for i in response.context["page"].object_list} == {
            book["cm1_a"].pk,
            book["cm1_b"].pk,
            book["cm2_a"].pk,
        }
        assert book["cm3_a"].customer_no not in content

        response = client.get("/customers/quality/", {"kind": KIND.RISK_EXPIRED})
        assert [i.customer_id for i in response.context["page"].object_list] == [book["cm1_b"].pk]

        response = client.get("/customers/quality/", {"branch": "11102"})
        assert [i.customer_id for i in response.context["page"].object_list] == [book["cm2_a"].pk]

    def test_empty_state_and_bad_filter(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.get("/customers/quality/", {"status": QualityIssueStatus.DISMISSED})
        assert b'data-testid="quality-empty"' in response.content
        response = client.get("/customers/quality/", {"kind": "nonsense"})
        assert response.status_code == 400
        assert b'data-testid="quality-filter-error"' in response.content

    def test_nav_link_for_those_who_may_see_the_queue(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        assert b'href="/customers/quality/"' in client.get("/customers/").content
        client.logout()
        log_in(client, "demo_cm1", demo_password)
        assert b'href="/customers/quality/"' not in client.get("/customers/").content

    @pytest.mark.parametrize("issues", [3, 70])
    def test_query_count_does_not_grow_with_the_queue(
        self, client, person, demo_users, demo_password, issues, django_assert_max_num_queries
    ):
        for _ in range(issues):
            person(mobile="")
        quality.quality_scan()
        log_in(client, "demo_bm", demo_password)
        # (12, and the branch filter's list of the branches the user may see)
        with django_assert_max_num_queries(13):
            response = client.get("/customers/quality/")
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(issues, 50)
        if issues > 50:
            second = client.get("/customers/quality/", {"page": 2})
            assert len(second.context["page"].object_list) == issues - 50


@pytest.fixture
def duplicate_pair(person, demo_users):
    """The same person twice in the Haidian sub-branch, and the issue about it."""
    older = person(branch="11101", manager=demo_users["demo_cm1"], id_number=resident_id(21), name="赵敏")
    newer = person(branch="11102", manager=demo_users["demo_cm2"], id_number=resident_id(21), name="赵敏")
    quality.quality_scan()
    return older, newer, open_issues(KIND.DUPLICATE_ID).get()


class TestComparePage:
    def test_side_by_side_with_masked_identifiers(self, client, duplicate_pair, add_account, demo_password):
        older, newer, issue = duplicate_pair
        add_account(newer)
        add_account(newer)
        log_in(client, "demo_bm", demo_password)

        response = client.get(f"/customers/quality/{issue.pk}/")

        content = response.content.decode()
        assert response.status_code == 200
        assert older.customer_no in content and newer.customer_no in content
        assert mask_id_number(older.id_number) in content
        assert older.id_number not in content and older.mobile not in content
        accounts = next(r for r in response.context["rows"] if r["label"] == "Accounts")
        assert accounts["values"] == [0, 2] and accounts["differs"]
        assert 'data-testid="merge-form"' in content

    def test_branch_head_sees_the_pair_but_no_merge_form(self, client, duplicate_pair, demo_password):
        log_in(client, "demo_bh", demo_password)
        response = client.get(f"/customers/quality/{duplicate_pair[2].pk}/")
        assert response.status_code == 200
        assert b'data-testid="merge-form"' not in response.content
        assert b'data-testid="dismiss-form"' not in response.content

    def test_outside_the_scope_is_404(self, client, book, demo_password):
        issue = open_issues(KIND.DUPLICATE_ID).get()  # half of it is in Shanghai
        mine = open_issues(KIND.MISSING_DATA).get(customer=book["cm3_a"])
        log_in(client, "demo_bh", demo_password)
        assert client.get(f"/customers/quality/{issue.pk}/").status_code == 404
        assert client.get(f"/customers/quality/{mine.pk}/").status_code == 404
        assert client.get("/customers/quality/999999/").status_code == 404


class TestMergeView:
    def _post(self, client, issue, data):
        return client.post(f"/customers/quality/{issue.pk}/merge/", data)

    def test_refused_to_anyone_but_a_business_manager(self, client, duplicate_pair, demo_password):
        older, newer, issue = duplicate_pair
        for username in ("demo_bh", "demo_audit", "demo_cm1"):
            client.logout()
            log_in(client, username, demo_password)
            response = self._post(client, issue, {"survivor": older.customer_no, "reason": "same person"})
            assert response.status_code == 403, username
        assert not Customer.objects.filter(merged_into__isnull=False).exists()
        assert not CustomerMerge.objects.exists()

    @pytest.mark.parametrize(
        "data",
        [
            {"survivor": "OLDER", "reason": ""},
            {"survivor": "OLDER", "reason": "   "},
            {"survivor": "9999999999", "reason": "same person"},
            {"reason": "same person"},
        ],
    )
    def test_bad_input_shows_the_page_again_and_changes_nothing(
        self, client, duplicate_pair, demo_password, data
    ):
        older, newer, issue = duplicate_pair
        data = {k: (older.customer_no if v == "OLDER" else v) for k, v in data.items()}
        log_in(client, "demo_bm", demo_password)

        response = self._post(client, issue, data)

        assert response.status_code == 400
        assert b'data-testid="comparison"' in response.content
        assert not CustomerMerge.objects.exists()
        issue.refresh_from_db()
        assert issue.status == OPEN

    def test_merge_then_the_duplicate_is_gone_from_search_but_its_page_answers(
        self, client, duplicate_pair, add_account, demo_users, demo_password
    ):
        older, newer, issue = duplicate_pair
        add_account(newer, cny_balance="5000.00")
        log_in(client, "demo_bm", demo_password)

        response = self._post(client, issue, {"survivor": older.customer_no, "reason": "same ID, core dup"})

        assert response.status_code == 302
        assert response.url == f"/customers/{older.customer_no}/"
        newer.refresh_from_db()
        assert newer.merged_into == older and newer.status == CustomerStatus.CLOSED
        issue.refresh_from_db()
        assert (issue.status, issue.resolution) == (QualityIssueStatus.RESOLVED, "merged")
        found = customer_search(user=demo_users["demo_bm"], q="赵敏")
        assert list(found) == [older]
        assert client.get(f"/customers/{newer.customer_no}/").status_code == 200
        # once merged, the pair cannot be merged again
        again = self._post(client, issue, {"survivor": older.customer_no, "reason": "again"})
        assert again.status_code == 400
        assert CustomerMerge.objects.count() == 1

    def test_only_duplicate_pairs_can_be_merged(self, client, book, demo_password):
        issue = open_issues(KIND.MISSING_DATA).get(customer=book["cm1_a"])
        log_in(client, "demo_bm", demo_password)
        response = self._post(client, issue, {"survivor": book["cm1_a"].customer_no, "reason": "x"})
        assert response.status_code == 404


class TestDismiss:
    def test_business_manager_dismisses_with_a_reason_audited(self, client, duplicate_pair, demo_password):
        issue = duplicate_pair[2]
        log_in(client, "demo_bm", demo_password)

        too_short = client.post(f"/customers/quality/{issue.pk}/dismiss/", {"dismiss-reason": "no"})
        assert too_short.status_code == 400
        response = client.post(
            f"/customers/quality/{issue.pk}/dismiss/", {"dismiss-reason": "different people, checked"}
        )

        assert response.status_code == 302
        issue.refresh_from_db()
        assert issue.status == QualityIssueStatus.DISMISSED
        assert issue.resolution == "different people, checked"
        event = AuditEvent.objects.get(action=Action.CUSTOMER_UPDATED, details__quality_issue=issue.pk)
        assert event.details["dismissed"] == "different people, checked"

    def test_others_may_not_dismiss(self, client, duplicate_pair, demo_users, demo_password):
        issue = duplicate_pair[2]
        log_in(client, "demo_bh", demo_password)
        assert (
            client.post(f"/customers/quality/{issue.pk}/dismiss/", {"dismiss-reason": "not me"}).status_code
            == 403
        )
        with pytest.raises(PermissionDenied):
            quality.quality_issue_dismiss(issue=issue, by=demo_users["demo_bh"], reason="not me either")
        issue.refresh_from_db()
        assert issue.status == OPEN

    def test_only_open_issues(self, duplicate_pair, demo_users):
        issue = duplicate_pair[2]
        quality.quality_issue_dismiss(issue=issue, by=demo_users["demo_bm"], reason="checked once")
        with pytest.raises(ValidationError):
            quality.quality_issue_dismiss(issue=issue, by=demo_users["demo_bm"], reason="checked twice")


# ---------------------------------------------------------------- merge service


@pytest.fixture
def rich_pair(person, demo_users, add_account, org):
    """A survivor and a duplicate that has something of everything."""
    cm1, cm2, cm3 = demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["demo_cm3"]
    survivor = person(name="钱多多", mobile="13800001111", id_number=resident_id(31), aum="100.00",
                      liabilities="10.00", month_avg_aum="90.00", manager=cm1)  # fmt: skip
    merged = person(name="钱多多", mobile="13800001111", id_number=resident_id(31), aum="1000.00",
                    liabilities="20.00", month_avg_aum="900.00")  # fmt: skip
    friend = person(name="孙朋友")
    d1, d2 = datetime.date(2026, 3, 30), datetime.date(2026, 3, 31)
    m1, m2 = datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)

    # assignment history of the duplicate: cm3 first, then cm2 (open)
    old = CustomerAssignment.objects.create(
        customer=merged, manager=cm3, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2023, 1, 1),
        reason="first manager",
    )  # fmt: skip
    assignment_set_primary(customer=merged, manager=cm2, by=None, reason="transfer")
    household = Household.objects.create(name="钱家")
    Customer.objects.filter(pk=merged.pk).update(household=household, household_role="head")

    objects = {
        "accounts": [add_account(merged), add_account(merged, category=AccountCategory.WEALTH)],
        "survivor_account": add_account(survivor),
        # same mobile as the survivor's (other ciphertext): deleted; e-mail: moved
        "dup_contact": ContactPoint.objects.create(
            customer=merged, type=ContactType.MOBILE, value="138 0000 1111", is_primary=True
        ),
        "survivor_contact": ContactPoint.objects.create(
            customer=survivor, type=ContactType.MOBILE, value="13800001111", is_primary=True
        ),
        "email": ContactPoint.objects.create(
            customer=merged, type=ContactType.EMAIL, value="qian@example.com", is_primary=True
        ),
        "interactions": [
            Interaction.objects.create(customer=merged, kind="call", subject="hello"),
            Interaction.objects.create(customer=merged, kind="visit", subject="visit"),
        ],
        "rel_out": Relationship.objects.create(customer=merged, relation_type=RelationType.SIBLING, related_customer=friend),
        "rel_to_survivor": Relationship.objects.create(
            customer=merged, relation_type=RelationType.OTHER, related_customer=survivor
        ),
        "rel_in": Relationship.objects.create(customer=friend, relation_type=RelationType.SIBLING, related_customer=merged),
        "rel_from_survivor": Relationship.objects.create(
            customer=survivor, relation_type=RelationType.OTHER, related_customer=merged
        ),
        "asset": OtherAsset.objects.create(customer=merged, kind="property", description="flat", estimated_value=Decimal("1")),
        "old_assignment": old,
    }  # fmt: skip
    # grants: cm3 has the duplicate only (moves); cm2 has both (the duplicate's is deleted)
    assign_perm("customers.view_customer", cm3, merged)
    assign_perm("customers.view_customer", demo_users["cm_11201"], merged)
    assign_perm("customers.view_customer", demo_users["cm_11201"], survivor)
    # figures: 30 March on both (added up), 31 March only on the duplicate (moved)
    for customer, day, aum in [(survivor, d1, "100"), (merged, d1, "1000"), (merged, d2, "1000")]:
        CustomerDailyAum.objects.create(
            business_date=day, customer=customer, aum=Decimal(aum), liabilities=Decimal("5")
        )
    for customer, month, days in [(survivor, m2, 20), (merged, m1, 28), (merged, m2, 22)]:
        CustomerMonthlyAum.objects.create(customer=customer, month=month, avg_aum=Decimal("10"), end_aum=Decimal("20"),
                                          avg_liabilities=Decimal("1"), days=days)  # fmt: skip
    for customer, channel, count in [(survivor, "ATM", 1), (merged, "ATM", 2), (merged, "MOBILE", 3)]:
        TransactionSummary.objects.create(business_date=d1, customer=customer, channel=channel, txn_count=count,
                                          txn_amount=Decimal("100.50"))  # fmt: skip
    quality.quality_scan()
    objects["issue"] = open_issues(KIND.DUPLICATE_ID).get()
    objects["d1"], objects["d2"], objects["m1"], objects["m2"] = d1, d2, m1, m2
    objects["household"] = household
    objects["friend"] = friend
    survivor.refresh_from_db()
    merged.refresh_from_db()
    return survivor, merged, objects


class TestCustomerMerge:
    def test_everything_moves_to_the_survivor_and_the_merge_is_recorded(self, rich_pair, demo_users):
        survivor, merged, o = rich_pair
        bm = demo_users["demo_bm"]

        merge = quality.customer_merge(survivor=survivor, merged=merged, merged_by=bm, reason="same ID")

        survivor.refresh_from_db()
        merged.refresh_from_db()
        # the records
        assert merged.merged_into == survivor and merged.status == CustomerStatus.CLOSED
        assert (merged.aum, merged.primary_manager, merged.household) == (0, None, None)
        assert survivor.aum == Decimal("1100.00")
        assert survivor.liabilities == Decimal("30.00")
        assert survivor.month_avg_aum == Decimal("990.00")
        assert survivor.household == o["household"]
        assert survivor.primary_manager == demo_users["demo_cm1"]  # the survivor's manager stays
        # accounts, contacts, interactions, assets
        account_ids = sorted(a.pk for a in o["accounts"])
        assert sorted(Account.objects.filter(customer=survivor).values_list("pk", flat=True)) == sorted(
            [*account_ids, o["survivor_account"].pk]
        )
        assert not ContactPoint.objects.filter(pk=o["dup_contact"].pk).exists()
        assert set(ContactPoint.objects.filter(customer=survivor).values_list("pk", flat=True)) == {
            o["survivor_contact"].pk,
            o["email"].pk,
        }
        assert Interaction.objects.filter(customer=survivor).count() == 2
        assert OtherAsset.objects.get(pk=o["asset"].pk).customer == survivor
        assert not ContactPoint.objects.filter(customer=merged).exists()
        # relationships both ways, none pointing the survivor at itself
        assert Relationship.objects.get(pk=o["rel_out"].pk).customer == survivor
        assert Relationship.objects.get(pk=o["rel_in"].pk).related_customer == survivor
        assert not Relationship.objects.filter(
            pk__in=[o["rel_to_survivor"].pk, o["rel_from_survivor"].pk]
        ).exists()
        assert not Relationship.objects.filter(customer=survivor, related_customer=survivor).exists()
        # grants: moved, or deleted where the survivor had the same one
        grants = CustomerUserObjectPermission.objects.filter(content_object=survivor)
        assert set(grants.values_list("user__username", flat=True)) == {"demo_cm3", "cm_11201"}
        assert not CustomerUserObjectPermission.objects.filter(content_object=merged).exists()
        # assignment history kept (closed) for performance attribution
        history = CustomerAssignment.objects.filter(customer=survivor).order_by("start_date", "pk")
        assert [(a.manager.username, a.end_date is None) for a in history] == [
            ("demo_cm3", False),  # the duplicate's first manager
            ("demo_cm1", True),  # the survivor's manager of record
            ("demo_cm2", False),  # the duplicate's manager of record, closed by the merge
        ]
        closed = history.get(manager__username="demo_cm2")
        assert closed.end_date == timezone.localdate()
        assert closed.reason == f"merged into {survivor.customer_no} (was: transfer)"
        assert (
            CustomerAssignment.objects.filter(
                customer=survivor, role=AssignmentRole.PRIMARY, end_date__isnull=True
            ).count()
            == 1
        )
        # figures: same key added up, the rest moved
        daily = {r.business_date: r for r in CustomerDailyAum.objects.filter(customer=survivor)}
        assert daily[o["d1"]].aum == Decimal("1100") and daily[o["d1"]].liabilities == Decimal("10")
        assert daily[o["d2"]].aum == Decimal("1000")
        monthly = {r.month: r for r in CustomerMonthlyAum.objects.filter(customer=survivor)}
        assert monthly[o["m2"]].avg_aum == Decimal("20") and monthly[o["m2"]].days == 22
        assert monthly[o["m1"]].days == 28
        txns = {r.channel: r for r in TransactionSummary.objects.filter(customer=survivor)}
        assert txns["ATM"].txn_count == 3 and txns["ATM"].txn_amount == Decimal("201.00")
        assert txns["MOBILE"].txn_count == 3
        for model in (CustomerDailyAum, CustomerMonthlyAum, TransactionSummary):
            assert not model.objects.filter(customer=merged).exists()
        # the issue of the pair is resolved
        o["issue"].refresh_from_db()
        assert (o["issue"].status, o["issue"].resolution) == (QualityIssueStatus.RESOLVED, "merged")

        # what moved, to undo it
        assert sorted(merge.moved["account"]) == account_ids
        assert merge.moved["contactpoint"] == [o["email"].pk]
        assert [c["id"] for c in merge.moved["contactpoint_deleted"]] == [o["dup_contact"].pk]
        assert sorted(merge.moved["interaction"]) == sorted(i.pk for i in o["interactions"])
        assert merge.moved["relationship"] == [o["rel_out"].pk]
        assert merge.moved["relationship_incoming"] == [o["rel_in"].pk]
        assert {r["id"] for r in merge.moved["relationship_deleted"]} == {
            o["rel_to_survivor"].pk,
            o["rel_from_survivor"].pk,
        }
        assert len(merge.moved["customeruserobjectpermission"]) == 1
        assert len(merge.moved["customeruserobjectpermission_deleted"]) == 1
        assert o["old_assignment"].pk in merge.moved["customerassignment"]
        assert merge.moved["customerdailyaum"] == {
            "moved": [["2026-03-31"]],
            # date, AUM, liabilities, then the six priced categories (none here)
            "added": [["2026-03-30", "1000.00", "5.00", *["0.00"] * 6]],
        }
        assert merge.moved["dataqualityissue"] == [o["issue"].pk]
        assert merge.moved["household"] == {"taken": o["household"].pk}
        assert merge.snapshot["merged"]["aum"] == "1000.00"
        assert merge.snapshot["merged"]["household_id"] == o["household"].pk
        assert merge.snapshot["survivor"]["aum"] == "100.00"
        text = json.dumps(merge.snapshot) + json.dumps(merge.moved)
        assert merged.id_number not in text and "13800001111" not in text and "qian@example.com" not in text
        assert "id_suffix" not in merge.snapshot["merged"]
        assert merge.snapshot["merged"]["id_number_enc"] == merged.id_number_enc  # ciphertext only

        # audited, with counts per table
        event = AuditEvent.objects.get(action=Action.CUSTOMER_MERGED)
        assert event.actor == bm
        assert event.target_id == str(survivor.pk)
        assert event.details["merged"] == merged.customer_no
        assert event.details["merge_id"] == merge.pk
        assert event.details["reason"] == "same ID"
        assert event.details["moved"]["account"] == 2
        assert event.details["moved"]["interaction"] == 2
        assert event.details["moved"]["customerdailyaum"] == 2
        # the audit log names what moved in words, never by table
        shown = detail_text(event.action, event.details)
        assert "Account 2" in shown and "Daily AUM rows 2" in shown and "Records moved" in shown
        assert not any(
            word in shown for word in ("customerdailyaum", "interaction ", "merge id", "customerassignment")
        )

    def test_a_survivor_without_manager_takes_the_duplicates(self, person, demo_users):
        survivor = person(id_number=resident_id(41))
        merged = person(id_number=resident_id(41), manager=demo_users["demo_cm2"])

        quality.customer_merge(
            survivor=survivor, merged=merged, merged_by=demo_users["demo_bm"], reason="dup"
        )

        survivor.refresh_from_db()
        assert survivor.primary_manager == demo_users["demo_cm2"]
        assert CustomerAssignment.objects.get(customer=survivor).end_date is None
        assert AuditEvent.objects.filter(
            action=Action.ASSIGNMENT_CHANGED, target_id=str(survivor.pk)
        ).exists()

    def test_the_employers_paying_the_duplicate_pay_the_survivor(self, rich_pair, demo_users):
        survivor, merged, _o = rich_pair
        both, other = (
            Employer.objects.create(name=name, uscc=make_uscc(code), industry="I")
            for name, code in (("同一单位", "91110108MA01C7K2X"), ("另一单位", "91110105MA00B3H1N"))
        )
        day = datetime.date(2025, 1, 1)
        survivor_link = PayrollLink.objects.create(employer=both, customer=survivor, since=day)
        twice = PayrollLink.objects.create(employer=both, customer=merged, since=day)
        own = PayrollLink.objects.create(employer=other, customer=merged, since=day)
        ended = PayrollLink.objects.create(
            employer=both, customer=merged, since=datetime.date(2020, 1, 1), until=datetime.date(2021, 1, 1)
        )

        merge = quality.customer_merge(
            survivor=survivor, merged=merged, merged_by=demo_users["demo_bm"], reason="same ID"
        )

        # the duplicate's own employer and its history move; the same open link twice does not
        assert set(PayrollLink.objects.filter(customer=survivor).values_list("pk", flat=True)) == {
            survivor_link.pk,
            own.pk,
            ended.pk,
        }
        assert not PayrollLink.objects.filter(pk=twice.pk).exists()
        assert not PayrollLink.objects.filter(customer=merged).exists()
        assert sorted(merge.moved["payrolllink"]) == sorted([own.pk, ended.pk])
        assert merge.moved["payrolllink_dropped"] == [twice.pk]

    def test_the_merged_customer_leaves_search_results(self, rich_pair, demo_users):
        survivor, merged, _ = rich_pair
        bm = demo_users["demo_bm"]
        assert set(customer_search(user=bm, q="钱多多")) == {survivor, merged}
        quality.customer_merge(survivor=survivor, merged=merged, merged_by=bm, reason="same ID")
        assert list(customer_search(user=bm, q="钱多多")) == [survivor]
        assert list(customer_search(user=bm, q=merged.customer_no)) == []

    @pytest.mark.parametrize("username", ["demo_cm1", "demo_bh", "demo_audit", "demo_admin"])
    def test_only_a_business_manager_may_merge(self, rich_pair, demo_users, username):
        survivor, merged, _ = rich_pair
        with pytest.raises(PermissionDenied):
            quality.customer_merge(
                survivor=survivor, merged=merged, merged_by=demo_users[username], reason="x"
            )
        merged.refresh_from_db()
        assert merged.merged_into is None

    def test_refuses_itself_an_already_merged_one_and_no_reason(self, person, demo_users):
        bm = demo_users["demo_bm"]
        a = person(id_number=resident_id(51))
        b = person(id_number=resident_id(51))
        c = person(id_number=resident_id(51))
        with pytest.raises(ValidationError):
            quality.customer_merge(survivor=a, merged=a, merged_by=bm, reason="self")
        with pytest.raises(ValidationError):
            quality.customer_merge(survivor=a, merged=b, merged_by=bm, reason="  ")
        quality.customer_merge(survivor=a, merged=b, merged_by=bm, reason="dup")
        with pytest.raises(ValidationError):
            quality.customer_merge(survivor=c, merged=b, merged_by=bm, reason="again")
        with pytest.raises(ValidationError):
            quality.customer_merge(survivor=b, merged=c, merged_by=bm, reason="into a merged one")
        assert CustomerMerge.objects.count() == 1

    def test_is_atomic(self, rich_pair, demo_users, monkeypatch):
        survivor, merged, o = rich_pair
        before = {
            "accounts": set(Account.objects.filter(customer=merged).values_list("pk", flat=True)),
            "contacts": set(ContactPoint.objects.filter(customer=merged).values_list("pk", flat=True)),
            "relationships": set(
                Relationship.objects.values_list("pk", "customer_id", "related_customer_id")
            ),
            "assignments": set(CustomerAssignment.objects.values_list("pk", "customer_id", "end_date")),
            "grants": set(CustomerUserObjectPermission.objects.values_list("pk", "content_object_id")),
        }

        def fail(*args, **kwargs):
            raise RuntimeError("disk full")

        # the last step before the records themselves change: everything else has moved
        monkeypatch.setattr(merging, "_fold_figures", fail)
        with pytest.raises(RuntimeError):
            quality.customer_merge(
                survivor=survivor, merged=merged, merged_by=demo_users["demo_bm"], reason="x"
            )

        assert set(Account.objects.filter(customer=merged).values_list("pk", flat=True)) == before["accounts"]
        assert (
            set(ContactPoint.objects.filter(customer=merged).values_list("pk", flat=True))
            == before["contacts"]
        )
        assert (
            set(Relationship.objects.values_list("pk", "customer_id", "related_customer_id"))
            == before["relationships"]
        )
        assert (
            set(CustomerAssignment.objects.values_list("pk", "customer_id", "end_date"))
            == before["assignments"]
        )
        assert (
            set(CustomerUserObjectPermission.objects.values_list("pk", "content_object_id"))
            == before["grants"]
        )
        merged.refresh_from_db()
        assert merged.merged_into is None and merged.aum == Decimal("1000.00")
        o["issue"].refresh_from_db()
        assert o["issue"].status == OPEN
        assert not CustomerMerge.objects.exists()
        assert not AuditEvent.objects.filter(action=Action.CUSTOMER_MERGED).exists()


def test_a_merged_record_says_so_and_takes_no_new_facts(client, demo_users, demo_password, new_customer):
    from customers.services import interaction_log
    from tests.customers.conftest import log_in as portal_log_in

    survivor = new_customer(manager=demo_users["demo_cm1"], name="合并甲")
    merged = new_customer(manager=demo_users["demo_cm1"], name="合并乙")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor, status="C")
    merged.refresh_from_db()
    with pytest.raises(ValidationError):
        interaction_log(customer=merged, kind="call", subject="x", logged_by=demo_users["demo_cm1"])
    portal_log_in(client, "demo_bm", demo_password)
    html = client.get(f"/customers/{merged.customer_no}/").content.decode()
    assert 'data-testid="merged-banner"' in html and survivor.customer_no in html
    response = client.post(
        f"/customers/{merged.customer_no}/interactions/", {"kind": "call", "subject": "late"}
    )
    assert response.status_code == 302 and not merged.interactions.exists()
