"""The full check of resident ID numbers, which needs decryption: what the scan
cannot do in SQL (see `customers.quality.scan`). The loaders call
`quality_check_ids` for the rows they wrote; the scan re-checks the customers with
an open invalid_id issue."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.batching import chunks

from .. import crypto
from ..choices import CustomerStatus, IdType, QualityIssueKind
from ..crypto import DecryptionError, cipher
from ..idnumbers import parse_resident_id
from ..models import Customer, DataQualityIssue
from .states import DISMISSED, NO_LONGER_DETECTED, OPEN, RESOLVED

# Customers per decryption batch (invalid_id full check).
CHECK_BATCH = 2000


def resident_id_problem(*, id_number_enc: str, id_hash: str, id_suffix: str) -> str:
    """An empty string when a stored resident ID is valid, else a short code of what is wrong.
    Also catches a blind index or suffix that does not match the number, so that
    everything the SQL condition of the scan flags is flagged here too."""
    if not id_number_enc or not id_hash:
        return "missing"
    try:
        value = cipher().decrypt(id_number_enc, context=crypto.ID_NUMBER)
    except DecryptionError:
        return "undecryptable"
    if cipher().blind_index(value, context=crypto.ID_NUMBER) != id_hash or value[-6:] != id_suffix:
        return "index_mismatch"
    try:
        parse_resident_id(value)
    except ValidationError as exc:
        return exc.code or "invalid"
    return ""


def _check_batch(customer_ids: Sequence[int], *, now: datetime.datetime, create: bool) -> tuple[int, int]:
    rows = Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "id_type", "id_number_enc", "id_hash", "id_suffix", "home_branch_id", "merged_into_id", "status"
    )
    problems: dict[int, tuple[str, int]] = {}
    fine: list[int] = []
    for pk, id_type, enc, id_hash, suffix, branch_id, merged_into_id, status in rows:
        in_population = merged_into_id is None and status != CustomerStatus.CLOSED
        problem = ""
        if in_population and id_type == IdType.RESIDENT_ID:
            problem = resident_id_problem(id_number_enc=enc, id_hash=id_hash, id_suffix=suffix)
        if problem:
            problems[pk] = (problem, branch_id)
        else:
            fine.append(pk)
    fine.extend(set(customer_ids) - set(problems) - set(fine))  # deleted customers
    resolved = DataQualityIssue.objects.filter(
        kind=QualityIssueKind.INVALID_ID, status=OPEN, customer_id__in=fine
    ).update(status=RESOLVED, resolved_at=now, resolution=NO_LONGER_DETECTED)
    created = 0
    if create and problems:
        existing = set(
            DataQualityIssue.objects.filter(
                kind=QualityIssueKind.INVALID_ID, customer_id__in=problems, pair_key="",
                status__in=[OPEN, DISMISSED],
            ).values_list("customer_id", flat=True)
        )  # fmt: skip
        new = [
            DataQualityIssue(
                kind=QualityIssueKind.INVALID_ID,
                customer_id=pk,
                branch_id=branch_id,
                detail=problem,
                detected_at=now,
            )
            for pk, (problem, branch_id) in problems.items()
            if pk not in existing
        ]
        DataQualityIssue.objects.bulk_create(new, ignore_conflicts=True)
        created = len(new)
    return created, resolved


@transaction.atomic
def quality_check_ids(customer_ids: Iterable[int]) -> dict[str, int]:
    """Full check (decrypting) of the resident IDs of the given customers: raises an
    invalid_id issue for each that fails and resolves open ones that now pass. For
    the loaders (the rows they just wrote) and for re-checks; batches of
    CHECK_BATCH customers, so memory stays flat."""
    now = timezone.now()
    ids = sorted(set(customer_ids))
    created = resolved = 0
    for chunk in chunks(ids, CHECK_BATCH):
        c, r = _check_batch(chunk, now=now, create=True)
        created, resolved = created + c, resolved + r
    return {"created": created, "resolved": resolved}


def recheck_open_invalid_ids(*, now: datetime.datetime) -> int:
    """Decrypt and re-check the customers with an open invalid_id issue, keyset
    batches over customer id (no OFFSET)."""
    resolved, after = 0, 0
    while True:
        chunk = list(
            DataQualityIssue.objects.filter(
                kind=QualityIssueKind.INVALID_ID, status=OPEN, customer_id__gt=after
            )
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()[:CHECK_BATCH]
        )
        if not chunk:
            return resolved
        resolved += _check_batch(chunk, now=now, create=False)[1]
        after = chunk[-1]
