import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from customers import crypto
from customers.crypto import DecryptionError, KeyRing, PiiCipher, cipher
from customers.keys import rotate_keys, rows_under_old_keys
from customers.models import ContactPoint, Customer

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
HMAC_KEY = base64.b64encode(b"h" * 32).decode()


def _cipher(keys: str, blind: str = HMAC_KEY) -> PiiCipher:
    return PiiCipher(KeyRing.parse(encryption_keys=keys, blind_index_key=blind))


class TestCipher:
    def test_round_trip_and_fresh_nonce(self):
        c = _cipher(f"a:{KEY_A}")
        one, two = c.encrypt("110101199003077777", context="x"), c.encrypt("110101199003077777", context="x")
        assert one != two and one.startswith("a$")
        assert "110101199003077777" not in one
        assert c.decrypt(one, context="x") == "110101199003077777"

    def test_the_wrong_key_raises_never_returns_ciphertext(self):
        token = _cipher(f"a:{KEY_A}").encrypt("13812345678", context="x")
        impostor = _cipher(f"a:{KEY_B}")  # same key id, other key
        with pytest.raises(DecryptionError):
            impostor.decrypt(token, context="x")
        with pytest.raises(DecryptionError):
            _cipher(f"b:{KEY_B}").decrypt(token, context="x")  # key not in the ring

    def test_a_ciphertext_moved_to_another_column_does_not_decrypt(self):
        c = _cipher(f"a:{KEY_A}")
        token = c.encrypt("13812345678", context=crypto.MOBILE)
        with pytest.raises(DecryptionError):
            c.decrypt(token, context=crypto.ID_NUMBER)

    def test_a_tampered_ciphertext_raises(self):
        c = _cipher(f"a:{KEY_A}")
        token = c.encrypt("13812345678", context="x")
        tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
        with pytest.raises(DecryptionError):
            c.decrypt(tampered, context="x")

    def test_blind_index_is_keyed_and_stable(self):
        a, b = _cipher(f"a:{KEY_A}"), _cipher(f"a:{KEY_A}", blind=base64.b64encode(b"z" * 32).decode())
        assert a.blind_index("13812345678", context="m") == a.blind_index("13812345678", context="m")
        assert a.blind_index("13812345678", context="m") != b.blind_index("13812345678", context="m")
        assert a.blind_index("13812345678", context="m") != a.blind_index("13812345679", context="m")

    def test_old_keys_still_decrypt_after_a_new_key_is_added(self):
        old = _cipher(f"a:{KEY_A}").encrypt("x1", context="x")
        ring = _cipher(f"b:{KEY_B},a:{KEY_A}")
        assert ring.current_key_id == "b" and ring.decrypt(old, context="x") == "x1"

    @pytest.mark.parametrize(
        "keys", ["", "a:notbase64!", f"a:{base64.b64encode(b'short').decode()}", f"bad id:{KEY_A}"]
    )
    def test_bad_key_configuration_is_refused(self, keys):
        with pytest.raises(ImproperlyConfigured):
            KeyRing.parse(encryption_keys=keys, blind_index_key=HMAC_KEY)

    def test_keys_can_come_from_a_key_file(self, tmp_path, settings):
        path = tmp_path / "pii.keys"
        crypto.generate_key_file(path)
        settings.PII_KEY_FILE = str(path)
        c = cipher()
        assert c.decrypt(c.encrypt("secret", context="x"), context="x") == "secret"
        assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
class TestStorage:
    def test_no_plaintext_identifier_in_the_tables(self, new_customer):
        customer = new_customer(mobile="13800001111")
        ContactPoint.objects.create(customer=customer, type="EMAIL", value="hidden@example.com")
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM customers_customer")
            customer_rows = " ".join(str(v) for row in cursor.fetchall() for v in row)
            cursor.execute("SELECT * FROM customers_contactpoint")
            contact_rows = " ".join(str(v) for row in cursor.fetchall() for v in row)
        assert customer.id_number not in customer_rows and "13800001111" not in customer_rows
        assert "13800001111" not in contact_rows and "hidden@example.com" not in contact_rows
        # only the last digits are kept in clear, for partial lookups
        assert customer.id_number[-6:] in customer_rows and "1111" in customer_rows

    def test_a_row_that_does_not_decrypt_raises(self, new_customer):
        customer = new_customer()
        Customer.objects.filter(pk=customer.pk).update(
            id_number_enc="t1$" + base64.b64encode(b"x" * 40).decode()
        )
        with pytest.raises(DecryptionError):
            _ = Customer.objects.get(pk=customer.pk).id_number


