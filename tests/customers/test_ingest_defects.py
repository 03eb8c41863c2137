"""Defects found by an outside test of the core-banking load and the forms behind it:
a file in another encoding than its control line declares, control characters in
text, loader workers outliving a killed loader, the far-future date 99991231, a
negative income and e-mail contact points that are not e-mail addresses."""

import datetime
import os
import re
import select
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection

from core.text import visible_control_characters
from customers.choices import BatchStatus, ContactType
from customers.forms import ContactForm, InteractionForm
from customers.ingest.spec import ACCOUNT, CONTACT, CUSTOMER
from customers.masking import mask_id_number, mask_name
from customers.models import Account, BatchLoad, ContactPoint, Customer, LoadError
from customers.services import contact_add
from demo.extract import resident_id
from tests.customers.conftest import log_in
from tests.customers.ingest_helpers import append_row, batch, load, rewrite_control, rows
from tests.customers.test_ingest_crash import _dsn, no_sessions_left_behind  # noqa: F401
from vip.forms import NoteForm, ReasonForm

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def nothing_written() -> bool:
    return not (
        Customer.objects.exists()
        or Account.objects.exists()
        or ContactPoint.objects.exists()
        or LoadError.objects.exists()
    )


def report(result: BatchLoad) -> dict[tuple[str, int], list[LoadError]]:
    found: dict[tuple[str, int], list[LoadError]] = {}
    for error in LoadError.objects.filter(load=result):
        found.setdefault((error.file, error.line), []).append(error)
    return found


def customer_row(template: list[str], number: str, k: int, **changes: str) -> list[str]:
    """A customer row of its own (number, resident ID agreeing with birth date and
    gender), made from a generated one; `changes` by column name."""
    fields = list(template)
    id_number, birth, gender = resident_id(10**8 + k)
    fields[0], fields[3], fields[4], fields[5] = number, id_number, gender, birth.strftime("%Y%m%d")
    for name, value in changes.items():
        fields[[c.name for c in CUSTOMER.columns].index(name)] = value
    return fields


# ------------------------------------------------- 1. a wrongly declared encoding


def test_a_gbk_batch_declared_utf8_is_refused_before_anything_is_written(org, tmp_path):
    # given a batch written in GBK whose control file says UTF-8
    path = batch(tmp_path, customers=300, encoding="GBK").path
    rewrite_control(path, encoding="UTF-8")
    # when it is loaded
    result = load(path)
    # then the whole batch is refused, naming the files and the encoding they look like
    assert result.status == BatchStatus.FAILED
    assert "CUSTOMER.dat is declared UTF-8 but its bytes look like GB18030/GBK" in result.message
    assert "CONTACT.dat is declared UTF-8 but its bytes look like GB18030/GBK" in result.message
    assert "Nothing was written" in result.message
    # files of ASCII only are not blamed
    assert "ACCOUNT.dat" not in result.message
    # and nothing is stored: no customer, no mojibake, no error report
    assert nothing_written()
    assert not result.files.exists()
    # declared as what it is, it loads
    rewrite_control(path, encoding="GBK")
    again = load(path)
    assert again.status == BatchStatus.LOADED and again.rows_rejected == 0, again.message
    assert Customer.objects.count() == 300


def test_a_utf8_batch_declared_gbk_is_refused(org, tmp_path):
    path = batch(tmp_path, customers=60).path
    rewrite_control(path, encoding="GBK")
    result = load(path)
    assert result.status == BatchStatus.FAILED
    assert "CUSTOMER.dat is declared GBK but its bytes look like UTF-8" in result.message
    assert nothing_written()


