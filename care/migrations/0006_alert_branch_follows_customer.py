"""An alert about a customer carries the customer's home branch, kept so by the
database: whichever way an alert is written or a customer moves (the nightly load,
a form, the admin, SQL), `care_alert.branch_id` is the customer's `home_branch_id`.
A branch head's alert scope then reads "the alert's branch is in my subtree" from the
alert's own index instead of probing every alert's customer (care.querysets), and a
customer who moves takes their alerts to the new branch's heads.

- Existing alerts whose branch has drifted from their customer's are set right
  (PostgreSQL).
- PostgreSQL, from this migration on: a BEFORE INSERT / UPDATE OF customer_id,
  branch_id trigger on care_alert sets the branch from the customer, reading it FOR
  SHARE: an alert raised while another transaction moves its customer waits for the
  move and takes the new branch (FOR KEY SHARE, what the foreign key's check takes,
  would not wait); and an AFTER UPDATE OF home_branch_id trigger on
  customers_customer carries a move to the customer's alerts, in the same
  transaction.
- SQLite, the embedded default: no trigger. A trigger there naming another table
  breaks Django's rebuild of either table in a later migration, and SQLite drops a
  table's triggers with the rebuild. The alert scope there keeps probing the
  customer of each alert (care.querysets), which costs nothing at the demo's size."""

from django.db import migrations

PG_FORWARD = """
UPDATE care_alert a SET branch_id = c.home_branch_id
  FROM customers_customer c
 WHERE c.id = a.customer_id AND a.branch_id IS DISTINCT FROM c.home_branch_id;

CREATE OR REPLACE FUNCTION care_alert_branch_of_customer() RETURNS trigger AS $$
BEGIN
    IF NEW.customer_id IS NOT NULL THEN
        SELECT home_branch_id INTO NEW.branch_id
          FROM customers_customer WHERE id = NEW.customer_id FOR SHARE;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER care_alert_branch_of_customer
    BEFORE INSERT OR UPDATE OF customer_id, branch_id ON care_alert
    FOR EACH ROW EXECUTE FUNCTION care_alert_branch_of_customer();

CREATE OR REPLACE FUNCTION care_alert_branch_follows_customer() RETURNS trigger AS $$
BEGIN
    UPDATE care_alert SET branch_id = NEW.home_branch_id
     WHERE customer_id = NEW.id AND branch_id IS DISTINCT FROM NEW.home_branch_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER care_alert_branch_follows_customer
    AFTER UPDATE OF home_branch_id ON customers_customer
    FOR EACH ROW WHEN (OLD.home_branch_id IS DISTINCT FROM NEW.home_branch_id)
    EXECUTE FUNCTION care_alert_branch_follows_customer();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS care_alert_branch_follows_customer ON customers_customer;
DROP FUNCTION IF EXISTS care_alert_branch_follows_customer();
DROP TRIGGER IF EXISTS care_alert_branch_of_customer ON care_alert;
DROP FUNCTION IF EXISTS care_alert_branch_of_customer();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("care", "0005_overdue_alerts")]
    operations = [migrations.RunPython(forward, reverse)]