@pytest.mark.django_db
class TestRotation:
    def test_rotation_interrupted_and_resumed_ends_consistent(self, new_customer, settings):
        people = [new_customer(mobile=f"1370000{i:04d}") for i in range(7)]
        clear = {p.pk: (p.id_number, p.mobile) for p in people}
        old_keys = settings.PII_ENCRYPTION_KEYS
        settings.PII_ENCRYPTION_KEYS = f"t2:{KEY_B},{old_keys}"
        assert rows_under_old_keys() == 14  # 7 customers + 7 mobile contacts
        # interrupted after two batches of 3
        first = rotate_keys(batch_size=3, max_batches=2)
        assert not first.finished and first.customers == 6
        assert 0 < rows_under_old_keys() < 14
        # resumed
        second = rotate_keys(batch_size=3)
        assert second.finished and rows_under_old_keys() == 0
        for customer in Customer.objects.all():
            assert customer.id_number_enc.startswith("t2$") and customer.mobile_enc.startswith("t2$")
            assert (customer.id_number, customer.mobile) == clear[customer.pk]
        # the old key can now be dropped from the ring
        settings.PII_ENCRYPTION_KEYS = f"t2:{KEY_B}"
        assert {c.pk: (c.id_number, c.mobile) for c in Customer.objects.all()} == clear
        assert all(cp.value for cp in ContactPoint.objects.all())

    def test_every_model_holding_ciphertext_is_rotated(self, new_customer, demo_users, org, settings):
        from vip.models import VipProspect

        prospect = VipProspect(
            name="王五", source="referral", estimated_assets=600000,
            manager=demo_users["demo_cm1"], branch=demo_users["demo_cm1"].branch,
        )  # fmt: skip
        prospect.mobile = "13911112222"
        prospect.save()
        new_customer()
        settings.PII_ENCRYPTION_KEYS = f"t2:{KEY_B},{settings.PII_ENCRYPTION_KEYS}"
        report = rotate_keys(batch_size=10)
        assert report.finished and report.rows["vip.vipprospect"] == 1
        assert rows_under_old_keys() == 0
        # only the new key is left: the prospect's mobile still reads
        settings.PII_ENCRYPTION_KEYS = f"t2:{KEY_B}"
        assert VipProspect.objects.get().mobile == "13911112222"

    def test_the_command_reports_what_is_left(self, new_customer, settings, capsys):
        new_customer()
        settings.PII_ENCRYPTION_KEYS = f"t2:{KEY_B},{settings.PII_ENCRYPTION_KEYS}"
        call_command("rotate_pii_keys", "--batch-size", "10")
        assert "0 rows still under an older key" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_existing_plaintext_is_encrypted_by_the_migration(org):
    executor = MigrationExecutor(connection)
    executor.migrate([("customers", "0001_initial")])
    old_apps = executor.loader.project_state([("customers", "0001_initial")]).apps
    OldCustomer = old_apps.get_model("customers", "Customer")
    OldContact = old_apps.get_model("customers", "ContactPoint")
    old = OldCustomer.objects.create(
        customer_no="C1",
        name="钱七",
        id_type="01",
        id_number="11010519491231002X",
        home_branch_id=org["11101"].pk,
        mobile="13911112222",
    )
    OldContact.objects.create(customer_id=old.pk, type="MOBILE", value="13911112222", is_primary=True)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer")
        raw = " ".join(str(v) for row in cursor.fetchall() for v in row)
        cursor.execute("SELECT * FROM customers_contactpoint")
        raw += " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert "11010519491231002X" not in raw and "13911112222" not in raw
    customer = Customer.objects.get(customer_no="C1")
    assert (customer.id_number, customer.mobile, customer.name_initials) == (
        "11010519491231002X",
        "13911112222",
        "qq",
    )
    assert customer.contacts.get().value == "13911112222"
