"""A bulk write split over connections (core.parallel): the parts run at once, each
on a connection and in a transaction of its own; inside a transaction they run in
it, in order; a failed part is raised once every part has ended, and the parts
that succeeded stay committed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.parallel import bulk_writers, id_ranges, side_by_side
from customers.models import Household

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="connections at once: PostgreSQL's"
)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def household(name: str) -> None:
    Household.objects.create(name=name)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_parts_run_at_once_on_connections_of_their_own(settings):
    settings.BULK_WRITERS = 2
    both_running = threading.Barrier(2, timeout=10)  # broken unless the two parts run at once

    def part(value: str) -> tuple[str, int, bool]:
        both_running.wait()
        return value, backend_pid(), connection.in_atomic_block

    first, second = side_by_side(lambda: part("a"), lambda: part("b"))
    assert (first[0], second[0]) == ("a", "b")  # results in the parts' order
    assert len({first[1], second[1], backend_pid()}) == 3
    assert first[2] and second[2]  # each in a transaction


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_part_is_raised_after_the_others_which_stay_committed(settings):
    settings.BULK_WRITERS = 2

    def fails() -> None:
        household("rolled back with its part")
        raise ValueError("a part failed")

    with pytest.raises(ValueError, match="a part failed"):
        side_by_side(lambda: household("committed"), fails)
    assert list(Household.objects.values_list("name", flat=True)) == ["committed"]


@pytest.mark.django_db
def test_inside_a_transaction_the_parts_run_in_it_one_after_the_other(settings):
    settings.BULK_WRITERS = 2
    assert bulk_writers() == 1
    household("the caller's")  # uncommitted: the test's transaction
    caller = backend_pid() if connection.vendor == "postgresql" else None
    order: list[str] = []

    def part(name: str) -> tuple[int, int | None]:
        order.append(name)
        return Household.objects.count(), backend_pid() if caller else None

    assert side_by_side(lambda: part("a"), lambda: part("b")) == [(1, caller), (1, caller)]
    assert order == ["a", "b"]


@pytest.mark.django_db
def test_one_writer_when_set_so(settings):
    settings.BULK_WRITERS = 1
    assert bulk_writers() == 1


@pytest.mark.django_db
def test_the_id_ranges_cover_every_id_once():
    assert id_ranges("customers_household", 2) == []  # no rows
    for n in range(7):
        household(f"family {n}")
    ids = sorted(Household.objects.values_list("id", flat=True))
    for parts in (1, 2, 3, 7, 20):
        ranges = id_ranges("customers_household", parts)
        assert len(ranges) == min(parts, ids[-1] - ids[0] + 1)
        assert ranges[0][0] == ids[0] and ranges[-1][1] == ids[-1]
        for (_first, last), (following, _end) in zip(ranges, ranges[1:], strict=False):
            assert following == last + 1  # consecutive, no gap, no overlap
        assert all(any(a <= i <= b for a, b in ranges) for i in ids)
