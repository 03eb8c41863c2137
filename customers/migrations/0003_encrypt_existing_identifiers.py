"""Identifiers move to encrypted columns (step 2 of 3): existing rows are encrypted
in batches by primary-key range, and their name search tokens computed."""

from django.db import migrations

from . import _frozen_crypto as crypto
from ._frozen_search_text import name_search

BATCH = 5000


def _batches(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def encrypt_existing(apps, schema_editor):
    cipher = crypto.cipher()
    Customer = apps.get_model("customers", "Customer")
    ContactPoint = apps.get_model("customers", "ContactPoint")
    for rows in _batches(Customer.objects.all()):
        for c in rows:
            id_number = (c.id_number or "").strip().upper()
            c.id_number_enc = cipher.encrypt(id_number, context=crypto.ID_NUMBER)
            c.id_hash = cipher.blind_index(id_number, context=crypto.ID_NUMBER)
            c.id_suffix = id_number[-6:]
            mobile = (c.mobile or "").strip()
            c.mobile_enc = cipher.encrypt(mobile, context=crypto.MOBILE)
            c.mobile_hash = cipher.blind_index(mobile, context=crypto.MOBILE)
            c.mobile_suffix = mobile[-4:]
            derived = name_search(c.name)
            c.name_pinyin, c.name_initials, c.search_tokens = derived.pinyin, derived.initials, derived.tokens
        Customer.objects.bulk_update(
            rows,
            [
                "id_number_enc",
                "id_hash",
                "id_suffix",
                "mobile_enc",
                "mobile_hash",
                "mobile_suffix",
                "name_pinyin",
                "name_initials",
                "search_tokens",
            ],
        )
    for rows in _batches(ContactPoint.objects.all()):
        for cp in rows:
            value = (cp.value or "").strip()
            cp.value_enc = cipher.encrypt(value, context=crypto.CONTACT)
            cp.value_hash = cipher.blind_index(value, context=crypto.MOBILE) if cp.type == "MOBILE" else ""
        ContactPoint.objects.bulk_update(rows, ["value_enc", "value_hash"])


def decrypt_back(apps, schema_editor):
    cipher = crypto.cipher()
    Customer = apps.get_model("customers", "Customer")
    ContactPoint = apps.get_model("customers", "ContactPoint")
    for rows in _batches(Customer.objects.all()):
        for c in rows:
            c.id_number = cipher.decrypt(c.id_number_enc, context=crypto.ID_NUMBER)
            c.mobile = cipher.decrypt(c.mobile_enc, context=crypto.MOBILE)
        Customer.objects.bulk_update(rows, ["id_number", "mobile"])
    for rows in _batches(ContactPoint.objects.all()):
        for cp in rows:
            cp.value = cipher.decrypt(cp.value_enc, context=crypto.CONTACT)
        ContactPoint.objects.bulk_update(rows, ["value"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_encrypted_identifier_columns")]

    operations = [migrations.RunPython(encrypt_existing, decrypt_back, elidable=False)]
