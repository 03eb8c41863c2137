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
plain ID numbers and mobiles they hold never outlive the load transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.text import EMAIL_RE, control_character_class

from .control import READ_CHUNK, ControlEntry
from .python_checks import Error
from .spec import (
    ALPHA3,
    ALPHA3_RE,
    AMOUNT,
    AMOUNT_RE,
    CODE,
    CONTACT,
    COUNT,
    COUNT_RE,
    CUSTOMER,
    DATE,
    MASK_CONTACT,
    MOBILE_RE,
    SEPARATOR,
    TEXT,
    Column,
    FileSpec,
)

ERROR_TABLE = "ing_error"
HITS_TABLE = "ing_hits"
_SQLITE_BATCH = 5000

# Every real date YYYYMMDD from 00010101 to 99991231 (99991231 is core banking's "no
# end date"): the months of 31 and 30 days, February to the 28th in any year and the
# 29th in a leap year (divisible by 4, centuries by 400). Non-capturing groups and a
# lookahead, read alike by PostgreSQL and Python.
_MONTH_AND_DAY = (
    "(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    "|02(?:0[1-9]|1[0-9]|2[0-8])"
)
_LEAP_YEAR = "[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00"
CALENDAR_DATE_RE = f"^(?!0000)(?:[0-9]{{4}}(?:{_MONTH_AND_DAY})|(?:{_LEAP_YEAR})0229)$"
# A control character in a field (the portal's one list, core.text; a field
# is one line, so tabs and line breaks too). A line holding NUL never gets here: it
# is refused while decoding, as a whole ("contains a NUL character").
CONTROL_RE = control_character_class(single_line=True)
CONTROL_CODE, CONTROL_REASON = "bad_character", "contains a control character"
# A negative amount (with a digit other than 0: -0.00 is not negative).
NEGATIVE_RE = "^-.*[1-9]"

# pattern, error code and reason of the value kinds checked by a regular expression
PATTERNS = {
    AMOUNT: (AMOUNT_RE, "bad_amount", "not an amount (digits, a dot and up to 2 decimals)"),
    COUNT: (COUNT_RE, "bad_number", "not a whole number"),
    ALPHA3: (ALPHA3_RE, "bad_code", "not a 3-letter code"),
    DATE: (CALENDAR_DATE_RE, "bad_date", "not a date (YYYYMMDD)"),
}


def staging_table(spec: FileSpec) -> str:
    return f"ing_{spec.kind}"


class Dialect:
    """The few places where PostgreSQL and SQLite spell things differently."""

    def __init__(self, vendor: str):
        self.postgres = vendor == "postgresql"

    def regex(self, expr: str) -> str:
        # Django registers a REGEXP function on every SQLite connection.
        return f"{expr} ~ %s" if self.postgres else f"{expr} REGEXP %s"

    def date(self, expr: str) -> str:
        """YYYYMMDD text (already checked) to the date column's type."""
        if self.postgres:
            return f"to_date({expr}, 'YYYYMMDD')"
        return f"(substr({expr}, 1, 4) || '-' || substr({expr}, 5, 2) || '-' || substr({expr}, 7, 2))"

    def iso_date(self, expr: str) -> str:
        return f"CAST({expr} AS DATE)" if self.postgres else expr

    def amount(self, expr: str) -> str:
        return f"CAST({expr} AS NUMERIC(18, 2))" if self.postgres else f"CAST({expr} AS NUMERIC)"

    @property
    def boolean(self) -> str:
        return "BOOLEAN" if self.postgres else "INTEGER"

    def create_temp(self, name: str, columns: str) -> str:
        suffix = " ON COMMIT DROP" if self.postgres else ""
        return f"CREATE TEMP TABLE {name} ({columns}){suffix}"


@dataclass
class Rule:
    column: Column
    where: str
    params: list
    code: str
    reason: str
    # A control-character rule: the rows breaking one are found by a single test
    # over all the file's text columns (see check_fields).
    control: bool = False


@dataclass
class Block:
    """Whole lines of a file, decoded: `text` ends with a newline; lines that could not
    be decoded (or hold a NUL character) are empty in `text` and listed in `bad`."""

    first_line: int
    text: str
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)


def _decode_lines(raw: bytes, first_line: int, codec: str, encoding: str) -> Block:
    lines, bad = [], {}
    for offset, line in enumerate(raw.split(b"\n")[:-1]):
        number = first_line + offset
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            bad[number] = ("bad_encoding", f"not valid {encoding} text")
            lines.append("")
            continue
        if "\x00" in text:
            bad[number] = ("bad_character", "contains a NUL character")
            lines.append("")
            continue
        lines.append(text)
    return Block(first_line, "\n".join(lines) + "\n", bad)


def _decode(raw: bytes, first_line: int, codec: str, encoding: str) -> Block:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return _decode_lines(raw, first_line, codec, encoding)
    if "\x00" in text:
        return _decode_lines(raw, first_line, codec, encoding)
    return Block(first_line, text)


