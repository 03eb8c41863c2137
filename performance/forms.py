from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Branch, BranchLevel
from core.forms import BootstrapFormMixin
from marketing.models import Indicator

from .choices import PeriodKind
from .models import Period
from .parameters import CATEGORIES, category_label, spread_text, spreads_for
from .periods import parse_period
from .scheme_choices import FormulaKind, SchemeRole, TargetSource
from .schemes import BandInput
from .selectors import DEFAULT_SORT, SORTS


class FtpProposalForm(BootstrapFormMixin, forms.Form):
    """New spreads for some categories, for the bank's default or one period. A
    category left blank keeps its spread; the values are checked by the service."""

    period = forms.ModelChoiceField(
        label=_("For"),
        queryset=Period.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("Bank default (every period without spreads of its own)"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    field_order = ["period", *CATEGORIES, "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        in_force = spreads_for(None)
        for category in CATEGORIES:
            self.fields[category] = forms.CharField(
                label=category_label(category),
                required=False,
                max_length=20,
                widget=forms.TextInput(
                    attrs={
                        "class": "form-control",
                        "placeholder": spread_text(in_force[category]),
                        "inputmode": "decimal",
                    }
                ),
            )
        self.order_fields(self.field_order)

    def spreads(self) -> dict[str, str]:
        """The categories given a value."""
        return {c: v.strip() for c in CATEGORIES if (v := self.cleaned_data.get(c, "")).strip()}


class NoteForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


# --- the figures pages' parameters (validated on the server: a bad one is a 400) ---------

_PERIOD_GROUPS = (
    (PeriodKind.MONTH, _("Months")),
    (PeriodKind.QUARTER, _("Quarters")),
    (PeriodKind.YEAR, _("Years")),
)
LEVELS = {"branch": BranchLevel.BRANCH, "sub_branch": BranchLevel.SUB_BRANCH, "outlet": BranchLevel.OUTLET}


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class FiguresForm(BootstrapFormMixin, forms.Form):
    """The period a figures page shows, by its code: one of the periods with figures
    (`periods`, newest first); blank for the default (`selectors.default_period`)."""

    period = forms.ChoiceField(
        label=_("Assessment period"),
        required=False,
        error_messages={"invalid_choice": _("No figures have been computed for %(value)s.")},
    )

    # a version of the period other than the one it shows (every version stays readable)
    version = forms.IntegerField(label=_("Version"), required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, periods: Sequence[Period], default: Period | None, **kwargs):
        super().__init__(data, **kwargs)
        self.periods = {p.code: p for p in periods}
        self.default = default
        _choice_field(self, "period").choices = [
            (label, [(p.code, p.code) for p in periods if p.kind == kind])
            for kind, label in _PERIOD_GROUPS
            if any(p.kind == kind for p in periods)
        ]

    def clean_period(self) -> Period | None:
        code = self.cleaned_data.get("period")
        return self.periods[code] if code else self.default


class BoardForm(FiguresForm):
    """The team board's filters and order: a manager's name or employee number, a
    branch the user may see (`branches`, its subtree), a column (`selectors.SORTS`,
    "-" first for the largest first)."""

    q = forms.CharField(
        label=_("Manager"),
        required=False,
        max_length=60,
        widget=forms.SearchInput(attrs={"placeholder": _("Name or employee no."), "autocomplete": "off"}),
    )
    branch = forms.ChoiceField(
        label=_("Branch"),
        required=False,
        error_messages={"invalid_choice": _("%(value)s is not a branch whose figures you may see.")},
    )
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(f"{sign}{name}", name) for name in SORTS for sign in ("", "-")],
        error_messages={"invalid_choice": _("%(value)s is not a column the figures can be sorted by.")},
    )

    def __init__(self, data, *, branches: Sequence[Branch], **kwargs):
        super().__init__(data, **kwargs)
        self.branches = {b.code: b for b in branches}
        _choice_field(self, "branch").choices = [
            ("", _("All")),
            *[(b.code, f"{'· ' * max(b.level - 1, 0)}{b.code} {b.name}") for b in branches],
        ]

    def clean_branch(self) -> Branch | None:
        code = self.cleaned_data.get("branch")
        return self.branches[code] if code else None

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT


class RankingForm(FiguresForm):
    """The branch ranking's level: one of `levels` (those the user may rank)."""

    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        error_messages={"invalid_choice": _("%(value)s is not a level you may rank.")},
    )

    def __init__(self, data, *, levels: Sequence[int], **kwargs):
        super().__init__(data, **kwargs)
        keys: dict[int, str] = {int(value): key for key, value in LEVELS.items()}
        self.levels = levels
        _choice_field(self, "level").choices = [
            (keys[level], BranchLevel(level).label) for level in reversed(levels)
        ]

    def clean_level(self) -> int | None:
        key = self.cleaned_data.get("level")
        if key:
            return LEVELS[key]
        return self.levels[-1] if self.levels else None


