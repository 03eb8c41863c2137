"""The nightly core-banking load (customers.ingest): a clean load checked against the
files, loading again is a no-op, encodings, line ends, order of business dates, the
next day's snapshot, and what stays private. Runs on SQLite and PostgreSQL alike."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.audit import Action
from accounts.models import AuditEvent
from customers.choices import BatchStatus, QualityIssueKind
from customers.ingest.dialect import Dialect
from customers.ingest.merge import Merger
from customers.ingest.spec import ACCOUNT, BALANCE, CONTACT, CUSTOMER, INCOME, LOAN_STATUS, TXN_SUMMARY
from customers.models import (
    Account,
    AccountBalance,
    BatchLoad,
    ContactPoint,
    Customer,
    DataQualityIssue,
    IncomeEntry,
    LoadError,
    LoanStatus,
    TransactionSummary,
)
from customers.quality import quality_scan
from tests.customers.ingest_helpers import DAY, batch, digest, load, portal_rows, rows, wipe

pytestmark = pytest.mark.django_db


def test_clean_load_matches_the_files(org, tmp_path):
    # given a generated batch
    extract = batch(tmp_path, customers=150)
    path = extract.path
    # when it is loaded
    result = load(path)
    # then every row is there, with the values of the files
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    files = {f.name: f for f in result.files.all()}
    for spec, model in (
        (CUSTOMER, Customer), (CONTACT, ContactPoint), (ACCOUNT, Account),
        (BALANCE, AccountBalance), (TXN_SUMMARY, TransactionSummary),
        (LOAN_STATUS, LoanStatus),  # a first load: every status is new
    ):  # fmt: skip
        assert files[spec.name].loaded == extract.rows[spec.name] == model.objects.count()
        assert files[spec.name].control_rows == extract.rows[spec.name]
        assert files[spec.name].rejected == 0
        assert files[spec.name].progress == 100
    customers = {c.customer_no: c for c in Customer.objects.select_related("home_branch")}
    for f in rows(path, CUSTOMER.name):
        c = customers[f[0]]
        assert (c.name, c.id_type, c.id_number, c.gender) == (f[1], f[2], f[3], f[4])
        assert c.birth_date == datetime.datetime.strptime(f[5], "%Y%m%d").date()
        assert (c.nationality, c.occupation, c.employer, c.education, c.marital) == tuple(f[6:11])
        assert c.annual_income == (Decimal(f[11]) if f[11] else None)
        assert (c.risk_level, c.home_branch.code, c.status) == (f[12], f[14], f[16])
        assert c.open_date.strftime("%Y%m%d") == f[15]
        assert c.id_hash and c.id_suffix == f[3][-6:] and c.name_pinyin and c.search_tokens
    contacts = {}
    for f in rows(path, CONTACT.name):
        contacts.setdefault(f[0], []).append((f[1], f[2], f[3] == "Y"))
    for number, customer in customers.items():
        stored = sorted((cp.type, cp.value, cp.is_primary) for cp in customer.contacts.all())
        assert stored == sorted(contacts[number])
        # the customer's mobile is their primary mobile contact
        assert customer.mobile == next(v for t, v, p in contacts[number] if t == "MOBILE" and p)
    accounts = {a.account_no: a for a in Account.objects.select_related("customer", "branch")}
    for f in rows(path, ACCOUNT.name):
        a = accounts[f[0]]
        assert (a.customer.customer_no, a.product_code, a.category, a.currency) == tuple(f[1:5])
        assert (a.status, a.branch.code) == (f[7], f[8])
        assert (a.maturity_date.strftime("%Y%m%d") if a.maturity_date else "") == f[6]
    balances = {b.account.account_no: b for b in AccountBalance.objects.select_related("account")}
    for f in rows(path, BALANCE.name):
        b = balances[f[0]]
        assert (b.business_date, b.balance, b.cny_balance) == (DAY, Decimal(f[1]), Decimal(f[3]))
    txns = {
        (t.customer.customer_no, t.channel): t for t in TransactionSummary.objects.select_related("customer")
    }
    for f in rows(path, TXN_SUMMARY.name):
        t = txns[(f[0], f[1])]
        assert (t.business_date, t.txn_count, t.txn_amount) == (DAY, int(f[2]), Decimal(f[3]))
    # and the load is recorded and audited
    assert result.digest and result.business_date == DAY and result.attempts == 1
    event = AuditEvent.objects.get(action=Action.BATCH_LOADED, target_id=str(result.pk))
    assert event.details["status"] == "loaded" and event.actor_username == "command"


def test_loading_again_is_a_no_op_reported_as_such(org, tmp_path):
    path = batch(tmp_path).path
    first = load(path)
    before = digest()
    again = load(path)
    assert again.status == BatchStatus.DUPLICATE
    assert f"#{first.pk}" in again.message
    assert digest() == before
    assert BatchLoad.objects.filter(status=BatchStatus.LOADED).count() == 1
    assert not again.files.exists()


def test_the_command_exit_status_and_reason(org, tmp_path, capsys):
    path = batch(tmp_path).path
    call_command("import_extract", str(path))
    assert "loaded" in capsys.readouterr().out.lower()
    call_command("import_extract", str(path))  # already loaded: still 0
    assert "already loaded" in capsys.readouterr().out.lower()
    (path / "BATCH.ok").unlink()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_extract", str(path))
    assert exit_info.value.code == 1
    assert "BATCH.ok is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        call_command("import_extract", str(tmp_path / "nowhere"))
    assert "no batch directory" in capsys.readouterr().err.lower()


def test_gbk_and_utf8_batches_give_identical_results(org, tmp_path):
    utf8 = batch(tmp_path / "utf8", customers=80, bad_rows=12, encoding="UTF-8").path
    assert load(utf8).status == BatchStatus.LOADED
    expected = portal_rows()
    wipe()
    gbk = batch(tmp_path / "gbk", customers=80, bad_rows=12, encoding="GBK").path
    assert "GBK" in (gbk / "BATCH.ctl").read_text()
    assert (gbk / "CUSTOMER.dat").read_bytes() != (utf8 / "CUSTOMER.dat").read_bytes()
    assert load(gbk).status == BatchStatus.LOADED
    assert portal_rows() == expected
    assert any("王" in c[1] or "李" in c[1] or "张" in c[1] for c in expected["customers"])


def test_gb18030_and_crlf_line_ends(org, tmp_path):
    plain = batch(tmp_path / "lf", customers=40).path
    load(plain)
    expected = portal_rows()
    wipe()
    crlf = batch(tmp_path / "crlf", customers=40, encoding="GB18030", newline="\r\n").path
    assert b"\r\n" in (crlf / "ACCOUNT.dat").read_bytes()
    assert load(crlf).status == BatchStatus.LOADED
    assert portal_rows() == expected


def test_out_of_order_dates_are_refused_unless_forced(org, tmp_path):
    later = batch(tmp_path, day=DAY + datetime.timedelta(days=1)).path
    earlier = batch(tmp_path, day=DAY).path
    assert load(later).status == BatchStatus.LOADED
    before = digest()
    refused = load(earlier)
    assert refused.status == BatchStatus.REFUSED
    assert "older than the last loaded" in refused.message
    assert digest() == before
    assert not AccountBalance.objects.filter(business_date=DAY).exists()
    forced = load(earlier, forced=True)
    assert forced.status == BatchStatus.LOADED and forced.forced
    assert AccountBalance.objects.filter(business_date=DAY).exists()


def test_next_day_snapshot_updates_replaces_and_keeps(org, tmp_path, demo_users):
    # given day one loaded, and a portal-owned field set on a customer
    first = batch(tmp_path, customers=60).path
    load(first)
    customer = Customer.objects.get(customer_no="600000000001")
    Customer.objects.filter(pk=customer.pk).update(tier="gold", primary_manager=demo_users["demo_cm1"])
    old_hash, old_enc = customer.id_hash, customer.id_number_enc
    # when day two comes: customer 1 renamed and with a new mobile, one contact less
    day2 = batch(tmp_path, day=DAY + datetime.timedelta(days=1), customers=60).path
    text = (day2 / "CUSTOMER.dat").read_text()
    name = rows(day2, "CUSTOMER.dat")[0][1]
    (day2 / "CUSTOMER.dat").write_text(text.replace(f"600000000001|{name}|", "600000000001|欧阳新名|", 1))
    contact_lines = (day2 / "CONTACT.dat").read_text().split("\n")
    kept = [line for line in contact_lines if not line.startswith("600000000001|")]
    kept.insert(1, "600000000001|MOBILE|13912345678|Y")
    (day2 / "CONTACT.dat").write_text("\n".join(kept))
    from tests.customers.ingest_helpers import rewrite_control

    rewrite_control(day2)
    result = load(day2)
    assert result.status == BatchStatus.LOADED, result.message
    customer.refresh_from_db()
    # then the snapshot fields follow the file, the portal's own fields stay
    assert customer.name == "欧阳新名" and customer.name_pinyin == "ouyangxinming"
    assert customer.tier == "gold" and customer.primary_manager == demo_users["demo_cm1"]
    # the identity did not change: its ciphertext is kept
    assert (customer.id_hash, customer.id_number_enc) == (old_hash, old_enc)
    # the contact set was replaced, the mobile follows
    assert [(c.type, c.value) for c in customer.contacts.all()] == [("MOBILE", "13912345678")]
    assert customer.mobile == "13912345678"
    # balances are per day; both days are there
    assert set(AccountBalance.objects.values_list("business_date", flat=True)) == {
        DAY,
        DAY + datetime.timedelta(days=1),
    }
    assert Customer.objects.count() == 60


def test_a_corrected_batch_of_the_same_date_replaces_the_days_figures(org, tmp_path):
    path = batch(tmp_path, customers=30).path
    load(path)
    account_no = rows(path, BALANCE.name)[0][0]
    text = (path / BALANCE.name).read_text().split("\n")
    (path / BALANCE.name).write_text("\n".join(line for line in text if not line.startswith(account_no)))
    from tests.customers.ingest_helpers import rewrite_control

    rewrite_control(path)
    result = load(path)
    assert result.status == BatchStatus.LOADED  # another digest: a correction
    assert not AccountBalance.objects.filter(account__account_no=account_no).exists()
    assert AccountBalance.objects.count() == len(rows(path, BALANCE.name))


def test_duplicate_person_loads_and_enters_the_quality_queue(org, tmp_path):
    extract = batch(tmp_path, customers=40, bad_rows=12)
    result = load(extract.path)
    original, twin = extract.duplicate_of
    assert Customer.objects.filter(customer_no=twin).exists()
    issue = DataQualityIssue.objects.get(kind=QualityIssueKind.DUPLICATE_ID)
    assert (issue.customer.customer_no, issue.other_customer.customer_no) == (original, twin)
    assert "duplicate" in result.message
    # the nightly scan agrees: nothing new to raise
    counts = quality_scan()
    assert counts[f"{QualityIssueKind.DUPLICATE_ID}_created"] == 0
    # and loading the twin again (next day) does not raise it twice
    load(batch(tmp_path, day=DAY + datetime.timedelta(days=1), customers=40, bad_rows=12).path)
    assert DataQualityIssue.objects.filter(kind=QualityIssueKind.DUPLICATE_ID).count() == 1


def test_no_plain_identifier_is_stored(org, tmp_path):
    path = batch(tmp_path, customers=30).path
    load(path)
    id_number = rows(path, CUSTOMER.name)[0][3]
    mobile = rows(path, CONTACT.name)[0][2]
    customer = Customer.objects.get(customer_no=rows(path, CUSTOMER.name)[0][0])
    stored = " ".join(str(v) for v in Customer.objects.filter(pk=customer.pk).values_list().get())
    assert id_number not in stored and mobile not in stored
    contacts = " ".join(str(v) for row in customer.contacts.values_list() for v in row)
    assert mobile not in contacts
    # no staging table outlives the load
    tables = connection.introspection.table_names()
    assert not [t for t in tables if t.startswith("ing_")]
    # and the error report masks what it shows
    assert not LoadError.objects.exists()


def test_python_checks_in_a_process_pool_give_the_same_rows(org, tmp_path, settings):
    path = batch(tmp_path, customers=60, bad_rows=12).path
    settings.INGEST_PYTHON_WORKERS = 1
    load(path)
    expected = portal_rows()
    wipe()
    settings.INGEST_PYTHON_WORKERS = 2
    assert load(path).status == BatchStatus.LOADED
    assert portal_rows() == expected


def test_an_empty_batch_and_absent_files(org, tmp_path):
    path = batch(tmp_path, customers=0).path
    result = load(path)
    assert result.status == BatchStatus.LOADED and result.rows_loaded == 0
    wipe()
    path = batch(tmp_path / "partial", customers=20).path
    for name in (CONTACT.name, TXN_SUMMARY.name):
        (path / name).unlink()
    from tests.customers.ingest_helpers import rewrite_control

    rewrite_control(path)
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    assert Customer.objects.count() == 20 and not ContactPoint.objects.exists()
    assert {f.name for f in result.files.all()} == {
        CUSTOMER.name, ACCOUNT.name, BALANCE.name, INCOME.name, LOAN_STATUS.name,
    }  # fmt: skip


def _schema() -> list[tuple]:
    with connection.cursor() as cursor:
        # a partition's indexes (the daily history, customers.partitions) are named by
        # PostgreSQL when its table's are built: their definitions are compared
        cursor.execute(
            "SELECT c.relname, CASE WHEN c.relispartition THEN '' ELSE i.indexrelid::regclass::text END,"
            " CASE WHEN c.relispartition THEN regexp_replace(pg_get_indexdef(i.indexrelid), 'INDEX \\S+ ON', 'INDEX ON')"
            " ELSE pg_get_indexdef(i.indexrelid) END"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname LIKE 'customers\\_%%'"
            " UNION ALL SELECT t.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
            " JOIN pg_class t ON t.oid = k.conrelid WHERE t.relname LIKE 'customers\\_%%' ORDER BY 1, 2, 3"
        )
        return cursor.fetchall()


def test_bulk_mode_gives_the_same_rows_and_schema(org, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("bulk mode (indexes and foreign keys rebuilt) is PostgreSQL's")
    path = batch(tmp_path, customers=80, bad_rows=12).path
    load(path)
    # after the ordinary load, which made the month partitions of its date (PostgreSQL)
    schema = _schema()
    expected = portal_rows()
    wipe()
    settings.INGEST_BULK_MIN_ROWS = 1  # every table of this small batch "doubles"
    assert load(path).status == BatchStatus.LOADED
    assert portal_rows() == expected
    assert _schema() == schema
    # the next day (tables no longer doubled) loads the ordinary way, same results
    day2 = batch(tmp_path, day=DAY + datetime.timedelta(days=1), customers=80, bad_rows=12).path
    assert load(day2).status == BatchStatus.LOADED
    assert _schema() == schema


def test_bulk_mode_runs_after_an_earlier_file_left_foreign_key_checks_queued(
    new_customer, add_account, settings, caplog
):
    """A night that doubles a table after writing new accounts: the accounts' deferred
    foreign-key checks are queued in the load's transaction, and dropping the income
    table's key to the accounts alters the accounts' table too, which PostgreSQL
    refuses while checks are queued on it. Bulk mode runs the queued checks first."""
    if connection.vendor != "postgresql":
        pytest.skip("bulk mode (indexes and foreign keys rebuilt) is PostgreSQL's")
    add_account(new_customer())  # queued: the new account's checks of its customer and branch
    schema = _schema()
    settings.INGEST_BULK_MIN_ROWS = 1
    merger = Merger(None, Dialect(connection.vendor), business_date=DAY)
    with caplog.at_level("WARNING", logger="customers.ingest.merge"), merger.bulk(IncomeEntry, 10) as on:
        assert on, caplog.text
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'customers_incomeentry'::regclass"
                " AND contype = 'f'"
            )
            assert cursor.fetchone()[0] == 0  # its keys are dropped while it loads
    assert "no bulk mode" not in caplog.text
    assert _schema() == schema
