"""Tier parameters (the levels and the policy) change by maker-checker: a
parameter manager proposes values, someone else approves, and only then do the
levels and the policy take them; the next evaluation applies them.

A proposal records the values it replaces (`base`): it applies only while those
are still the values in force."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User
from core.serialization import field_value, jsonable

from ..choices import ProposalSource
from ..models import ParameterProposal, TierLevel, TierPolicy
from ._common import require_permission, require_reason

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


def _level_values(level: TierLevel | None) -> dict[str, Any] | None:
    if level is None:
        return None
    return {f: jsonable(getattr(level, f)) for f in LEVEL_FIELDS}


def _policy_values(policy: TierPolicy) -> dict[str, Any]:
    return {f: jsonable(getattr(policy, f)) for f in POLICY_FIELDS}


def _validated_levels(
    levels: dict[str, dict[str, Any]], current: dict[str, TierLevel]
) -> dict[str, TierLevel]:
    """The changed (or new) levels with their proposed values, each validated; every
    level's errors are reported together."""
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
                    _("A new level needs %(f)s.")
                    % {
                        "f": ", ".join(
                            str(getattr(TierLevel._meta.get_field(f), "verbose_name", f))
                            for f in sorted(missing)
                        )
                    }
                )
                continue
            level = TierLevel(code=code)
        else:
            level = TierLevel.objects.get(pk=level.pk)
        for field, value in fields.items():
            setattr(level, field, field_value(TierLevel, field, value))
        try:
            # refuses a threshold of zero or below too (TierLevel.clean)
            level.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.setdefault(code, []).extend(exc.messages)
        result[code] = level
    if errors:
        # each level by its name (the one proposed for a new level), not its code
        names = {
            code: (current[code].name if code in current else levels[code].get("name") or code)
            for code in errors
        }
        raise ValidationError(
            [f"{names[code]}: {message}" for code, messages in errors.items() for message in messages]
        )
    return result


def _check_distinct_thresholds(levels: dict[str, TierLevel]) -> None:
    """No two active levels share a threshold (a customer would meet both)."""
    active = [level for level in levels.values() if level.is_active]
    thresholds = Counter(level.aum_threshold for level in active)
    doubled = [str(t) for t, n in thresholds.items() if n > 1]
    if doubled:
        raise ValidationError(
            _("Two active levels would have the same threshold: %(t)s.") % {"t": ", ".join(doubled)}
        )


def _validated_policy(policy: dict[str, Any]) -> TierPolicy:
    new_policy = TierPolicy.current()
    for field, value in policy.items():
        if field not in POLICY_FIELDS:
            raise ValidationError(_("Unknown policy field: %(f)s") % {"f": field})
        setattr(new_policy, field, field_value(TierPolicy, field, value))
    new_policy.full_clean(validate_unique=False, validate_constraints=False)
    return new_policy


def _validated_state(
    levels: dict[str, dict[str, Any]], policy: dict[str, Any]
) -> tuple[dict[str, TierLevel], TierPolicy]:
    """The levels and policy as they would be after the change, validated."""
    current = {level.code: level for level in TierLevel.objects.all()}
    result = _validated_levels(levels, current)
    _check_distinct_thresholds({**current, **result})
    return result, _validated_policy(policy)


def _changes_and_base(
    new_levels: dict[str, TierLevel], new_policy: TierPolicy
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values that would change (`changes`) and the values they replace (`base`:
    None for a new level)."""
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
    return changes, base


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
    require_permission(proposed_by, "vip.add_parameterproposal")
    reason = require_reason(reason)
    levels, policy = levels or {}, policy or {}
    new_levels, new_policy = _validated_state(levels, policy)
    changes, base = _changes_and_base(new_levels, new_policy)
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


def _stale_parameters(
    proposal: ParameterProposal, current: dict[str, TierLevel], policy: TierPolicy
) -> list[str]:
    """The levels and policy fields whose values moved since the proposal was made."""
    stale = []
    for code, before in (proposal.base or {}).get("levels", {}).items():
        now = _level_values(current.get(code))
        if (before is None) != (now is None) or (
            before and now is not None and any(now[f] != v for f, v in before.items())
        ):
            stale.append(code)
    for field, before in (proposal.base or {}).get("policy", {}).items():
        if jsonable(getattr(policy, field)) != before:
            stale.append(field)
    return stale


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
    stale = _stale_parameters(proposal, current, policy)
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
