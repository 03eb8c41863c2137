"""The admin pages of the load: history, a load's page with its live progress, the
error report, the upload and its guards. System administrators only."""

import io
import zipfile
from pathlib import Path

import pytest

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.roles import Role
from customers.choices import BatchStatus
from customers.ingest.spec import FILES
from customers.models import BatchFile, BatchLoad, Customer
from tests.customers.ingest_helpers import DAY, batch, load

pytestmark = pytest.mark.django_db

HISTORY = "/admin/customers/batchload/"
UPLOAD = "/admin/customers/batchload/upload/"


def page(load: BatchLoad) -> str:
    return f"/admin/customers/batchload/{load.pk}/change/"


def progress(load: BatchLoad) -> str:
    return f"/admin/customers/batchload/{load.pk}/progress/"


def errors(load: BatchLoad) -> str:
    return f"/admin/customers/batchload/{load.pk}/errors.csv"


def zipped(path: Path, *, folder: str | None = None, extra: dict[str, bytes] | None = None) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.iterdir()):
            archive.write(file, f"{folder or path.name}/{file.name}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def upload(client, buffer: io.BytesIO, name: str, **data):
    buffer.name = name
    return client.post(UPLOAD, {"archive": buffer, **data})


@pytest.fixture
def admin_client(make_user, login):
    return login(make_user(Role.SYSTEM_ADMIN, "10000"))


@pytest.fixture
def loaded(org, tmp_path):
    return load(batch(tmp_path, customers=30, bad_rows=12).path)


@pytest.mark.parametrize(
    "role",
    [Role.AUDITOR, Role.PARAMETER_MANAGER, Role.BUSINESS_MANAGER, Role.BRANCH_HEAD, Role.CLIENT_MANAGER],
)
def test_only_administrators_see_history_progress_and_upload(make_user, login, loaded, role):
    client = login(make_user(role, "10000"))
    for url in (HISTORY, page(loaded), progress(loaded), errors(loaded), UPLOAD):
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code in (302, 403), (role, url, response.status_code)
        assert b"CUSTOMER.dat" not in response.content
    response = client.post(UPLOAD, {})
    assert response.status_code in (302, 403)
    assert not BatchLoad.objects.exclude(pk=loaded.pk).exists()


def test_history_lists_loads_with_who_when_and_counts(admin_client, loaded, demo_users):
    response = admin_client.get(HISTORY)
    assert response.status_code == 200
    content = response.content.decode()
    assert str(loaded.rows_loaded) in content.replace(",", "")
    assert "command" in content and "2026-03-02" in content or "March 2, 2026" in content
    assert 'data-testid="upload-batch"' in content


def test_the_load_page_shows_files_errors_and_the_report(admin_client, loaded):
    response = admin_client.get(page(loaded))
    assert response.status_code == 200
    content = response.content.decode()
    for spec in FILES:
        assert f'data-file="{spec.name}"' in content
    assert "<progress" in content and 'data-status="loaded"' in content
    assert "hx-get" not in content  # a finished load is not polled
    assert 'data-testid="error-report"' in content
    assert "vendor/htmx/htmx.min.js" in content and "<script>" not in content  # CSP: no inline script
    csv = admin_client.get(errors(loaded))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0] == "file,line,column,value,reason"
    assert len(lines) - 1 == loaded.errors.count()
    assert lines[1].startswith("CUSTOMER.dat,")  # interface order, then line
    assert AuditEvent.objects.filter(action=Action.EXPORT, target_id=str(loaded.pk)).exists()


