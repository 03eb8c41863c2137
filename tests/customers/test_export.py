"""Export of a customer search to Excel: permission, scope, masking, row cap, formula
neutralising, audit, the task path with its progress, and the download link's life."""

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from accounts.audit import Action
from accounts.models import AuditEvent
from crm_portal.schedule import DEFAULT_SCHEDULE
from customers import exports
from customers.choices import ExportStatus
from customers.masking import mask_id_number, mask_mobile
from customers.models import ExportJob
from customers.search import SearchFilters
from customers.tasks import export_build_task, export_expire_task
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

START = "/customers/exports/new/"
LIST = "/customers/exports/"


def detail_url(job):
    return f"/customers/exports/{job.pk}/"


def download_url(job):
    return f"/customers/exports/{job.pk}/download/"


def read_sheet(content: bytes) -> dict[str, dict[str, object]]:
    """Rows of the exported sheet by customer number, keyed by header."""
    sheet = load_workbook(io.BytesIO(bytes(content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=False)) for row in rows[1:]}


@pytest.fixture
def book(demo_users, new_customer):
    """Customers in two outlets under the branch head's sub-branch (11100) and one in
    Shanghai, outside it."""
    return {
        "a": new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum="500000"),
        "b": new_customer(branch="11102", manager=demo_users["demo_cm2"], name="王大明", aum="80000"),
        "c": new_customer(branch="12101", manager=demo_users["demo_cm3"], name="王明远", aum="10000"),
    }


@pytest.fixture
def export_as(client, demo_password):
    def _export(username, **search):
        log_in(client, username, demo_password)
        return client.post(START, search)

    return _export


class TestPermission:
    @pytest.mark.parametrize("username", ["demo_cm1", "demo_pm", "demo_admin"])
    def test_roles_without_the_export_permission_get_403_and_no_job(
        self, client, book, username, demo_password
    ):
        log_in(client, username, demo_password)
        assert client.post(START, {"q": "王"}).status_code == 403
        assert client.get(LIST).status_code == 403
        assert not ExportJob.objects.exists()
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()

    def test_the_service_refuses_too(self, book, demo_users):
        with pytest.raises(PermissionDenied):
            exports.export_start(user=demo_users["demo_cm1"], q="", filters=SearchFilters(), sort="aum")
        assert not ExportJob.objects.exists()

    @pytest.mark.parametrize(
        ("username", "shown"), [("demo_cm1", False), ("demo_bh", True), ("demo_bm", True)]
    )
    def test_the_button_shows_only_to_exporters(self, client, book, demo_password, username, shown):
        log_in(client, username, demo_password)
        assert (b'data-testid="export-start"' in client.get("/customers/").content) is shown

    def test_a_job_is_only_its_owners(self, client, book, demo_users, demo_password):
        job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        log_in(client, "demo_audit", demo_password)  # may export, but not this job
        assert client.get(download_url(job)).status_code == 404
        assert client.get(detail_url(job)).status_code == 404
        assert job.pk not in [r["job"].pk for r in client.get(LIST).context["rows"]]


class TestContent:
    def test_business_manager_exports_in_full(self, export_as, book):
        response = export_as("demo_bm", q="王")
        job = ExportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == detail_url(job)
        assert job.status == ExportStatus.DONE and job.masked is False
        row = read_sheet(job.content)[book["a"].customer_no]
        assert row["ID number"] == book["a"].id_number
        assert row["Mobile"] == book["a"].mobile
        assert row["Name"] == "王小明"
        assert row["Branch code"] == "11101"
        assert row["Manager of record (employee no.)"] == "E1101"
        assert row["AUM (CNY)"] == 500000

    @pytest.mark.parametrize("username", ["demo_bh", "demo_audit"])
    def test_other_exporters_get_masked_identifiers(self, export_as, book, username):
        export_as(username, q="王")
        job = ExportJob.objects.get()
        assert job.masked is True
        row = read_sheet(job.content)[book["a"].customer_no]
        assert row["ID number"] == mask_id_number(book["a"].id_number) != book["a"].id_number
        assert row["Mobile"] == mask_mobile(book["a"].mobile) != book["a"].mobile
        assert book["a"].id_number.encode() not in bytes(job.content)

    def test_only_customers_in_the_exporters_scope(self, export_as, book):
        export_as("demo_bh")
        rows = read_sheet(ExportJob.objects.get().content)
        assert set(rows) == {book["a"].customer_no, book["b"].customer_no}

    def test_filters_and_sort_are_applied(self, export_as, book):
        export_as("demo_bm", branch="11000", sort="-aum")
        job = ExportJob.objects.get()
        assert list(read_sheet(job.content)) == [book["b"].customer_no, book["a"].customer_no]
        assert job.query["filters"] == {"branch": "11000"} and job.query["sort"] == "-aum"

    @pytest.mark.parametrize(
        "name", ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-1+2", "@SUM(1)"]
    )
    def test_formulas_are_neutralised(self, export_as, demo_users, new_customer, name):
        customer = new_customer(branch="11101", manager=demo_users["demo_cm1"], name=name)
        export_as("demo_bm", q=customer.customer_no)
        sheet = load_workbook(io.BytesIO(bytes(ExportJob.objects.get().content))).worksheets[0]
        cell = sheet.cell(row=2, column=2)
        assert cell.value == "'" + name
        assert cell.data_type == "s"  # text, not a formula

    def test_neutralise_leaves_other_values_alone(self):
        assert exports.neutralise("王小明") == "王小明"
        assert exports.neutralise("\tx") == "'\tx"
        assert exports.neutralise("a\x00b") == "ab"
        assert exports.neutralise(-5) == -5  # a number is a number, not a formula


