"""LOAN_STATUS.dat (extract v1.1) in the nightly load: a batch without it loads as
before, a control file listing it is accepted; the statuses land as a change log --
a row only where an account's status changes, an account without a row keeps its
status; loading the batch again changes nothing and a re-load of a day replaces
that day's rows; a bad row goes to the error report while the others load; a killed
load run again ends as one clean load. Runs on SQLite and PostgreSQL alike (the
killed load: PostgreSQL)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from customers.choices import CREDIT_CATEGORIES, BatchStatus, RiskClass
from customers.ingest.control import read_batch, verify
from customers.ingest.spec import ACCOUNT, BALANCE, CONTROL_FILE, LOAN_STATUS
from customers.masking import mask_account_no
from customers.models import Account, BatchLoad, LoadError, LoanStatus
from tests.customers.ingest_helpers import DAY, append_row, batch, digest, load, rewrite_control, rows, wipe
from tests.customers.test_ingest_crash import (  # the crash tests' child load and clean-up
    _start_paused,
    _wait_for_lock_release,
    no_sessions_left_behind,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.django_db

NEXT_DAY = DAY + datetime.timedelta(days=1)

Status = tuple[int, Decimal, int]  # days past due, amount past due, class


def stored() -> list[tuple[str, str, int, Decimal, int]]:
    """Every loan status row, by natural key (the same rows compare equal across loads)."""
    accounts = dict(Account.objects.values_list("pk", "account_no"))
    return sorted(
        (str(s.business_date), accounts[s.account_id], s.overdue_days, s.overdue_amount, s.risk_class)
        for s in LoanStatus.objects.all()
    )


def status_on(account_no: str, day: datetime.date) -> Status | None:
    """An account's status on a date: its latest row on or before it."""
    row = (
        LoanStatus.objects.filter(account__account_no=account_no, business_date__lte=day)
        .order_by("-business_date")
        .values_list("overdue_days", "overdue_amount", "risk_class")
        .first()
    )
    return (row[0], row[1], row[2]) if row else None


def file_statuses(path) -> dict[str, Status]:
    return {f[0]: (int(f[1]), Decimal(f[2]), int(f[3])) for f in rows(path, LOAN_STATUS.name)}


def replace_rows(path, changed: dict[str, list[str] | None]) -> None:
    """Rewrite LOAN_STATUS.dat with some accounts' rows changed (None: dropped)."""
    lines = (path / LOAN_STATUS.name).read_text().split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        account_no = line.split("|")[0]
        if line and account_no in changed:
            if changed[account_no] is not None:
                kept.append("|".join(changed[account_no]))
        elif line:
            kept.append(line)
    (path / LOAN_STATUS.name).write_text("\n".join(kept) + "\n")
    rewrite_control(path)


def test_a_v1_batch_without_loan_status_loads_as_before(org, tmp_path):
    # given a batch written against v1: no LOAN_STATUS.dat
    path = batch(tmp_path, customers=80).path
    (path / LOAN_STATUS.name).unlink()
    rewrite_control(path)
    assert LOAN_STATUS.name not in (path / CONTROL_FILE).read_text()
    # when it is loaded
    result = load(path)
    # then its files load and there are no statuses
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    assert LOAN_STATUS.name not in {f.name for f in result.files.all()}
    assert Account.objects.count() == len(rows(path, ACCOUNT.name))
    assert not LoanStatus.objects.exists()


def test_a_control_file_listing_loan_status_is_accepted(org, tmp_path):
    path = batch(tmp_path, customers=40).path
    assert f"\n{LOAN_STATUS.name}|" in (path / CONTROL_FILE).read_text()
    checked = read_batch(path)
    verify(checked)  # no "not a file of the interface", no disagreement
    assert checked.entries[LOAN_STATUS.name].rows == len(rows(path, LOAN_STATUS.name)) > 0
    # the file counts in the batch's digest: another status is another batch
    first = checked.digest
    account_no, *_rest = rows(path, LOAN_STATUS.name)[0]
    replace_rows(path, {account_no: [account_no, "3", "10.00", "1"]})
    again = read_batch(path)
    verify(again)
    assert again.digest != first


def test_a_load_stores_every_status_of_a_first_batch(org, tmp_path):
    # given a generated batch: a status for every loan and card account not closed,
    # a few past due
    path = batch(tmp_path, customers=300).path
    statuses = file_statuses(path)
    credit = {a[0] for a in rows(path, ACCOUNT.name) if a[3] in CREDIT_CATEGORIES and a[7] != "C"}
    assert set(statuses) == credit
    assert any(days for days, _amount, _class in statuses.values())
    # when it is loaded
    result = load(path)
    # then each account's status is stored as of the business date (none was known)
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    record = result.files.get(name=LOAN_STATUS.name)
    assert record.control_rows == record.loaded == len(statuses) and record.rejected == 0
    assert record.progress == 100
    assert stored() == sorted((str(DAY), no, *status) for no, status in statuses.items())
    behind = next(no for no, (days, _a, _c) in statuses.items() if days)
    shown = LoanStatus.objects.get(account__account_no=behind)
    assert shown.get_risk_class_display() == RiskClass(statuses[behind][2]).label


