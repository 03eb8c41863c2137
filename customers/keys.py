"""Key rotation: re-encrypt every identifier still under an older key with the
current one, in bounded batches by primary key, each batch its own transaction, so
the job can be stopped at any point and run again to finish.

Every model holding ciphertext declares it: `ENCRYPTED_FIELDS = {field: context}`
(customers, contact points, VIP prospects, ...); rotation covers them all, so a
retired key can be dropped from the ring once `rows_under_old_keys()` is 0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction
from django.db.models import Model, Q

from . import crypto
from .crypto import cipher


@dataclass
class RotationReport:
    rows: dict[str, int] = field(default_factory=dict)  # model label -> rows re-encrypted
    batches: int = 0
    finished: bool = False

    @property
    def customers(self) -> int:
        return self.rows.get("customers.customer", 0)

    @property
    def contacts(self) -> int:
        return self.rows.get("customers.contactpoint", 0)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def encrypted_models() -> list[tuple[type[Model], dict[str, str]]]:
    """(model, {field: context}) for every installed model holding ciphertext."""
    found = []
    for model in apps.get_models():
        declared = getattr(model, "ENCRYPTED_FIELDS", None)
        if declared:
            found.append((model, dict(declared)))
    return found


def _not_current(field: str, key_id: str) -> Q:
    return ~Q(**{field: ""}) & ~Q(**{f"{field}__startswith": f"{key_id}{crypto.SEPARATOR}"})


def _rotate_batch(
    model: type[Model], fields: dict[str, str], key_id: str, after: int, size: int
) -> tuple[int, int]:
    """Re-encrypt one batch after primary key `after`; returns (rows, last pk)."""
    stale = Q()
    for name in fields:
        stale |= _not_current(name, key_id)
    with transaction.atomic():
        rows = list(
            model._default_manager.select_for_update().filter(stale, pk__gt=after).order_by("pk")[:size]
        )
        if not rows:
            return 0, after
        c = cipher()
        for row in rows:
            for name, context in fields.items():
                value = getattr(row, name)
                if value and c.key_id_of(value) != key_id:
                    setattr(row, name, c.encrypt(c.decrypt(value, context=context), context=context))
        model._default_manager.bulk_update(rows, list(fields))
    return len(rows), rows[-1].pk


def rotate_keys(
    *, batch_size: int = 2000, max_batches: int | None = None, progress: Callable[[str], None] | None = None
) -> RotationReport:
    key_id = cipher().current_key_id
    report = RotationReport()
    for model, fields in encrypted_models():
        label = model._meta.label_lower
        after = 0
        while True:
            if max_batches is not None and report.batches >= max_batches:
                return report
            done, after = _rotate_batch(model, fields, key_id, after, batch_size)
            if not done:
                break
            report.batches += 1
            report.rows[label] = report.rows.get(label, 0) + done
            if progress:
                progress(f"{model._meta.verbose_name_plural}: {report.rows[label]} re-encrypted")
    report.finished = True
    return report


def rows_under_old_keys() -> int:
    key_id = cipher().current_key_id
    left = 0
    for model, fields in encrypted_models():
        stale = Q()
        for name in fields:
            stale |= _not_current(name, key_id)
        left += model._default_manager.filter(stale).count()
    return left
