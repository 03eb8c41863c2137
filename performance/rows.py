"""Where a computation writes a version's customer rows (`CustomerResult`).

On PostgreSQL the table is partitioned by version (migration 0006). A computation
writes the version's rows into a table of their own, reads the managers' figures
from it, then swaps it in for the version's partition: the rows a night adds are
the old rows and the new days' summed together and written once, where updating a
million rows in place cost several times as much (a new row version, its index
entries and its dead predecessor for every row). The swap holds the parent table
exclusively for the rest of the computation's transaction: pages reading figures
wait for its commit, a moment at night.

On SQLite (the embedded default) the rows are written in the table itself."""

from __future__ import annotations

from django.db import connection

TABLE = "performance_customerresult"
DEFAULT_PARTITION = f"{TABLE}_default"
SEQUENCE = f"{TABLE}_id_seq"
COLUMN_NAMES = ("deposit_days", "loan_days", "aum_days", "liability", "asset", "intermediary")
COLUMNS = ", ".join(COLUMN_NAMES)
# a customer's +1 and -1 over the same days leave nothing (or float dust)
ZERO_BELOW = "0.0000001"


def anything(prefix: str = "") -> str:
    """A condition true when a row has a figure left (the sums of `COLUMN_NAMES`)."""
    return " OR ".join(f"ABS({prefix}{c}) > {ZERO_BELOW}" for c in COLUMN_NAMES)


class VersionRows:
    """A version's customer rows being written: `table` receives them (`write`,
    `add`) and is what the managers' figures are read from before `finish`. Here
    in the table itself (SQLite); `_Partition` on PostgreSQL."""

    table = TABLE

    def __init__(self, cursor, version_id: int) -> None:
        self.cursor, self.version_id = cursor, version_id

    @staticmethod
    def of(cursor, version_id: int) -> VersionRows:
        if connection.vendor == "postgresql":
            return _Partition(cursor, version_id)
        return VersionRows(cursor, version_id)

    def replace(self) -> None:
        """Start the version's rows afresh."""
        self.cursor.execute(f"DELETE FROM {TABLE} WHERE version_id = %s", [self.version_id])

    def keep(self) -> None:
        """Start from the version's rows as they are (to `add` to them)."""

    def write(self, select: str, params: list) -> None:
        """Write the rows of `select` (customer_id, manager_id and the six sums)."""
        self.cursor.execute(
            f"INSERT INTO {self.table} (version_id, customer_id, manager_id, {COLUMNS}) "
            f"SELECT %s, f.* FROM ({select}) AS f",
            [self.version_id, *params],
        )

    def add(self, select: str, params: list) -> None:
        """Add the rows of `select` (customer_id, manager_id and the six sums) to the
        version's: into a row the customer and manager already have, else as a new
        row; a row left with nothing is removed."""
        cursor, delta = self.cursor, "perf_delta"
        cursor.execute(f"DROP TABLE IF EXISTS {delta}")
        cursor.execute(
            f"CREATE TEMP TABLE {delta} (customer_id BIGINT, manager_id BIGINT, "
            + ", ".join(f"{c} NUMERIC(30, 10)" for c in COLUMN_NAMES)
            + ")"
        )
        cursor.execute(f"INSERT INTO {delta} {select}", params)
        cursor.execute(f"CREATE INDEX {delta}_customer ON {delta} (customer_id)")
        same_manager = "r.manager_id IS d.manager_id"  # a null equal to a null (a pool's rows)
        additions = ", ".join(f"{c} = r.{c} + d.{c}" for c in COLUMN_NAMES)
        cursor.execute(
            f"UPDATE {TABLE} AS r SET {additions} FROM {delta} d "
            f"WHERE r.version_id = %s AND r.customer_id = d.customer_id AND {same_manager}",
            [self.version_id],
        )
        cursor.execute(
            f"INSERT INTO {TABLE} (version_id, customer_id, manager_id, {COLUMNS}) "
            f"SELECT %s, d.* FROM {delta} d WHERE NOT EXISTS (SELECT 1 FROM {TABLE} r "
            f"WHERE r.version_id = %s AND r.customer_id = d.customer_id AND {same_manager})",
            [self.version_id, self.version_id],
        )
        nothing = " AND ".join(f"ABS(r.{c}) <= {ZERO_BELOW}" for c in COLUMN_NAMES)
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE id IN (SELECT r.id FROM {TABLE} r "
            f"JOIN {delta} d ON r.customer_id = d.customer_id AND {same_manager} "
            f"WHERE r.version_id = %s AND {nothing})",
            [self.version_id],
        )
        cursor.execute(f"DROP TABLE {delta}")

    def finish(self) -> None:
        """Make the written rows the version's."""


