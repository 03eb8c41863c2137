"""Staging and set-based checks.

Every data file goes into a temporary staging table of text columns (one per field,
trimmed, NULL when empty, plus the line number and the number of fields found), and
every rule SQL can check runs as one INSERT ... SELECT into the error table per rule:
field count, required, length, code lists, dates (one regular expression of the
calendar, 00010101 to 99991231, so that 20230231 is refused the same way on both
databases), amounts, control characters in text, branches, customers and accounts
that must exist. A row with an error leaves the staging table; its errors stay for
the report.

On PostgreSQL the file is streamed with COPY into a one-column table (the raw line,
numbered by an identity column in file order) and split by SQL (`string_to_array`);
Python only decodes the bytes and escapes them for COPY, a block of lines at a time.
On SQLite (the embedded default) Python splits the lines and inserts them with
executemany: slower, the same rows.

Staging tables are TEMP tables: private to the load's session, gone at commit
(PostgreSQL: ON COMMIT DROP; both: dropped explicitly after each file), so the
plain ID numbers and mobiles they hold never outlive the load transaction.

The rules themselves are in `rules`, the reading and splitting of a file's lines in
`reading`, the SQL spellings of each database in `dialect`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

from .control import ControlEntry
from .dialect import Dialect
from .python_checks import Error
from .reading import Block, copy_escaped, read_blocks, split_block
from .rules import (
    CALENDAR_DATE_RE,
    CONTROL_CODE,
    CONTROL_RE,
    CONTROL_REASON,
    NEGATIVE_RE,
    PATTERNS,
    Rule,
    column_rules,
    file_rules,
)
from .spec import MASK_CONTACT, SEPARATOR, Column, FileSpec

__all__ = [
    "CALENDAR_DATE_RE",
    "CONTROL_CODE",
    "CONTROL_RE",
    "CONTROL_REASON",
    "ERROR_TABLE",
    "HITS_TABLE",
    "NEGATIVE_RE",
    "PATTERNS",
    "Block",
    "Dialect",
    "Rule",
    "Staging",
    "read_blocks",
    "split_block",
    "staging_table",
]

ERROR_TABLE = "ing_error"
HITS_TABLE = "ing_hits"
_SQLITE_BATCH = 5000


def staging_table(spec: FileSpec) -> str:
    return f"ing_{spec.kind}"


class Staging:
    """Staging tables and checks of one load, on one cursor (Django's), inside the
    load's transaction."""

    def __init__(self, cursor, dialect: Dialect):
        self.cursor = cursor
        self.dialect = dialect
        self._pending_errors: list[tuple] = []

    # ------------------------------------------------------------------ helpers

    def execute(self, sql: str, params: Sequence = ()) -> int:
        self.cursor.execute(sql, list(params))
        return max(self.cursor.rowcount, 0)

    def scalar(self, sql: str, params: Sequence = ()):
        self.cursor.execute(sql, list(params))
        row = self.cursor.fetchone()
        return row[0] if row else None

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        """Many rows into a table: COPY on PostgreSQL, executemany elsewhere."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect.postgres:
            with self.cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        for start in range(0, len(rows), _SQLITE_BATCH):
            self.cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + _SQLITE_BATCH]
            )

    def fetch_chunks(self, sql: str, params: Sequence = (), size: int = 10_000) -> Iterator[list[tuple]]:
        """The rows of a query in chunks. PostgreSQL: a server-side cursor (rows
        stay on the server until fetched; other statements may run between
        fetches)."""
        if not self.dialect.postgres:
            self.cursor.execute(sql, list(params))
            rows = self.cursor.fetchall()
            for start in range(0, len(rows), size):
                yield [tuple(r) for r in rows[start : start + size]]
            return
        raw = self.cursor.cursor.connection
        with raw.cursor(name="ing_fetch") as server_side:
            server_side.execute(sql, list(params))
            while rows := server_side.fetchmany(size):
                yield rows

    def drop(self, *tables: str) -> None:
        for table in tables:
            self.execute(f"DROP TABLE IF EXISTS {table}")

    # ------------------------------------------------------------- common tables

    def create_common(self) -> None:
        d = self.dialect
        self.execute(
            d.create_temp(
                ERROR_TABLE,
                "file TEXT, line_no BIGINT, col TEXT, val TEXT, code TEXT, reason TEXT,"
                " mask TEXT, ctype TEXT",
            )
        )

    def drop_common(self) -> None:
        self.drop(ERROR_TABLE)

    # ------------------------------------------------------------------ staging

    def stage(self, spec: FileSpec, path: Path | None, entry: ControlEntry | None, progress) -> int:
        """Create the file's staging table and fill it; return the lines read. Lines
        that cannot be split into the interface's fields go to the error table."""
        table = staging_table(spec)
        line_no = (
            "line_no BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 2)"
            if self.dialect.postgres
            else "line_no BIGINT"
        )
        columns = ", ".join(f"{c.staged} TEXT" for c in spec.columns)
        self.drop(table)
        self.execute(self.dialect.create_temp(table, f"{line_no}, {columns}"))
        if path is None or entry is None or entry.size == 0:
            return 0
        blocks = read_blocks(path, entry, progress)
        if self.dialect.postgres:
            lines = self._stage_postgres(spec, blocks)
            self.remove_rejected(spec)  # the placeholders of lines that could not be split
            self.analyze_staging(table)
        else:
            lines = self._stage_sqlite(spec, blocks)
        return lines

    def analyze_staging(self, table: str) -> None:
        """Statistics for a staging table, from a small sample: the planner needs its
        size and rough distributions for the joins that follow, not fine histograms.
        The sample size is set for this statement only (the real tables keep theirs)."""
        self.cursor.execute("SELECT current_setting('default_statistics_target')")
        previous = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT set_config('default_statistics_target', '10', true)")
        try:
            self.execute(f"ANALYZE {table}")
        finally:
            self.cursor.execute("SELECT set_config('default_statistics_target', %s, true)", [previous])

    def _stage_postgres(self, spec: FileSpec, blocks: Iterator[Block]) -> int:
        """COPY in text format with | as the delimiter and empty fields as NULL; the
        identity column numbers the rows in file order (a line that cannot be split
        is sent as a row of NULLs, keeping the numbering, and removed with its
        error)."""
        width = len(spec.columns)
        placeholder = SEPARATOR * (width - 1)
        names = ", ".join(c.staged for c in spec.columns)
        lines = 0
        with self.cursor.cursor.copy(
            f"COPY {staging_table(spec)} ({names}) FROM STDIN WITH (DELIMITER '{SEPARATOR}', NULL '')"
        ) as copy:
            for block in blocks:
                block.text = copy_escaped(block.text)
                split, errors = split_block(block, width)
                lines += len(split)
                if errors:
                    self.add_errors(spec, errors, copying=True)
                    split = [placeholder if line is None else line for line in split]
                # a line is None only with an error: none is left here
                copy.write("\n".join(cast("list[str]", split)) + "\n")
        self.flush_errors(spec)
        return lines

    def _stage_sqlite(self, spec: FileSpec, blocks: Iterator[Block]) -> int:
        width = len(spec.columns)
        names = ["line_no", *(c.staged for c in spec.columns)]
        lines = 0
        for block in blocks:
            split, errors = split_block(block, width)
            lines += len(split)
            self.add_errors(spec, errors)
            rows = [
                (block.first_line + offset, *(field or None for field in line.split(SEPARATOR)))
                for offset, line in enumerate(split)
                if line is not None
            ]
            self.insert_rows(staging_table(spec), names, rows)
        return lines

    # ------------------------------------------------------------------- errors

    def add_errors(self, spec: FileSpec, errors: Sequence[Error], *, copying: bool = False) -> None:
        """Errors found in Python: (line, column, value, code, reason, mask). While a
        COPY runs on the connection they are kept until `flush_errors`."""
        rows = [
            (spec.name, line, col, val, code, reason, mask, None)
            for line, col, val, code, reason, mask in errors
        ]
        if copying:
            self._pending_errors.extend(rows)
            return
        self.insert_rows(
            ERROR_TABLE, ["file", "line_no", "col", "val", "code", "reason", "mask", "ctype"], rows
        )

    def flush_errors(self, spec: FileSpec) -> None:
        rows, self._pending_errors = self._pending_errors, []
        self.insert_rows(
            ERROR_TABLE, ["file", "line_no", "col", "val", "code", "reason", "mask", "ctype"], rows
        )

    def _reject(
        self, source: str, spec: FileSpec, column: Column, where: str, params: Sequence, code: str,
        reason: str,
    ) -> int:  # fmt: skip
        """Record an error for every row `s` of `source` (the staging table of `spec`,
        or rows kept from it) matching `where`, which names the columns s.c_...: a
        reference check's subquery has columns of the same names."""
        ctype = "s.c_type" if column.mask == MASK_CONTACT else "NULL"
        return self.execute(
            f"INSERT INTO {ERROR_TABLE} (file, line_no, col, val, code, reason, mask, ctype)"
            f" SELECT %s, s.line_no, %s, s.{column.staged}, %s, %s, %s, {ctype}"
            f" FROM {source} s WHERE {where}",
            [spec.name, column.name, code, reason, column.mask, *params],
        )

    def remove_rejected(self, spec: FileSpec) -> None:
        """Rows with an error leave the staging table (their errors stay)."""
        table = staging_table(spec)
        self.execute(
            f"DELETE FROM {table} WHERE line_no IN (SELECT line_no FROM {ERROR_TABLE} WHERE file = %s)",
            [spec.name],
        )

    # ------------------------------------------------------------------- checks

    def check_fields(
        self, spec: FileSpec, references: dict[str, tuple[list[tuple[str, str]], str, str]]
    ) -> None:
        """Every column rule of the interface; all the problems of a row are reported,
        not just the first. The rules on the value itself (required, length, code,
        date, amount, control characters...) run in ONE pass over the staging table
        that keeps the rows breaking any of them, with a flag per rule; their errors
        are then read from those few rows. (The control-character rules of the text
        columns share one test of that pass, on the columns put together: a clean row
        pays one regular expression for them, not one per column.) A value that
        must exist elsewhere (`references`: column -> ([(table, column), ...], code,
        reason)) is one anti-join per column."""
        table = staging_table(spec)
        rules = [rule for column in spec.columns for rule in column_rules(column, self.dialect)]
        rules.extend(file_rules(spec, self.dialect))
        names = [c.staged for c in spec.columns]
        self.drop(HITS_TABLE)
        flags = ", ".join(f"h{i} INTEGER" for i in range(len(rules)))
        texts = ", ".join(f"{n} TEXT" for n in names)
        self.execute(self.dialect.create_temp(HITS_TABLE, f"line_no BIGINT, {texts}, {flags}"))
        cases = ", ".join(f"CASE WHEN {rule.where} THEN 1 ELSE 0 END" for rule in rules)
        screens = [f"({rule.where})" for rule in rules if not rule.control]
        screen_params = [p for rule in rules if not rule.control for p in rule.params]
        controlled = [f"COALESCE(s.{rule.column.staged}, '')" for rule in rules if rule.control]
        if controlled:
            screens.append(self.dialect.regex(" || ".join(controlled)))
            screen_params.append(CONTROL_RE)
        self.execute(
            f"INSERT INTO {HITS_TABLE} SELECT s.line_no, {', '.join(f's.{n}' for n in names)}, {cases}"
            f" FROM {table} s WHERE {' OR '.join(screens)}",
            [p for rule in rules for p in rule.params] + screen_params,
        )
        for i, rule in enumerate(rules):
            self._reject(HITS_TABLE, spec, rule.column, f"s.h{i} = 1", [], rule.code, rule.reason)
        self.drop(HITS_TABLE)
        for name, (places, code, reason) in references.items():
            column = spec.column(name)
            c = f"s.{column.staged}"
            absent = " AND ".join(
                f"NOT EXISTS (SELECT 1 FROM {ref} r WHERE r.{ref_column} = {c})" for ref, ref_column in places
            )
            self._reject(table, spec, column, f"{c} IS NOT NULL AND {absent}", [], code, reason)
        self.remove_rejected(spec)

    def check_conditions(self, spec: FileSpec, conditions: dict[str, tuple[str, str, str]]) -> None:
        """Rules between the values of a row and the portal's tables, run once
        `check_fields` has removed the rows whose values do not exist (`conditions`:
        column -> (condition on the staged row `s` that breaks the rule, code,
        reason)); one INSERT ... SELECT per rule."""
        if not conditions:
            return
        table = staging_table(spec)
        for name, (where, code, reason) in conditions.items():
            self._reject(table, spec, spec.column(name), where, [], code, reason)
        self.remove_rejected(spec)

    def check_repeats(self, spec: FileSpec) -> None:
        """A later row with the key of an earlier (valid) row is rejected: the first
        one loads. (The keys seen more than once are found by one aggregate, which
        is empty on a clean file.) A file without a key has no repeats: its rows add
        up."""
        if not spec.key:
            return
        table = staging_table(spec)
        keys = [spec.column(k).staged for k in spec.key]
        first = spec.column(spec.key[0])
        ctype = "s.c_type" if first.mask == MASK_CONTACT else "NULL"
        same = " AND ".join(f"d.{k} = s.{k}" for k in keys)
        self.execute(
            f"INSERT INTO {ERROR_TABLE} (file, line_no, col, val, code, reason, mask, ctype)"
            f" SELECT %s, s.line_no, %s, s.{first.staged}, 'repeated',"
            f" %s || CAST(d.first_line AS TEXT), %s, {ctype}"
            f" FROM {table} s JOIN (SELECT {', '.join(keys)}, MIN(line_no) AS first_line FROM {table}"
            f" GROUP BY {', '.join(keys)} HAVING COUNT(*) > 1) d ON {same}"
            f" WHERE s.line_no <> d.first_line",
            [spec.name, first.name, f"same {', '.join(spec.key)} as line ", first.mask],
        )
        self.remove_rejected(spec)

    def count(self, spec: FileSpec) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM {staging_table(spec)}") or 0)
