"""Reads compiled once per process (core.compiled): the queryset's rows, as the ORM
converts them, for any value of the placeholder; compiled once per database."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import AuditEvent, Branch
from core import compiled
from core.compiled import CompiledRead

pytestmark = pytest.mark.django_db


def test_the_rows_are_the_querysets_for_each_value_compiled_once(org, monkeypatch):
    built: list[int] = []

    def children(parent_id: int):
        built.append(parent_id)
        return (
            Branch.objects.filter(parent=parent_id).order_by("code").values_list("code", "level", "parent_id")
        )

    read = CompiledRead(Branch, children)
    for parent in ("11000", "11100", "11101"):
        expected = [list(row) for row in children(org[parent].pk)]
        assert read.rows(org[parent].pk) == expected
    assert [row[0] for row in read.rows(org["11100"].pk)] == ["11101", "11102"]
    assert read.rows(org["11101"].pk) == []  # an outlet has no branches under it
    # the ORM compiled it once (the first `rows`); the other calls built it to compare
    assert built.count(compiled.PLACEHOLDER) == 1


def test_column_conversions_are_the_orms(org):
    """A datetime (text in SQLite, converted by the ORM) and an expression's output."""
    event = AuditEvent.objects.create(action="login", target_type="user", target_id="1")
    read = CompiledRead(
        AuditEvent, lambda pk: AuditEvent.objects.filter(pk=pk).values_list("occurred_at", F("pk") + 1)
    )
    ((created, plus_one),) = read.rows(event.pk)
    assert (
        isinstance(created, datetime.datetime) and created == AuditEvent.objects.get(pk=event.pk).occurred_at
    )
    assert plus_one == event.pk + 1


def test_a_queryset_without_the_placeholder_is_refused(org):
    read = CompiledRead(Branch, lambda _value: Branch.objects.filter(code="11101").values_list("pk"))
    with pytest.raises(ValueError, match="placeholder"):
        read.rows(1)


def test_placeholders_of_several_types_each_take_their_value(org):
    """A string, a moment and a date, as the ORM passes each (SQLite: text)."""
    early = AuditEvent.objects.create(
        action="login",
        target_type="user",
        target_id="1",
        occurred_at=timezone.now() - datetime.timedelta(days=3),
    )
    late = AuditEvent.objects.create(action="login", target_type="user", target_id="2")
    AuditEvent.objects.create(action="logout", target_type="user", target_id="3")

    def since(action: str, moment: datetime.datetime, day: datetime.date):
        return (
            AuditEvent.objects.filter(action=action, occurred_at__gte=moment, occurred_at__date__lte=day)
            .order_by("pk")
            .values_list("pk")
        )

    read = CompiledRead(AuditEvent, since, kinds=(str, datetime.datetime, datetime.date))
    now, today = timezone.now(), timezone.localdate()
    assert read.rows("login", now - datetime.timedelta(days=1), today) == [[late.pk]]
    assert read.rows("login", now - datetime.timedelta(days=5), today) == [[early.pk], [late.pk]]
    assert read.rows("login", now - datetime.timedelta(days=5), today - datetime.timedelta(days=2)) == [
        [early.pk]
    ]
    assert read.rows("nothing", now - datetime.timedelta(days=5), today) == []
    with pytest.raises(TypeError):
        read.rows("login", now)
