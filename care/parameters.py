"""The numbers of the alert rules (docs/alerts.md, "Parameters"). They change by
maker-checker: a parameter manager proposes new values, someone else (another
parameter manager or a system administrator) approves through
`accounts.approvals.decide`, and only then are they in force; the next evaluation
uses them.

The values in force are the approved row's (`AlertParameters`, one row), else the
defaults below, name by name. A proposal records the values it replaces (`base`):
it applies only while those are still the values in force."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User

from .choices import AlertKind, AlertPriority
from .models import AlertParameterProposal, AlertParameters

PROPOSE = "care.add_alertparameterproposal"
APPROVE = "care.approve_alertparameterproposal"
REASON_MIN_LENGTH = 4


# A parameter's value: a number, or (a `many` parameter) ascending whole numbers.
Value: TypeAlias = Decimal | tuple[int, ...]

# The most numbers a `many` parameter holds.
MANY_LIMIT = 10


@dataclass(frozen=True)
class Parameter:
    """One number, or one list of whole numbers (`many`): what it means, its default
    and the range it (each of its numbers) may take. `decimal` numbers are kept as exact
    text ("30", "100000.00"), the others are whole; a list as "1,30,60,90"."""

    label: str | Promise
    default: Value
    minimum: Decimal
    maximum: Decimal
    decimal: bool = False
    many: bool = False

    def text(self, value: Value) -> str:
        if isinstance(value, tuple):
            return ",".join(str(n) for n in value)
        return format(value.normalize() + 0, "f") if self.decimal else str(int(value))

    def parse(self, text: Any) -> Value:
        """A stored value (text, as `text` writes it) back."""
        if self.many:
            return tuple(int(part) for part in str(text).split(",") if part.strip())
        return Decimal(str(text))

    def clean(self, value: Any) -> Value:
        """A proposed value, checked: the number (or the ascending numbers, duplicates
        dropped) it stands for; ValidationError with the message otherwise."""
        if not self.many:
            return self._number(value)
        parts = value if isinstance(value, list | tuple) else str(value).replace("，", ",").split(",")
        texts = [str(part).strip() for part in parts if str(part).strip()]
        if not texts:
            raise ValidationError(_("%(label)s: give at least one number.") % {"label": self.label})
        numbers = sorted({int(self._number(text)) for text in texts})
        if len(numbers) > MANY_LIMIT:
            raise ValidationError(
                _("%(label)s: at most %(n)s numbers.") % {"label": self.label, "n": MANY_LIMIT}
            )
        return tuple(numbers)

    def _number(self, value: Any) -> Decimal:
        number: Decimal | None
        try:
            number = None if isinstance(value, bool) else Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        values = {"label": self.label, "v": value}
        if number is None or not number.is_finite():
            raise ValidationError(_("%(label)s: %(v)s is not a number.") % values)
        if not self.decimal and number != number.to_integral_value():
            raise ValidationError(_("%(label)s: a whole number, not %(v)s.") % values)
        if not self.minimum <= number <= self.maximum:
            raise ValidationError(
                _("%(label)s: between %(min)s and %(max)s, not %(v)s.")
                % {**values, "min": self.text(self.minimum), "max": self.text(self.maximum)}
            )
        if self.decimal and number != number.quantize(Decimal("0.01")):
            raise ValidationError(_("%(label)s: at most 2 decimals, not %(v)s.") % values)
        return number


def _whole(label: str | Promise, default: int, minimum: int, maximum: int) -> Parameter:
    return Parameter(label, Decimal(default), Decimal(minimum), Decimal(maximum))


def _wholes(label: str | Promise, default: tuple[int, ...], minimum: int, maximum: int) -> Parameter:
    return Parameter(label, default, Decimal(minimum), Decimal(maximum), many=True)


def _priority(kind: AlertKind, default: AlertPriority) -> Parameter:
    label = format_lazy(gettext_lazy("Priority: {kind} (1 high, 2 normal, 3 low)"), kind=kind.label)
    return Parameter(label, Decimal(int(default)), Decimal(1), Decimal(3))


# The kinds the rules raise, and their default priorities: money leaving, a tier about
# to drop and a major customer left without contact come first; a birthday is a
# courtesy.
RULE_PRIORITIES: dict[str, AlertPriority] = {
    AlertKind.BIRTHDAY: AlertPriority.LOW,
    AlertKind.MATURITY: AlertPriority.NORMAL,
    AlertKind.RISK_EXPIRY: AlertPriority.NORMAL,
    AlertKind.LARGE_OUTFLOW: AlertPriority.HIGH,
    AlertKind.DORMANCY: AlertPriority.NORMAL,
    AlertKind.TIER_CHANGE: AlertPriority.NORMAL,
    AlertKind.DOWNGRADE_WARNING: AlertPriority.HIGH,
    AlertKind.CONTACT_OVERDUE: AlertPriority.HIGH,
    # below `overdue_high_days` past due; a classification is always high
    AlertKind.OVERDUE: AlertPriority.NORMAL,
}

PARAMETERS: dict[str, Parameter] = {
    "birthday_days": _whole(gettext_lazy("Birthday: days ahead"), 7, 0, 60),
    "maturity_days": _whole(gettext_lazy("Maturity: days ahead"), 30, 0, 366),
    "risk_expiry_days": _whole(gettext_lazy("Risk assessment expiry: days ahead"), 30, 0, 366),
    "outflow_lookback_days": _whole(gettext_lazy("Large outflow: compared with days before"), 7, 1, 92),
    "outflow_percent": Parameter(
        gettext_lazy("Large outflow: minimum fall (%)"),
        Decimal(30),
        Decimal("0.1"),
        Decimal(100),
        decimal=True,
    ),
    "outflow_amount": Parameter(
        gettext_lazy("Large outflow: minimum fall (CNY)"),
        Decimal(100_000),
        Decimal(0),
        Decimal(10) ** 12,
        decimal=True,
    ),
    "dormancy_days": _whole(gettext_lazy("Dormancy: days without a transaction"), 180, 30, 3660),
    "overdue_thresholds": _wholes(
        gettext_lazy("Past due: alert at these days past due (comma-separated)"), (1, 30, 60, 90), 1, 3660
    ),
    "overdue_high_days": _whole(gettext_lazy("Past due: high priority from days past due"), 60, 1, 3660),
    "overdue_class": _whole(
        gettext_lazy("Past due: alert on a classification of this or worse (3 substandard)"), 3, 2, 5
    ),
    "validity_days": _whole(gettext_lazy("Validity after the due date (days)"), 30, 1, 366),
    "escalation_days": _whole(gettext_lazy("Escalation: days open past the due date"), 3, 1, 92),
    **{
        f"priority_{kind}": _priority(AlertKind(kind), priority) for kind, priority in RULE_PRIORITIES.items()
    },
}
DEFAULTS: dict[str, Value] = {name: p.default for name, p in PARAMETERS.items()}


@dataclass(frozen=True)
class AlertRules:
    """The parameters one evaluation runs with."""

    birthday_days: int
    maturity_days: int
    risk_expiry_days: int
    outflow_lookback_days: int
    outflow_percent: Decimal
    outflow_amount: Decimal
    dormancy_days: int
    overdue_thresholds: tuple[int, ...]
    overdue_high_days: int
    overdue_class: int
    validity_days: int
    escalation_days: int
    priorities: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, parameter in PARAMETERS.items():
            if not name.startswith("priority_"):
                value = getattr(self, name)
                data[name] = parameter.text(value) if isinstance(value, tuple) else str(value)
        data["priorities"] = dict(self.priorities)
        return data


def _values(row: AlertParameters | None) -> dict[str, Value]:
    stored = {k: PARAMETERS[k].parse(v) for k, v in (row.values if row else {}).items() if k in PARAMETERS}
    return {**DEFAULTS, **stored}


def _row(*, lock: bool = False) -> AlertParameters | None:
    query = AlertParameters.objects.order_by("pk")
    if lock:
        query = query.select_for_update()
    return query.first()


def parameter_values() -> dict[str, Value]:
    """Every parameter's value in force, by name."""
    return _values(_row())


