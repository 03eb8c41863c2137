"""Bad input never crashes a load and loses nothing: control-file problems fail the
batch before anything is written; every kind of bad row lands in the error report
(file, line, column, masked value, reason) while the good rows load."""

import shutil

import pytest

from customers.choices import BatchStatus
from customers.ingest.spec import ACCOUNT, BALANCE, CONTACT, CUSTOMER, FILES, TXN_SUMMARY
from customers.masking import mask_account_no, mask_id_number, mask_mobile, mask_name
from customers.models import Account, AccountBalance, BatchLoad, ContactPoint, Customer, LoadError
from demo.extract import BAD_KINDS
from tests.customers.ingest_helpers import append_row, batch, load, rewrite_control, rows

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (
        Customer.objects.exists()
        or Account.objects.exists()
        or ContactPoint.objects.exists()
        or AccountBalance.objects.exists()
        or LoadError.objects.exists()
    )


def test_every_bad_row_kind_is_reported_and_the_good_rows_load(org, tmp_path):
    # given a batch with two rows broken in each way the interface forbids
    extract = batch(tmp_path, customers=200, bad_rows=2 * len(BAD_KINDS))
    assert {b.kind for b in extract.bad} == {kind for kind, *_ in BAD_KINDS}
    # when it is loaded
    result = load(extract.path)
    # then it loads, and each bad row is in the report at its line, with its reason
    assert result.status == BatchStatus.LOADED, result.message
    report = {(e.file, e.line): e for e in LoadError.objects.filter(load=result)}
    for bad in extract.bad:
        error = report.get((bad.file, bad.line))
        assert error is not None, bad
        assert (error.column, error.code) == (bad.column, bad.code), bad
        assert error.reason
    assert len({(e.file, e.line) for e in report.values()}) == len(extract.bad)
    # and every other row is loaded: nothing lost, nothing invented
    for f in result.files.all():
        bad_here = sum(1 for b in extract.bad if b.file == f.name)
        assert f.rejected == bad_here
        assert f.loaded == extract.rows[f.name] - bad_here
    assert Customer.objects.count() == result.files.get(name=CUSTOMER.name).loaded
    assert result.rows_rejected == len(extract.bad)


def test_error_values_are_masked(org, tmp_path):
    extract = batch(tmp_path, customers=60, bad_rows=len(BAD_KINDS))
    result = load(extract.path)
    by_kind = {b.kind: b for b in extract.bad}
    raw = {
        name: dict(enumerate(rows(extract.path, name), start=2))
        for name in (CUSTOMER.name, CONTACT.name, ACCOUNT.name)
    }
    bad_id = by_kind["bad_id"]
    id_number = raw[CUSTOMER.name][bad_id.line][3]
    assert LoadError.objects.get(load=result, line=bad_id.line, file=CUSTOMER.name).value == mask_id_number(
        id_number
    )
    bad_mobile = by_kind["bad_mobile"]
    value = raw[CONTACT.name][bad_mobile.line][2]
    error = LoadError.objects.get(load=result, line=bad_mobile.line, file=CONTACT.name)
    assert error.value == mask_mobile(value) and value not in error.value
    # a repeated account number is shown masked too
    account = rows(extract.path, ACCOUNT.name)[0]
    line = append_row(extract.path, ACCOUNT.name, account)
    shutil.rmtree(tmp_path / "again", ignore_errors=True)
    again = load(extract.path)
    error = LoadError.objects.get(load=again, file=ACCOUNT.name, line=line)
    assert error.code == "repeated" and error.value == mask_account_no(account[0])
    assert "line 2" in error.reason
    # no error value of the report holds a whole ID number or mobile
    everything = " ".join(LoadError.objects.values_list("value", flat=True))
    for fields in rows(extract.path, CUSTOMER.name):
        assert fields[3] not in everything
    assert mask_name("张三")  # the name mask exists for NAME errors


