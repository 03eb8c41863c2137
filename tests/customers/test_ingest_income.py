"""INCOME.dat (extract v1.1) in the nightly load: a batch without it loads as before;
its rows land as booked (several of a type on a day add up, reversals are
negative); a bad row goes to the error report while the others load; loading the
batch again changes nothing, a corrected batch replaces the day's income and a
killed load run again ends as one clean load; a merge moves the income to the
survivor. Runs on SQLite and PostgreSQL alike (the killed load: PostgreSQL)."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from customers.choices import BatchStatus, IncomeType
from customers.ingest.spec import ACCOUNT, CUSTOMER, INCOME
from customers.masking import mask_account_no
from customers.merging import customer_merge
from customers.models import Account, BatchLoad, Customer, IncomeEntry, LoadError
from tests.customers.ingest_helpers import DAY, append_row, batch, digest, load, rewrite_control, rows, wipe
from tests.customers.test_ingest_crash import (  # the crash tests' child load and clean-up
    _start_paused,
    _wait_for_lock_release,
    no_sessions_left_behind,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.django_db

# The income type each account category brings in the generated batches.
TYPE_OF_CATEGORY = {
    "FUND": IncomeType.AGENCY_FUND,
    "WEALTH": IncomeType.AGENCY_WEALTH,
    "INSURANCE": IncomeType.AGENCY_INSURANCE,
    "CREDIT_CARD": IncomeType.CARD_FEE,
    "CUSTODY": IncomeType.CUSTODY_FEE,
    "DEP_CUR": IncomeType.SETTLEMENT_FEE,
}


def stored_income() -> list[tuple[str, str, str, str, Decimal]]:
    """Every income row, by natural key (the same rows compare equal across loads)."""
    numbers = dict(Customer.objects.values_list("pk", "customer_no"))
    accounts = dict(Account.objects.values_list("pk", "account_no"))
    return sorted(
        (
            str(e.business_date),
            numbers[e.customer_id],
            accounts.get(e.account_id, ""),
            e.income_type,
            e.cny_amount,
        )
        for e in IncomeEntry.objects.all()
    )


def file_income(path, day: datetime.date = DAY) -> list[tuple[str, str, str, str, Decimal]]:
    return sorted((str(day), f[0], f[1], f[2], Decimal(f[3])) for f in rows(path, INCOME.name))


def test_a_v1_batch_without_income_loads_as_before(org, tmp_path):
    # given a batch written against v1: no INCOME.dat
    path = batch(tmp_path, customers=80).path
    (path / INCOME.name).unlink()
    rewrite_control(path)
    assert INCOME.name not in (path / "BATCH.ctl").read_text()
    # when it is loaded
    result = load(path)
    # then its files load and there is no income
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    assert INCOME.name not in {f.name for f in result.files.all()}
    assert Customer.objects.count() == 80
    assert not IncomeEntry.objects.exists()


def test_a_v1_1_batch_loads_its_income_as_booked(org, tmp_path):
    # given a generated v1.1 batch: income for a few customers, of the types their accounts bring
    extract = batch(tmp_path, customers=300)
    path = extract.path
    income = rows(path, INCOME.name)
    assert 0 < len(income) < 60
    categories = {a[0]: (a[1], a[3]) for a in rows(path, ACCOUNT.name)}
    for customer_no, account_no, income_type, amount in income:
        if account_no:
            owner, category = categories[account_no]
            assert owner == customer_no and TYPE_OF_CATEGORY[category] == income_type
        else:
            assert income_type == IncomeType.OTHER
        assert Decimal(amount) != 0
    # when it is loaded
    result = load(path)
    # then every income row is there with its customer, account, type and amount
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    files = {f.name: f for f in result.files.all()}
    assert files[INCOME.name].control_rows == files[INCOME.name].loaded == len(income)
    assert files[INCOME.name].rejected == 0 and files[INCOME.name].progress == 100
    assert stored_income() == file_income(path)
    assert IncomeEntry.objects.filter(account__isnull=True).count() == sum(1 for f in income if not f[1])


def test_rows_of_a_type_add_up_and_a_reversal_is_negative(org, tmp_path):
    path = batch(tmp_path, customers=20).path
    customer_no, account_no = next((a[1], a[0]) for a in rows(path, ACCOUNT.name) if a[3] == "DEP_CUR")
    # three fund fees of the day, one of them reversed, and a fee on no account
    for fields in (
        [customer_no, account_no, "AGENCY_FUND", "100.10"],
        [customer_no, account_no, "AGENCY_FUND", "50.05"],
        [customer_no, "", "AGENCY_FUND", "-20.00"],
        [customer_no, "", "OTHER", "3.5"],
        [customer_no, account_no, "AGENCY_FUND", "100.10"],  # the same row again: a second fee
    ):
        append_row(path, INCOME.name, fields)
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 0
    assert stored_income() == file_income(path)
    mine = IncomeEntry.objects.filter(customer__customer_no=customer_no, business_date=DAY)
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    for entry in mine:
        by_type[entry.income_type] += entry.cny_amount
    generated = defaultdict(Decimal)
    for f in rows(path, INCOME.name)[:-5]:
        if f[0] == customer_no:
            generated[f[2]] += Decimal(f[3])
    assert by_type[IncomeType.AGENCY_FUND] - generated[IncomeType.AGENCY_FUND] == Decimal("230.25")
    assert by_type[IncomeType.OTHER] - generated[IncomeType.OTHER] == Decimal("3.50")
    reversal = mine.get(cny_amount=Decimal("-20.00"))
    assert reversal.account is None and reversal.income_type == IncomeType.AGENCY_FUND
    assert mine.filter(account__account_no=account_no, cny_amount=Decimal("100.10")).count() >= 2


def test_bad_income_rows_are_reported_and_the_good_rows_load(org, tmp_path):
    path = batch(tmp_path, customers=30).path
    accounts = rows(path, ACCOUNT.name)
    customer_no, account_no = accounts[0][1], accounts[0][0]
    others_account = next(a[0] for a in accounts if a[1] != customer_no)
    expected = {}

    def add(fields: list[str], column: str, code: str) -> None:
        expected[append_row(path, INCOME.name, fields)] = (column, code)

    # a customer number the batch's CUSTOMER.dat leaves unknown (refused there)
    customer = rows(path, CUSTOMER.name)[0]
    refused_no = "6999999"
    append_row(path, CUSTOMER.name, [refused_no, customer[1], "01", customer[3][:17] + "Z", *customer[4:]])
    add([refused_no, "", "OTHER", "1.00"], "CUST_NO", "unknown_customer")
    add(["5999999", "", "OTHER", "1.00"], "CUST_NO", "unknown_customer")
    add([customer_no, others_account, "CARD_FEE", "12.00"], "ACCT_NO", "account_of_other_customer")
    add([customer_no, "6222000000000000", "CARD_FEE", "12.00"], "ACCT_NO", "unknown_account")
    add([customer_no, account_no, "COMMISSION", "12.00"], "INCOME_TYPE", "bad_code")
    add([customer_no, account_no, "", "12.00"], "INCOME_TYPE", "required")
    add([customer_no, account_no, "AGENCY_FUND", "12.345"], "CNY_AMOUNT", "bad_amount")
    add([customer_no, account_no, "AGENCY_FUND", "twelve"], "CNY_AMOUNT", "bad_amount")
    add([customer_no, account_no, "AGENCY_FUND", "1,200.00"], "CNY_AMOUNT", "bad_amount")
    add([customer_no, account_no, "AGENCY_FUND", ""], "CNY_AMOUNT", "required")
    add([customer_no, account_no, "AGENCY_FUND"], "", "field_count")
    add([customer_no, account_no, "AGENCY_FUND", "12.00", "X"], "", "field_count")
    good = [
        append_row(path, INCOME.name, [customer_no, account_no, "AGENCY_FUND", "-12.30"]),
        append_row(path, INCOME.name, [f" {customer_no} ", "", "OTHER ", "7"]),  # spaces are trimmed
    ]
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    report = {e.line: e for e in LoadError.objects.filter(load=result, file=INCOME.name)}
    assert {line: (e.column, e.code) for line, e in report.items()} == expected
    assert all(e.reason for e in report.values())
    assert report[next(k for k, v in expected.items() if v[1] == "account_of_other_customer")].value == (
        mask_account_no(others_account)
    )
    assert "another customer" in next(e.reason for e in report.values() if e.column == "ACCT_NO")
    assert not set(good) & set(report)
    # every other row is loaded
    income_file = result.files.get(name=INCOME.name)
    total = len(rows(path, INCOME.name))
    assert (income_file.rejected, income_file.loaded) == (len(expected), total - len(expected))
    assert IncomeEntry.objects.count() == total - len(expected)
    assert IncomeEntry.objects.filter(
        customer__customer_no=customer_no, cny_amount=Decimal("-12.30")
    ).exists()
    assert IncomeEntry.objects.filter(
        customer__customer_no=customer_no, income_type=IncomeType.OTHER, cny_amount=Decimal("7"), account=None
    ).exists()


def test_the_generated_bad_income_rows_are_reported(org, tmp_path):
    from demo.extract import BAD_KINDS

    extract = batch(tmp_path, customers=120, bad_rows=len(BAD_KINDS))
    bad = [b for b in extract.bad if b.file == INCOME.name]
    assert {b.kind for b in bad} == {"bad_income_type", "income_decimals", "income_other_account"}
    result = load(extract.path)
    found = {(e.line, e.column, e.code) for e in LoadError.objects.filter(load=result, file=INCOME.name)}
    assert found == {(b.line, b.column, b.code) for b in bad}


def test_loading_again_changes_nothing_and_a_correction_replaces_the_day(org, tmp_path):
    path = batch(tmp_path, customers=200).path
    first = load(path)
    assert first.status == BatchStatus.LOADED, first.message
    before, income = digest(), stored_income()
    assert income
    # the same batch again: already loaded, nothing changes
    again = load(path)
    assert again.status == BatchStatus.DUPLICATE
    assert (digest(), stored_income()) == (before, income)
    # a corrected batch of the same date: the day's income is the corrected file's
    lines = (path / INCOME.name).read_text().split("\n")
    dropped = lines[1].split("|")
    (path / INCOME.name).write_text("\n".join([lines[0], *lines[2:]]))
    append_row(path, INCOME.name, [dropped[0], "", "OTHER", "1.23"])
    corrected = load(path)
    assert corrected.status == BatchStatus.LOADED, corrected.message
    assert stored_income() == file_income(path)
    # the next day's batch adds its own day, and leaves this one as it is
    next_day = DAY + datetime.timedelta(days=1)
    day2 = load(batch(tmp_path / "next", day=next_day, customers=200).path)
    assert day2.status == BatchStatus.LOADED, day2.message
    assert IncomeEntry.objects.filter(business_date=next_day).exists()
    assert [r for r in stored_income() if r[0] == str(DAY)] == file_income(path)


def test_a_merge_moves_the_income_to_the_survivor(org, demo_users, tmp_path):
    path = batch(tmp_path, customers=300).path
    load(path)
    earners = list(dict.fromkeys(f[0] for f in rows(path, INCOME.name)))
    assert len(earners) >= 2
    survivor = Customer.objects.get(customer_no=earners[0])
    merged = Customer.objects.get(customer_no=earners[1])
    theirs = sorted(
        IncomeEntry.objects.filter(customer=merged).values_list(
            "pk", "business_date", "income_type", "cny_amount"
        )
    )
    own = IncomeEntry.objects.filter(customer=survivor).count()
    assert theirs
    merge = customer_merge(
        survivor=survivor, merged=merged, merged_by=demo_users["demo_bm"], reason="same person"
    )
    # the merged customer's income rows are the survivor's now, as they were booked
    assert not IncomeEntry.objects.filter(customer=merged).exists()
    assert IncomeEntry.objects.filter(customer=survivor).count() == own + len(theirs)
    moved = IncomeEntry.objects.filter(pk__in=[pk for pk, *_ in theirs], customer=survivor)
    assert sorted(moved.values_list("pk", "business_date", "income_type", "cny_amount")) == theirs
    assert sorted(merge.moved["incomeentry"]) == sorted(pk for pk, *_ in theirs)
    # a later batch's income booked under the merged number, on an account now the survivor's, still loads
    account = Account.objects.filter(customer=survivor).exclude(status="C").first()
    assert account is not None
    later = batch(tmp_path / "later", day=DAY + datetime.timedelta(days=1), customers=0).path
    append_row(later, INCOME.name, [merged.customer_no, account.account_no, "OTHER", "5.00"])
    result = load(later)
    assert result.status == BatchStatus.LOADED and result.rows_rejected == 0, result.message


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.usefixtures("no_sessions_left_behind")
def test_a_load_killed_while_loading_income_run_again_gives_one_clean_load(org, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("a killed process's transaction needs PostgreSQL (CI runs it)")
    settings.INGEST_AFTER_LOAD_TASK = ""
    path = batch(tmp_path, customers=300, bad_rows=30).path
    assert load(path).status == BatchStatus.LOADED
    clean = (digest(), stored_income())
    assert clean[1]
    wipe()
    IncomeEntry.objects.all().delete()
    for point in ("income:staged", "txn_summary:merged"):
        proc = _start_paused(path, point)
        try:
            assert not Customer.objects.exists() and not IncomeEntry.objects.exists()
        finally:
            proc.kill()
            proc.wait(timeout=30)
        _wait_for_lock_release()
        assert not IncomeEntry.objects.exists()
    again = load(path)
    assert again.status == BatchStatus.LOADED, again.message
    assert (digest(), stored_income()) == clean
    assert BatchLoad.objects.filter(status=BatchStatus.FAILED).count() == 2
