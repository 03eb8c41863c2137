"""Keyset pages of a customer search: a page after (or before) a cursor is an index
range however deep it is, unlike OFFSET, and the count stops at COUNT_CAP, so a
page never counts a whole bank."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from core.db import read_with
from customers.models import Customer

from .plan import SORTS, CustomerRows, CustomerSearch

COUNT_CAP = 500
# The planner settings of fetching a search's matches in order. A scope or AUM
# range holds a quarter of the bank where a text match holds a few thousand rows:
# left to itself the planner ANDs the bitmap of the quarter (300,000 entries, 15-45
# ms to build) with the text match's to save heap visits that cost less. Pricing
# index entries higher makes it test the scope and range on the rows the text
# index returns, or walk the AUM-ordered index when the matches are dense. Table
# pages are in memory (random_page_cost as for an SSD or cached data); parallel
# workers and JIT compilation cost more to start than such a read takes.
MATCH_SETTINGS = {
    "cpu_index_tuple_cost": "0.05",
    "random_page_cost": "1.1",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
}
BEFORE = "b"  # a cursor's third value: the page before it, not after


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Customer]
    next_cursor: str
    count: int
    count_capped: bool
    is_first: bool
    previous_cursor: str = ""


@dataclass(frozen=True)
class Cursor:
    value: Any
    last_id: int
    before: bool = False

    def encode(self) -> str:
        values = [self.value, self.last_id, BEFORE] if self.before else [self.value, self.last_id]
        return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, field: str) -> Cursor | None:
        """The cursor's position, or None for anything this portal did not write: the
        cursor comes back from the browser, and a search starts again at its first
        page rather than fail on a forged one."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, TypeError):
            return None
        if not isinstance(values, list) or len(values) not in (2, 3):
            return None
        if len(values) == 3 and values[2] != BEFORE:
            return None
        value, last_id = values[:2]
        before = len(values) == 3
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            return None
        if field != "aum":
            return cls(value, last_id, before) if isinstance(value, str) else None
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            return None
        if isinstance(value, (str, int, float)) and amount.is_finite():
            return cls(amount, last_id, before)
        return None


def keyset_page(search: CustomerSearch | CustomerRows, *, cursor: str = "", size: int = 25) -> KeysetPage:
    """One page of `search` after `cursor` (the sort value and id of the previous
    page's last row), or before it (a `previous_cursor`).

    The first page is one pass over the matches: the keys (id and sort value) of the
    first COUNT_CAP + 1 matches in order are both the count and the page, and the
    page's rows are then read by primary key (a page larger than the cap reads as
    many keys as it shows). A later page counts apart and reads only its keys."""
    field, descending = SORTS[search.sort]
    at = Cursor.decode(cursor, field) if cursor else None
    if connection.vendor == "postgresql":
        parts, distinct = search.parts()
    else:  # the union of limited parts is PostgreSQL's
        parts, distinct = ([] if search.empty else [search.queryset.order_by()]), False
    if not parts:
        return KeysetPage([], "", 0, False, at is None)
    order = search.order
    with read_with(**MATCH_SETTINGS):
        if at is None:
            found = _ordered_keys(parts, order, max(COUNT_CAP, size) + 1, distinct=distinct)
            capped = len(found)
        else:
            capped = len(_ordered_keys(parts, order, COUNT_CAP + 1, distinct=distinct))
            if at.before:
                reverse = tuple(_reversed(o) for o in order)
                found = _ordered_keys(
                    parts, reverse, size + 1, after=_beyond(at, field, not descending), distinct=distinct
                )
            else:
                found = _ordered_keys(
                    parts, order, size + 1, after=_beyond(at, field, descending), distinct=distinct
                )
    more = len(found) > size
    found = found[:size]
    if at is not None and at.before:
        found.reverse()
        is_first, has_next = not more, True
    else:
        is_first, has_next = at is None, more
    by_pk = {c.pk: c for c in search.rows([pk for pk, _value in found])}
    rows = [by_pk[pk] for pk, _value in found if pk in by_pk]
    next_cursor = Cursor(found[-1][1], found[-1][0]).encode() if has_next and found else ""
    previous_cursor = Cursor(found[0][1], found[0][0], before=True).encode() if not is_first and found else ""
    return KeysetPage(
        rows, next_cursor, min(capped, COUNT_CAP), capped > COUNT_CAP, is_first, previous_cursor
    )


def _reversed(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"


def _beyond(at: Cursor, field: str, descending: bool) -> Q:
    """The rows after the cursor's position in an order that is `descending` or not."""
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}": at.value}) | Q(**{field: at.value, f"id__{op}": at.last_id})


def _ordered_keys(
    parts: list[QuerySet[Customer]],
    order: tuple[str, ...],
    limit: int,
    *,
    distinct: bool,
    after: Q | None = None,
) -> list[tuple]:
    """(id, sort value) of the first `limit` customers in `order` of the union of
    `parts`, after the cursor condition `after` if any. Each part is read ordered and
    limited, and several parts are merged in one statement."""
    field = order[0].lstrip("-")

    def keys(part: QuerySet[Customer]) -> QuerySet:
        part = part if after is None else part.filter(after)
        return part.values_list("pk", field).order_by(*order)[:limit]

    if len(parts) == 1:
        return list(keys(parts[0]))
    return _first_of_union([keys(part) for part in parts], order, limit, distinct=distinct)


def _first_of_union(
    parts: list[QuerySet], order: tuple[str, ...], limit: int, *, distinct: bool
) -> list[tuple]:
    sqls: list[str] = []
    params: list[Any] = []
    for part in parts:
        try:
            sql, part_params = part.query.sql_with_params()
        except EmptyResultSet:  # a part that can match nothing (`pk IN ()`) adds nothing
            continue
        sqls.append(f"({sql})")
        params.extend(part_params)
    if not sqls:
        return []
    direction = "DESC" if order[0].startswith("-") else "ASC"
    union = (" UNION " if distinct else " UNION ALL ").join(sqls)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({union}) AS keys ORDER BY 2 {direction}, 1 {direction} LIMIT %s",
            [*params, limit],
        )
        return cursor.fetchall()