class TestRefusals:
    def test_row_cap_refuses_with_a_message_and_keeps_the_search(self, export_as, book, settings, client):
        settings.EXPORT_ROW_CAP = 2
        response = export_as("demo_bm", q="王", tier="")
        assert response.status_code == 302
        assert response["Location"] == "/customers/?q=%E7%8E%8B"
        assert not ExportJob.objects.exists()
        page = client.get(response["Location"])
        assert "matches more than 2 customers" in page.content.decode()

    def test_row_cap_in_the_service(self, book, demo_users, settings):
        settings.EXPORT_ROW_CAP = 2
        with pytest.raises(ValidationError) as refused:
            exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        assert refused.value.code == "row_cap"
        # narrowed under the cap, the same user may export
        job = exports.export_start(
            user=demo_users["demo_bm"], q="", filters=SearchFilters(branch="11000"), sort="aum"
        )
        assert job.row_count == 2

    def test_bad_input_goes_back_to_the_list_with_the_error(self, export_as, book, client):
        response = export_as("demo_bm", q="王", aum_min="lots")
        assert response.status_code == 302 and response["Location"].startswith("/customers/?")
        assert not ExportJob.objects.exists()
        assert "AUM from" in client.get(response["Location"]).content.decode()

    def test_an_empty_result_is_not_exported(self, export_as, book):
        response = export_as("demo_bh", q="王明远")  # in Shanghai, outside the branch head's scope
        assert response.status_code == 302
        assert not ExportJob.objects.exists()

    def test_htmx_post_moves_the_browser(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.post(START, {"q": "王"}, headers={"HX-Request": "true"})
        assert response["HX-Redirect"] == detail_url(ExportJob.objects.get())

    def test_a_failure_marks_the_job_failed_without_personal_data(self, book, demo_users, monkeypatch):
        def broken(customer, *, masked):
            raise ValueError(f"cannot write {customer.mobile}")

        monkeypatch.setattr(exports, "_row", broken)
        spooled = list(ALL_TEMP_FILES)
        job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        assert job.status == ExportStatus.FAILED and job.content is None
        assert spooled == ALL_TEMP_FILES  # openpyxl's spool file is removed, no data left on disk
        assert "ValueError" in job.error
        assert all(c.mobile not in job.error for c in book.values())
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


class TestAudit:
    def test_the_export_is_audited_with_filter_and_row_count_and_no_clear_identifiers(self, export_as, book):
        # searched by mobile: the filter is audited, the mobile is not in clear
        export_as("demo_bm", q=book["a"].mobile, branch="11000", sort="name")
        job = ExportJob.objects.get()
        event = AuditEvent.objects.get(action=Action.EXPORT)
        assert event.details == {
            "filter": {"q": mask_mobile(book["a"].mobile), "filters": {"branch": "11000"}, "sort": "name"},
            "rows": 1,
            "masked": False,
            "export_id": job.pk,
        }
        assert event.actor.username == "demo_bm"
        assert event.target_id == str(job.pk)
        stored = json.dumps(event.details) + event.target_repr + json.dumps(job.query)
        for customer in book.values():
            assert customer.mobile not in stored and customer.id_number not in stored

    def test_the_search_text_is_kept_encrypted_and_rerun(self, book, demo_users, settings):
        settings.EXPORT_SYNC_ROWS = 0
        job = exports.export_start(
            user=demo_users["demo_bm"], q=book["b"].id_number, filters=SearchFilters(), sort="aum"
        )
        assert job.query["q"] == mask_id_number(book["b"].id_number)
        assert book["b"].id_number not in json.dumps(job.query)
        export_build_task.delay(job.pk)
        job.refresh_from_db()
        assert list(read_sheet(job.content)) == [book["b"].customer_no]


class TestTaskPath:
    def test_a_large_export_runs_as_a_task_after_commit_and_reports_progress(
        self, client, book, demo_password, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_SYNC_ROWS = 1
        monkeypatch.setattr(exports, "CHUNK_SIZE", 1)
        log_in(client, "demo_bm", demo_password)
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(START, {"q": "王"})
        job = ExportJob.objects.get()
        assert response["Location"] == detail_url(job)
        # queued, not built: the task is sent only once the job row is committed
        assert job.status == ExportStatus.PENDING and job.content is None and job.total == 3
        assert len(callbacks) == 1
        page = client.get(detail_url(job))
        assert b'hx-trigger="every 2s"' in page.content

        with CaptureQueriesContext(connection) as queries:
            callbacks[0]()
        progress_updates = [
            q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "progress" in q["sql"]
        ]
        assert len(progress_updates) >= 3  # claim, each row (chunk of 1), completion
        job.refresh_from_db()
        assert (job.status, job.progress, job.row_count) == (ExportStatus.DONE, 100, 3)
        assert job.expires_at > timezone.now()

        poll = client.get(detail_url(job), headers={"HX-Request": "true"})
        assert b"every 2s" not in poll.content
        assert download_url(job).encode() in poll.content

    def test_on_commit_sends_the_task(self, export_as, book, settings, django_capture_on_commit_callbacks):
        settings.EXPORT_SYNC_ROWS = 1
        with django_capture_on_commit_callbacks(execute=True):
            export_as("demo_bh")
        job = ExportJob.objects.get()
        assert job.status == ExportStatus.DONE and job.progress == 100 and job.row_count == 2

    def test_running_a_done_job_again_changes_nothing(self, book, demo_users):
        job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        content = bytes(job.content)
        assert export_build_task.delay(job.pk).get() == ExportStatus.DONE
        job.refresh_from_db()
        assert bytes(job.content) == content
        assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 1

    def test_a_job_that_grew_past_the_cap_while_waiting_fails(
        self, book, demo_users, new_customer, settings, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_ROW_CAP, settings.EXPORT_SYNC_ROWS = 3, 1
        with django_capture_on_commit_callbacks() as callbacks:
            job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        new_customer(branch="11101", name="王新")
        callbacks[0]()
        job.refresh_from_db()
        assert job.status == ExportStatus.FAILED and "more than 3" in job.error and job.content is None

    def test_a_user_who_lost_the_permission_while_waiting_gets_nothing(
        self, book, demo_users, settings, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_SYNC_ROWS = 1
        user = demo_users["demo_bh"]
        with django_capture_on_commit_callbacks() as callbacks:
            job = exports.export_start(user=user, q="", filters=SearchFilters(), sort="aum")
        user.groups.clear()
        callbacks[0]()
        job.refresh_from_db()
        assert job.status == ExportStatus.FAILED and job.content is None

    @pytest.mark.django_db(transaction=True)
    def test_in_autocommit_the_task_streams_with_progress_updates_between_chunks(
        self, client, book, demo_password, settings, monkeypatch
    ):
        # No test transaction: on_commit fires at once, and on PostgreSQL the rows come
        # from a server-side cursor that has to survive the progress UPDATEs.
        settings.EXPORT_SYNC_ROWS = 1
        monkeypatch.setattr(exports, "CHUNK_SIZE", 1)
        log_in(client, "demo_bm", demo_password)
        client.post(START, {"q": "王"})
        job = ExportJob.objects.get()
        assert (job.status, job.progress, job.row_count) == (ExportStatus.DONE, 100, 3)
        assert AuditEvent.objects.filter(action=Action.EXPORT, target_id=str(job.pk)).count() == 1

    def test_a_broker_that_refuses_the_task_fails_the_job(
        self, book, demo_users, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_SYNC_ROWS = 1

        def refuse(job_id):
            raise ConnectionError("broker down")

        monkeypatch.setattr(export_build_task, "delay", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        job.refresh_from_db()
        assert job.status == ExportStatus.FAILED and "could not be queued" in job.error

    def test_a_job_left_waiting_past_the_link_lifetime_is_failed(
        self, book, demo_users, settings, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_SYNC_ROWS = 1
        with django_capture_on_commit_callbacks():  # the task is lost
            job = exports.export_start(user=demo_users["demo_bm"], q="", filters=SearchFilters(), sort="aum")
        exports.export_expire()
        job.refresh_from_db()
        assert job.status == ExportStatus.PENDING
        exports.export_expire(
            now=timezone.now() + datetime.timedelta(hours=settings.EXPORT_LINK_HOURS, seconds=1)
        )
        job.refresh_from_db()
        assert job.status == ExportStatus.FAILED and job.error

    def test_the_expiry_task_is_scheduled(self):
        assert "customers.export_expire" in {task for task, _cron in DEFAULT_SCHEDULE.values()}


class TestDownloadLink:
    def test_download_is_an_xlsx_attachment(self, client, export_as, book):
        export_as("demo_bm")
        job = ExportJob.objects.get()
        response = client.get(download_url(job))
        assert response.status_code == 200
        assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
        assert response["Content-Disposition"] == f'attachment; filename="{job.filename}"'
        assert job.filename.startswith("customers-") and job.filename.endswith(".xlsx")
        assert "no-store" in response["Cache-Control"]
        assert len(read_sheet(b"".join(response.streaming_content))) == 3

    def test_an_expired_link_answers_410_and_the_sweeper_clears_the_file(self, client, export_as, book):
        export_as("demo_bm")
        job = ExportJob.objects.get()
        fresh = exports.export_start(user=job.user, q="王小明", filters=SearchFilters(), sort="aum")
        ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

        gone = client.get(download_url(job))
        assert gone.status_code == 410
        assert b'data-testid="export-gone"' in gone.content
        assert b'data-testid="export-expired"' in client.get(detail_url(job)).content

        assert export_expire_task.delay().get() == 1
        job.refresh_from_db()
        fresh.refresh_from_db()
        assert job.status == ExportStatus.EXPIRED and job.content is None
        assert fresh.status == ExportStatus.DONE and fresh.content is not None
        assert client.get(download_url(job)).status_code == 410
        assert exports.export_expire() == 0

    def test_a_waiting_job_download_goes_to_the_job_page(
        self, client, export_as, book, settings, django_capture_on_commit_callbacks
    ):
        settings.EXPORT_SYNC_ROWS = 1
        with django_capture_on_commit_callbacks():
            export_as("demo_bm")
        job = ExportJob.objects.get()
        response = client.get(download_url(job))
        assert response.status_code == 302 and response["Location"] == detail_url(job)


class TestQueryCounts:
    # A page costs 9 queries before it reads anything of its own (session, user, its
    # permissions, role names and branch for the menu, the session save in a savepoint).
    PAGE = 10

    def test_job_page_poll_and_list_are_bounded(
        self, client, book, demo_users, demo_password, django_assert_max_num_queries
    ):
        user = demo_users["demo_bm"]
        jobs = [exports.export_start(user=user, q="", filters=SearchFilters(), sort="aum") for _ in range(3)]
        log_in(client, "demo_bm", demo_password)
        with django_assert_max_num_queries(self.PAGE):
            assert client.get(detail_url(jobs[0])).status_code == 200
        with django_assert_max_num_queries(self.PAGE):
            assert client.get(detail_url(jobs[0]), headers={"HX-Request": "true"}).status_code == 200
        with CaptureQueriesContext(connection) as small_queries:
            small = client.get(LIST)
        for _ in range(10):
            exports.export_start(user=user, q="王", filters=SearchFilters(branch="11000"), sort="aum")
        with CaptureQueriesContext(connection) as large_queries:
            large = client.get(LIST)
        assert len(small.context["rows"]) == 3 and len(large.context["rows"]) == 13
        assert len(large_queries) == len(small_queries) <= self.PAGE
        # neither page loads the files themselves
        job_reads = [q["sql"] for q in large_queries if '"customers_exportjob"' in q["sql"]]
        assert job_reads and not any('"customers_exportjob"."content"' in sql for sql in job_reads)
