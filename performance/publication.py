"""Publishing figures, maker-checker. Closing a period computes a version from the
data loaded so far and proposes it; a recalculation of a published period does the
same with the next version number. Nothing replaces a published figure until a
second person approves (`accounts.approvals.decide`): then the version is
published, the one it replaces is superseded (and stays readable) and the period is
closed. `version_diff` says, per manager, what changed between two versions and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import REASON_MIN_LENGTH, ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from core.approvals import ApprovalStatus

from .choices import PeriodKind, PeriodStatus, VersionStatus
from .levels import levels_update
from .models import CustomerResult, ManagerResult, Period, Publication, ResultVersion
from .periods import parse_period
from .selectors import FIGURES
from .services import period_for, queued_version_compute, version_compute_queue


def publication_propose(*, code: str, by, reason: str) -> Publication:
    """Propose the period's next version for publication: the closing of an open
    period, or a recalculation of a published one. Its figures are computed from the
    data loaded so far by a job once the proposal is committed; it can be approved
    when they are ready. One proposal at a time per period."""
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            _("Say why (at least %(n)s characters).") % {"n": REASON_MIN_LENGTH}, code="reason"
        )
    if not by.has_perm("performance.propose_publication"):
        raise PermissionDenied(_("You may not close a period nor recalculate its figures."))
    span = parse_period(code)
    with transaction.atomic():
        publication = _propose(period_for(span), by=by, reason=reason)
        if publication is None:
            raise ValidationError(
                _("A version of %(period)s is already waiting for approval.") % {"period": span.code},
                code="pending",
            )
        return publication


def propose_recalculation(period: Period, *, by, reason: str) -> Publication | None:
    """A closed period's recalculation proposed on behalf of a decision already taken
    (an approved dispute: its decider is the proposer, and a second person approves
    the new figures); None when a version of the period is already waiting."""
    with transaction.atomic():
        return _propose(period, by=by, reason=reason)


def _propose(period: Period, *, by, reason: str) -> Publication | None:
    period = Period.objects.select_for_update().get(pk=period.pk)
    if Publication.objects.filter(version__period=period, status=ApprovalStatus.PENDING).exists():
        return None
    number = (period.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ResultVersion.objects.create(period=period, number=number, status=VersionStatus.PENDING)
    version_compute_queue(version, by=by)
    publication = Publication.objects.create(version=version, proposed_by=by, reason=reason)
    audit(
        Action.PERFORMANCE_PROPOSED,
        actor=by,
        target=version,
        details={"period": period.code, "version": number, "reason": reason},
    )
    return publication


def _publish(publication: Publication, by) -> dict[str, Any]:
    version = publication.version
    period = version.period
    replaced = list(
        period.versions.filter(status=VersionStatus.PUBLISHED)
        .exclude(pk=version.pk)
        .values_list("number", flat=True)
    )
    period.versions.filter(status=VersionStatus.PUBLISHED).exclude(pk=version.pk).update(
        status=VersionStatus.SUPERSEDED
    )
    version.status = VersionStatus.PUBLISHED
    version.save(update_fields=["status"])
    if period.status != PeriodStatus.CLOSED:
        period.status = PeriodStatus.CLOSED
        period.save(update_fields=["status"])
    moved = levels_update(period=period.code, by=by) if period.kind == PeriodKind.MONTH else []
    return {"published": version.number, "superseded": replaced, "levels_moved": len(moved)}


def _check(publication: Publication, by) -> None:
    """Figures are decided on once they exist."""
    version = publication.version
    if version.computing:
        raise ValidationError(
            _("Version %(n)s of %(period)s is still being computed: decide on it when its figures are ready.")
            % {"n": version.number, "period": version.period.code},
            code="computing",
        )
    if version.failure:
        raise ValidationError(
            _("The computation of version %(n)s of %(period)s failed: it cannot be approved.")
            % {"n": version.number, "period": version.period.code},
            code="failed",
        )


def _reject(publication: Publication, by) -> None:
    publication.version.status = VersionStatus.REJECTED
    publication.version.save(update_fields=["status"])


def _details(publication: Publication, decision: str) -> dict[str, Any]:
    version = publication.version
    return {"period": version.period.code, "version": version.number, "reason": publication.reason}


PUBLICATION_FLOW: ApprovalFlow[Publication] = ApprovalFlow(
    model=Publication,
    item=gettext_lazy("publication of figures"),
    permission="performance.approve_publication",
    action=Action.PERFORMANCE_PUBLISHED,
    on_approve=_publish,
    on_reject=_reject,
    check=_check,
    details=_details,
    related=("version", "version__period"),
)


def publication_decide(*, publication: Publication, by, approve: bool, note: str = "") -> Publication:
    return decide(PUBLICATION_FLOW, publication, by=by, approve=approve, note=note)


def publication_withdraw(*, publication: Publication, by, note: str = "") -> Publication:
    """The proposer takes a pending version back (a wrong reason, a failed
    computation); it stays readable, withdrawn, and the period may be proposed again."""
    with transaction.atomic():
        withdrawn = withdraw(PUBLICATION_FLOW, publication, by=by, note=note)
        ResultVersion.objects.filter(pk=withdrawn.version_id).update(status=VersionStatus.WITHDRAWN)
    return withdrawn


@dataclass(frozen=True)
class ManagerChange:
    manager_id: int | None
    branch_id: int
    before: dict[str, Decimal]
    after: dict[str, Decimal]
    causes: tuple[str, ...]  # "data", "rule", "ownership"

    @property
    def delta(self) -> dict[str, Decimal]:
        return {name: self.after[name] - self.before[name] for name in FIGURES}


def version_diff(before: ResultVersion, after: ResultVersion) -> list[ManagerChange]:
    """Per manager (and pool), the figures that differ between two versions of a
    period and the causes: the FTP spreads changed (rule), customers credited to the
    manager changed (ownership), or the loaded data did (data)."""
    zero = dict.fromkeys(FIGURES, Decimal("0"))

    def figures(version: ResultVersion) -> dict[tuple[int | None, int], dict[str, Decimal]]:
        return {
            (row.manager_id, row.branch_id): {name: getattr(row, name) for name in FIGURES}
            for row in ManagerResult.objects.filter(version=version)
        }

    def credited(version: ResultVersion):
        return CustomerResult.objects.filter(version=version).values_list("manager_id", "customer_id")

    old, new = figures(before), figures(after)
    # the managers (None: pools) credited a customer in one version and not the other:
    # the two differences of (manager, customer) pairs, computed by the database
    gone, came = credited(before).difference(credited(after)), credited(after).difference(credited(before))
    moved = {manager for pairs in (gone, came) for manager, _customer in pairs}
    rule = before.ftp_spreads != after.ftp_spreads
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[1], k[0] or 0)):
        was, now = old.get(key, zero), new.get(key, zero)
        if was == now:
            continue
        causes = []
        if rule:
            causes.append("rule")
        if key[0] in moved:
            causes.append("ownership")
        if not causes:  # the same customers under the same rules: the loaded data changed
            causes.append("data")
        changes.append(ManagerChange(key[0], key[1], was, now, tuple(causes)))
    return changes


def _replaced_by(version: ResultVersion) -> ResultVersion | None:
    """The figures a pending version would replace: the period's published version,
    else (closing an open period) its provisional figures."""
    versions = version.period.versions.exclude(pk=version.pk)
    return (
        versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()
        or versions.filter(number=0).first()
    )


def publication_changes_record(*, version_id: int) -> int | None:
    """Write on a computed version's publication what it changes, per manager and
    pool, against the figures it would replace (read on the period's page, which
    would otherwise compare two sets of a million rows per request). Returns how
    many rows changed; None when the version waits for no decision."""
    publication = (
        Publication.objects.select_related("version", "version__period").filter(version_id=version_id).first()
    )
    if publication is None or publication.version.computing or publication.version.failure:
        return None
    replaced = _replaced_by(publication.version)
    changes = version_diff(replaced, publication.version) if replaced is not None else []
    Publication.objects.filter(pk=publication.pk).update(
        changes=[
            {
                "manager": change.manager_id,
                "branch": change.branch_id,
                "before": {name: str(value) for name, value in change.before.items()},
                "after": {name: str(value) for name, value in change.after.items()},
                "causes": list(change.causes),
            }
            for change in changes
        ]
    )
    return len(changes)


def proposed_version_compute(*, version_id: int, user_id: int | None = None) -> dict[str, Any]:
    """Compute a proposed version and record what it changes: the job after a
    proposal, or a caller with the time to wait (the demo). Harmless twice."""
    outcome = queued_version_compute(version_id=version_id, user_id=user_id)
    if outcome["computed"]:
        outcome["changes"] = publication_changes_record(version_id=version_id)
    return outcome
