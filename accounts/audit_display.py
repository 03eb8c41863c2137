"""How the audit trail reads on a screen: an action's label, a target's name and link,
the details as "field: old → new" lines.

Apps above accounts write actions of their own (`marketing.choices.MarketingAction`,
`performance.scheme_choices.SchemeAction`) and own the pages of their targets, and
accounts imports none of them. So, as with the roles (`accounts.roles`), each app may
have an `audit_display` module, collected once:

- `ACTIONS`: the TextChoices classes of the actions it writes (their labels);
- `TARGET_LINKS`: {target type ("app_label.model"): function(target ids) -> {id: url}},
  one call (at most one query) per target type shown on a page;
- `CHANGE_LABELS`: {action: label of what its "from"/"to" details change};
- `DETAIL_LABELS`: {details key: label};
- `VALUE_CHOICES`: {details key: the TextChoices its values are codes of} (a value
  that is not one of them is shown as it is).

Accounts' own entries are below; a code without a label is shown as it is, never
dropped.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.approvals import ApprovalStatus

from .audit import Action
from .models import FindingRule, ReviewOutcome
from .roles import role_label

LinkResolver = Callable[[list[str]], dict[str, str]]
ValueChoices = dict[str, type[models.TextChoices]]

ARROW = " → "


def _user_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("accounts:user_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


ACTIONS: list[type[models.TextChoices]] = [Action]
TARGET_LINKS: dict[str, LinkResolver] = {"accounts.user": _user_links}
CHANGE_LABELS: dict[str, Any] = {
    Action.ASSIGNMENT_CHANGED: gettext_lazy("Manager of record"),
    Action.TIER_CHANGED: gettext_lazy("Tier"),
    Action.ALERT_HANDED_OVER: gettext_lazy("Manager"),
    Action.HOME_LAYOUT_CHANGED: gettext_lazy("Widgets"),
}
# Keys of `details` as the writers across the apps name them.
DETAIL_LABELS: dict[str, Any] = {
    "reason": gettext_lazy("Reason"),
    "rows": gettext_lazy("Rows"),
    "period": gettext_lazy("Period"),
    "version": gettext_lazy("Version"),
    "branch": gettext_lazy("Branch"),
    "roles": gettext_lazy("Roles"),
    "decision": gettext_lazy("Decision"),
    "note": gettext_lazy("Note"),
    "kind": gettext_lazy("Kind"),
    "customer": gettext_lazy("Customer"),
    "source": gettext_lazy("Source"),
    "status": gettext_lazy("Status"),
    "count": gettext_lazy("Count"),
    "limit": gettext_lazy("Limit"),
    "field": gettext_lazy("Field"),
    "fields": gettext_lazy("Fields"),
    "filters": gettext_lazy("Filters"),
    "filter": gettext_lazy("Filters"),
    "masked": gettext_lazy("Masked"),
    "export": gettext_lazy("Export"),
    "what": gettext_lazy("Export"),
    "report": gettext_lazy("Report"),
    "batch": gettext_lazy("Batch"),
    "role": gettext_lazy("Role"),
    "start_date": gettext_lazy("Start date"),
    "end_date": gettext_lazy("End date"),
    "date": gettext_lazy("Date"),
    "day": gettext_lazy("Day"),
    "business_date": gettext_lazy("Business date"),
    "until": gettext_lazy("Until"),
    "on": gettext_lazy("On"),
    "change": gettext_lazy("Change"),
    "changed": gettext_lazy("Changed"),
    "outcome": gettext_lazy("Outcome"),
    "channel": gettext_lazy("Channel"),
    "template": gettext_lazy("Template"),
    "service": gettext_lazy("Service"),
    "product": gettext_lazy("Product"),
    "campaign": gettext_lazy("Campaign"),
    "amount": gettext_lazy("Amount"),
    "indicator": gettext_lazy("Indicator"),
    "target": gettext_lazy("Target"),
    "manager": gettext_lazy("Manager"),
    "shared_with": gettext_lazy("Shared with"),
    "revoked_from": gettext_lazy("Revoked from"),
    "vip_status": gettext_lazy("VIP status"),
    "widgets": gettext_lazy("Widgets"),
    "parameter": gettext_lazy("Parameter"),
    "total": gettext_lazy("Total"),
    "rule": gettext_lazy("Rule"),
    "username": gettext_lazy("Username"),
    "employee_no": gettext_lazy("Employee number"),
    "comment": gettext_lazy("Comment"),
    "sessions_ended": gettext_lazy("Sessions ended"),
    "file": gettext_lazy("File"),
    # the filters of an export of the trail
    "actor": gettext_lazy("User"),
    "action": gettext_lazy("Action"),
    "date_from": gettext_lazy("From"),
    "date_to": gettext_lazy("To"),
}
# What a change of a user's roles or permissions did (the m2m signal's action).
_M2M_CHANGES = {
    "post_add": gettext_lazy("added"),
    "post_remove": gettext_lazy("removed"),
    "post_clear": gettext_lazy("all removed"),
}
# Values that are codes of a choice everybody knows.
_VALUE_LABELS: dict[str, Callable[[Any], str]] = {
    "decision": lambda value: _choice_label(ApprovalStatus, value),
    "roles": lambda value: (
        ", ".join(role_label(str(role)) for role in value) if isinstance(value, list) else value
    ),
    "role": lambda value: role_label(str(value)),
    "rule": lambda value: _choice_label(FindingRule, value),
    "change": lambda value: str(_M2M_CHANGES.get(value, value)),
    "outcome": lambda value: _choice_label(ReviewOutcome, value),
}


def _choice_label(choices: type[models.TextChoices], value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@functools.cache
def _collected() -> tuple[
    dict[str, str],
    dict[str, LinkResolver],
    dict[str, Any],
    dict[str, Any],
    dict[str, type[models.TextChoices]],
]:
    """Every installed app's audit_display entries, merged (accounts' first)."""
    labels: dict[str, Any] = {}
    links: dict[str, LinkResolver] = {}
    changes: dict[str, Any] = {}
    keys: dict[str, Any] = {}
    values: ValueChoices = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.audit_display")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.audit_display":
                raise
            continue
        for choices in getattr(module, "ACTIONS", ()):
            labels.update(dict(choices.choices))
        links.update(getattr(module, "TARGET_LINKS", {}))
        changes.update({str(k): v for k, v in getattr(module, "CHANGE_LABELS", {}).items()})
        keys.update(getattr(module, "DETAIL_LABELS", {}))
        values.update(getattr(module, "VALUE_CHOICES", {}))
    return labels, links, changes, keys, values


def action_label(action: str) -> str:
    label = _collected()[0].get(action)
    return str(label) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """Every action any app writes, by label, for a select."""
    return sorted(((code, str(label)) for code, label in _collected()[0].items()), key=lambda pair: pair[1])


def target_type_label(target_type: str) -> str:
    if not target_type:
        return ""
    try:
        return str(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


def target_links(targets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The page of each (target type, target id) that has one: one resolver call per type."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for target_type, target_id in targets:
        if target_id:
            by_type[target_type].add(target_id)
    resolvers = _collected()[1]
    found: dict[tuple[str, str], str] = {}
    for target_type, ids in by_type.items():
        resolver = resolvers.get(target_type)
        if resolver is None:
            continue
        for target_id, url in resolver(sorted(ids)).items():
            found[(target_type, target_id)] = url
    return found


# --- the details --------------------------------------------------------------------------


@dataclass(frozen=True)
class DetailLine:
    label: str
    text: str


def key_label(key: str) -> str:
    label = _collected()[3].get(key) or DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def value_text(value: Any, key: str = "") -> str:
    if key in _VALUE_LABELS and value is not None:
        return str(_VALUE_LABELS[key](value))
    app_choices = _collected()[4].get(key)
    if app_choices is not None and isinstance(value, str):
        return _choice_label(app_choices, value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list | tuple):
        return ", ".join(value_text(item) for item in value) or "—"
    if isinstance(value, Mapping):
        if set(value) == {"from", "to"}:
            return value_text(value["from"], key) + ARROW + value_text(value["to"], key)
        return "; ".join(f"{key_label(str(k))} {value_text(v, str(k))}" for k, v in value.items()) or "—"
    return str(value)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            yield from _leaves(inner, (*path, str(key)))
    else:
        yield path, value


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def detail_lines(action: str, details: Any) -> list[DetailLine]:
    """The details of one event as lines a reader understands: a change as
    "label: old → new" (top-level "from"/"to", a {"from", "to"} value, or "changes"
    against "before"), everything else as "label: value"."""
    if not isinstance(details, Mapping):
        return [DetailLine("", value_text(details))] if details else []
    rest = dict(details)
    lines: list[DetailLine] = []
    change_label = _collected()[2].get(action) or CHANGE_LABELS.get(action)
    if "from" in rest and "to" in rest:
        label = str(change_label) if change_label else _("Change")
        lines.append(DetailLine(label, value_text(rest.pop("from")) + ARROW + value_text(rest.pop("to"))))
    if isinstance(rest.get("changes"), Mapping) and "before" in rest:
        changes, before = rest.pop("changes"), rest.pop("before")
        for path, new in _leaves(changes):
            label = " · ".join(key_label(part) for part in path)
            lines.append(DetailLine(label, value_text(_at(before, path)) + ARROW + value_text(new)))
    elif "before" in rest:
        after_key = next((key for key in ("widgets", "after", "value") if key in rest), None)
        if after_key is not None:
            label = str(change_label) if change_label else key_label(after_key)
            lines.append(
                DetailLine(label, value_text(rest.pop("before")) + ARROW + value_text(rest.pop(after_key)))
            )
    for key, value in rest.items():
        lines.append(DetailLine(key_label(str(key)), value_text(value, str(key))))
    return lines


def detail_text(action: str, details: Any) -> str:
    """The lines of `detail_lines` in one cell (an export)."""
    return "\n".join(
        f"{line.label}: {line.text}" if line.label else line.text for line in detail_lines(action, details)
    )
