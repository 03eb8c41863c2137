"""Writes of the VIP area. Each runs in one transaction, checks the permission and
the data scope on the server, locks what it changes, returns early when nothing
changes and writes its audit event in the same transaction.

Assignments are written only through `customers.services.assignment_set_primary`
and `assignment_end_primary`; transfers with approval, batch assignment, recall and
sharing are built on them here."""

from __future__ import annotations

import csv
import datetime
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import Branch, User
from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, has_role, visible_branches
from core.months import month_back
from core.serialization import field_value, jsonable
from customers.choices import AssignmentRole
from customers.idnumbers import validate_mobile
from customers.models import Customer, CustomerAssignment, CustomerMonthlyAum, CustomerUserObjectPermission
from customers.permissions import require_in_scope
from customers.services import assignment_end_primary, assignment_set_primary, ensure_not_merged

from .choices import (
    BatchRowOutcome,
    BatchSource,
    BatchStatus,
    OverrideEnd,
    ProposalSource,
    ProspectSource,
    ProspectStatus,
    ReminderKind,
    TierChangeSource,
    TransferStatus,
    VipStatus,
)
from .evaluation import current_rules, evaluate_customer, lock_against_evaluation
from .models import (
    AssignmentBatch,
    ParameterProposal,
    Reminder,
    TierChange,
    TierLevel,
    TierOverride,
    TierPolicy,
    TransferRequest,
    VipProspect,
    VipStatusChange,
)

MAX_BATCH_ROWS = 2000
LEVEL_FIELDS = ("name", "aum_threshold", "contact_interval_days", "is_active")
POLICY_FIELDS = (
    "window_months",
    "observation_months",
    "potential_distance_pct",
    "growth_pct",
    "growth_min_aum",
    "major_share_pct",
    "major_contact_interval_days",
    "override_max_days",
    "share_max_days",
)


# --- shared checks --------------------------------------------------------------------


