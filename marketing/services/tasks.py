"""Marketing tasks: head office sets a target for an indicator over a period and
issues it; each holder of a share decomposes it to the branches below or to client
managers, and each receiver accepts its share or returns it."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import Branch, BranchLevel, User
from accounts.roles import Role
from accounts.scope import data_scope, has_role

from ..choices import AllocationStatus, MarketingAction, TaskStatus
from ..indicators import registered
from ..models import Indicator, MarketingTask, TaskAllocation
from ._common import require


@transaction.atomic
def task_create(
    *,
    user: User,
    name: str,
    indicator: Indicator,
    period_start: datetime.date,
    period_end: datetime.date,
    target: Decimal,
    description: str = "",
) -> MarketingTask:
    require(user, "marketing.add_marketingtask")
    if not indicator.active:
        raise ValidationError(
            {
                "indicator": _("The indicator “%(name)s” is switched off; choose another.")
                % {"name": indicator}
            }
        )
    if not registered(indicator.kind):
        raise ValidationError(
            {
                "indicator": _("Nothing computes the indicator “%(name)s” yet; choose another.")
                % {"name": indicator}
            }
        )
    task = MarketingTask(
        name=name.strip(),
        indicator=indicator,
        period_start=period_start,
        period_end=period_end,
        target=target,
        description=description.strip(),
        created_by=user,
    )
    task.full_clean()
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    task.save()
    head_office = Branch.objects.get(level=BranchLevel.HEAD_OFFICE)
    TaskAllocation.objects.create(
        task=task, branch=head_office, target=task.target, status=AllocationStatus.PENDING
    )
    audit(
        MarketingAction.TASK_CREATED,
        actor=user,
        target=task,
        details={"indicator": task.indicator.code, "target": str(task.target)},
    )
    return task


@transaction.atomic
def task_issue(*, task: MarketingTask, user: User) -> MarketingTask:
    """Issue a draft task: head office's share (the whole target) is accepted and can
    be decomposed to the branches."""
    require(user, "marketing.add_marketingtask")
    task = MarketingTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.DRAFT:
        raise ValidationError(_("Only a draft task can be issued."))
    task.status, task.issued_at = TaskStatus.ISSUED, timezone.now()
    task.save(update_fields=["status", "issued_at"])
    TaskAllocation.objects.filter(task=task, parent__isnull=True).update(
        status=AllocationStatus.ACCEPTED, target=task.target, responded_by=user, responded_at=timezone.now()
    )
    audit(
        MarketingAction.TASK_ISSUED,
        actor=user,
        target=task,
        details={"indicator": task.indicator.code, "target": str(task.target)},
    )
    return task


def holds_allocation(user: User, allocation: TaskAllocation) -> bool:
    """Whose share is it: the manager's own, or a branch's for its branch head.
    Head office's share belongs to head-office roles."""
    if allocation.manager_id:
        return allocation.manager_id == user.pk
    if allocation.parent_id is None:
        return data_scope(user).sees_all
    return has_role(user, Role.BRANCH_HEAD) and user.branch_id == allocation.branch_id


def may_decompose(user: User, allocation: TaskAllocation) -> bool:
    """The holder of a branch share decomposes it; head office may decompose any
    branch share (a branch without a branch head)."""
    if not user.has_perm("marketing.decompose_marketingtask") or allocation.manager_id:
        return False
    return holds_allocation(user, allocation) or data_scope(user).sees_all


def _nobody_holds(allocation: TaskAllocation, user: User) -> bool:
    """A branch share decomposed by head office for a branch with no active branch
    head (so nobody could accept it)."""
    if allocation.manager_id or allocation.parent_id is None or not data_scope(user).sees_all:
        return False
    return not User.objects.filter(
        branch_id=allocation.branch_id, is_active=True, groups__name=Role.BRANCH_HEAD
    ).exists()


def _take_for_the_branch(allocation: TaskAllocation, user: User) -> None:
    """Nobody at the branch can accept its share: head office takes it on the
    branch's behalf as it decomposes it (recorded as the answer)."""
    allocation.status = AllocationStatus.ACCEPTED
    allocation.comment = _("Taken by head office: the branch has no branch head.")
    allocation.responded_by, allocation.responded_at = user, timezone.now()
    allocation.save(update_fields=["status", "comment", "responded_by", "responded_at"])


def _share_errors(allocation: TaskAllocation, shares: Sequence[tuple[Branch | User, Decimal]]) -> list[str]:
    """What is wrong with the shares: their sum, a negative or repeated share, a
    receiver that is neither a child branch nor a client manager of the subtree."""
    parent = allocation.branch
    assert parent is not None  # only a branch's share is decomposed
    errors = []
    total = sum((Decimal(target) for _receiver, target in shares), Decimal("0"))
    if total != allocation.target:
        errors.append(
            _("The shares add up to %(total)s; they must add up to %(target)s.")
            % {"total": total.quantize(Decimal("0.01")), "target": allocation.target}
        )
    seen = set()
    for receiver, target in shares:
        if Decimal(target) < 0:
            errors.append(_("A share cannot be negative."))
        key = (type(receiver).__name__, receiver.pk)
        if key in seen:
            errors.append(_("%(r)s appears twice.") % {"r": receiver})
        seen.add(key)
        if isinstance(receiver, Branch):
            if receiver.parent_id != allocation.branch_id:
                errors.append(
                    _("%(r)s is not directly below %(b)s.") % {"r": receiver, "b": allocation.branch}
                )
        elif not (
            receiver.branch_id
            and receiver.is_active
            and has_role(receiver, Role.CLIENT_MANAGER)
            and receiver.branch is not None
            and receiver.branch.is_within(parent)
        ):
            errors.append(
                _("%(r)s is not a client manager of %(b)s.") % {"r": receiver, "b": allocation.branch}
            )
    return errors


