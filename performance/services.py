"""Writes of performance figures: computing a period (`performance_run`), and the
nightly refresh of the open periods a load touched."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from core import locks
from customers.choices import BatchStatus
from customers.models import BatchLoad, CustomerAssignment, CustomerMerge

from . import engine
from .choices import PeriodStatus, VersionStatus
from .models import Period, ResultVersion
from .parameters import spreads_for
from .periods import PeriodSpan, parse_period, periods_of
from .scoring import score_version


def period_for(span: PeriodSpan) -> Period:
    period, _created = Period.objects.get_or_create(
        code=span.code, defaults={"kind": span.kind, "start": span.start, "end": span.end}
    )
    return period


def last_loaded_date() -> datetime.date | None:
    return BatchLoad.objects.filter(status=BatchStatus.LOADED).aggregate(last=Max("business_date"))["last"]


def performance_run(code: str, *, by=None, new_days: engine.NewDays | None = None) -> ResultVersion:
    """Compute an open period's provisional figures (version 0) from the data loaded
    so far, replacing them (idempotent). A closed period's published figures are
    never computed over: its recalculation is a new version proposed for approval
    (`performance.publication.publication_propose`)."""
    span = parse_period(code)
    with transaction.atomic():
        period = period_for(span)
        if period.status != PeriodStatus.OPEN:
            raise ValidationError(
                _(
                    "%(period)s is closed: its published figures change only through a recalculation "
                    "that a second person approves."
                )
                % {"period": period.code},
                code="closed",
            )
        version, _created = ResultVersion.objects.get_or_create(
            period=period, number=0, defaults={"status": VersionStatus.PROVISIONAL}
        )
        return compute_version(version, span, by=by, new_days=new_days)


def compute_version(
    version: ResultVersion, span: PeriodSpan, *, by=None, new_days: engine.NewDays | None = None
) -> ResultVersion:
    """Write a version's figures from the data loaded so far, with the period's FTP
    spreads, under the one-run-at-a-time lock; audited. An extension takes the new
    days' figures from `new_days` where another period computed them."""
    started, begun = time.monotonic(), timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [locks.PERFORMANCE_RUN])
                # a period's sums hash a row per customer: room for them in memory
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.PERFORMANCE_WORK_MEM])
                # and for indexing them in memory
                cursor.execute(
                    "SELECT set_config('maintenance_work_mem', %s, true)", [settings.PERFORMANCE_WORK_MEM]
                )
        spreads = spreads_for(version.period)
        through = span.counted_through(last_loaded_date())
        extended = may_extend(version, through, spreads)
        if extended:
            assert version.counted_through is not None and through is not None
            if connection.vendor == "postgresql":
                # a night's statements each read a day: compiling them (JIT) costs more than it saves
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('jit', 'off', true)")
            version.counted_days = engine.extend(
                version,
                start=span.start,
                counted_through=version.counted_through,
                through=through,
                spreads=spreads,
                new_days=new_days,
            )
        else:
            version.counted_days = engine.compute(version, start=span.start, through=through, spreads=spreads)
        version.counted_through = through
        # the scores of the period's approved schemes, from these figures
        score_version(version)
        version.ftp_spreads = {category: str(value) for category, value in sorted(spreads.items())}
        # what a later run checks for changes since (a load finishing meanwhile included)
        version.computed_at = begun
        version.computed_by = by
        version.seconds = round(time.monotonic() - started, 3)
        version.save()
        audit(
            Action.PERFORMANCE_COMPUTED,
            actor=by,
            target=version,
            details={
                "period": version.period.code,
                "version": version.number,
                "status": version.status,
                "counted_through": through.isoformat() if through else None,
                "extended": extended,
                "managers": version.managers.count(),
            },
        )
    return version


def version_compute_queue(version: ResultVersion, *, by=None) -> None:
    """Mark a proposed version as being computed and start its computation once the
    proposal is committed (`performance.tasks.compute_version_task`)."""
    from .tasks import compute_version_task

    ResultVersion.objects.filter(pk=version.pk).update(computing=True, failure="")
    version.computing, version.failure = True, ""
    user_id = by.pk if by is not None else None
    transaction.on_commit(lambda: compute_version_task.delay(version.pk, user_id))


def queued_version_compute(*, version_id: int, user_id: int | None = None) -> dict:
    """The job of `version_compute_queue`: compute the version unless it is done
    already (a job delivered twice) or no longer waits for approval; a failure is
    recorded on the version, for the page to say, and raised for the job's log."""
    from accounts.models import User

    version = ResultVersion.objects.select_related("period").filter(pk=version_id).first()
    if version is None or not version.computing or version.status != VersionStatus.PENDING:
        return {"version": version_id, "computed": False}
    by = User.objects.filter(pk=user_id).first() if user_id is not None else None
    try:
        compute_version(version, parse_period(version.period.code), by=by)
    except Exception as exc:
        ResultVersion.objects.filter(pk=version.pk).update(computing=False, failure=str(exc)[:300])
        raise
    ResultVersion.objects.filter(pk=version.pk).update(computing=False, failure="")
    return {"version": version_id, "computed": True, "seconds": version.seconds}


def may_extend(version: ResultVersion, through: datetime.date | None, spreads) -> bool:
    """Whether the version's figures can be extended to `through` by adding the new
    days alone: it is the open period's provisional version, already counted up to
    an earlier day with the same spreads, and since it was computed nothing it
    counted can have changed: no batch of a counted day loaded again, no assignment
    starting or ending on a counted day recorded, no customers merged. Otherwise the
    period is computed whole."""
    counted = version.counted_through
    if version.status != VersionStatus.PROVISIONAL or counted is None or through is None:
        return False
    if through <= counted:
        return False
    if {c: str(v) for c, v in spreads.items()} != version.ftp_spreads:
        return False
    since = version.computed_at
    reloaded = BatchLoad.objects.filter(business_date__lte=counted, finished_at__gte=since)
    reassigned = CustomerAssignment.objects.filter(created_at__gte=since).filter(
        Q(start_date__lte=counted) | Q(end_date__lte=counted)
    )
    merged = CustomerMerge.objects.filter(merged_at__gte=since)
    return not (reloaded.exists() or reassigned.exists() or merged.exists())


def refresh_after_load(dates: Iterable[datetime.date]) -> list[ResultVersion]:
    """The post-load step: compute again the open periods (month, quarter, year) of
    the loaded dates; the days they are extended by are computed once."""
    codes = sorted({span.code for day in dates for span in periods_of(day)})
    closed = set(
        Period.objects.filter(code__in=codes, status=PeriodStatus.CLOSED).values_list("code", flat=True)
    )
    with engine.NewDays() as new_days:
        return [performance_run(code, new_days=new_days) for code in codes if code not in closed]