def test_the_encoding_is_judged_beyond_the_start_of_a_big_file(org, tmp_path):
    """The sample has pieces of the middle and the end: a file whose first few hundred
    kilobytes are ASCII and whose Chinese rows come later is judged on those."""
    path = batch(tmp_path, customers=5).path
    customers = [r[0] for r in rows(path, CUSTOMER.name)]
    header = CONTACT.header.encode() + b"\n"
    emails = b"".join(
        f"{customers[i % 5]}|EMAIL|user{i}@example.com|N\n".encode() for i in range(12_000)
    )  # about 400 KB
    addresses = "".join(f"{customers[i % 5]}|ADDRESS|北京市海淀区中关村大街{i}号|N\n" for i in range(300))
    assert len(header + emails) > 300 * 1024
    (path / CONTACT.name).write_bytes(header + emails + addresses.encode("gbk"))
    rewrite_control(path, encoding="UTF-8")
    result = load(path)
    assert result.status == BatchStatus.FAILED
    assert "CONTACT.dat is declared UTF-8 but its bytes look like GB18030/GBK" in result.message
    assert nothing_written()
    # the same file in UTF-8 loads
    (path / CONTACT.name).write_bytes(header + emails + addresses.encode("utf-8"))
    rewrite_control(path, encoding="UTF-8")
    loaded = load(path)
    assert loaded.status == BatchStatus.LOADED and loaded.rows_rejected == 0, loaded.message
    assert ContactPoint.objects.filter(type=ContactType.ADDRESS).count() == 300


def test_a_utf8_file_with_a_few_broken_lines_still_loads_its_good_rows(org, tmp_path):
    path = batch(tmp_path, customers=40).path
    customer = rows(path, CUSTOMER.name)[0]
    with (path / CONTACT.name).open("ab") as handle:
        handle.write(customer[0].encode() + "|ADDRESS|北京市".encode("gbk") + b"|N\n")
    rewrite_control(path)
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    assert result.rows_rejected == 1
    assert LoadError.objects.get(load=result).code == "bad_encoding"


# ------------------------------------------------------- 2. control characters


def test_control_characters_in_text_fields_are_rejected_and_reported(org, tmp_path):
    path = batch(tmp_path, customers=20).path
    template = rows(path, CUSTOMER.name)[0]
    account = rows(path, ACCOUNT.name)[0]
    # (file, line) -> (column, the value the report shows)
    expected: dict[tuple[str, int], tuple[str, str]] = {}
    bad_customers = []

    def bad_customer(k: int, column: str, value: str, shown: str) -> None:
        number = f"69{k:04d}"
        bad_customers.append(number)
        line = append_row(path, CUSTOMER.name, customer_row(template, number, k, **{column: value}))
        expected[(CUSTOMER.name, line)] = (column, shown)

    bad_customer(1, "NAME", "薛\x1b[31m霞萍", mask_name("薛\x1b[31m霞萍"))  # the name's mask hides it
    bad_customer(2, "NAME", "\u202e萍霞薛", "<U+202E>*")
    bad_customer(3, "OCCUPATION", "工程师\x7f\x08", "工程师<U+007F><U+0008>")
    bad_customer(4, "EMPLOYER", "北京\u202e司公限有技科", "北京<U+202E>司公限有技科")
    bad_customer(5, "EMPLOYER", "北京\u2066某某\u2069公司", "北京<U+2066>某某<U+2069>公司")
    bad_customer(6, "OCCUPATION", "教\u0085师", "教<U+0085>师")  # a C1 control
    bad_customer(7, "OCCUPATION", "教\t师", "教<U+0009>师")  # a field is one line: no tab
    id_with_escape = customer_row(template, "x", 8)[3][:17] + "\x1b"
    bad_customer(8, "ID_NO", id_with_escape, visible_control_characters(mask_id_number(id_with_escape)))
    line = append_row(path, ACCOUNT.name, ["62221", account[1], "P\x9b1", *account[3:6], "", "O", account[8]])
    expected[(ACCOUNT.name, line)] = ("PRODUCT_CODE", "P<U+009B>1")
    line = append_row(path, CONTACT.name, [template[0], "ADDRESS", "北京市\x1b]8;;x\x07海淀区", "N"])
    expected[(CONTACT.name, line)] = ("VALUE", "北京市****")  # the address mask
    # a good row of the same kind loads
    good = customer_row(template, "690099", 99, OCCUPATION="教师", EMPLOYER="北京某某科技有限公司")
    append_row(path, CUSTOMER.name, good)
    # NUL keeps its own handling: the line cannot be read, no column, no value
    with (path / CUSTOMER.name).open("ab") as handle:
        handle.write("|".join(customer_row(template, "690100", 100, NAME="张\x00三")).encode() + b"\n")
    rewrite_control(path)
    nul_line = len(rows(path, CUSTOMER.name)) + 1

    result = load(path)

    assert result.status == BatchStatus.LOADED, result.message
    found = report(result)
    for key, (column, shown) in expected.items():
        errors = found.get(key)
        assert errors is not None and len(errors) == 1, (key, errors)
        error = errors[0]
        assert (error.column, error.code, error.reason) == (
            column,
            "bad_character",
            "contains a control character",
        ), key
        assert error.value == shown, key
    nul = found[(CUSTOMER.name, nul_line)]
    assert [(e.column, e.code, e.reason, e.value) for e in nul] == [
        ("", "bad_character", "contains a NUL character", "")
    ]
    assert result.rows_rejected == len(expected) + 1
    # nothing of the rejected rows is stored, and no stored text holds a control character
    assert not Customer.objects.filter(customer_no__in=bad_customers).exists()
    assert Customer.objects.filter(customer_no="690099", occupation="教师").exists()
    control = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    for c in Customer.objects.all():
        assert not control.search(c.name + c.occupation + c.employer + c.id_number), c.customer_no
    assert not any(control.search(a) for a in Account.objects.values_list("product_code", flat=True))
    assert not any(control.search(c.value) for c in ContactPoint.objects.all())