def test_more_bad_rows(org, tmp_path):
    """Rules beyond the generator's kinds: missing and over-long values, codes, dates
    of other files, unknown accounts and customers everywhere, repeated keys, bad
    encoding, a NUL character; spaces around fields are trimmed, not errors."""
    path = batch(tmp_path, customers=30).path
    customer = rows(path, CUSTOMER.name)[0]
    account = rows(path, ACCOUNT.name)[0]
    expected = {}

    def add(name: str, fields: list[str], column: str, code: str) -> None:
        expected[(name, append_row(path, name, fields))] = (column, code)

    add(CUSTOMER.name, ["6999", "", *customer[2:]], "NAME", "required")
    add(CUSTOMER.name, ["6998", "名" * 61, *customer[2:]], "NAME", "too_long")
    add(CUSTOMER.name, ["6997", customer[1], "07", *customer[3:]], "ID_TYPE", "bad_code")
    add(CUSTOMER.name, [*customer[:6], "CN", *customer[7:]], "NATIONALITY", "bad_code")
    add(CUSTOMER.name, [*customer[:12], "C9", *customer[13:]], "RISK_LEVEL", "bad_code")
    add(CUSTOMER.name, [*customer[:13], "2026-01-01", *customer[14:]], "RISK_EXPIRY", "bad_date")
    add(
        ACCOUNT.name,
        ["62229", account[1], "X", "DEP_CUR", "CNY", "20260230", "", "O", account[8]],
        "OPEN_DATE",
        "bad_date",
    )
    add(
        ACCOUNT.name,
        ["62228", account[1], "X", "DEP_CUR", "RMB1", "", "", "O", account[8]],
        "CURRENCY",
        "bad_code",
    )
    add(
        ACCOUNT.name,
        ["62227", account[1], "X", "DEP_CUR", "CNY", "", "", "X", account[8]],
        "STATUS",
        "bad_code",
    )
    add(
        ACCOUNT.name,
        ["62226", account[1], "X", "DEP_CUR", "CNY", "", "", "O", "00000"],
        "BRANCH",
        "unknown_branch",
    )
    add(BALANCE.name, ["0000000", "1.00", "CNY", "1.00"], "ACCT_NO", "unknown_account")
    add(BALANCE.name, [account[0], "1.234", "CNY", "1.23"], "BALANCE", "bad_amount")
    add(CONTACT.name, ["5555", "MOBILE", "13800000000", "Y"], "CUST_NO", "unknown_customer")
    add(CONTACT.name, [customer[0], "FAX", "123", "N"], "TYPE", "bad_code")
    add(CONTACT.name, [customer[0], "EMAIL", "", "N"], "VALUE", "required")
    add(TXN_SUMMARY.name, [customer[0], "ATM", "-1", "1.00"], "TXN_COUNT", "bad_number")
    add(TXN_SUMMARY.name, ["5555", "ATM", "1", "1.00"], "CUST_NO", "unknown_customer")
    # spaces around fields are trimmed (a good row)
    good_line = append_row(
        path, ACCOUNT.name, ["  62225 ", f" {account[1]}", "X ", "DEP_CUR", "CNY", "", "", "O", account[8]]
    )
    # bytes that are not UTF-8, and a NUL character
    with (path / CONTACT.name).open("ab") as handle:
        handle.write(customer[0].encode() + b"|ADDRESS|\xff\xfe|N\n")
        handle.write(customer[0].encode() + b"|ADDRESS|a\x00b|N\n")
    rewrite_control(path)
    total = len((path / CONTACT.name).read_bytes().split(b"\n")) - 1
    expected[(CONTACT.name, total - 1)] = ("", "bad_encoding")
    expected[(CONTACT.name, total)] = ("", "bad_character")
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    found = {(e.file, e.line): (e.column, e.code) for e in LoadError.objects.filter(load=result)}
    for key, value in expected.items():
        assert found.get(key) == value, (key, found.get(key), value)
    assert (ACCOUNT.name, good_line) not in found
    assert Account.objects.filter(account_no="62225", product_code="X").exists()


def test_all_problems_of_a_row_are_reported(org, tmp_path):
    path = batch(tmp_path, customers=5).path
    customer = rows(path, CUSTOMER.name)[0]
    line = append_row(
        path,
        CUSTOMER.name,
        ["6999", customer[1], "01", customer[3], "X", "19990231", *customer[6:15], "bad", "Q"],
    )
    result = load(path)
    codes = set(LoadError.objects.filter(load=result, line=line).values_list("column", "code"))
    assert codes == {
        ("GENDER", "bad_code"),
        ("BIRTH_DATE", "bad_date"),
        ("OPEN_DATE", "bad_date"),
        ("STATUS", "bad_code"),
    }