def _require(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({field: _("Give a reason (at least 4 characters).")})
    return reason[:200]


def is_client_manager(user: User | None) -> bool:
    return bool(user and user.is_active and has_role(user, Role.CLIENT_MANAGER))


def _check_manager(manager: User, *, by: User | None = None) -> None:
    """The new manager of record: an active client manager, within the branches the
    assigning user may see."""
    if not is_client_manager(manager):
        raise ValidationError(
            _("%(name)s is not an active client manager.") % {"name": manager.get_full_name()}
        )
    if by is not None and not visible_branches(by).filter(pk=manager.branch_id).exists():
        raise ValidationError(_("%(name)s works outside your branches.") % {"name": manager.get_full_name()})


def _lock_customer(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def remind(*, user: User | None, customer: Customer | None, kind: str, detail: str = "") -> None:
    """One reminder (once per user, customer, kind and day)."""
    if user is None:
        return
    Reminder.objects.get_or_create(
        user=user,
        customer=customer,
        kind=kind,
        due_date=timezone.localdate(),
        defaults={"detail": detail[:200]},
    )


# --- parameters (maker-checker) ---------------------------------------------------------


def _level_values(level: TierLevel | None) -> dict[str, Any] | None:
    if level is None:
        return None
    return {f: jsonable(getattr(level, f)) for f in LEVEL_FIELDS}


def _policy_values(policy: TierPolicy) -> dict[str, Any]:
    return {f: jsonable(getattr(policy, f)) for f in POLICY_FIELDS}


def _validated_state(
    levels: dict[str, dict[str, Any]], policy: dict[str, Any]
) -> tuple[dict[str, TierLevel], TierPolicy]:
    """The levels and policy as they would be after the change, validated."""
    current = {level.code: level for level in TierLevel.objects.all()}
    result: dict[str, TierLevel] = {}
    errors: dict[str, list[str]] = {}
    for code, fields in levels.items():
        unknown = set(fields) - set(LEVEL_FIELDS)
        if unknown:
            raise ValidationError(_("Unknown level fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
        level = current.get(code)
        if level is None:
            missing = {"name", "aum_threshold", "contact_interval_days"} - set(fields)
            if missing:
                errors.setdefault(code, []).append(
                    _("A new level needs %(f)s.") % {"f": ", ".join(sorted(missing))}
                )
                continue
            level = TierLevel(code=code)
        else:
            level = TierLevel.objects.get(pk=level.pk)
        for field, value in fields.items():
            setattr(level, field, field_value(TierLevel, field, value))
        try:
            level.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.setdefault(code, []).extend(exc.messages)
        if level.aum_threshold is not None and level.aum_threshold <= 0:
            errors.setdefault(code, []).append(_("The threshold must be above zero."))
        result[code] = level
    if errors:
        raise ValidationError(
            [f"{code}: {message}" for code, messages in errors.items() for message in messages]
        )
    final = {**current, **result}
    active = [level for level in final.values() if level.is_active]
    thresholds = Counter(level.aum_threshold for level in active)
    doubled = [str(t) for t, n in thresholds.items() if n > 1]
    if doubled:
        raise ValidationError(
            _("Two active levels would have the same threshold: %(t)s.") % {"t": ", ".join(doubled)}
        )
    new_policy = TierPolicy.current()
    for field, value in policy.items():
        if field not in POLICY_FIELDS:
            raise ValidationError(_("Unknown policy field: %(f)s") % {"f": field})
        setattr(new_policy, field, field_value(TierPolicy, field, value))
    new_policy.full_clean(validate_unique=False, validate_constraints=False)
    return result, new_policy


@transaction.atomic
def parameter_propose(
    *,
    proposed_by: User,
    reason: str,
    levels: dict[str, dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
    source: str = ProposalSource.FORM,
) -> ParameterProposal:
    """Propose new values for tier levels and the policy. Nothing changes until
    another parameter manager or a system administrator approves."""
    _require(proposed_by, "vip.add_parameterproposal")
    reason = _require_reason(reason)
    levels, policy = levels or {}, policy or {}
    new_levels, new_policy = _validated_state(levels, policy)
    current_levels = {level.code: level for level in TierLevel.objects.filter(code__in=list(new_levels))}
    current_policy = TierPolicy.current()
    changes: dict[str, Any] = {"levels": {}, "policy": {}}
    base: dict[str, Any] = {"levels": {}, "policy": {}}
    for code, level in new_levels.items():
        before = _level_values(current_levels.get(code))
        after = _level_values(level)
        assert after is not None
        changed = {f: v for f, v in after.items() if before is None or before[f] != v}
        if changed:
            changes["levels"][code] = changed
            base["levels"][code] = None if before is None else {f: before[f] for f in changed}
    before_policy, after_policy = _policy_values(current_policy), _policy_values(new_policy)
    for field in POLICY_FIELDS:
        if before_policy[field] != after_policy[field]:
            changes["policy"][field] = after_policy[field]
            base["policy"][field] = before_policy[field]
    if not changes["levels"] and not changes["policy"]:
        raise ValidationError(_("Nothing would change: the values are the current ones."))
    proposal = ParameterProposal.objects.create(
        changes=changes, base=base, reason=reason, source=source, proposed_by=proposed_by
    )
    audit(
        Action.PARAMETER_CHANGED,
        actor=proposed_by,
        target=proposal,
        details={"status": "proposed", "changes": changes, "before": base, "reason": reason},
    )
    return proposal


def _apply_proposal(proposal: ParameterProposal, by: User) -> dict[str, Any]:
    """The effect of an approval: the levels and the policy take the proposed
    values, unless the values the proposal replaces moved since it was made."""
    changes = proposal.changes or {}
    level_changes: dict[str, dict[str, Any]] = changes.get("levels", {})
    policy_changes: dict[str, Any] = changes.get("policy", {})
    current = {
        level.code: level
        for level in TierLevel.objects.select_for_update().filter(code__in=list(level_changes))
    }
    policy = TierPolicy.objects.select_for_update().filter(pk=1).first() or TierPolicy(pk=1)
    stale = []
    for code, before in (proposal.base or {}).get("levels", {}).items():
        now = _level_values(current.get(code))
        if (before is None) != (now is None) or (before and any(now[f] != v for f, v in before.items())):
            stale.append(code)
    for field, before in (proposal.base or {}).get("policy", {}).items():
        if jsonable(getattr(policy, field)) != before:
            stale.append(field)
    if stale:
        raise ValidationError(
            _("These parameters changed since the proposal was made: %(p)s. Reject it and propose again.")
            % {"p": ", ".join(stale)}
        )
    new_levels, new_policy = _validated_state(level_changes, policy_changes)
    now_time = proposal.decided_at or timezone.now()
    # Thresholds are unique among active levels: the changed levels step out first,
    # so that two levels swapping thresholds do not collide half-way.
    TierLevel.objects.filter(pk__in=[lvl.pk for lvl in new_levels.values() if lvl.pk]).update(is_active=False)
    for level in new_levels.values():
        if level.pk is not None:
            level.version = current[level.code].version + 1
        level.updated_at = now_time
        level.save()
    if policy_changes:
        new_policy.version = 1 if policy._state.adding else policy.version + 1
        new_policy.updated_at = now_time
        new_policy.save()
    return {}


def _proposal_details(proposal: ParameterProposal, decision: str) -> dict[str, Any]:
    # "status" is the key of the proposal's other events (proposed) in the trail.
    return {"status": decision, "changes": proposal.changes, "before": proposal.base}


PARAMETER_FLOW: ApprovalFlow[ParameterProposal] = ApprovalFlow(
    model=ParameterProposal,
    item=gettext_lazy("tier parameter proposal"),
    permission="vip.approve_parameterproposal",
    action=Action.PARAMETER_CHANGED,
    on_approve=_apply_proposal,
    details=_proposal_details,
)


def parameter_approve(*, proposal: ParameterProposal, approved_by: User, note: str = "") -> ParameterProposal:
    """Apply a proposal: only someone other than its proposer, and only if the values
    it replaces are still the ones it was made against."""
    return decide(PARAMETER_FLOW, proposal, by=approved_by, approve=True, note=note)


def parameter_reject(*, proposal: ParameterProposal, rejected_by: User, note: str) -> ParameterProposal:
    return decide(PARAMETER_FLOW, proposal, by=rejected_by, approve=False, note=note)


def parameter_withdraw(*, proposal: ParameterProposal, by: User) -> ParameterProposal:
    return withdraw(PARAMETER_FLOW, proposal, by=by)


# --- tiers: overrides --------------------------------------------------------------------


def _tier_names() -> dict[str, str]:
    return dict(TierLevel.objects.values_list("code", "name"))


def _record_tier_change(
    *, customer: Customer, to_tier: str, source: str, by: User | None, reason: str
) -> TierChange | None:
    """Write the customer's new tier and its history row (the customer row is locked
    by the caller); remind the manager of record."""
    if customer.tier == to_tier:
        return None
    change = TierChange.objects.create(
        customer=customer,
        from_tier=customer.tier,
        to_tier=to_tier,
        effective_date=timezone.localdate(),
        source=source,
        changed_by=by,
        reason=reason[:200],
    )
    Customer.objects.filter(pk=customer.pk).update(tier=to_tier)
    if customer.primary_manager_id and customer.primary_manager_id != getattr(by, "pk", None):
        remind(
            user=customer.primary_manager,
            customer=customer,
            kind=ReminderKind.TIER_CHANGED,
            detail=f"{customer.tier}>{to_tier}",
        )
    audit(
        Action.TIER_CHANGED,
        actor=by,
        target=customer,
        details={"from": customer.tier, "to": to_tier, "source": source, "reason": reason[:200]},
    )
    customer.tier = to_tier
    return change


@transaction.atomic
def tier_override_set(
    *, customer: Customer, tier: str, reason: str, expires_on: datetime.date, by: User
) -> TierOverride:
    """A business manager sets a customer's tier by hand, with a reason and an expiry
    (exclusive). It applies at once; the nightly evaluation keeps it until it
    expires, then the rules take over."""
    _require(by, "vip.add_tieroverride")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = _require_reason(reason)
    if tier and not TierLevel.objects.filter(code=tier, is_active=True).exists():
        raise ValidationError({"tier": _("Choose an active tier level.")})
    today = timezone.localdate()
    policy = TierPolicy.current()
    if expires_on <= today:
        raise ValidationError({"expires_on": _("The expiry must be after today.")})
    if expires_on > today + datetime.timedelta(days=policy.override_max_days):
        raise ValidationError(
            {"expires_on": _("An override lasts at most %(n)s days.") % {"n": policy.override_max_days}}
        )
    lock_against_evaluation()
    customer = _lock_customer(customer)
    TierOverride.objects.filter(customer=customer, ended_on__isnull=True).update(
        ended_on=today, end_reason=OverrideEnd.REPLACED, ended_by=by
    )
    override = TierOverride.objects.create(
        customer=customer,
        tier=tier,
        previous_tier=customer.tier,
        reason=reason,
        starts_on=today,
        expires_on=expires_on,
        created_by=by,
    )
    if customer.tier != tier:
        _record_tier_change(
            customer=customer, to_tier=tier, source=TierChangeSource.OVERRIDE, by=by, reason=reason
        )
    else:
        audit(
            Action.TIER_CHANGED,
            actor=by,
            target=customer,
            details={
                "from": tier,
                "to": tier,
                "source": "override",
                "reason": reason,
                "expires_on": str(expires_on),
            },
        )
    return override


def rule_decision(customer: Customer, *, as_of: datetime.date | None = None):
    """What the rules say for this one customer now (the nightly rule, in Python)."""
    from .evaluation import latest_business_date

    rules = current_rules()
    reference = (as_of or latest_business_date()).replace(day=1)
    span = max(rules.observation + rules.window - 1, 2 * rules.window)
    months = {
        row.month: int((row.avg_aum * 100).to_integral_value())
        for row in CustomerMonthlyAum.objects.filter(
            customer=customer, month__gte=month_back(reference, span - 1), month__lte=reference
        )
    }
    return evaluate_customer(
        rules=rules,
        tier=customer.tier,
        vip_status=customer.vip_status,
        month_cents=months,
        reference_month=reference,
        override_expired=True,
    )


@transaction.atomic
def tier_override_end(*, override: TierOverride, by: User, reason: str) -> TierOverride:
    """End a running override now: the rules decide the tier again at once."""
    _require(by, "vip.add_tieroverride")
    require_in_scope(by, override.customer)
    reason = _require_reason(reason)
    lock_against_evaluation()
    customer = _lock_customer(override.customer)
    override = TierOverride.objects.select_for_update().get(pk=override.pk)
    if override.ended_on is not None:
        return override
    override.ended_on = timezone.localdate()
    override.end_reason = OverrideEnd.REVOKED
    override.ended_by = by
    override.save(update_fields=["ended_on", "end_reason", "ended_by"])
    decision = rule_decision(customer)
    if decision.tier != customer.tier:
        _record_tier_change(
            customer=customer,
            to_tier=decision.tier,
            source=TierChangeSource.OVERRIDE_END,
            by=by,
            reason=reason,
        )
    else:
        audit(
            Action.TIER_CHANGED,
            actor=by,
            target=customer,
            details={"override_ended": override.pk, "reason": reason},
        )
    return override


# --- VIP status lifecycle ------------------------------------------------------------------


def _set_vip_status(
    *, customer: Customer, to_status: str, by: User | None, reason: str = "", benefits: str = "", on=None
) -> VipStatusChange:
    change = VipStatusChange.objects.create(
        customer=customer,
        from_status=customer.vip_status,
        to_status=to_status,
        effective_date=on or timezone.localdate(),
        changed_by=by,
        tier=customer.tier,
        reason=reason[:200],
        benefits=benefits[:200],
    )
    Customer.objects.filter(pk=customer.pk).update(vip_status=to_status)
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={"vip_status": {"from": customer.vip_status, "to": to_status}, "reason": reason[:200]},
    )
    customer.vip_status = to_status
    return change


@transaction.atomic
def vip_register(
    *,
    customer: Customer,
    by: User,
    benefits: str,
    registered_on: datetime.date | None = None,
    reason: str = "",
) -> VipStatusChange:
    """Register a customer as a VIP (with the benefits granted and the date). A VIP
    holds a tier, by rule or by override."""
    _require(by, "vip.register_vip")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    benefits = (benefits or "").strip()
    if not benefits:
        raise ValidationError({"benefits": _("Say which benefits the VIP receives.")})
    registered_on = registered_on or timezone.localdate()
    if registered_on > timezone.localdate():
        raise ValidationError({"registered_on": _("A registration cannot be dated in the future.")})
    lock_against_evaluation()
    customer = _lock_customer(customer)
    if customer.vip_status == VipStatus.REGISTERED:
        raise ValidationError(_("This customer is already a registered VIP."))
    if not customer.tier:
        raise ValidationError(
            _("This customer holds no tier: a VIP must meet a tier level (or have an override).")
        )
    return _set_vip_status(
        customer=customer,
        to_status=VipStatus.REGISTERED,
        by=by,
        reason=reason,
        benefits=benefits,
        on=registered_on,
    )


@transaction.atomic
def vip_liquidate(
    *, customer: Customer, by: User, reason: str, liquidated_on: datetime.date | None = None
) -> VipStatusChange:
    """End a customer's VIP registration (销户), with a reason."""
    _require(by, "vip.register_vip")
    require_in_scope(by, customer)
    reason = _require_reason(reason)
    liquidated_on = liquidated_on or timezone.localdate()
    if liquidated_on > timezone.localdate():
        raise ValidationError({"liquidated_on": _("A liquidation cannot be dated in the future.")})
    lock_against_evaluation()
    customer = _lock_customer(customer)
    if customer.vip_status != VipStatus.REGISTERED:
        raise ValidationError(_("Only a registered VIP can be liquidated."))
    return _set_vip_status(
        customer=customer, to_status=VipStatus.LIQUIDATED, by=by, reason=reason, on=liquidated_on
    )


# --- prospects (VIPs to be won) ------------------------------------------------------------


@transaction.atomic
def prospect_create(
    *,
    by: User,
    name: str,
    source: str,
    estimated_assets: Decimal,
    mobile: str = "",
    held_at: str = "",
    note: str = "",
    customer: Customer | None = None,
) -> VipProspect:
    """Register a VIP to be won: a person not yet a customer, or a customer with
    assets elsewhere (who then shows as "to be won")."""
    _require(by, "vip.add_vipprospect")
    name = (name or "").strip()
    if not name and customer is None:
        raise ValidationError({"name": _("Enter the person's name.")})
    if source not in ProspectSource.values:
        raise ValidationError({"source": _("Choose a source.")})
    if estimated_assets is None or estimated_assets <= 0:
        raise ValidationError({"estimated_assets": _("Estimate the assets (above zero).")})
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from exc
    branch: Branch | None = by.branch
    if customer is not None:
        require_in_scope(by, customer)
        ensure_not_merged(customer)
        name = name or customer.name
        branch = customer.home_branch
    if branch is None:
        raise ValidationError(_("You belong to no branch: ask an administrator."))
    prospect = VipProspect(
        name=name[:60],
        customer=customer,
        source=source,
        estimated_assets=estimated_assets,
        held_at=held_at.strip()[:100],
        note=note.strip()[:200],
        manager=by,
        branch=branch,
    )
    prospect.mobile = mobile
    prospect.full_clean()
    prospect.save()
    if customer is not None:
        lock_against_evaluation()
        customer = _lock_customer(customer)
        if customer.vip_status in (VipStatus.NONE, VipStatus.POTENTIAL, VipStatus.LIQUIDATED):
            _set_vip_status(customer=customer, to_status=VipStatus.TO_BE_WON, by=by, reason=source)
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=prospect,
        target_repr=f"VIP prospect {prospect.pk}",
        details={
            "prospect": "registered",
            "source": source,
            "customer": customer.customer_no if customer else None,
        },
    )
    return prospect


@transaction.atomic
def prospect_close(
    *, prospect: VipProspect, by: User, won: bool, note: str = "", customer: Customer | None = None
) -> VipProspect:
    """A prospect was won (now a customer: link them) or lost."""
    _require(by, "vip.change_vipprospect")
    prospect = VipProspect.objects.select_for_update().get(pk=prospect.pk)
    if prospect.manager_id != by.pk and data_scope(by).kind is ScopeKind.OWN:
        raise PermissionDenied(_("This is another manager's prospect."))
    if prospect.status != ProspectStatus.OPEN:
        raise ValidationError(_("This prospect is already closed."))
    if customer is not None:
        require_in_scope(by, customer)
        prospect.customer = customer
    if won and prospect.customer is None:
        raise ValidationError({"customer": _("Say which customer the prospect became.")})
    prospect.status = ProspectStatus.WON if won else ProspectStatus.LOST
    prospect.closed_at = timezone.now()
    prospect.note = (note or prospect.note).strip()[:200]
    prospect.save(update_fields=["status", "closed_at", "note", "customer"])
    if not won and prospect.customer_id:
        lock_against_evaluation()
        linked = _lock_customer(prospect.customer)
        if linked.vip_status == VipStatus.TO_BE_WON:
            _set_vip_status(customer=linked, to_status=VipStatus.NONE, by=by, reason="prospect lost")
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=prospect,
        target_repr=f"VIP prospect {prospect.pk}",
        details={"prospect": prospect.status},
    )
    return prospect


# --- assignment ------------------------------------------------------------------------------


def _open_primary(customer: Customer) -> CustomerAssignment | None:
    return (
        CustomerAssignment.objects.filter(
            customer=customer, role=AssignmentRole.PRIMARY, end_date__isnull=True
        )
        .select_related("manager")
        .first()
    )


@transaction.atomic
def customer_assign(*, customer: Customer, manager: User, by: User, reason: str) -> CustomerAssignment:
    """Give a customer of the pool (no manager of record) to a client manager. A
    customer who already has a manager moves only through an approved transfer."""
    _require(by, "vip.assign_customer")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = _require_reason(reason)
    _check_manager(manager, by=by)
    customer = _lock_customer(customer)
    current = _open_primary(customer)
    if current is not None and current.manager_id == manager.pk:
        return current
    if current is not None:
        raise ValidationError(
            _("%(no)s is looked after by %(name)s: request a transfer instead.")
            % {"no": customer.customer_no, "name": current.manager.get_full_name()}
        )
    assignment = assignment_set_primary(customer=customer, manager=manager, by=by, reason=reason)
    if manager.pk != by.pk:
        remind(user=manager, customer=customer, kind=ReminderKind.CUSTOMER_ASSIGNED, detail=by.employee_no)
    return assignment


@transaction.atomic
def transfer_request(
    *, customer: Customer, to_manager: User, by: User, reason: str, batch: AssignmentBatch | None = None
) -> TransferRequest:
    """Ask for a customer to move to another manager; it takes effect when a branch
    head or business manager other than the requester approves."""
    _require(by, "vip.add_transferrequest")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = _require_reason(reason)
    _check_manager(to_manager)
    customer = _lock_customer(customer)
    current = _open_primary(customer)
    if current is None:
        raise ValidationError(_("This customer is in the branch pool: assign them directly."))
    if current.manager_id == to_manager.pk:
        raise ValidationError(
            _("%(name)s already looks after this customer.") % {"name": to_manager.get_full_name()}
        )
    if TransferRequest.objects.filter(customer=customer, status=TransferStatus.PENDING).exists():
        raise ValidationError(_("A transfer of this customer is already waiting for approval."))
    try:
        with transaction.atomic():
            transfer = TransferRequest.objects.create(
                customer=customer,
                from_manager=current.manager,
                to_manager=to_manager,
                reason=reason,
                proposed_by=by,
                batch=batch,
            )
    except IntegrityError:
        raise ValidationError(_("A transfer of this customer is already waiting for approval.")) from None
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=customer,
        details={
            "transfer": transfer.pk,
            "status": "requested",
            "from": current.manager.employee_no,
            "to": to_manager.employee_no,
            "reason": reason,
        },
    )
    return transfer


def _check_transfer_scope(transfer: TransferRequest, by: User) -> None:
    require_in_scope(by, transfer.customer)


def _move_customer(transfer: TransferRequest, by: User) -> None:
    """The effect of an approval: the new manager becomes the manager of record today."""
    customer = _lock_customer(transfer.customer)
    if customer.primary_manager_id != transfer.from_manager_id:
        raise ValidationError(
            _("The customer's manager changed since the request: reject it and request again.")
        )
    _check_manager(transfer.to_manager)
    assignment_set_primary(
        customer=customer,
        manager=transfer.to_manager,
        by=by,
        reason=f"transfer {transfer.pk}: {transfer.reason}",
    )
    remind(
        user=transfer.to_manager,
        customer=customer,
        kind=ReminderKind.CUSTOMER_ASSIGNED,
        detail=by.employee_no,
    )
    if transfer.proposed_by_id not in (by.pk, transfer.to_manager_id):
        remind(
            user=transfer.proposed_by,
            customer=customer,
            kind=ReminderKind.TRANSFER_DECIDED,
            detail="approved",
        )


def _tell_requester(transfer: TransferRequest, by: User) -> None:
    remind(
        user=transfer.proposed_by,
        customer=transfer.customer,
        kind=ReminderKind.TRANSFER_DECIDED,
        detail="rejected",
    )


def _transfer_details(transfer: TransferRequest, decision: str) -> dict[str, Any]:
    # "status" is the key of the request's other events (requested) in the trail.
    return {"transfer": transfer.pk, "status": str(transfer.status)}


TRANSFER_FLOW: ApprovalFlow[TransferRequest] = ApprovalFlow(
    model=TransferRequest,
    item=gettext_lazy("transfer request"),
    permission="vip.approve_transferrequest",
    action=Action.ASSIGNMENT_CHANGED,
    on_approve=_move_customer,
    on_reject=_tell_requester,
    check=_check_transfer_scope,
    details=_transfer_details,
    audit_target=lambda transfer: transfer.customer,
    related=("customer",),
)


def transfer_approve(*, transfer: TransferRequest, by: User, note: str = "") -> TransferRequest:
    """Approve a transfer: the new manager becomes the manager of record today."""
    return decide(TRANSFER_FLOW, transfer, by=by, approve=True, note=note)


def transfer_reject(*, transfer: TransferRequest, by: User, note: str) -> TransferRequest:
    return decide(TRANSFER_FLOW, transfer, by=by, approve=False, note=note)


def transfer_cancel(*, transfer: TransferRequest, by: User, note: str = "") -> TransferRequest:
    """The requester takes the request back."""
    return withdraw(TRANSFER_FLOW, transfer, by=by, note=note)


def _cancel_pending(customer_ids: QuerySet | list[int], *, by: User, note: str) -> int:
    return TransferRequest.objects.filter(customer_id__in=customer_ids, status=TransferStatus.PENDING).update(
        status=TransferStatus.CANCELLED, decided_by=by, decided_at=timezone.now(), decision_note=note[:200]
    )


@transaction.atomic
def customers_recall(*, customers: Iterable[Customer], by: User, reason: str) -> int:
    """Back to the branch pool: the customers' open primary assignments end today;
    transfers waiting for them are cancelled."""
    _require(by, "vip.recall_customer")
    reason = _require_reason(reason)
    ids = sorted({c.pk for c in customers})
    visible = set(Customer.objects.visible_to(by).filter(pk__in=ids).values_list("pk", flat=True))
    if visible != set(ids):
        raise PermissionDenied(_("This customer is not in your scope."))
    _cancel_pending(ids, by=by, note=_("recalled to the pool"))
    return len(assignment_end_primary(customer_ids=ids, by=by, reason=reason))


@dataclass(frozen=True)
class RecallResult:
    recalled: int
    outside_scope: int
    shares_revoked: int
    transfers_cancelled: int


@transaction.atomic
def manager_book_recall(*, manager: User, by: User, reason: str) -> RecallResult:
    """A manager leaves: every customer they look after (within the recalling user's
    scope) goes back to the pool in one action; the customers shared with them and
    the transfers waiting to go to them end too."""
    _require(by, "vip.recall_customer")
    reason = _require_reason(reason)
    if not visible_branches(by).filter(pk=manager.branch_id).exists():
        raise PermissionDenied(_("This manager works outside your branches."))
    book = Customer.objects.filter(primary_manager=manager)
    ids = list(book.filter(pk__in=Customer.objects.visible_to(by).values("pk")).values_list("pk", flat=True))
    outside = book.exclude(pk__in=ids).count()
    cancelled = _cancel_pending(ids, by=by, note=_("recalled to the pool"))
    cancelled += TransferRequest.objects.filter(to_manager=manager, status=TransferStatus.PENDING).update(
        status=TransferStatus.CANCELLED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_note=_("the manager's book was recalled"),
    )
    recalled = assignment_end_primary(customer_ids=ids, by=by, reason=reason)
    revoked = 0
    grants = CustomerUserObjectPermission.objects.filter(user=manager).select_related("content_object")
    for grant in grants:
        revoked += 1
        audit(
            Action.GRANT_CHANGED,
            actor=by,
            target=grant.content_object,
            details={"revoked_from": manager.employee_no, "reason": reason},
        )
    grants.delete()
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=manager,
        details={"book_recalled": len(recalled), "outside_scope": outside, "reason": reason},
    )
    return RecallResult(len(recalled), outside, revoked, cancelled)