def test_the_next_day_keeps_only_the_changes_and_carries_the_rest(org, tmp_path):
    # given day one loaded
    day1 = batch(tmp_path, customers=400).path
    assert load(day1).status == BatchStatus.LOADED
    first = file_statuses(day1)
    # and day two: the accounts past due are a day further behind, the others unchanged
    day2 = batch(tmp_path, day=NEXT_DAY, customers=400).path
    second = file_statuses(day2)
    changed = {no for no, status in second.items() if status != first[no]}
    unchanged = set(second) - changed
    assert changed and unchanged
    current = sorted(no for no in unchanged if first[no] == (0, Decimal("0.00"), 1))
    # one account comes back current and normal, and one has no row that day
    cured = next(no for no in sorted(changed) if second[no][0] > 1)
    silent = next(no for no in sorted(changed) if no != cured)
    replace_rows(day2, {cured: [cured, "0", "0.00", "1"], silent: None})
    # when day two is loaded
    result = load(day2)
    assert result.status == BatchStatus.LOADED, result.message
    record = result.files.get(name=LOAN_STATUS.name)
    assert record.loaded == len(second) - 1 and record.rejected == 0
    # then only the changed statuses have a row of day two
    day2_rows = {r[1] for r in stored() if r[0] == str(NEXT_DAY)}
    assert day2_rows == (changed - {silent}) | {cured}
    assert not day2_rows & unchanged
    # an unchanged status is still the day-one row, on day two too
    for no in current[:5] + sorted(unchanged - set(current))[:5]:
        assert status_on(no, NEXT_DAY) == first[no]
    # the account without a row keeps its status; the others are the file's
    assert status_on(silent, NEXT_DAY) == first[silent]
    assert status_on(cured, NEXT_DAY) == (0, Decimal("0.00"), 1)
    for no in changed - {silent, cured}:
        assert status_on(no, NEXT_DAY) == second[no]
    # and day one is as it was
    assert status_on(cured, DAY) == first[cured]


def test_loading_again_changes_nothing_and_a_reload_replaces_the_day(org, tmp_path):
    day1 = batch(tmp_path, customers=200).path
    day2 = batch(tmp_path, day=NEXT_DAY, customers=200).path
    assert load(day1).status == load(day2).status == BatchStatus.LOADED
    before, statuses = digest(), stored()
    # the same batch again: already loaded, nothing changes
    again = load(day2)
    assert again.status == BatchStatus.DUPLICATE
    assert (digest(), stored()) == (before, statuses)
    # day two again, corrected elsewhere (a balance): the same statuses
    balance = rows(day2, BALANCE.name)[0]
    lines = (day2 / BALANCE.name).read_text().replace("|".join(balance), "|".join([*balance[:3], "1.00"]))
    (day2 / BALANCE.name).write_text(lines)
    rewrite_control(day2)
    assert load(day2).status == BatchStatus.LOADED
    assert stored() == statuses
    # day two corrected: a day-two change undone, a current account now past due
    first, second = file_statuses(day1), file_statuses(day2)
    undone = next(no for no in sorted(second) if second[no] != first[no])
    newly = next(no for no in sorted(second) if second[no] == first[no] == (0, Decimal("0.00"), 1))
    replace_rows(
        day2,
        {undone: [undone, str(first[undone][0]), str(first[undone][1]), str(first[undone][2])],
         newly: [newly, "1", "99.00", "1"]},
    )  # fmt: skip
    corrected = load(day2)
    assert corrected.status == BatchStatus.LOADED, corrected.message
    # the day's rows are the corrected file's changes; day one's stay
    expected = [r for r in statuses if not (r[0] == str(NEXT_DAY) and r[1] == undone)]
    expected.append((str(NEXT_DAY), newly, 1, Decimal("99.00"), 1))
    assert stored() == sorted(expected)
    assert status_on(undone, NEXT_DAY) == first[undone]


def test_a_forced_reload_of_an_older_day_gives_the_same_rows(org, tmp_path):
    day1 = batch(tmp_path, customers=200).path
    day2 = batch(tmp_path, day=NEXT_DAY, customers=200).path
    assert load(day1).status == load(day2).status == BatchStatus.LOADED
    statuses = stored()
    # day one again (a balance corrected), forced: its statuses are the same rows
    balance = rows(day1, BALANCE.name)[0]
    text = (day1 / BALANCE.name).read_text().replace("|".join(balance), "|".join([*balance[:3], "2.00"]))
    (day1 / BALANCE.name).write_text(text)
    rewrite_control(day1)
    assert load(day1).status == BatchStatus.REFUSED  # older than the last loaded
    assert load(day1, forced=True).status == BatchStatus.LOADED
    assert stored() == statuses
    # day one corrected to day two's status of an account that changed: day two's row
    # repeats it now and is no change any more
    first, second = file_statuses(day1), file_statuses(day2)
    moved = next(no for no in sorted(second) if second[no] != first[no])
    replace_rows(day1, {moved: [moved, str(second[moved][0]), str(second[moved][1]), str(second[moved][2])]})
    assert load(day1, forced=True).status == BatchStatus.LOADED
    assert [r for r in stored() if r[1] == moved] == [(str(DAY), moved, *second[moved])]
    assert status_on(moved, NEXT_DAY) == second[moved]