def test_progress_of_a_running_load_is_polled(admin_client, loaded):
    running = BatchLoad.objects.create(source="/x/20260303", started_via="upload", status=BatchStatus.RUNNING)
    BatchFile.objects.create(load=running, name="CUSTOMER.dat", control_rows=10, progress=40, phase="reading")
    response = admin_client.get(progress(running), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert f'hx-get="{progress(running)}"' in content and 'hx-trigger="every 2s"' in content
    assert 'value="40"' in content and "<html" not in content
    # without htmx the partial's address sends to the page
    assert admin_client.get(progress(running)).status_code == 302


def test_upload_starts_a_load(admin_client, org, tmp_path, django_capture_on_commit_callbacks, settings):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    path = batch(tmp_path / "src", customers=25).path
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, zipped(path), "20260302.zip")
    load_record = BatchLoad.objects.get()
    assert response.status_code == 302 and response["Location"] == page(load_record)
    assert load_record.status == BatchStatus.LOADED, load_record.message
    assert load_record.started_via == "upload" and load_record.started_by.username.startswith("system_admin")
    assert Customer.objects.count() == 25
    assert Path(load_record.source).name == "20260302"
    assert Path(load_record.source).is_relative_to(tmp_path / "uploads")


def test_upload_of_files_at_the_root_named_by_the_zip(
    admin_client, org, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    path = batch(tmp_path / "src", customers=5).path
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in path.iterdir():
            archive.write(file, file.name)
    buffer.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, buffer, "20260302.zip")
    assert BatchLoad.objects.get().status == BatchStatus.LOADED


def _zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    "make, name, message",
    [
        (lambda p: zipped(p), "20260302.tar", "Upload the batch as a .zip file"),
        (lambda p: io.BytesIO(b"not a zip at all"), "20260302.zip", "not a zip archive"),
        (lambda p: zipped(p, extra={"../evil.dat": b"x"}), "b.zip", "outside its folder"),
        (lambda p: zipped(p, extra={"/etc/BATCH.ok": b""}), "b.zip", "outside its folder"),
        (
            lambda p: zipped(p, extra={"20260302/notes.txt": b"hi"}),
            "b.zip",
            "not a file of the core-banking interface",
        ),
        (lambda p: zipped(p, extra={"20260302/sub/BATCH.ok": b""}), "b.zip", "nested folder"),
        (lambda p: zipped(p, extra={"20260303/BATCH.ok": b""}), "b.zip", "one batch folder"),
        (lambda p: zipped(p, folder="march"), "b.zip", "YYYYMMDD"),
        (lambda p: _zip_of({"20260302/CUSTOMER.dat": b"0" * (20 * 1024 * 1024)}), "b.zip", "zip bomb"),
        (lambda p: _zip_of({}), "b.zip", "empty"),
    ],
)
def test_upload_guards(admin_client, org, tmp_path, settings, make, name, message):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    path = batch(tmp_path / "src", customers=3).path
    response = upload(admin_client, make(path), name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BatchLoad.objects.exists()
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*.dat"))


def test_upload_size_limits(admin_client, org, tmp_path, settings):
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    path = batch(tmp_path / "src", customers=50).path
    settings.INGEST_UPLOAD_MAX_EXPANDED = 10_000
    response = upload(admin_client, zipped(path), "b.zip")
    assert "would expand to" in response.content.decode()
    settings.INGEST_UPLOAD_MAX_EXPANDED = 10**9
    # a little too big: refused by the form
    settings.INGEST_UPLOAD_MAX_BYTES = zipped(path).getbuffer().nbytes - 1
    response = upload(admin_client, zipped(path), "b.zip")
    assert response.status_code == 200 and "uploads are limited to" in response.content.decode()
    # far too big: refused from the request's length, before the body is read
    settings.INGEST_UPLOAD_MAX_BYTES = 1000
    big = batch(tmp_path / "big", customers=600).path
    response = upload(admin_client, zipped(big), "b.zip")
    assert response.status_code == 302
    follow = admin_client.get(response["Location"])
    assert "uploads are limited to" in follow.content.decode()
    assert not BatchLoad.objects.exists()


def test_a_refused_load_can_be_started_again_forced(
    admin_client, org, tmp_path, django_capture_on_commit_callbacks
):
    load(batch(tmp_path, day=DAY.replace(day=3), customers=5).path)
    refused = load(batch(tmp_path, customers=5).path)
    assert refused.status == BatchStatus.REFUSED
    content = admin_client.get(page(refused)).content.decode()
    assert "Load this batch again" in content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/customers/batchload/{refused.pk}/again/", {"force": "on"})
    again = BatchLoad.objects.latest("pk")
    assert response["Location"] == page(again)
    assert again.forced and again.status == BatchStatus.LOADED
