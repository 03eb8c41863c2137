"""Upkeep of the customer table after a night's writes (PostgreSQL).

The nightly load and the steps after it rewrite most customer rows (AUM, tiers).
A broad search walks the AUM-ordered indexes, which carry what it tests (migration
0007): an index-only walk skips the table only for pages the visibility map marks
all-visible, and every rewritten row clears its page's mark until the table is
vacuumed. Autovacuum would get there some time in the day; the post-load chain
does it at once, and refreshes the statistics the planner's choices rest on (how
many customers a surname or a pair of initials matches)."""

from __future__ import annotations

import logging

from django.db import connection

from .models import Customer

logger = logging.getLogger(__name__)


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