# --- temporary sharing (django-guardian grants that expire) ----------------------------------


@transaction.atomic
def customer_share(
    *, customer: Customer, with_user: User, by: User, until: datetime.datetime, reason: str
) -> CustomerUserObjectPermission:
    """Let another client manager see a customer until `until` (a django-guardian
    object grant with an expiry; the data scope stops honouring it then)."""
    from guardian.shortcuts import assign_perm

    _require(by, "vip.share_customer")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = _require_reason(reason)
    if data_scope(by).kind is ScopeKind.OWN and customer.primary_manager_id != by.pk:
        raise PermissionDenied(_("Only the customer's manager of record can share them."))
    _check_manager(with_user)
    if with_user.pk == customer.primary_manager_id:
        raise ValidationError(_("This manager already looks after the customer."))
    now = timezone.now()
    policy = TierPolicy.current()
    if until <= now:
        raise ValidationError({"until": _("The share must end in the future.")})
    if until > now + datetime.timedelta(days=policy.share_max_days):
        raise ValidationError(
            {"until": _("A share lasts at most %(n)s days.") % {"n": policy.share_max_days}}
        )
    grant = assign_perm("customers.view_customer", with_user, customer)
    grant.expires_at = until
    grant.save(update_fields=["expires_at"])
    audit(
        Action.GRANT_CHANGED,
        actor=by,
        target=customer,
        details={"shared_with": with_user.employee_no, "until": until.isoformat(), "reason": reason},
    )
    remind(user=with_user, customer=customer, kind=ReminderKind.CUSTOMER_SHARED, detail=by.employee_no)
    return grant