class TestControlCharactersInForms:
    def test_a_customer_edit_with_an_escape_sequence_is_refused_and_nothing_saved(
        self, client, demo_users, demo_password, new_customer
    ):
        customer = new_customer(manager=demo_users["demo_cm1"], occupation="教师")
        log_in(client, "demo_cm1", demo_password)
        form = client.get(f"/customers/{customer.customer_no}/edit/").context["form"]
        data = {k: v for k, v in form.initial.items() if v not in (None, False)}
        data.update(occupation="\x1b[31m工程师")
        response = client.post(f"/customers/{customer.customer_no}/edit/", data)
        assert response.status_code == 400
        assert response.context["form"].errors["occupation"] == [
            "Remove the control character U+001B: it is not allowed in a text."
        ]
        customer.refresh_from_db()
        assert customer.occupation == "教师"
        # the same edit without it goes through
        data.update(occupation="工程师")
        assert client.post(f"/customers/{customer.customer_no}/edit/", data).status_code == 302
        customer.refresh_from_db()
        assert customer.occupation == "工程师"

    @pytest.mark.parametrize("character", ["\x07", "\x7f", "\x85", "\u202e", "\u2067"])
    def test_every_text_field_of_every_form_refuses_them(self, character):
        for form in (
            ContactForm({"type": "ADDRESS", "value": f"北京市{character}海淀区"}),
            NoteForm({"note": f"a{character}b"}),  # vip's copy of the mixin
            ReasonForm({"reason": f"good{character}reason"}),
        ):
            assert not form.is_valid()
            assert any("control character" in e for errors in form.errors.values() for e in errors), form

    def test_line_breaks_and_tabs_stay_allowed_in_a_multi_line_text(self):
        form = InteractionForm({"kind": "call", "subject": "回访", "notes": "第一行\r\n第二行\t备注"})
        assert form.is_valid(), form.errors


# ------------------------------------------------------ 3. workers die with the loader


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended, only its entry waits


