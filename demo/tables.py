"""How the demo generator's rows reach the database: the columns of each table, the
layouts that turn logical rows into stored columns (the models' own setters encrypt
and build the name search), and two writers: ``COPY ... FROM STDIN`` on PostgreSQL
(psycopg 3), ``bulk_create`` elsewhere (SQLite, the embedded default)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

# The columns every writer fills, in order (the id comes from the database or is
# reserved in advance).
HOUSEHOLD_FIELDS = ("name", "created_at")
CUSTOMER_FIELDS = (
    "customer_no", "name", "id_type", "id_number", "gender", "birth_date", "nationality", "occupation",
    "employer", "education", "marital", "annual_income", "risk_level", "risk_expiry", "home_branch_id",
    "open_date", "status", "mobile", "consent_call", "consent_sms", "consent_wechat", "consent_email",
    "consent_visit", "tier", "vip_status", "aum", "month_avg_aum", "liabilities", "aum_date",
    "primary_manager_id", "household_id", "household_role", "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = ("customer_id", "type", "value", "is_primary", "updated_at")
ACCOUNT_FIELDS = (
    "account_no", "customer_id", "product_code", "category", "currency", "open_date", "maturity_date",
    "status", "branch_id", "balance", "cny_balance", "balance_date",
)  # fmt: skip
ASSIGNMENT_FIELDS = (
    "customer_id",
    "manager_id",
    "role",
    "start_date",
    "end_date",
    "reason",
    "created_by_id",
    "created_at",
)
RELATIONSHIP_FIELDS = ("customer_id", "relation_type", "related_customer_id", "related_name", "note")
OTHER_ASSET_FIELDS = ("customer_id", "kind", "description", "estimated_value", "valued_on")
INTERACTION_FIELDS = ("customer_id", "kind", "occurred_at", "subject", "notes", "manager_id", "created_at")
TXN_FIELDS = ("business_date", "customer_id", "channel", "txn_count", "txn_amount")


@dataclass
class SeedStats:
    """Rows and seconds per table (and for generating rows in Python)."""

    tables: dict[str, list[float]] = field(default_factory=dict)
    generate_seconds: float = 0.0
    created: int = 0
    wall_seconds: float = 0.0

    def add(self, table: str, rows: int, seconds: float) -> None:
        entry = self.tables.setdefault(table, [0, 0.0])
        entry[0] += rows
        entry[1] += seconds

    @property
    def rows(self) -> int:
        return int(sum(r for r, _s in self.tables.values()))


class _Sink:
    """Stands in for a model instance when the model's own code derives stored
    columns from a value (encrypting setters, the name search)."""

    name: str


class Layout:
    """How the generator's logical rows become a model's stored columns.

    A logical field is a concrete field (by name or attname), or a property whose
    setter derives the stored columns (e.g. `Customer.id_number` encrypts into
    id_number_enc, id_hash, id_suffix): the setter runs on a stand-in object, so the
    model's rule is applied, not copied. A model with `refresh_name_search` gets its
    name-search columns from it (memoised per name). Concrete fields the generator
    does not know about get their default, or the seeding stops with a clear error.
    """

    def __init__(self, model: type[Model], fields: Sequence[str], sample: tuple):
        self.model, self.fields = model, tuple(fields)
        concrete = [f for f in model._meta.concrete_fields if f.column is not None]
        by_key = {**{f.name: f for f in concrete}, **{f.attname: f for f in concrete}}
        self.direct = [(pos, by_key[name].attname) for pos, name in enumerate(fields) if name in by_key]
        self.setters = []
        for name in fields:
            if name in by_key:
                continue
            prop = getattr(model, name, None)
            if not isinstance(prop, property) or prop.fset is None:
                raise TypeError(f"{model.__name__} has no field or settable property {name!r}")
            self.setters.append((name, prop.fset))
        self.name_hook = getattr(model, "refresh_name_search", None) if "name" in fields else None
        self._names: dict[str, dict[str, Any]] = {}
        attnames = {f.attname for f in concrete}
        provided = {attname for _pos, attname in self.direct}
        self.derived = [k for k in self._derive(sample) if k in attnames and k not in provided]
        self.defaults: list[tuple[str, Any]] = []
        for f in concrete:
            if f.attname in provided or f.attname in self.derived or (f.primary_key and f.auto_created):
                continue
            if isinstance(f, AutoFieldMixin):
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise TypeError(f"the demo does not know how to fill {model.__name__}.{f.name}")
            self.defaults.append((f.attname, default))
        self.attnames = [a for _p, a in self.direct] + self.derived + [a for a, _d in self.defaults]
        self._direct_pos = [p for p, _a in self.direct]
        self._default_values = tuple(d for _a, d in self.defaults)
        self._simple = not self.setters and not self.name_hook

    def _derive(self, row: tuple) -> dict[str, Any]:
        sink = _Sink()
        values = sink.__dict__
        values.update(zip(self.fields, row, strict=True))
        for name, fset in self.setters:
            fset(sink, values[name])
        if self.name_hook is not None:
            name = values["name"]
            derived = self._names.get(name)
            if derived is None:
                probe = _Sink()
                probe.name = name
                self.name_hook(probe)
                derived = {k: v for k, v in probe.__dict__.items() if k != "name"}
                if len(self._names) > 200_000:
                    self._names.clear()
                self._names[name] = derived
            values.update(derived)
        return values

    def make(self, row: tuple) -> tuple:
        if self._simple:
            return (*(row[p] for p in self._direct_pos), *self._default_values)
        values = self._derive(row)
        return (
            *(row[p] for p in self._direct_pos),
            *(values[k] for k in self.derived),
            *self._default_values,
        )

    def columns(self) -> list[str]:
        columns = []
        for attname in self.attnames:
            concrete = self.model._meta.get_field(attname)
            assert isinstance(concrete, Field) and concrete.column is not None  # see __init__
            columns.append(concrete.column)
        return columns


# --- writers: COPY on PostgreSQL, bulk_create elsewhere ------------------------------


class Writer:
    def __init__(self, stats: SeedStats):
        self.stats = stats

    def insert(self, model: type[Model], layout: Layout, rows: list, *, ids: bool = False) -> list[int]:
        """Insert rows made by `layout`; return the new primary keys when `ids`."""
        raise NotImplementedError


class CopyWriter(Writer):
    """psycopg 3 COPY FROM STDIN; ids are reserved from the table's sequence first."""

    def insert(self, model, layout, rows, *, ids=False):
        if not rows:
            return []
        table = model._meta.db_table
        qn = connection.ops.quote_name
        columns = layout.columns()
        started = time.perf_counter()
        pks: list[int] = []
        with connection.cursor() as cursor:
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, len(rows)],
                )
                pks = sorted(r[0] for r in cursor.fetchall())
                columns = ["id", *columns]
            sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                write = copy.write_row
                if ids:
                    for pk, row in zip(pks, rows, strict=True):
                        write((pk, *row))
                else:
                    for row in rows:
                        write(row)
        self.stats.add(table, len(rows), time.perf_counter() - started)
        return pks


class OrmWriter(Writer):
    """Plain ORM bulk_create: the embedded default (SQLite), and the baseline of the
    benchmark on PostgreSQL."""

    batch_size = 5000

    def insert(self, model, layout, rows, *, ids=False):
        if not rows:
            return []
        started = time.perf_counter()
        attnames = layout.attnames
        objs = model.objects.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=self.batch_size
        )
        self.stats.add(model._meta.db_table, len(rows), time.perf_counter() - started)
        return [o.pk for o in objs] if ids else []
