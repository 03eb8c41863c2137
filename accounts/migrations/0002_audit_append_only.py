"""A database-level guard on the audit trail: rows cannot be updated, and cannot be
deleted while inside the retention period (default 400 days; purging older rows is a
DBA task). On SQLite, the embedded default, updates are refused; deletes are left
to the application guard because the test runner empties tables between tests."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION accounts_auditevent_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.occurred_at > now() - interval '400 days' THEN
        RAISE EXCEPTION 'audit events inside the retention period cannot be deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_auditevent_guard
    BEFORE UPDATE OR DELETE ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_guard();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS accounts_auditevent_guard ON accounts_auditevent;
DROP FUNCTION IF EXISTS accounts_auditevent_guard();
"""
SQLITE_FORWARD = """
CREATE TRIGGER accounts_auditevent_no_update BEFORE UPDATE ON accounts_auditevent
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS accounts_auditevent_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