@transaction.atomic
def customer_share_revoke(*, grant: CustomerUserObjectPermission, by: User, reason: str = "") -> None:
    _require(by, "vip.share_customer")
    customer = grant.content_object
    require_in_scope(by, customer)
    if data_scope(by).kind is ScopeKind.OWN and customer.primary_manager_id != by.pk:
        raise PermissionDenied(_("Only the customer's manager of record can end a share."))
    audit(
        Action.GRANT_CHANGED,
        actor=by,
        target=customer,
        details={"revoked_from": grant.user.employee_no, "reason": (reason or "")[:200]},
    )
    CustomerUserObjectPermission.objects.filter(pk=grant.pk).delete()


@transaction.atomic
def shares_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the grants whose time is up (they already stopped counting): one
    statement, one audit event."""
    now = now or timezone.now()
    expired = CustomerUserObjectPermission.objects.filter(expires_at__isnull=False, expires_at__lte=now)
    count = expired.count()
    if count:
        expired.delete()
        audit(Action.GRANT_CHANGED, actor_username="vip.expire_shares", details={"expired": count})
    return count


# --- batch assignment ----------------------------------------------------------------------

HEADER_ALIASES = {
    "customer_no": "customer_no",
    "customer number": "customer_no",
    "客户号": "customer_no",
    "客户编号": "customer_no",
    "manager": "manager",
    "employee_no": "manager",
    "manager employee no.": "manager",
    "客户经理工号": "manager",
    "工号": "manager",
    "reason": "reason",
    "原因": "reason",
}


def parse_assignment_file(upload) -> list[dict[str, Any]]:
    """Rows of an uploaded list (.xlsx or .csv): customer number, manager's employee
    number, optional reason; the header row names the columns (English or Chinese)."""
    name = (getattr(upload, "name", "") or "").lower()
    data = upload.read()
    try:
        if name.endswith(".xlsx"):
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            table = [
                ["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        elif name.endswith(".csv"):
            text = None
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = data.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            if text is None:
                raise ValueError("encoding")
            table = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
        else:
            raise ValidationError(_("Upload an .xlsx or .csv file."))
    except ValidationError:
        raise
    except Exception as exc:  # a broken file, whatever the library says
        raise ValidationError(_("The file cannot be read as a spreadsheet.")) from exc
    table = [row for row in table if any(row)]
    if not table:
        raise ValidationError(_("The file is empty."))
    header = [HEADER_ALIASES.get(h.strip().lower(), "") for h in table[0]]
    if "customer_no" not in header or "manager" not in header:
        raise ValidationError(
            _("The first row must name the columns customer_no and manager (客户号, 客户经理工号).")
        )
    if len(table) - 1 > MAX_BATCH_ROWS:
        raise ValidationError(_("At most %(n)s rows per batch.") % {"n": MAX_BATCH_ROWS})
    rows = []
    for line, values in enumerate(table[1:], start=2):
        cells = {key: values[i] if i < len(values) else "" for i, key in enumerate(header) if key}
        rows.append(
            {
                "line": line,
                "customer_no": cells.get("customer_no", ""),
                "manager": cells.get("manager", ""),
                "reason": cells.get("reason", "")[:200],
            }
        )
    return rows


def _classify_rows(rows: list[dict[str, Any]], *, by: User) -> list[dict[str, Any]]:
    """What each row will do, checked in a few set-based queries."""
    numbers = {r["customer_no"] for r in rows if r["customer_no"]}
    customers = {
        c.customer_no: c
        for c in Customer.objects.visible_to(by)
        .filter(customer_no__in=numbers)
        .select_related("primary_manager")
    }
    manager_nos = {r["manager"] for r in rows if r["manager"]}
    branch_ids = set(visible_branches(by).values_list("pk", flat=True))
    managers = {
        u.employee_no: u
        for u in User.objects.filter(
            employee_no__in=manager_nos, is_active=True, groups__name=Role.CLIENT_MANAGER
        )
    }
    pending = set(
        TransferRequest.objects.filter(
            customer__customer_no__in=numbers, status=TransferStatus.PENDING
        ).values_list("customer__customer_no", flat=True)
    )
    seen: set[str] = set()
    result = []
    for row in rows:
        row = {**row, "outcome": BatchRowOutcome.ERROR.value, "message": ""}
        number, manager_no = row["customer_no"], row["manager"]
        customer, manager = customers.get(number), managers.get(manager_no)
        if not number:
            row["message"] = _("No customer number.")
        elif number in seen:
            row["message"] = _("This customer is already in an earlier row.")
        elif customer is None:
            row["message"] = _("No customer with this number in your scope.")
        elif customer.merged_into_id:
            row["message"] = _("This customer was merged into another record.")
        elif not manager_no:
            row["message"] = _("No manager employee number.")
        elif manager is None:
            row["message"] = _("No active client manager with this employee number.")
        elif manager.branch_id not in branch_ids:
            row["message"] = _("This manager works outside your branches.")
        elif customer.primary_manager_id == manager.pk:
            row["outcome"] = BatchRowOutcome.UNCHANGED.value
        elif number in pending:
            row["message"] = _("A transfer of this customer is already waiting for approval.")
        elif customer.primary_manager_id is None:
            row["outcome"] = BatchRowOutcome.ASSIGN.value
        else:
            row["outcome"] = BatchRowOutcome.TRANSFER.value
            row["message"] = _("now with %(no)s") % {"no": customer.primary_manager.employee_no}
        if number:
            seen.add(number)
        result.append(row)
    return result


@transaction.atomic
def batch_prepare(
    *, by: User, rows: list[dict[str, Any]], source: str, reason: str, filename: str = ""
) -> AssignmentBatch:
    """A preview: every row with what it will do or why it cannot."""
    _require(by, "vip.assign_customer")
    reason = _require_reason(reason)
    if not rows:
        raise ValidationError(_("There is nothing to assign."))
    if len(rows) > MAX_BATCH_ROWS:
        raise ValidationError(_("At most %(n)s rows per batch.") % {"n": MAX_BATCH_ROWS})
    if source not in BatchSource.values:
        raise ValueError(source)
    batch = AssignmentBatch.objects.create(
        created_by=by,
        source=source,
        filename=filename[:200],
        reason=reason,
        rows=_classify_rows(rows, by=by),
    )
    audit(
        Action.ASSIGNMENT_BATCH_PREPARED,
        actor=by,
        target=batch,
        target_repr=f"batch assignment {batch.pk}",
        details={"batch": batch.pk, "source": source, "rows": len(batch.rows)},
    )
    return batch


def batch_rows_from_search(
    *, by: User, customers: QuerySet[Customer], manager_no: str
) -> list[dict[str, Any]]:
    numbers = list(customers.values_list("customer_no", flat=True)[: MAX_BATCH_ROWS + 1])
    if len(numbers) > MAX_BATCH_ROWS:
        raise ValidationError(
            _("The search finds more than %(n)s customers: narrow it down.") % {"n": MAX_BATCH_ROWS}
        )
    return [
        {"line": i, "customer_no": no, "manager": manager_no, "reason": ""} for i, no in enumerate(numbers, 1)
    ]


@transaction.atomic
def batch_execute(*, batch: AssignmentBatch, by: User) -> AssignmentBatch:
    """Do what the preview showed, re-checked against the data as it is now; each
    row succeeds or fails on its own and says which."""
    _require(by, "vip.assign_customer")
    batch = AssignmentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.created_by_id != by.pk:
        raise PermissionDenied(_("Only the user who prepared a batch can run it."))
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError(_("This batch was already run or cancelled."))
    rows = _classify_rows(batch.rows, by=by)
    customers = {
        c.customer_no: c
        for c in Customer.objects.filter(
            customer_no__in=[r["customer_no"] for r in rows if r["outcome"] != "error"]
        )
    }
    managers = {u.employee_no: u for u in User.objects.filter(employee_no__in={r["manager"] for r in rows})}
    can_request = by.has_perm("vip.add_transferrequest")
    for row in rows:
        if row["outcome"] not in (BatchRowOutcome.ASSIGN, BatchRowOutcome.TRANSFER):
            continue
        customer, manager = customers[row["customer_no"]], managers[row["manager"]]
        reason = row.get("reason") or batch.reason
        try:
            with transaction.atomic():
                if row["outcome"] == BatchRowOutcome.ASSIGN:
                    customer_assign(customer=customer, manager=manager, by=by, reason=reason)
                    row["outcome"] = BatchRowOutcome.ASSIGNED.value
                elif can_request:
                    transfer = transfer_request(
                        customer=customer, to_manager=manager, by=by, reason=reason, batch=batch
                    )
                    row["outcome"] = BatchRowOutcome.REQUESTED.value
                    row["message"] = _("transfer %(id)s waiting for approval") % {"id": transfer.pk}
                else:
                    raise PermissionDenied(_("You may not request transfers."))
        except (ValidationError, PermissionDenied) as exc:
            row["outcome"] = BatchRowOutcome.ERROR.value
            row["message"] = "; ".join(getattr(exc, "messages", None) or [str(exc)])
    summary = dict(Counter(row["outcome"] for row in rows))
    batch.rows = rows
    batch.status = BatchStatus.DONE
    batch.executed_at = timezone.now()
    batch.summary = summary
    batch.save(update_fields=["rows", "status", "executed_at", "summary"])
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=batch,
        target_repr=f"batch assignment {batch.pk}",
        details={"batch": batch.pk, "source": batch.source, "rows": len(rows), **summary},
    )
    return batch


@transaction.atomic
def batch_cancel(*, batch: AssignmentBatch, by: User) -> AssignmentBatch:
    batch = AssignmentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.created_by_id != by.pk:
        raise PermissionDenied(_("Only the user who prepared a batch can cancel it."))
    if batch.status == BatchStatus.DRAFT:
        batch.status = BatchStatus.CANCELLED
        batch.save(update_fields=["status"])
        audit(
            Action.ASSIGNMENT_BATCH_CANCELLED,
            actor=by,
            target=batch,
            target_repr=f"batch assignment {batch.pk}",
            details={"batch": batch.pk},
        )
    return batch


# --- reminders -----------------------------------------------------------------------------


def reminder_done(*, reminder: Reminder, by: User) -> Reminder:
    if reminder.user_id != by.pk:
        raise PermissionDenied(_("This is not your reminder."))
    if reminder.done_at is None:
        done = Reminder.objects.filter(pk=reminder.pk, done_at__isnull=True).update(done_at=timezone.now())
        reminder.refresh_from_db()
        if done:
            audit(
                Action.REMINDER_DONE,
                actor=by,
                target=reminder,
                details={"kind": reminder.kind, "customer": reminder.customer_id},
            )
    return reminder