def test_bad_status_rows_are_reported_and_the_good_rows_load(org, tmp_path):
    path = batch(tmp_path, customers=60).path
    deposit = next(a[0] for a in rows(path, ACCOUNT.name) if a[3] == "DEP_CUR")
    statuses = file_statuses(path)
    listed = sorted(statuses)
    # two accounts' rows come at the end of the file (one with spaces around its fields)
    late, spaced = listed[8], listed[9]
    replace_rows(path, {late: None, spaced: None})
    expected = {}

    def add(fields: list[str], column: str, code: str) -> None:
        expected[append_row(path, LOAN_STATUS.name, fields)] = (column, code)

    add(["6222000000000000", "0", "0.00", "1"], "ACCT_NO", "unknown_account")
    add([deposit, "0", "0.00", "1"], "ACCT_NO", "not_credit_account")
    add([listed[0], "0", "0.00", "6"], "RISK_CLASS", "bad_code")
    add([listed[1], "-3", "10.00", "2"], "OVERDUE_DAYS", "bad_number")
    add([listed[2], "3", "1,000.00", "1"], "OVERDUE_AMOUNT", "bad_amount")
    add([listed[3], "3", "12.345", "1"], "OVERDUE_AMOUNT", "bad_amount")
    add([listed[4], "3", "-12.00", "1"], "OVERDUE_AMOUNT", "negative_amount")
    add([listed[5], "", "0.00", "1"], "OVERDUE_DAYS", "required")
    add([listed[6], "0", "0.00"], "", "field_count")
    add([listed[7], "0", "0.00", "1"], "ACCT_NO", "repeated")  # its own row came first
    good = [
        append_row(path, LOAN_STATUS.name, [late, "4", "300.5", "1"]),
        append_row(path, LOAN_STATUS.name, [f" {spaced} ", " 0 ", "0", "2 "]),  # spaces are trimmed
    ]
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    report = {e.line: e for e in LoadError.objects.filter(load=result, file=LOAN_STATUS.name)}
    assert {line: (e.column, e.code) for line, e in report.items()} == expected
    assert all(e.reason for e in report.values())
    # account numbers are masked in the report, as in the other files
    by_code = {e.code: e for e in report.values()}
    assert by_code["not_credit_account"].value == mask_account_no(deposit) != deposit
    assert "loan or credit-card" in by_code["not_credit_account"].reason
    assert by_code["unknown_account"].value == mask_account_no("6222000000000000")
    assert by_code["bad_code"].value == "6" and by_code["bad_number"].value == "-3"
    assert not set(good) & set(report)
    # every other row is loaded
    record = result.files.get(name=LOAN_STATUS.name)
    total = len(rows(path, LOAN_STATUS.name))
    assert (record.rejected, record.loaded) == (len(expected), total - len(expected))
    assert LoanStatus.objects.count() == len(statuses)
    assert status_on(late, DAY) == (4, Decimal("300.50"), 1)
    assert status_on(spaced, DAY) == (0, Decimal("0.00"), 2)
    assert status_on(listed[0], DAY) == statuses[listed[0]]
    assert status_on(listed[7], DAY) == statuses[listed[7]]
    assert not LoanStatus.objects.filter(account__account_no=deposit).exists()


def test_the_generated_bad_status_rows_are_reported(org, tmp_path):
    from demo.extract import BAD_KINDS

    extract = batch(tmp_path, customers=120, bad_rows=len(BAD_KINDS))
    bad = [b for b in extract.bad if b.file == LOAN_STATUS.name]
    assert {b.kind for b in bad} == {"status_of_deposit", "bad_risk_class"}
    result = load(extract.path)
    found = {(e.line, e.column, e.code) for e in LoadError.objects.filter(load=result, file=LOAN_STATUS.name)}
    assert found == {(b.line, b.column, b.code) for b in bad}


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.usefixtures("no_sessions_left_behind")
def test_a_load_killed_while_loading_statuses_run_again_gives_one_clean_load(org, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("a killed process's transaction needs PostgreSQL (CI runs it)")
    settings.INGEST_AFTER_LOAD_TASK = ""
    path = batch(tmp_path, customers=300, bad_rows=40).path
    assert load(path).status == BatchStatus.LOADED
    clean = (digest(), stored())
    assert clean[1]
    wipe()  # the accounts' statuses go with them
    assert not LoanStatus.objects.exists()
    for point in ("loan_status:staged", "loan_status:merged"):
        proc = _start_paused(path, point)
        try:
            assert not Account.objects.exists() and not LoanStatus.objects.exists()
        finally:
            proc.kill()
            proc.wait(timeout=30)
        _wait_for_lock_release()
        assert not LoanStatus.objects.exists()
    again = load(path)
    assert again.status == BatchStatus.LOADED, again.message
    assert (digest(), stored()) == clean
    assert BatchLoad.objects.filter(status=BatchStatus.FAILED).count() == 2