# Loads a batch with two check workers (the test settings say 1).
_LOADER = """
import sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
settings.INGEST_PYTHON_WORKERS = 2
call_command("import_extract", sys.argv[1])
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_the_check_workers_die_when_the_loader_is_killed(org, tmp_path, no_sessions_left_behind):  # noqa: F811
    if connection.vendor != "postgresql" or not sys.platform.startswith("linux"):
        pytest.skip("a load in another process needs PostgreSQL (CI runs it); /proc needs Linux")
    path = batch(tmp_path, customers=50).path
    # given a load parked in its Python check phase, its pool of two workers up
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOADER, str(path)],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_portal.settings.test",
            "DATABASE_URL": _dsn(),
            "INGEST_TEST_PAUSE_AT": "customer:checked",
            "INGEST_AFTER_LOAD_TASK": "",
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: list[int] = []
    try:
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if select.select([proc.stderr], [], [], 1)[0]:
                line = proc.stderr.readline()
                seen.append(line)
                if line.startswith("INGEST PAUSED AT customer:checked") or not line:
                    break
        assert seen and seen[-1].startswith("INGEST PAUSED"), "".join(seen)[-3000:]
        workers = _children(proc.pid)
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        # when the loader is killed (SIGKILL: nothing of it runs)
        proc.kill()
        proc.wait(timeout=30)
        # then its workers are gone within a few seconds
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for worker in workers:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
    # and nothing of the load is visible
    assert not Customer.objects.exists()


# --------------------------------------------------------------- 4. far-future dates


def test_every_calendar_date_up_to_99991231_is_a_date(org, tmp_path):
    path = batch(tmp_path, customers=10).path
    account = rows(path, ACCOUNT.name)[0]

    def add(number: str, opened: str, maturity: str) -> int:
        fields = [number, account[1], "DT-12M", "DEP_TIME", "CNY", opened, maturity, "O", account[8]]
        return append_row(path, ACCOUNT.name, fields)

    good = {
        add("62229001", "20260302", "99991231"): (datetime.date(2026, 3, 2), datetime.date(9999, 12, 31)),
        add("62229002", "00010101", "20240229"): (datetime.date(1, 1, 1), datetime.date(2024, 2, 29)),
        add("62229003", "18991231", "20000229"): (datetime.date(1899, 12, 31), datetime.date(2000, 2, 29)),
    }
    bad = {
        add("62229004", "20260230", "99991231"): "OPEN_DATE",
        add("62229005", "20260302", "21000229"): "MATURITY_DATE",  # 2100 is not a leap year
        add("62229006", "00000101", ""): "OPEN_DATE",
        add("62229007", "20261301", ""): "OPEN_DATE",
        add("62229008", "20260431", ""): "OPEN_DATE",
        add("62229009", "2026030", ""): "OPEN_DATE",
    }
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    found = report(result)
    for line, column in bad.items():
        assert [(e.column, e.code, e.reason) for e in found[(ACCOUNT.name, line)]] == [
            (column, "bad_date", "not a date (YYYYMMDD)")
        ]
    assert not any((ACCOUNT.name, line) in found for line in good)
    numbers = [f"6222900{i}" for i in range(1, 10)]
    stored = {
        a.account_no: (a.open_date, a.maturity_date) for a in Account.objects.filter(account_no__in=numbers)
    }
    assert stored == dict(zip(numbers, good.values(), strict=False))


# ------------------------------------------------------------- 5. negative income


def test_a_negative_annual_income_is_rejected(org, tmp_path):
    path = batch(tmp_path, customers=10).path
    template = rows(path, CUSTOMER.name)[0]
    negative = append_row(path, CUSTOMER.name, customer_row(template, "691001", 1, ANNUAL_INCOME="-1.00"))
    not_amount = append_row(path, CUSTOMER.name, customer_row(template, "691002", 2, ANNUAL_INCOME="-1,000"))
    append_row(path, CUSTOMER.name, customer_row(template, "691003", 3, ANNUAL_INCOME="0.00"))
    append_row(path, CUSTOMER.name, customer_row(template, "691004", 4, ANNUAL_INCOME="-0.00"))
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    found = report(result)
    assert [(e.column, e.code, e.reason, e.value) for e in found[(CUSTOMER.name, negative)]] == [
        ("ANNUAL_INCOME", "negative_amount", "must not be negative", "-1.00")
    ]
    # a value that is not an amount is reported as that, once
    assert [e.code for e in found[(CUSTOMER.name, not_amount)]] == ["bad_amount"]
    assert not Customer.objects.filter(customer_no__in=["691001", "691002"]).exists()
    assert Customer.objects.get(customer_no="691003").annual_income == Decimal("0")
    assert Customer.objects.get(customer_no="691004").annual_income == Decimal("0")
    assert result.rows_rejected == 2


# ---------------------------------------------------------- 6. e-mail contact points


def test_email_contact_points_that_are_not_addresses_are_rejected_by_the_load(org, tmp_path):
    path = batch(tmp_path, customers=10).path
    number = rows(path, CUSTOMER.name)[0][0]
    bad = [
        append_row(path, CONTACT.name, [number, "EMAIL", value, "N"])
        for value in ("not-an-email", "<script>x</script>", "a@b", "zhang san@example.com", "x@-bad-.cn")
    ]
    append_row(path, CONTACT.name, [number, "EMAIL", "zhang.san+crm@mail.example.com.cn", "N"])
    result = load(path)
    assert result.status == BatchStatus.LOADED, result.message
    found = report(result)
    for line in bad:
        errors = found[(CONTACT.name, line)]
        assert [(e.column, e.code, e.reason) for e in errors] == [
            ("VALUE", "bad_email", "not an e-mail address (name@example.com)")
        ]
        assert "script" not in errors[0].value and "not-an-email" not in errors[0].value  # masked
    emails = {c.value for c in ContactPoint.objects.filter(type=ContactType.EMAIL)}
    assert "zhang.san+crm@mail.example.com.cn" in emails
    assert not emails & {"not-an-email", "<script>x</script>", "a@b"}
    # the generated (good) addresses all load
    assert result.rows_rejected == len(bad)


class TestEmailContactsOnTheWeb:
    def _post(self, client, customer, value):
        return client.post(f"/customers/{customer.customer_no}/contacts/", {"type": "EMAIL", "value": value})

    @pytest.mark.parametrize("value", ["not-an-email", "<script>x</script>"])
    def test_a_value_that_is_not_an_address_is_refused(
        self, client, demo_users, demo_password, new_customer, value
    ):
        customer = new_customer(manager=demo_users["demo_cm1"])
        log_in(client, "demo_cm1", demo_password)
        # refused on the contact form of the page, with the reason and nothing else
        refused = self._post(client, customer, value)
        assert refused.status_code == 400
        errors = refused.context["contact_form"].errors
        assert errors == {"value": ["Enter a valid e-mail address, e.g. name@example.com."]}
        page = refused.content.decode()
        assert re.search(
            r'data-testid="contact-errors">\s*Enter a valid e-mail address, e.g. name@example.com.', page
        )
        assert "<script>x</script>" not in page
        assert [str(m) for m in get_messages(refused.wsgi_request)] == []
        assert not ContactPoint.objects.filter(customer=customer, type=ContactType.EMAIL).exists()
        # an address goes through
        added = self._post(client, customer, "wang.xm@example.com")
        assert added.status_code == 302
        assert [str(m) for m in get_messages(added.wsgi_request)][-1] == (
            f"E-mail w***@example.com added to {customer.name}'s contacts."
        )
        assert (
            ContactPoint.objects.get(customer=customer, type=ContactType.EMAIL).value == "wang.xm@example.com"
        )

    def test_the_service_refuses_it_too(self, demo_users, new_customer):
        customer = new_customer()
        with pytest.raises(ValidationError) as refused:
            contact_add(
                customer=customer,
                type=ContactType.EMAIL,
                value="<script>x</script>",
                is_primary=False,
                added_by=demo_users["demo_bm"],
            )
        assert "value" in refused.value.message_dict
        assert not ContactPoint.objects.filter(customer=customer, type=ContactType.EMAIL).exists()
