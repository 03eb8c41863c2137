"""Reads that every page makes, compiled once per process.

Turning a queryset into SQL costs the ORM about half a millisecond of CPU per
statement (resolving lookups, joins and columns), several times what sending a small
statement and reading its rows costs the process. For the few reads every request
makes in the same shape (the signed-in user, their roles and permissions), a
`CompiledRead` asks the ORM for the statement once per database alias, with a
placeholder where the request's value goes, and then runs that statement with the
request's value: the same SQL, the same column conversions (a SQLite date read as
text becomes a date, as through the ORM), none of the compiling.

Only `values_list` querysets whose one varying value is the placeholder: everything
else in the statement is fixed when it is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, router
from django.db.models import Model, QuerySet

# The value the queryset is built with, found again among the compiled parameters:
# an integer no primary key takes.
PLACEHOLDER = -7_340_032_999_001


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # the parameters that are the placeholder
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]


class CompiledRead:
    """`build(PLACEHOLDER)` gives the queryset (a `values_list`); `rows(value)` runs
    it with `value` in place of the placeholder, read from the database the router
    names for `model` (a model, or its "app_label.ModelName" for a model not loaded
    yet when this is made)."""

    def __init__(self, model: type[Model] | str, build: Callable[[int], QuerySet]):
        self._model = model
        self.build = build
        self._statements: dict[str, _Statement] = {}

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self._model) if isinstance(self._model, str) else self._model

    def alias(self) -> str:
        """The database the next `rows` reads."""
        return router.db_for_read(self.model)

    def rows(self, value: int) -> list[list[Any]]:
        alias = self.alias()
        statement = self._statements.get(alias) or self._compile(alias)
        params = list(statement.params)
        for slot in statement.slots:
            params[slot] = value
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, converters, expression in statement.converters:
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
        return rows

    def _compile(self, alias: str) -> _Statement:
        compiler = self.build(PLACEHOLDER).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple(i for i, param in enumerate(params) if param == PLACEHOLDER)
        if not slots:
            raise ValueError("the queryset does not use the placeholder")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = tuple(
            (position, tuple(convs), expression)
            for position, (convs, expression) in compiler.get_converters(fields).items()
        )
        statement = _Statement(sql, tuple(params), slots, converters)
        self._statements[alias] = statement
        return statement