def current_parameters() -> AlertRules:
    """The parameters in force, as the rules read them."""
    values = parameter_values()

    def number(name: str) -> Decimal:
        value = values[name]
        assert isinstance(value, Decimal), name
        return value

    thresholds = values["overdue_thresholds"]
    assert isinstance(thresholds, tuple)
    return AlertRules(
        birthday_days=int(number("birthday_days")),
        maturity_days=int(number("maturity_days")),
        risk_expiry_days=int(number("risk_expiry_days")),
        outflow_lookback_days=int(number("outflow_lookback_days")),
        outflow_percent=number("outflow_percent"),
        outflow_amount=number("outflow_amount"),
        dormancy_days=int(number("dormancy_days")),
        overdue_thresholds=thresholds,
        overdue_high_days=int(number("overdue_high_days")),
        overdue_class=int(number("overdue_class")),
        validity_days=int(number("validity_days")),
        escalation_days=int(number("escalation_days")),
        priorities={kind: int(number(f"priority_{kind}")) for kind in RULE_PRIORITIES},
    )


# --- the proposal ---------------------------------------------------------------------------


def _require_permission(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def _validated(values: dict[str, Any]) -> dict[str, Value]:
    """The proposed values, checked (`Parameter.clean`); every parameter's errors are
    reported together."""
    result: dict[str, Value] = {}
    errors: list[str] = []
    for name, value in values.items():
        parameter = PARAMETERS.get(name)
        if parameter is None:
            errors.append(_("Unknown alert parameter %(name)s.") % {"name": name})
            continue
        try:
            result[name] = parameter.clean(value)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return result


@transaction.atomic
def alert_parameters_propose(*, by: User, values: dict[str, Any], reason: str) -> AlertParameterProposal:
    """Propose new values for some parameters. Nothing changes until someone other
    than the proposer approves."""
    _require_permission(by, PROPOSE)
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError({"reason": _("Give a reason (at least 4 characters).")})
    if not values:
        raise ValidationError(_("Give the new value of at least one parameter."))
    proposed = _validated(values)
    current = parameter_values()
    changed = [name for name in PARAMETERS if name in proposed and proposed[name] != current[name]]
    if not changed:
        raise ValidationError(_("Nothing would change: the values are the current ones."))
    changes = {name: PARAMETERS[name].text(proposed[name]) for name in changed}
    base = {name: PARAMETERS[name].text(current[name]) for name in changed}
    proposal = AlertParameterProposal.objects.create(
        changes=changes, base=base, reason=reason[:200], proposed_by=by
    )
    audit(
        Action.PARAMETER_CHANGED,
        actor=by,
        target=proposal,
        details={
            "parameter": "alert_rules",
            "status": "proposed",
            "changes": changes,
            "before": base,
            "reason": reason[:200],
        },
    )
    return proposal


def _apply(proposal: AlertParameterProposal, by: User) -> dict[str, Any]:
    """The effect of an approval: the values in force take the proposed ones, unless
    the values it replaces moved since."""
    row = _row(lock=True)
    current = _values(row)
    before: dict[str, str] = proposal.base or {}
    stale = [
        name
        for name, value in before.items()
        if name not in current or current[name] != PARAMETERS[name].parse(value)
    ]
    if stale:
        raise ValidationError(
            _("These parameters changed since the proposal was made: %(names)s. Reject it and propose again.")
            % {"names": ", ".join(str(PARAMETERS[n].label) if n in PARAMETERS else n for n in stale)}
        )
    proposed = _validated(proposal.changes or {})
    values = {name: PARAMETERS[name].text(proposed.get(name, current[name])) for name in PARAMETERS}
    now = proposal.decided_at or timezone.now()
    if row is None:
        AlertParameters.objects.create(values=values, updated_at=now)
    else:
        row.values, row.updated_at = values, now
        row.save(update_fields=["values", "updated_at"])
    return {"values": {name: values[name] for name in proposed}}


def _details(proposal: AlertParameterProposal, decision: str) -> dict[str, Any]:
    return {
        "parameter": "alert_rules",
        "status": decision,
        "changes": proposal.changes,
        "before": proposal.base,
    }


ALERT_PARAMETER_FLOW: ApprovalFlow[AlertParameterProposal] = ApprovalFlow(
    model=AlertParameterProposal,
    item=gettext_lazy("alert parameter proposal"),
    permission=APPROVE,
    action=Action.PARAMETER_CHANGED,
    on_approve=_apply,
    details=_details,
)


def alert_parameters_approve(
    *, proposal: AlertParameterProposal, by: User, note: str = ""
) -> AlertParameterProposal:
    """Bring a proposal's values into force: only someone other than its proposer,
    and only if the values it replaces are still the ones in force."""
    return decide(ALERT_PARAMETER_FLOW, proposal, by=by, approve=True, note=note)


def alert_parameters_reject(
    *, proposal: AlertParameterProposal, by: User, note: str
) -> AlertParameterProposal:
    return decide(ALERT_PARAMETER_FLOW, proposal, by=by, approve=False, note=note)


def alert_parameters_withdraw(*, proposal: AlertParameterProposal, by: User) -> AlertParameterProposal:
    return withdraw(ALERT_PARAMETER_FLOW, proposal, by=by)


def proposal_rows(proposal: AlertParameterProposal) -> list[tuple[str, str, str]]:
    """What a proposal changes, parameter by parameter: (label, before, after)."""
    before: dict[str, str] = proposal.base or {}
    return [
        (str(PARAMETERS[name].label) if name in PARAMETERS else name, before.get(name, "—"), value)
        for name, value in (proposal.changes or {}).items()
    ]