def read_blocks(path: Path, entry: ControlEntry, progress: Callable[[int], None]) -> Iterator[Block]:
    """The data lines of a file (the header skipped), a few megabytes at a time,
    with CR LF turned into LF. `progress(bytes read)` after each block."""
    line_no = 2
    pending = b""
    header_done = False
    done = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(READ_CHUNK)
            if chunk:
                done += len(chunk)
                data = pending + chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data
                    continue
                raw, pending = data[: cut + 1], data[cut + 1 :]
            else:
                if not pending:
                    break
                raw, pending = pending + b"\n", b""
            if not header_done:
                raw = raw[raw.find(b"\n") + 1 :]
                header_done = True
            if raw:
                raw = raw.replace(b"\r\n", b"\n")
                block = _decode(raw, line_no, entry.codec, entry.encoding)
                line_no += raw.count(b"\n")
                yield block
            progress(done)
            if not chunk:
                break


_SPACES_AROUND_SEPARATORS = re.compile(r" *\| *")
_SPACES_AT_LINE_ENDS = re.compile(r"(?m)^ +| +$")


def _copy_escaped(text: str) -> str:
    """COPY text format: a backslash and a carriage return in data are escaped.
    (str.replace, not str.translate: translate walks a non-ASCII text character by
    character in Python, 250 times slower on these files.)"""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def split_block(block: Block, width: int) -> tuple[list[str | None], list[Error]]:
    """The block's lines with their fields trimmed (spaces around separators and at
    line ends removed); a line that could not be decoded or has the wrong number
    of fields is None, with its error."""
    text = block.text
    if "| " in text or " |" in text or "\n " in text or " \n" in text or text.startswith(" "):
        text = _SPACES_AT_LINE_ENDS.sub("", _SPACES_AROUND_SEPARATORS.sub(SEPARATOR, text))
    lines: list[str | None] = text.split("\n")
    lines.pop()  # the text ends with a newline
    errors: list[Error] = []
    for number, (code, reason) in block.bad.items():
        lines[number - block.first_line] = None
        errors.append((number, "", None, code, reason, ""))
    separators = width - 1
    counts = [line.count(SEPARATOR) if line else -1 for line in lines]
    if counts.count(separators) != len(counts):
        expected = f"wrong number of fields (expected {width}, separated by {SEPARATOR})"
        for offset, count in enumerate(counts):
            if count != separators and lines[offset] is not None:
                lines[offset] = None
                errors.append(
                    (block.first_line + offset, "", f"{count + 1} fields", "field_count", expected, "")
                )
    return lines, errors


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
                block.text = _copy_escaped(block.text)
                split, errors = split_block(block, width)
                lines += len(split)
                if errors:
                    self.add_errors(spec, errors, copying=True)
                    split = [placeholder if line is None else line for line in split]
                copy.write("\n".join(split) + "\n")
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
        rules = [rule for column in spec.columns for rule in self._rules(column)]
        rules.extend(self._file_rules(spec))
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

    def _rules(self, column: Column) -> list[Rule]:
        """The rules on a column's own value."""
        c = f"s.{column.staged}"
        rules: list[Rule] = []
        if column.required:
            rules.append(Rule(column, f"{c} IS NULL", [], "required", "a value is required"))
        if column.max_length:
            rules.append(
                Rule(
                    column,
                    f"LENGTH({c}) > %s",
                    [column.max_length],
                    "too_long",
                    f"longer than {column.max_length} characters",
                )
            )
        if column.kind == CODE:
            marks = ", ".join(["%s"] * len(column.codes))
            reason = "not one of " + ", ".join(column.codes)
            rules.append(Rule(column, f"{c} NOT IN ({marks})", list(column.codes), "bad_code", reason))
        elif column.kind == TEXT:
            rules.append(
                Rule(column, self.dialect.regex(c), [CONTROL_RE], CONTROL_CODE, CONTROL_REASON, control=True)
            )
        elif column.kind in PATTERNS:
            pattern, code, reason = PATTERNS[column.kind]
            rules.append(Rule(column, f"NOT ({self.dialect.regex(c)})", [pattern], code, reason))
        # a missing value is only the "required" rule's business
        for rule in rules:
            if rule.code != "required":
                rule.where = f"{c} IS NOT NULL AND {rule.where}"
        return rules

    def _file_rules(self, spec: FileSpec) -> list[Rule]:
        """The interface's rules that involve more than a column's kind."""
        regex = self.dialect.regex
        if spec.name == CONTACT.name:
            value = spec.column("VALUE")
            return [
                Rule(
                    value,
                    f"s.c_type = 'MOBILE' AND s.c_value IS NOT NULL AND NOT ({regex('s.c_value')})",
                    [MOBILE_RE],
                    "bad_mobile",
                    "not a mobile number (11 digits starting with 1)",
                ),
                Rule(
                    value,
                    f"s.c_type = 'EMAIL' AND s.c_value IS NOT NULL AND NOT ({regex('s.c_value')})",
                    [EMAIL_RE],
                    "bad_email",
                    "not an e-mail address (name@example.com)",
                ),
            ]
        if spec.name == CUSTOMER.name:
            # an income is never negative (the web forms agree: min_value=0)
            income = spec.column("ANNUAL_INCOME")
            c = f"s.{income.staged}"
            return [
                Rule(
                    income,
                    f"{c} IS NOT NULL AND {regex(c)} AND {regex(c)}",
                    [AMOUNT_RE, NEGATIVE_RE],
                    "negative_amount",
                    "must not be negative",
                )
            ]
        return []

    def check_repeats(self, spec: FileSpec) -> None:
        """A later row with the key of an earlier (valid) row is rejected: the first
        one loads. (The keys seen more than once are found by one aggregate, which
        is empty on a clean file.)"""
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
