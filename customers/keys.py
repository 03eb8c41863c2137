"""Key rotation: re-encrypt every identifier still under an older key with the
current one, in bounded batches by primary key, each batch its own transaction, so
the job can be stopped at any point and run again to finish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from . import crypto
from .crypto import cipher
from .models import ContactPoint, Customer


@dataclass
class RotationReport:
    customers: int = 0
    contacts: int = 0
    batches: int = 0
    finished: bool = False


def _not_current(field: str, key_id: str) -> Q:
    return ~Q(**{field: ""}) & ~Q(**{f"{field}__startswith": f"{key_id}{crypto.SEPARATOR}"})


def _rotate_batch(model, fields: dict[str, str], key_id: str, after: int, size: int) -> tuple[int, int]:
    """Re-encrypt one batch after primary key `after`; returns (rows, last pk)."""
    stale = Q()
    for field in fields:
        stale |= _not_current(field, key_id)
    with transaction.atomic():
        rows = list(model.objects.select_for_update().filter(stale, pk__gt=after).order_by("pk")[:size])
        if not rows:
            return 0, after
        c = cipher()
        for row in rows:
            for field, context in fields.items():
                value = getattr(row, field)
                if value and c.key_id_of(value) != key_id:
                    setattr(row, field, c.encrypt(c.decrypt(value, context=context), context=context))
        model.objects.bulk_update(rows, list(fields))
    return len(rows), rows[-1].pk


def rotate_keys(
    *, batch_size: int = 2000, max_batches: int | None = None, progress: Callable[[str], None] | None = None
) -> RotationReport:
    key_id = cipher().current_key_id
    report = RotationReport()
    plan = [
        (Customer, {"id_number_enc": crypto.ID_NUMBER, "mobile_enc": crypto.MOBILE}, "customers"),
        (ContactPoint, {"value_enc": crypto.CONTACT}, "contacts"),
    ]
    for model, fields, counter in plan:
        after = 0
        while True:
            if max_batches is not None and report.batches >= max_batches:
                return report
            done, after = _rotate_batch(model, fields, key_id, after, batch_size)
            if not done:
                break
            report.batches += 1
            setattr(report, counter, getattr(report, counter) + done)
            if progress:
                progress(f"{counter}: {getattr(report, counter)} re-encrypted")
    report.finished = True
    return report


def rows_under_old_keys() -> int:
    key_id = cipher().current_key_id
    customers = Customer.objects.filter(
        _not_current("id_number_enc", key_id) | _not_current("mobile_enc", key_id)
    )
    contacts = ContactPoint.objects.filter(_not_current("value_enc", key_id))
    return customers.count() + contacts.count()
