"""Reads that every page makes, compiled once per process.

Turning a queryset into SQL costs the ORM about half a millisecond of CPU per
statement (resolving lookups, joins and columns), several times what sending a small
statement and reading its rows costs the process. For the few reads every request
makes in the same shape (the signed-in user, their roles and permissions), a
`CompiledRead` asks the ORM for the statement once per database alias, with a
placeholder where the request's value goes, and then runs that statement with the
request's values: the same SQL, the same column conversions (a SQLite date read as
text becomes a date, as through the ORM), none of the compiling.

Only `values_list` querysets whose varying values are the placeholders (an integer,
a string, a date or a moment each): everything else in the statement is fixed when
it is compiled.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, router
from django.db.models import Model, QuerySet

# The values the queryset is built with, found again among the compiled parameters:
# an integer no primary key takes, a string, a date and a moment no row holds.
PLACEHOLDER = -7_340_032_999_001
_SENTINELS: dict[type, Callable[[int], Any]] = {
    int: lambda i: PLACEHOLDER - i,
    str: lambda i: f"<compiled placeholder {i}>",
    datetime.datetime: lambda i: datetime.datetime(1, 1, 2, 0, 0, i, tzinfo=datetime.UTC),
    datetime.date: lambda i: datetime.date(1, 1, 1 + i),
}


def _adapt(value: Any, connection) -> Any:
    """A value as the ORM passes it to the driver for a field of its type."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (parameter, placeholder): where each value goes
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]


class CompiledRead:
    """`build(*placeholders)` gives the queryset (a `values_list`), one placeholder of
    each type of `kinds` (an integer by default); `rows(*values)` runs it with the
    values in place of the placeholders, read from the database the router names for
    `model` (a model, or its "app_label.ModelName" for a model not loaded yet when
    this is made)."""

    def __init__(
        self,
        model: type[Model] | str,
        build: Callable[..., QuerySet],
        kinds: tuple[type, ...] = (int,),
    ):
        self._model = model
        self.build = build
        self.kinds = kinds
        self._statements: dict[str, _Statement] = {}

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self._model) if isinstance(self._model, str) else self._model

    def alias(self) -> str:
        """The database the next `rows` reads."""
        return router.db_for_read(self.model)

    def rows(self, *values: Any) -> list[list[Any]]:
        if len(values) != len(self.kinds):
            raise TypeError(f"{len(self.kinds)} values expected, not {len(values)}")
        alias = self.alias()
        connection = connections[alias]
        statement = self._statements.get(alias) or self._compile(alias)
        params = list(statement.params)
        for slot, which in statement.slots:
            params[slot] = _adapt(values[which], connection)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, converters, expression in statement.converters:
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
        return rows

    def _compile(self, alias: str) -> _Statement:
        placeholders = [_SENTINELS[kind](i) for i, kind in enumerate(self.kinds)]
        compiler = self.build(*placeholders).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        adapted = [_adapt(placeholder, compiler.connection) for placeholder in placeholders]
        slots = tuple(
            (i, which)
            for i, param in enumerate(params)
            for which, value in enumerate(adapted)
            if param == value
        )
        if {which for _i, which in slots} != set(range(len(placeholders))):
            raise ValueError("the queryset does not use every placeholder")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = tuple(
            (position, tuple(convs), expression)
            for position, (convs, expression) in compiler.get_converters(fields).items()
        )
        statement = _Statement(sql, tuple(params), slots, converters)
        self._statements[alias] = statement
        return statement
