"""The audit trail's database guard also refuses TRUNCATE (0002 covers UPDATE and
DELETE, which are row triggers; TRUNCATE fires statement triggers only).

The one exception is a session that sets `crm.audit_truncate = 'allow'`: the test
settings do, because the test runner empties every table between tests with one
TRUNCATE. The application never sets it. A database role that owns the table can
drop any trigger, so in production the application's role should not own it
(grant it INSERT and SELECT on the table)."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION accounts_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('crm.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail cannot be truncated' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_auditevent_no_truncate
    BEFORE TRUNCATE ON accounts_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_auditevent_no_truncate();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS accounts_auditevent_no_truncate ON accounts_auditevent;
DROP FUNCTION IF EXISTS accounts_auditevent_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_append_only")]
    operations = [migrations.RunPython(forward, reverse)]
