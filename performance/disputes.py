"""Disputes of credited customers: a client manager says that some of a customer's
days in a period should (or should not) count for them; a branch head over the
manager's branch decides; an approval corrects the assignment history of those
days and computes the periods holding them again.

- Raised from the manager's own figures (`dispute_raise`): the days lie within the
  period's counted days; "not mine" only for a customer credited to the manager in
  the figures shown; one pending dispute per manager, customer and period.
- Decided through the one maker-checker service (`accounts.approvals.decide`): the
  decider holds `performance.decide_dispute`, sees the manager's branch, and is not
  the manager. Approving "mine" makes the manager the customer's manager of record
  on those days; approving "not mine" gives the days to the manager the branch head
  names, or to the customer's home branch pool when none is named.
- The correction (`correct_history`) rewrites only the primary assignments
  overlapping the days: an assignment running before them now ends the day before,
  one running after them continues from the day after, one inside them is removed
  (the audit event keeps every row as it was), and the manager of record gets an
  assignment over exactly those days. Assisting managers' shares are not touched.
- Then every period holding the days (month, quarter, year) is computed again, by a
  job started once the decision is committed (`dispute_recalculate`; a period takes
  about a minute at the bank's size): an open one directly (its provisional
  figures), a closed one as a recalculation proposed by the decider, which changes
  the published figures only once a second person approves it
  (`performance.publication`). What was computed is recorded on the dispute.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide
from accounts.audit import Action, audit
from accounts.models import User
from accounts.roles import Role
from accounts.scope import visible_branches
from core.approvals import ApprovalStatus
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment

from .choices import DisputeClaim, PeriodStatus
from .models import CustomerResult, Dispute, Period
from .periods import periods_of
from .publication import propose_recalculation
from .selectors import shown_version
from .services import performance_run
from .tasks import recalculate_dispute_task

REASON_MIN_LENGTH = 4


def dispute_raise(
    *,
    by: User,
    period: Period,
    customer: Customer,
    claim: str,
    first_day: datetime.date,
    last_day: datetime.date,
    reason: str,
) -> Dispute:
    """Record a client manager's dispute; audited."""
    if not (by.is_active and by.has_perm("performance.add_dispute")):
        raise PermissionDenied(_("Only a client manager may dispute the customers credited to them."))
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            _("Say why (at least %(n)s characters).") % {"n": REASON_MIN_LENGTH}, code="reason"
        )
    if claim not in DisputeClaim.values:
        raise ValidationError(_("Choose what the dispute claims."), code="claim")
    version = shown_version(period)
    through = version.counted_through if version else None
    if through is None:
        raise ValidationError(_("%(period)s has no counted days yet.") % {"period": period.code}, code="days")
    if not (period.start <= first_day <= last_day <= through):
        raise ValidationError(
            _("The days must lie within the counted days of %(period)s, %(first)s to %(last)s.")
            % {"period": period.code, "first": period.start.isoformat(), "last": through.isoformat()},
            code="days",
        )
    if customer.merged_into_id is not None:
        raise ValidationError(_("This customer was merged into another one."), code="merged")
    if (
        claim == DisputeClaim.NOT_MINE
        and not CustomerResult.objects.filter(version=version, customer=customer, manager=by).exists()
    ):
        raise ValidationError(
            _("This customer is not credited to you in %(period)s.") % {"period": period.code}
        )
    with transaction.atomic():
        if Dispute.objects.filter(
            period=period, customer=customer, proposed_by=by, status=ApprovalStatus.PENDING
        ).exists():
            raise ValidationError(
                _("You already have a dispute of this customer in %(period)s waiting for a decision.")
                % {"period": period.code},
                code="pending",
            )
        dispute = Dispute.objects.create(
            period=period,
            customer=customer,
            claim=claim,
            first_day=first_day,
            last_day=last_day,
            reason=reason,
            proposed_by=by,
        )
        audit(
            Action.DISPUTE_RAISED,
            actor=by,
            target=customer,
            details={
                "dispute": dispute.pk,
                "period": period.code,
                "claim": claim,
                "days": [first_day.isoformat(), last_day.isoformat()],
            },
        )
    return dispute


def _check(dispute: Dispute, by: User) -> None:
    """The decider's scope covers the disputing manager's branch, and the branch of
    the manager the days would count for."""
    branch_id = dispute.proposed_by.branch_id
    if branch_id is None or not visible_branches(by).filter(pk=branch_id).exists():
        raise PermissionDenied(_("This dispute is outside your branches."))
    days_for = dispute.manager_of_record
    if days_for is not None and not visible_branches(by).filter(pk=days_for.branch_id).exists():
        raise ValidationError(
            _("The days can count only for a client manager of your branches."), code="manager"
        )


def _apply(dispute: Dispute, by: User) -> dict[str, Any]:
    changed = correct_history(
        dispute.customer,
        manager=dispute.manager_of_record,
        first_day=dispute.first_day,
        last_day=dispute.last_day,
        by=by,
        note=_("dispute #%(n)s") % {"n": dispute.pk},
    )
    # the periods holding the days are computed again by a job, once this commits
    transaction.on_commit(lambda: recalculate_dispute_task.delay(dispute.pk, by.pk))
    return {"assignments": changed}


def _details(dispute: Dispute, decision: str) -> dict[str, Any]:
    return {
        "dispute": dispute.pk,
        "period": dispute.period.code,
        "claim": dispute.claim,
        "manager": dispute.proposed_by.employee_no,
        "days_count_for": dispute.manager_of_record.employee_no if dispute.manager_of_record else None,
    }


