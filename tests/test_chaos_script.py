"""The chaos script's fingerprint and comparison (bench/chaos.py), on rows made here:
no servers. A comparer that missed a lost row, a changed amount or a duplicate would
let the chaos run say PASS over a damaged database."""

import datetime
from decimal import Decimal

from bench.chaos import compare, table_digest, table_queries, without_timings

BALANCES = [
    (datetime.date(2026, 12, 7), "6222000000000001", Decimal("100.00")),
    (datetime.date(2026, 12, 7), "6222000000000002", Decimal("250.50")),
    (datetime.date(2026, 12, 8), "6222000000000001", Decimal("90.00")),
]


def test_the_digest_counts_rows_and_ignores_their_order():
    count, md5 = table_digest(BALANCES)
    assert count == 3
    assert table_digest(list(reversed(BALANCES))) == (3, md5)


def test_a_lost_a_changed_or_a_duplicated_row_changes_the_digest():
    clean = table_digest(BALANCES)
    assert table_digest(BALANCES[:2]) != clean
    assert (
        table_digest([*BALANCES[:2], (datetime.date(2026, 12, 8), "6222000000000001", Decimal("90.01"))])
        != clean
    )
    assert table_digest([*BALANCES, BALANCES[0]])[0] == 4
    # a null is not the text "None", and fields do not run into each other
    assert table_digest([(None,)]) != table_digest([("None",)])
    assert table_digest([("ab", "c")]) != table_digest([("a", "bc")])


def test_json_values_are_compared_without_their_timings():
    run_a = {
        "total": 263,
        "seconds": {"overdue": 0.01},
        "timings": {"x": 1.2},
        "scoring_s": 1.3,
        "counts": [1, 2],
    }
    run_b = {
        "total": 263,
        "seconds": {"overdue": 0.02},
        "timings": {"x": 0.9},
        "scoring_s": 1.1,
        "counts": [1, 2],
    }
    assert without_timings({"outer": [run_a]}) == {"outer": [{"total": 263, "counts": [1, 2]}]}
    assert table_digest([(run_a,)]) == table_digest([(run_b,)])
    assert table_digest([(run_a,)]) != table_digest([({**run_b, "total": 264},)])


def test_compare_names_every_table_that_differs_and_how():
    clean = {
        "customers_accountbalance": table_digest(BALANCES),
        "customers_loaderror": (20, "x"),
        "gone": (1, "y"),
    }
    assert compare(clean, dict(clean)) == []
    chaos = {
        "customers_accountbalance": table_digest(
            [*BALANCES[:2], (BALANCES[2][0], BALANCES[2][1], Decimal("1"))]
        ),
        "customers_loaderror": (40, "z"),
        "extra": (0, "w"),
    }
    assert compare(clean, chaos) == [
        "customers_accountbalance: same 3 rows, other values",
        "customers_loaderror: 20 rows clean, 40 after chaos",
        "extra: only in the chaos run",
        "gone: only in the clean run",
    ]


def test_the_projections_leave_out_what_differs_between_runs_and_keep_the_rest():
    columns = {
        "customers_accountbalance": [
            ("business_date", "date"),
            ("account_id", "bigint"),
            ("balance", "numeric"),
        ],
        "customers_customer": [
            ("id", "bigint"),
            ("customer_no", "character varying"),
            ("id_number_enc", "text"),
            ("id_hash", "character varying"),
            ("search_vector", "tsvector"),
            ("updated_at", "timestamp with time zone"),
            ("merged_into_id", "bigint"),
        ],
        "customers_batchload": [
            ("id", "bigint"),
            ("status", "character varying"),
            ("attempts", "integer"),
            ("source", "character varying"),
            ("digest", "character varying"),
        ],
        "vip_evaluationrun": [("as_of", "date"), ("seconds", "double precision")],
        "accounts_auditevent": [("id", "bigint"), ("details", "jsonb")],
    }
    references = {
        ("customers_accountbalance", "account_id"): "customers_account",
        ("customers_customer", "merged_into_id"): "customers_customer",
    }
    sql = table_queries(columns, references)
    assert sql["customers_accountbalance"] == (
        'SELECT t."business_date", (SELECT account_no FROM customers_account k WHERE k.id = t."account_id"),'
        ' t."balance" FROM customers_accountbalance t'
    )
    customer = sql["customers_customer"]
    assert 't."customer_no"' in customer and 't."id_hash"' in customer
    assert 'customer_no FROM customers_customer k WHERE k.id = t."merged_into_id"' in customer
    for left_out in ('t."id"', "id_number_enc", "search_vector", "updated_at"):
        assert left_out not in customer
    load = sql["customers_batchload"]
    assert load == 'SELECT t."status", t."digest" FROM customers_batchload t WHERE t.status = \'loaded\''
    assert "seconds" not in sql["vip_evaluationrun"]
    audit = sql["accounts_auditevent"]
    assert "details - 'attempts' - 'message'" in audit and "details->>'status' = 'loaded'" in audit
