"""Upkeep of the customer table after a night's writes (PostgreSQL).

The nightly load and the steps after it rewrite most customer rows (AUM, tiers).
A broad search walks the AUM-ordered indexes, which carry what it tests (migration
0007): an index-only walk skips the table only for pages the visibility map marks
all-visible, and every rewritten row clears its page's mark until the table is
vacuumed. Autovacuum would get there some time in the day; the post-load chain
does it at once, and refreshes the statistics the planner's choices rest on (how
many customers a surname or a pair of initials matches).

The same goes for every other table the night rewrote in bulk (the accounts' latest
balances, the month so far, the marketing profiles, the customer analysis): their
dead rows are vacuumed at once, so that the next night finds the space free rather
than a table grown by a night's worth of old rows."""

from __future__ import annotations

import logging

from django.db import connection

from .models import Customer

logger = logging.getLogger(__name__)

# a table is vacuumed after the night when its dead rows reach this share of its live
# rows (and at least DEAD_ROWS_AT_LEAST): autovacuum's own rule, half as patient
DEAD_SHARE = 0.1
DEAD_ROWS_AT_LEAST = 1000


def customer_table_upkeep() -> str:
    """VACUUM (ANALYZE) the customer table. Returns what ran: "vacuum"; "analyze"
    when called inside a transaction, where VACUUM cannot run; "" off PostgreSQL."""
    if connection.vendor != "postgresql":
        return ""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            logger.info("customer upkeep inside a transaction: ANALYZE only")
            cursor.execute(f"ANALYZE {table}")
            return "analyze"
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return "vacuum"


def rewritten_tables_upkeep() -> list[str]:
    """VACUUM (ANALYZE) every table the night left with dead rows past DEAD_SHARE
    (`rewritten_tables`), the customer table too if it is one of them. Returns them;
    none inside a transaction, where VACUUM cannot run, or off PostgreSQL."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    with connection.cursor() as cursor:
        tables = rewritten_tables(cursor)
        for table in tables:
            logger.info("upkeep: vacuuming %s", table)
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return tables


def rewritten_tables(cursor) -> list[str]:
    """The tables (of this schema) holding dead rows past DEAD_SHARE of their live
    ones, most dead rows first. The statistics this connection's own writes left
    are flushed first (PostgreSQL 15 keeps them until the connection is idle)."""
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
        "AND n_dead_tup >= GREATEST(%s, %s * n_live_tup) ORDER BY n_dead_tup DESC",
        [DEAD_ROWS_AT_LEAST, DEAD_SHARE],
    )
    return [name for (name,) in cursor.fetchall()]