DISPUTE_FLOW: ApprovalFlow[Dispute] = ApprovalFlow(
    model=Dispute,
    item=gettext_lazy("dispute"),
    permission="performance.decide_dispute",
    action=Action.DISPUTE_DECIDED,
    on_approve=_apply,
    check=_check,
    details=_details,
    audit_target=lambda dispute: dispute.customer,
    related=("customer", "period", "proposed_by", "manager_of_record"),
)


def dispute_decide(
    *, dispute: Dispute, by: User, approve: bool, note: str = "", manager: User | None = None
) -> Dispute:
    """Approve or reject a pending dispute. Approving "mine" credits the manager who
    raised it; approving "not mine" credits `manager` (a client manager), or the
    customer's home branch pool when None."""
    with transaction.atomic():
        if approve:
            days_for = dispute.proposed_by if dispute.claim == DisputeClaim.MINE else manager
            if days_for is not None and not days_for.groups.filter(name=Role.CLIENT_MANAGER).exists():
                raise ValidationError(_("The days can count only for a client manager."), code="manager")

            if dispute.claim == DisputeClaim.NOT_MINE and days_for == dispute.proposed_by:
                raise ValidationError(_("Name another manager, or none for the branch pool."), code="manager")
            Dispute.objects.filter(pk=dispute.pk, status=ApprovalStatus.PENDING).update(
                manager_of_record=days_for
            )
        return decide(DISPUTE_FLOW, dispute, by=by, approve=approve, note=note)


def correct_history(
    customer: Customer,
    *,
    manager: User | None,
    first_day: datetime.date,
    last_day: datetime.date,
    by: User,
    note: str,
) -> list[dict[str, Any]]:
    """Make `manager` (None: nobody, the home branch pool) the customer's manager of
    record from `first_day` to `last_day`, rewriting only the primary assignments
    overlapping those days; returns the rows as they were and became (audited by the
    caller's decision)."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    rows = list(
        CustomerAssignment.objects.filter(customer=customer, role=AssignmentRole.PRIMARY).order_by(
            "start_date", "id"
        )
    )
    day = datetime.timedelta(days=1)
    changes: list[dict[str, Any]] = []

    def record(kind: str, row: CustomerAssignment, before: tuple | None = None) -> None:
        changes.append(
            {
                "change": kind,
                "manager": row.manager_id,
                "before": [d.isoformat() if d else None for d in before] if before else None,
                "after": [row.start_date.isoformat(), row.end_date.isoformat() if row.end_date else None],
            }
        )

    for i, row in enumerate(rows):
        following = rows[i + 1].start_date - day if i + 1 < len(rows) else None
        ends = (
            min(d for d in (row.end_date, following) if d is not None)
            if (row.end_date or following)
            else None
        )
        if row.start_date > last_day or (ends is not None and ends < first_day):
            continue
        before = (row.start_date, row.end_date)
        if row.start_date < first_day:
            if ends is None or ends > last_day:  # it runs on after the days: its rest continues
                row.end_date = first_day - day
                row.save(update_fields=["end_date"])
                tail = CustomerAssignment.objects.create(
                    customer=customer,
                    manager_id=row.manager_id,
                    role=AssignmentRole.PRIMARY,
                    start_date=last_day + day,
                    end_date=before[1],
                    reason=row.reason,
                    created_by=by,
                )
                record("ended", row, before)
                record("continued", tail)
            else:
                row.end_date = first_day - day
                row.save(update_fields=["end_date"])
                record("ended", row, before)
        elif ends is None or ends > last_day:
            row.start_date = last_day + day
            row.save(update_fields=["start_date"])
            record("starts later", row, before)
        else:
            record("removed", row, before)
            row.delete()
    if manager is not None:
        made = CustomerAssignment.objects.create(
            customer=customer,
            manager=manager,
            role=AssignmentRole.PRIMARY,
            start_date=first_day,
            end_date=last_day,
            reason=note,
            created_by=by,
        )
        record("made", made)
    return changes


def dispute_recalculate(*, dispute_id: int, user_id: int) -> list[dict[str, Any]]:
    """The job after an approved dispute: compute again every period holding its days
    and record what was computed on the dispute (the decider is the proposer of a
    closed period's recalculation). Harmless twice: a recorded dispute is left alone."""
    dispute = Dispute.objects.select_related("period").filter(pk=dispute_id).first()
    if dispute is None or dispute.status != ApprovalStatus.APPROVED or dispute.recalculated:
        return []
    by = User.objects.get(pk=user_id)
    done = _recalculate(dispute, by)
    Dispute.objects.filter(pk=dispute.pk).update(recalculated=done)
    return done


def _recalculate(dispute: Dispute, by: User) -> list[dict[str, Any]]:
    codes = sorted(
        {span.code for span in periods_of(dispute.first_day)}
        | {span.code for span in periods_of(dispute.last_day)}
    )
    done = []
    reason = _("Dispute #%(n)s decided") % {"n": dispute.pk}
    for period in Period.objects.filter(code__in=codes).order_by("start", "kind"):
        if period.status == PeriodStatus.OPEN:
            version = performance_run(period.code, by=by)
            done.append({"period": period.code, "version": version.number, "status": version.status})
        else:
            publication = propose_recalculation(period, by=by, reason=reason)
            if publication is None:  # one is already waiting: it says so rather than queueing
                done.append({"period": period.code, "version": None, "status": "pending_elsewhere"})
            else:
                version = publication.version
                done.append({"period": period.code, "version": version.number, "status": version.status})
    return done