# --- assessment schemes (checked again by performance.schemes: the service decides) -------


class SchemeForm(BootstrapFormMixin, forms.Form):
    period = forms.CharField(
        label=_("Assessment period"), max_length=7, help_text=_("2026-11, 2026-Q4 or 2026.")
    )
    role = forms.ChoiceField(label=_("Assessed"), choices=SchemeRole.choices)
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)

    def clean_period(self) -> str:
        try:
            return parse_period(self.cleaned_data["period"]).code
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class SchemeIndicatorForm(BootstrapFormMixin, forms.Form):
    """An indicator of the library in a scheme: weight, formula and its parameters
    (a JSON object, see docs/performance.md), where its target comes from."""

    indicator = forms.ModelChoiceField(
        label=_("Indicator"), queryset=Indicator.objects.filter(active=True), to_field_name="code"
    )
    weight = forms.DecimalField(label=_("Weight"), min_value=0, max_value=100, decimal_places=2)
    formula = forms.ChoiceField(label=_("Formula"), choices=FormulaKind.choices)
    params = forms.JSONField(
        label=_("Formula parameters"),
        required=False,
        initial=dict,
        help_text=_('For example {"floor": 0, "cap": 120} or {"steps": [[80, 60], [100, 100]]}.'),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    target_source = forms.ChoiceField(label=pgettext_lazy("goal", "Target"), choices=TargetSource.choices)
    target = forms.DecimalField(label=_("Fixed target"), required=False, decimal_places=2, max_digits=18)


class BandsForm(BootstrapFormMixin, forms.Form):
    """The grade bands, best first, one a line: "A 90" (a minimum score) or "A 20%"
    (a top share of the peer group)."""

    bands = forms.CharField(
        label=_("Grade bands"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            'Best first, one a line: "A 90" for a minimum score, or "A 20%" for the top 20% of the peers.'
        ),
    )

    def clean_bands(self) -> list[BandInput]:
        bands = []
        for number, line in enumerate(self.cleaned_data["bands"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise forms.ValidationError(
                    _("Line %(n)s: write a grade and its minimum score or top share.") % {"n": number}
                )
            label, value = parts
            share = value.endswith("%")
            try:
                amount = Decimal(value.rstrip("%"))
            except InvalidOperation:
                raise forms.ValidationError(
                    _("Line %(n)s: %(value)s is not a number.") % {"n": number, "value": value}
                ) from None
            bands.append(BandInput(label, share=amount) if share else BandInput(label, min_score=amount))
        return bands


class TargetsImportForm(BootstrapFormMixin, forms.Form):
    workbook = forms.FileField(
        label=_("Targets workbook (.xlsx)"),
        help_text=_(
            "First sheet, header: indicator, unit, target (indicator code, employee no. or branch code)."
        ),
    )


class WhatIfForm(BootstrapFormMixin, forms.Form):
    """A changed weight and fixed target per indicator of the scheme (blank: as it is)."""

    def __init__(self, data, *, indicators, **kwargs):
        super().__init__(data, **kwargs)
        self.indicators = list(indicators)
        for item in self.indicators:
            self.fields[f"weight_{item.code}"] = forms.DecimalField(
                label=_("%(indicator)s: weight") % {"indicator": item.name},
                required=False,
                min_value=0,
                max_value=100,
                decimal_places=2,
            )
            self.fields[f"weight_{item.code}"].widget.attrs["placeholder"] = str(item.weight)
            self.fields[f"target_{item.code}"] = forms.DecimalField(
                label=_("%(indicator)s: one target for every unit") % {"indicator": item.name},
                required=False,
                min_value=Decimal("0.01"),
                decimal_places=2,
                max_digits=18,
            )

    def changes(self) -> dict[str, dict]:
        weights, targets = {}, {}
        for item in self.indicators:
            if (weight := self.cleaned_data.get(f"weight_{item.code}")) is not None:
                weights[item.code] = weight
            if (target := self.cleaned_data.get(f"target_{item.code}")) is not None:
                targets[item.code] = target
        return {"weights": weights, "targets": targets}


class PublicationForm(BootstrapFormMixin, forms.Form):
    """Close a period, or recalculate a published one: its code and why."""

    period = forms.CharField(
        label=_("Assessment period"),
        max_length=7,
        help_text=_("A month (2026-11), a quarter (2026-Q4) or a year (2026)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, min_length=4)

    def clean_period(self) -> str:
        return parse_period(self.cleaned_data["period"]).code


class PeriodListForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *PeriodKind.choices]
    )
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        from .choices import PeriodStatus

        super().__init__(*args, **kwargs)
        _choice_field(self, "status").choices = [("", _("Open and closed")), *PeriodStatus.choices]