def _replace_shares(
    allocation: TaskAllocation, wanted: dict[tuple[int | None, int | None], Decimal]
) -> list[TaskAllocation]:
    """Write the wanted shares (keyed by branch id, manager id) in place of the
    current ones: a dropped share is deleted, a share whose target changes waits for
    acceptance again, a returned one with the same target is offered again."""
    existing = {(a.branch_id, a.manager_id): a for a in allocation.children.select_for_update()}
    if TaskAllocation.objects.filter(parent__in=list(existing.values())).exists():
        raise ValidationError(_("A share has already been decomposed further; it cannot be redistributed."))
    for key, child in existing.items():
        if key not in wanted:
            child.delete()
    result = []
    for (branch_id, manager_id), target in wanted.items():
        child = existing.get((branch_id, manager_id))
        if child is None:
            child = TaskAllocation(
                task=allocation.task,
                parent=allocation,
                branch_id=branch_id,
                manager_id=manager_id,
                target=target,
            )
        elif child.target != target:
            child.target, child.status, child.comment = target, AllocationStatus.PENDING, ""
            child.responded_by = child.responded_at = None
        elif child.status == AllocationStatus.RETURNED:
            child.status = AllocationStatus.PENDING
        child.full_clean()
        child.save()
        result.append(child)
    return result


@transaction.atomic
def task_decompose(
    *, allocation: TaskAllocation, user: User, shares: Sequence[tuple[Branch | User, Decimal]]
) -> list[TaskAllocation]:
    """Give an accepted branch share to its child branches or to managers of its
    subtree. The shares must add up to the parent's target exactly. Decomposing
    again replaces the shares, as long as none of them was decomposed further;
    a share whose target changes waits for acceptance again."""
    allocation = (
        TaskAllocation.objects.select_for_update(of=("self",))
        .select_related("task", "branch")
        .get(pk=allocation.pk)
    )
    if not may_decompose(user, allocation):
        raise PermissionDenied(_("You may not decompose this share of the task."))
    if allocation.task.status != TaskStatus.ISSUED:
        raise ValidationError(_("The task is not issued."))
    if allocation.status == AllocationStatus.PENDING and _nobody_holds(allocation, user):
        _take_for_the_branch(allocation, user)
    if allocation.status != AllocationStatus.ACCEPTED:
        raise ValidationError(_("A share must be accepted before it is decomposed."))
    if not shares:
        raise ValidationError(_("Give at least one share."))
    errors = _share_errors(allocation, shares)
    if errors:
        raise ValidationError(errors)
    wanted: dict[tuple[int | None, int | None], Decimal] = {
        ((receiver.pk, None) if isinstance(receiver, Branch) else (None, receiver.pk)): Decimal(target)
        for receiver, target in shares
    }
    result = _replace_shares(allocation, wanted)
    audit(
        MarketingAction.TASK_DECOMPOSED,
        actor=user,
        target=allocation.task,
        details={
            "allocation": allocation.pk,
            "shares": [
                {"branch": b, "manager": m, "target": str(t)} for (b, m), t in sorted(wanted.items(), key=str)
            ],
        },
    )
    return result


@transaction.atomic
def allocation_respond(
    *, allocation: TaskAllocation, user: User, accept: bool, comment: str = ""
) -> TaskAllocation:
    """The receiver accepts its share or returns it with a comment (the decomposer
    then redistributes)."""
    require(user, "marketing.respond_marketingtask")
    allocation = (
        TaskAllocation.objects.select_for_update(of=("self",)).select_related("task").get(pk=allocation.pk)
    )
    if allocation.parent_id is None or not holds_allocation(user, allocation):
        raise PermissionDenied(_("This share of the task is not yours to accept or return."))
    if allocation.status != AllocationStatus.PENDING:
        raise ValidationError(_("This share is not waiting for an answer."))
    comment = comment.strip()
    if not accept and len(comment) < 4:
        raise ValidationError({"comment": _("Say why you return it (at least 4 characters).")})
    allocation.status = AllocationStatus.ACCEPTED if accept else AllocationStatus.RETURNED
    allocation.comment = comment[:300]
    allocation.responded_by, allocation.responded_at = user, timezone.now()
    allocation.save(update_fields=["status", "comment", "responded_by", "responded_at"])
    audit(
        MarketingAction.TASK_ACCEPTED if accept else MarketingAction.TASK_RETURNED,
        actor=user,
        target=allocation.task,
        details={"allocation": allocation.pk, "comment": allocation.comment},
    )
    return allocation


def decomposable_receivers(allocation: TaskAllocation) -> tuple[list[Branch], list[User]]:
    """Who a branch share can go to: its child branches, or client managers of its
    subtree."""
    branch = allocation.branch
    children = list(Branch.objects.filter(parent=branch, is_active=True).order_by("code"))
    managers = list(
        User.objects.filter(
            branch__in=Branch.objects.subtree(branch) if branch else Branch.objects.none(),
            groups__name=Role.CLIENT_MANAGER,
            is_active=True,
        )
        .select_related("branch")
        .order_by("branch__path", "employee_no")
    )
    return children, managers
