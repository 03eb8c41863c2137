"""make_extract: valid batches for demos, tests and benchmarks, deterministic by seed,
with every kind of broken row on request; and the exact fast path of the name
search's pinyin that the load relies on."""

import datetime
import hashlib
import random

import pytest
from django.core.management import call_command
from pypinyin import lazy_pinyin

from customers.idnumbers import parse_resident_id
from customers.ingest.control import read_batch, verify
from customers.ingest.spec import FILES
from customers.search_text import syllables
from demo.extract import BAD_KINDS, make_extract
from demo.org import DEMO_ORG
from tests.customers.ingest_helpers import DAY, rows


def test_a_batch_follows_the_interface(tmp_path):
    extract = make_extract(tmp_path, business_date=DAY, customers=200)
    batch = read_batch(extract.path)
    verify(batch)  # sizes, MD5, rows and headers agree with the control file
    assert batch.business_date == DAY and len(batch.digest) == 64
    assert set(batch.entries) == {spec.name for spec in FILES}
    customers = rows(extract.path, "CUSTOMER.dat")
    assert len({c[0] for c in customers}) == len({c[3] for c in customers}) == 200
    outlets = {code for code, _n, level, _p in DEMO_ORG if level == 3}
    for c in customers:
        parsed = parse_resident_id(c[3])
        assert (parsed.gender, parsed.birth_date.strftime("%Y%m%d")) == (c[4], c[5])
        assert c[14] in outlets
    accounts = rows(extract.path, "ACCOUNT.dat")
    assert 2.0 < len(accounts) / 200 < 3.0
    assert len({a[0] for a in accounts}) == len(accounts)


def test_deterministic_by_seed_and_the_next_day_is_the_same_bank(tmp_path):
    one = make_extract(tmp_path / "a", business_date=DAY, customers=50, seed=7)
    two = make_extract(tmp_path / "b", business_date=DAY, customers=50, seed=7)
    for spec in FILES:
        assert (one.path / spec.name).read_bytes() == (two.path / spec.name).read_bytes()
    other = make_extract(tmp_path / "c", business_date=DAY, customers=50, seed=8)
    assert (other.path / "CUSTOMER.dat").read_bytes() != (one.path / "CUSTOMER.dat").read_bytes()
    next_day = make_extract(
        tmp_path / "d", business_date=DAY + datetime.timedelta(days=1), customers=50, seed=7
    )
    assert [c[0] for c in rows(next_day.path, "CUSTOMER.dat")] == [
        c[0] for c in rows(one.path, "CUSTOMER.dat")
    ]
    assert (next_day.path / "BALANCE.dat").read_bytes() != (one.path / "BALANCE.dat").read_bytes()


def test_bad_rows_cover_every_kind_and_the_duplicate_person(tmp_path):
    extract = make_extract(tmp_path, business_date=DAY, customers=100, bad_rows=len(BAD_KINDS))
    assert sorted(b.kind for b in extract.bad) == sorted(kind for kind, *_ in BAD_KINDS)
    original, twin = extract.duplicate_of
    customers = {c[0]: c for c in rows(extract.path, "CUSTOMER.dat")}
    assert customers[original][3] == customers[twin][3]
    verify(read_batch(extract.path))


def test_gbk_batch(tmp_path):
    extract = make_extract(tmp_path, business_date=DAY, customers=30, encoding="GBK")
    assert "|GBK" in (extract.path / "BATCH.ctl").read_text()
    names = [c[1] for c in rows(extract.path, "CUSTOMER.dat", encoding="gbk")]
    assert all("\ufffd" not in n for n in names)
    verify(read_batch(extract.path))


def test_the_command(tmp_path, capsys):
    call_command("make_extract", str(tmp_path), "--date", "20260302", "--customers", "20", "--bad-rows", "12")
    out = capsys.readouterr().out
    assert "CUSTOMER.dat" in out and "12 broken rows" in out
    assert (tmp_path / "20260302" / "BATCH.ok").exists()
    digest = hashlib.sha256((tmp_path / "20260302" / "CUSTOMER.dat").read_bytes()).hexdigest()
    call_command("make_extract", str(tmp_path), "--date", "20260302", "--customers", "20", "--bad-rows", "12")
    assert hashlib.sha256((tmp_path / "20260302" / "CUSTOMER.dat").read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(
    "text", ["长城", "重庆市", "曾经", "银行行长", "单于", "解放军", "乐乐", "张三丰", "一一", "㐀㐁", ""]
)
def test_syllables_are_pypinyin_readings(text):
    assert syllables(text) == lazy_pinyin(text, errors="ignore")


def test_syllables_agree_with_pypinyin_on_many_strings(tmp_path):
    rng = random.Random(11)
    common = [chr(c) for c in range(0x4E00, 0x9FA6)]
    names = [
        c[1] for c in rows(make_extract(tmp_path, business_date=DAY, customers=3000).path, "CUSTOMER.dat")
    ]
    samples = names + ["".join(rng.choices(common, k=rng.randrange(1, 6))) for _ in range(20000)]
    assert [t for t in samples if syllables(t) != lazy_pinyin(t, errors="ignore")] == []