class _Partition(VersionRows):
    def __init__(self, cursor, version_id: int) -> None:
        super().__init__(cursor, version_id)
        self.partition = f"{TABLE}_v{int(version_id)}"
        self.table = f"{self.partition}_next"
        self._fresh = False

    def _create(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.cursor.execute(
            f"CREATE TABLE {self.table} (LIKE {TABLE} INCLUDING DEFAULTS, "
            f"CHECK (version_id = {int(self.version_id)}))"
        )
        self._fresh = True

    def replace(self) -> None:
        self._create()

    def keep(self) -> None:
        self._create()

    def add(self, select: str, params: list) -> None:
        """The version's rows and those of `select` joined by customer and manager
        and added up into the new table, in one statement: a row per customer and
        manager; a row the added days leave with nothing is dropped."""
        added = ", ".join(f"COALESCE(r.{c}, 0) + COALESCE(d.{c}, 0) AS {c}" for c in COLUMN_NAMES)
        # a row keeps its id; a new one takes the next
        self.cursor.execute(
            f"INSERT INTO {self.table} (id, version_id, customer_id, manager_id, {COLUMNS}) "
            f"SELECT COALESCE(id, nextval('{SEQUENCE}')), %s, customer_id, manager_id, {COLUMNS} FROM ("
            "SELECT r.id, COALESCE(r.customer_id, d.customer_id) AS customer_id, "
            "CASE WHEN r.customer_id IS NULL THEN d.manager_id ELSE r.manager_id END AS manager_id, "
            f"{added}, d.customer_id IS NULL AS untouched "
            f"FROM (SELECT id, customer_id, manager_id, {COLUMNS} FROM {TABLE} WHERE version_id = %s) AS r "
            f"FULL JOIN ({select}) AS d (customer_id, manager_id, {COLUMNS}) "
            # a pool's rows have no manager: 0 stands for none (an equality, to hash)
            "ON d.customer_id = r.customer_id AND COALESCE(d.manager_id, 0) = COALESCE(r.manager_id, 0)"
            # OFFSET 0: each row summed once, then filtered (not summed again in the filter)
            f" OFFSET 0) AS summed WHERE untouched OR {anything()}",
            [self.version_id, self.version_id, *params],
        )
        self._written()

    def write(self, select: str, params: list) -> None:
        super().write(select, params)
        self._written()

    def _written(self) -> None:
        # the statistics the managers' figures are read with (a manager's rows summed in parallel)
        self.cursor.execute(f"ANALYZE {self.table}")

    def finish(self) -> None:
        """Index the new table like the parent (so that attaching it builds nothing),
        then put it in the place of the version's partition. Rows of the version
        written in the default partition (by the ORM) give way to it."""
        assert self._fresh, "the version's new rows were never written"
        cursor = self.cursor
        cursor.execute(f"CREATE INDEX ON {self.table} (version_id, manager_id)")
        cursor.execute(f"CREATE INDEX ON {self.table} (customer_id)")
        cursor.execute("SELECT to_regclass(%s)", [self.partition])
        if cursor.fetchone()[0] is not None:
            cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {self.partition}")
            cursor.execute(f"DROP TABLE {self.partition}")
        cursor.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE version_id = %s", [self.version_id])
        cursor.execute(f"ALTER TABLE {self.table} RENAME TO {self.partition}")
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {self.partition} FOR VALUES IN ({int(self.version_id)})"
        )
        self._fresh = False
