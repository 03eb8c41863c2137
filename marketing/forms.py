from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import BootstrapFormMixin
from customers.choices import AccountCategory, Gender, MarketingChannel

from .catalogue import PRODUCT_FIELDS
from .choices import CampaignObjective, ContactOutcome, OpportunityStage
from .models import Indicator, Product, Segment
from .segments import TREND_MONTHS, clean_rules

BLANK = [("", "—")]


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CodeListField(forms.CharField):
    """Codes separated by commas or spaces ("11100, 12000")."""

    def to_python(self, value):
        value = super().to_python(value) or ""
        return sorted({part for part in value.replace("，", ",").replace(",", " ").split() if part})

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value


def _score():
    return forms.IntegerField(required=False, min_value=1, max_value=5)


class SegmentForm(BootstrapFormMixin, forms.Form):
    """The segment builder: every rule is optional; the ones filled in all apply."""

    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    aum_min = forms.DecimalField(
        label=_("AUM from (CNY)"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    aum_max = forms.DecimalField(
        label=_("AUM to (CNY)"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    trend_direction = forms.ChoiceField(
        label=_("AUM trend"), required=False, choices=BLANK + [("up", _("rising")), ("down", _("falling"))]
    )
    trend_months = forms.TypedChoiceField(
        label=_("against (months before)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(m, m) for m in TREND_MONTHS],
        initial=3,
    )
    trend_pct = forms.IntegerField(label=_("by at least (%)"), required=False, min_value=0, max_value=1000)
    tiers = CodeListField(label=_("Tiers (codes)"), required=False)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=130)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=130)
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=BLANK + list(Gender.choices))
    branches = CodeListField(label=_("Branches (codes, with their subtree)"), required=False)
    managers = CodeListField(label=_("Managers (employee numbers)"), required=False)
    holds_categories = forms.MultipleChoiceField(
        label=_("Holds a product of"),
        required=False,
        choices=AccountCategory.choices,
        widget=forms.SelectMultiple,
    )
    holds_products = CodeListField(label=_("or holds product codes"), required=False)
    lacks_categories = forms.MultipleChoiceField(
        label=_("Holds nothing of"),
        required=False,
        choices=AccountCategory.choices,
        widget=forms.SelectMultiple,
    )
    lacks_products = CodeListField(label=_("and none of product codes"), required=False)
    maturing_within_days = forms.IntegerField(
        label=_("An account matures within (days)"), required=False, min_value=0, max_value=3650
    )
    birthday_within_days = forms.IntegerField(
        label=_("Birthday within (days)"), required=False, min_value=0, max_value=365
    )
    dormant_days = forms.IntegerField(
        label=_("No transaction for (days)"), required=False, min_value=1, max_value=3650
    )
    r_min = _score()
    f_min = _score()
    m_min = _score()
    rfm_min = forms.IntegerField(
        label=_("RFM total at least (3-15)"), required=False, min_value=3, max_value=15
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["r_min"].label = _("Recency score at least (1-5)")
        self.fields["f_min"].label = _("Frequency score at least (1-5)")
        self.fields["m_min"].label = _("Monetary score at least (1-5)")

    def clean(self):
        data = super().clean()
        if (
            data.get("aum_min") is not None
            and data.get("aum_max") is not None
            and data["aum_min"] > data["aum_max"]
        ):
            self.add_error("aum_max", _("The range ends below its start."))
        if (
            data.get("age_min") is not None
            and data.get("age_max") is not None
            and data["age_min"] > data["age_max"]
        ):
            self.add_error("age_max", _("The range ends below its start."))
        return data

    def rules(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("name", "description")}
        return clean_rules(data)

    @classmethod
    def initial_for(cls, segment: Segment) -> dict[str, Any]:
        return {"name": segment.name, "description": segment.description, **segment.rules}


class SegmentPreviewForm(SegmentForm):
    """The same rules without a name: the live count while the form is edited."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False


class CampaignForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    objective = forms.ChoiceField(label=_("Objective"), choices=CampaignObjective.choices)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Products"), queryset=Product.objects.filter(is_active=True), required=False
    )
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none(), required=False)
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=MarketingChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    budget = forms.DecimalField(
        label=_("Budget (CNY)"), min_value=0, max_digits=18, decimal_places=2, initial=0
    )
    start_date = forms.DateField(label=_("Start"), widget=_date())
    end_date = forms.DateField(label=_("End"), widget=_date())

    def __init__(self, *args, segments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if segments is not None:
            self.fields["segment"].queryset = segments

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The campaign ends before it starts."))
        return data


class CommentForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=300)


class EvaluateForm(BootstrapFormMixin, forms.Form):
    evaluation = forms.CharField(
        label=_("Evaluation"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    actual_cost = forms.DecimalField(
        label=_("Actual cost (CNY)"), required=False, min_value=0, max_digits=18, decimal_places=2
    )


class ContactForm(BootstrapFormMixin, forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=MarketingChannel.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    occurred_at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def __init__(self, *args, channels=None, **kwargs):
        super().__init__(*args, **kwargs)
        if channels is not None:
            self.fields["channel"].choices = [c for c in MarketingChannel.choices if c[0] in channels]


class OpportunityForm(BootstrapFormMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.filter(is_active=True))
    expected_amount = forms.DecimalField(
        label=_("Expected amount (CNY)"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )
    expected_close_date = forms.DateField(label=_("Expected close"), widget=_date())
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products


class LeadForm(OpportunityForm):
    """A manager's own lead: the customer by customer number (in their scope)."""

    customer_no = forms.CharField(label=_("Customer number"), max_length=20)
    field_order = ["customer_no", "product", "expected_amount", "expected_close_date", "notes"]


class StageForm(BootstrapFormMixin, forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[c for c in OpportunityStage.choices if c[0] != OpportunityStage.WON]
    )


class WinForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Sale amount (CNY)"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )
    sale_date = forms.DateField(label=_("Sale date"), widget=_date())


class TaskForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    # Only indicators switched on can be chosen; by code, so links and scripts
    # name them the same way everywhere.
    indicator = forms.ModelChoiceField(
        label=_("Indicator"),
        queryset=Indicator.objects.filter(active=True),
        to_field_name="code",
        error_messages={"invalid_choice": _("Choose an active indicator of the library.")},
    )
    period_start = forms.DateField(label=_("Period from"), widget=_date())
    period_end = forms.DateField(label=_("Period until"), widget=_date())
    target = forms.DecimalField(
        label=pgettext_lazy("goal", "Target"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class DecomposeForm(BootstrapFormMixin, forms.Form):
    """One amount per possible receiver; the filled ones are the shares."""

    def __init__(self, *args, branches=(), managers=(), initial_shares=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_shares = initial_shares or {}
        self.receivers = {}
        for branch in branches:
            self._add(f"b{branch.pk}", str(branch), branch, initial_shares)
        for manager in managers:
            self._add(
                f"m{manager.pk}",
                f"{manager.display_name} ({manager.employee_no}, {manager.branch.name})",
                manager,
                initial_shares,
            )

    def _add(self, name, label, receiver, initial_shares):
        self.fields[name] = forms.DecimalField(
            label=label,
            required=False,
            min_value=0,
            max_digits=18,
            decimal_places=2,
            initial=initial_shares.get(name),
        )
        self.receivers[name] = receiver

    def shares(self):
        return [(self.receivers[n], v) for n, v in self.cleaned_data.items() if v is not None]

    def clean(self):
        data = super().clean()
        if not any(v is not None for v in data.values()):
            raise ValidationError(_("Give at least one share."))
        return data


class RespondForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("return", _("Return"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=300)


class ProductProposalForm(BootstrapFormMixin, forms.ModelForm):
    """The admin form of a product: what it saves is a proposed product change,
    never the product."""

    reason = forms.CharField(label=_("Reason for the change"), min_length=4, max_length=200)

    class Meta:
        model = Product
        fields = ["code", *PRODUCT_FIELDS]


class IndicatorForm(BootstrapFormMixin, forms.ModelForm):
    """An indicator of the library. Its parameters are a JSON object checked per
    kind by the model (`marketing.indicators.validate_params`); the code of an
    existing indicator does not change (schemes and links name it)."""

    class Meta:
        model = Indicator
        fields = ["code", "name", "kind", "params", "unit", "direction", "description", "active"]
        widgets = {
            "params": forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "params": _(
                'For example {"categories": ["WEALTH"]} or {"tier": "gold"}; the kinds and their '
                "parameters are listed below."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
