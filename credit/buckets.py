"""The delinquency buckets of the credit-risk reports (docs/credit.md, "Credit-risk
reports"): an account's days past due on a date put it in one of five buckets,
current (no day past due), 1–30, 31–60, 61–90 and 90+ (91 days or more). The bounds
are here once; the SQL that sorts a status into its bucket is built from them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OverdueBucket(models.IntegerChoices):
    CURRENT = 0, pgettext_lazy("days past due", "Current")
    DAYS_1_30 = 1, _("1–30 days")
    DAYS_31_60 = 2, _("31–60 days")
    DAYS_61_90 = 3, _("61–90 days")
    DAYS_90_PLUS = 4, _("90+ days")


# The most days past due of each bucket but the last (open above).
BUCKET_LIMITS: tuple[tuple[int, OverdueBucket], ...] = (
    (0, OverdueBucket.CURRENT),
    (30, OverdueBucket.DAYS_1_30),
    (60, OverdueBucket.DAYS_31_60),
    (90, OverdueBucket.DAYS_61_90),
)
# "30+ days past due" (the vintages): more than 30 days, the 31–60 bucket or worse.
SERIOUSLY_PAST_DUE = OverdueBucket.DAYS_31_60
SERIOUS_DAYS = 30


def bucket_of(overdue_days: int) -> OverdueBucket:
    for most, bucket in BUCKET_LIMITS:
        if overdue_days <= most:
            return bucket
    return OverdueBucket.DAYS_90_PLUS


def bucket_sql(days: str) -> str:
    """The bucket of the days past due `days` (an SQL expression; NULL: current)."""
    whens = " ".join(
        f"WHEN COALESCE({days}, 0) <= {most} THEN {int(bucket)}" for most, bucket in BUCKET_LIMITS
    )
    return f"CASE {whens} ELSE {int(OverdueBucket.DAYS_90_PLUS)} END"