@pytest.mark.parametrize(
    "tamper, message",
    [
        ("rows", "rows, the control file says"),
        ("bytes", "bytes, the control file says"),
        ("md5", "MD5"),
        ("header", "the header must be"),
        ("missing_file", "is in the control file but not in the batch"),
        ("unlisted_file", "Not in the control file"),
        ("bad_line", "expected FILE|ROWS|BYTES|MD5|ENCODING"),
        ("encoding", "is not UTF-8, GBK or GB18030"),
        ("no_control", "BATCH.ctl is missing"),
    ],
)
def test_control_file_mismatches_write_nothing(org, tmp_path, tamper, message):
    path = batch(tmp_path, customers=20).path
    control = (path / "BATCH.ctl").read_text()
    if tamper == "rows":
        (path / "BATCH.ctl").write_text(control.replace("CUSTOMER.dat|20|", "CUSTOMER.dat|21|"))
    elif tamper == "bytes":
        with (path / "ACCOUNT.dat").open("a") as handle:
            handle.write("x")
    elif tamper == "md5":
        data = (path / "BALANCE.dat").read_bytes()
        (path / "BALANCE.dat").write_bytes(data[:-3] + (b"9" if data[-3:-2] != b"9" else b"8") + data[-2:])
    elif tamper == "header":
        text = (path / "CONTACT.dat").read_text()
        (path / "CONTACT.dat").write_text(text.replace("IS_PRIMARY", "PRIMARY", 1))
        rewrite_control(path)
    elif tamper == "missing_file":
        (path / "TXN_SUMMARY.dat").unlink()
    elif tamper == "unlisted_file":
        rewrite_control(path, skip=("TXN_SUMMARY.dat",))
    elif tamper == "bad_line":
        (path / "BATCH.ctl").write_text(control + "CUSTOMER.dat|1|2\n")
    elif tamper == "encoding":
        (path / "BATCH.ctl").write_text(control.replace("|UTF-8", "|BIG5", 1))
    elif tamper == "no_control":
        (path / "BATCH.ctl").unlink()
    result = load(path)
    assert result.status == BatchStatus.FAILED
    assert message in result.message
    assert nothing_written()
    assert BatchLoad.objects.get(pk=result.pk).finished_at is not None


def test_an_incomplete_batch_is_refused_and_a_bad_directory_fails(org, tmp_path):
    path = batch(tmp_path, customers=5).path
    (path / "BATCH.ok").unlink()
    refused = load(path)
    assert refused.status == BatchStatus.REFUSED and "not complete" in refused.message
    assert refused.business_date is not None
    renamed = path.rename(tmp_path / "batch-of-today")
    failed = load(renamed)
    assert failed.status == BatchStatus.FAILED and "YYYYMMDD" in failed.message
    assert nothing_written()


def test_a_batch_of_bad_rows_only_still_loads_nothing_and_reports_all(org, tmp_path):
    path = batch(tmp_path, customers=3).path
    lines = (path / CUSTOMER.name).read_text().split("\n")
    (path / CUSTOMER.name).write_text(
        "\n".join([lines[0], *(line.replace("|01|", "|01X|") for line in lines[1:])])
    )
    rewrite_control(path)
    result = load(path)
    assert result.status == BatchStatus.LOADED
    assert result.files.get(name=CUSTOMER.name).rejected == 3
    # their accounts, contacts, balances and transactions are refused as unknown
    for spec in FILES[1:]:
        f = result.files.filter(name=spec.name).first()
        if f is not None:
            assert f.loaded == 0 and f.rejected == f.control_rows


def test_a_control_problem_is_told_in_the_bank_users_language():
    """The load's message shows on the batch pages beside its Chinese status: the
    problems of a control file are translated like the rest of the portal."""
    from django.utils import translation

    from customers.ingest.control import BatchProblem, parse_control

    text = "FILE|ROWS|BYTES|MD5|ENCODING\nNOTES.dat|1|10|" + "0" * 32 + "|UTF-8\n"
    for language, expected in (
        ("zh-hans", "控制文件第 1 行：“NOTES.dat”不是接口规定的文件"),
        ("en", "control line 1"),
    ):
        with translation.override(language), pytest.raises(BatchProblem) as refused:
            parse_control(text)
        assert expected in str(refused.value)
