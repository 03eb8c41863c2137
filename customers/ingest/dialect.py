"""The few places where PostgreSQL and SQLite spell the load's SQL differently."""

from __future__ import annotations


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
