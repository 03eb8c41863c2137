from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from accounts.scope import visible_branches
from core.forms import BootstrapFormMixin
from core.templatetags.display import money
from customers.choices import AccountCategory, Gender
from vip.selectors import active_levels, managers_in_scope

from .catalogue import PRODUCT_FIELDS
from .channels import channel_choices, channel_for_contact, channel_names, contact_channel_choices
from .choices import CampaignObjective, ContactOutcome, OpportunityStage
from .models import Channel, Indicator, Product, Segment
from .segment_words import lowest_of_top, tiers_at_or_above
from .segments import TREND_MONTHS, clean_rules


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


AUM_PRESETS = (50_000, 100_000, 200_000, 500_000, 1_000_000, 3_000_000, 6_000_000, 10_000_000, 30_000_000)
AGE_PRESETS = (18, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80)


def _once(read: Callable[[], Iterable[Any]]) -> Callable[[], list[Any]]:
    """`read`, called the first time only (a form's choices read when first needed)."""
    cache: list[list[Any]] = []

    def get() -> list[Any]:
        if not cache:
            cache.append(list(read()))
        return cache[0]

    return get


class PresetSelect(forms.Select):
    """A select of the usual values of a number (AUM bands, days), with a worded
    empty choice; a value set otherwise (an older segment, a script) is offered
    too, so that editing never loses it. The field still validates any number
    in its range on the server."""

    def __init__(self, presets, empty_label, label_of=str, attrs=None):
        super().__init__(attrs)
        self.presets = list(presets)
        self.empty_label = empty_label
        self.label_of = label_of

    @staticmethod
    def _key(value) -> str:
        if value in (None, ""):
            return ""
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return str(value)
        return str(number.to_integral_value()) if number == number.to_integral_value() else str(number)

    def format_value(self, value):
        return [self._key(value)]

    def get_context(self, name, value, attrs):
        current = self._key(value)
        choices = [("", self.empty_label), *((self._key(v), self.label_of(v)) for v in self.presets)]
        if current and current not in {key for key, _label in choices}:
            choices.append((current, self.label_of(current)))
        self.choices = choices
        return super().get_context(name, value, attrs)


class CodeChoiceField(forms.MultipleChoiceField):
    """Several known codes, chosen in a multiple select (a script may also send
    them separated by commas or spaces: "11100, 12000"); an unknown code is
    refused with the field's own words."""

    def to_python(self, value):
        values = super().to_python(value)
        return sorted({p for v in values for p in v.replace("，", ",").replace(",", " ").split() if p})


def _score(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=5,
        widget=PresetSelect(range(1, 6), _("Any score")),
    )


def _money_label(value) -> str:
    return money(value)


def _age_label(value) -> str:
    return ngettext("%(age)s year", "%(age)s years", int(Decimal(str(value)))) % {"age": value}


def _days_label(value) -> str:
    days = int(Decimal(str(value)))
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


class SegmentForm(BootstrapFormMixin, forms.Form):
    """The segment builder: every rule is chosen from a select (tiers by their
    names, branches and managers of the user's scope, products by name); the ones
    set all apply. A value that is not among the choices (a tier code that no
    level has) is refused, never saved to match no one."""

    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    tier_min = forms.ChoiceField(label=_("Tier"), required=False)
    tiers = CodeChoiceField(
        label=_("or exactly these tiers"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a tier level.")},
    )
    aum_min = forms.DecimalField(
        label=_("AUM from (CNY)"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=2,
        widget=PresetSelect(AUM_PRESETS, _("No lower bound"), _money_label),
    )
    aum_max = forms.DecimalField(
        label=_("AUM to (CNY)"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=2,
        widget=PresetSelect(AUM_PRESETS, _("No upper bound"), _money_label),
    )
    trend_direction = forms.ChoiceField(
        label=_("AUM trend"),
        required=False,
        choices=[("", _("Any trend")), ("up", _("rising")), ("down", _("falling"))],
    )
    trend_months = forms.TypedChoiceField(
        label=_("against (months before)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(m, m) for m in TREND_MONTHS],
        initial=3,
    )
    trend_pct = forms.IntegerField(
        label=_("by at least (%)"),
        required=False,
        min_value=0,
        max_value=1000,
        widget=PresetSelect((5, 10, 20, 30, 50, 100), _("Any change"), lambda v: f"{v}%"),
    )
    age_min = forms.IntegerField(
        label=_("Age from"),
        required=False,
        min_value=0,
        max_value=130,
        widget=PresetSelect(AGE_PRESETS, _("Any age"), _age_label),
    )
    age_max = forms.IntegerField(
        label=_("Age to"),
        required=False,
        min_value=0,
        max_value=130,
        widget=PresetSelect(AGE_PRESETS, _("Any age"), _age_label),
    )
    gender = forms.ChoiceField(
        label=_("Gender"), required=False, choices=[("", _("Either gender")), *Gender.choices]
    )
    branches = CodeChoiceField(
        label=_("Branches (with the branches below)"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a branch of your scope.")},
    )
    managers = CodeChoiceField(
        label=_("Client managers"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a client manager of your scope.")},
    )
    holds_categories = forms.MultipleChoiceField(
        label=_("Holds a product of"), required=False, choices=AccountCategory.choices
    )
    holds_products = CodeChoiceField(
        label=_("or holds one of the products"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a product of the catalogue.")},
    )
    lacks_categories = forms.MultipleChoiceField(
        label=_("Holds nothing of"), required=False, choices=AccountCategory.choices
    )
    lacks_products = CodeChoiceField(
        label=_("and none of the products"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a product of the catalogue.")},
    )
    maturing_within_days = forms.IntegerField(
        label=_("An account matures within"),
        required=False,
        min_value=0,
        max_value=3650,
        widget=PresetSelect((7, 15, 30, 60, 90, 180), _("No maturity rule"), _days_label),
    )
    birthday_within_days = forms.IntegerField(
        label=_("Birthday within"),
        required=False,
        min_value=0,
        max_value=365,
        widget=PresetSelect((3, 7, 15, 30), _("No birthday rule"), _days_label),
    )
    dormant_days = forms.IntegerField(
        label=_("No transaction for"),
        required=False,
        min_value=1,
        max_value=3650,
        widget=PresetSelect((30, 60, 90, 180, 365), _("No dormancy rule"), _days_label),
    )
    r_min = _score(_("Recency score at least"))
    f_min = _score(_("Frequency score at least"))
    m_min = _score(_("Monetary score at least"))
    rfm_min = forms.IntegerField(
        label=_("RFM total at least"),
        required=False,
        min_value=3,
        max_value=15,
        widget=PresetSelect(range(3, 16), _("Any score")),
    )

    def __init__(self, *args, user, segment: Segment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._choose(
            "trend_months",
            [(m, ngettext("%(months)s month", "%(months)s months", m) % {"months": m}) for m in TREND_MONTHS],
        )
        # Every list of choices is read when first needed, once: the live count
        # checks only the rules that are set, the page reads each list once.
        self._levels = _once(active_levels)
        self._choose(
            "tier_min",
            lambda: [
                ("", _("Any tier")),
                *((level.code, _("%(tier)s or above") % {"tier": level.name}) for level in self._levels()),
            ],
        )
        self._choose("tiers", lambda: [(level.code, level.name) for level in self._levels()])
        self._choose(
            "branches", _once(lambda: visible_branches(user).order_by("path").values_list("code", "name"))
        )
        self._choose(
            "managers",
            _once(
                lambda: [
                    (m.employee_no, f"{m.display_name or m.username} · {m.branch.name if m.branch else ''}")
                    for m in managers_in_scope(user).order_by("branch__path", "employee_no")
                ]
            ),
        )
        products = _once(lambda: Product.objects.order_by("category", "code").values_list("code", "name"))
        self._choose("holds_products", products)
        self._choose("lacks_products", products)
        if segment is not None and not self.is_bound:
            self.initial = self.initial_for(segment, ranks=self.tier_ranks)

    def _choose(self, name: str, choices: Any) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    @property
    def tier_ranks(self) -> list[str]:
        """The active tier codes from the highest level down."""
        return [level.code for level in self._levels()]

    GROUPS = (
        (_("Who"), ("tier_min", "tiers", "aum_min", "aum_max", "age_min", "age_max", "gender")),
        (_("Where"), ("branches", "managers")),
        (_("Products"), ("holds_categories", "holds_products", "lacks_categories", "lacks_products")),
        (
            _("Activity"),
            (
                "dormant_days",
                "maturing_within_days",
                "birthday_within_days",
                "trend_direction",
                "trend_months",
                "trend_pct",
                "r_min",
                "f_min",
                "m_min",
                "rfm_min",
            ),
        ),
    )

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The rules' fields under their headings, as the editor shows them."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

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
        if data.get("tier_min") and data.get("tiers"):
            self.add_error("tiers", _("Choose a lowest tier or single tiers, not both."))
        return data

    def rules(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("name", "description", "tier_min")}
        if self.cleaned_data.get("tier_min"):
            data["tiers"] = tiers_at_or_above(self.cleaned_data["tier_min"], self.tier_ranks)
        return clean_rules(data)

    @classmethod
    def initial_for(cls, segment: Segment, ranks: list[str] | None = None) -> dict[str, Any]:
        """The form's values of a saved segment: "Gold or above" chosen as the
        lowest tier when its tiers are exactly those."""
        rules = dict(segment.rules)
        initial: dict[str, Any] = {"name": segment.name, "description": segment.description}
        if ranks is None:
            ranks = [level.code for level in active_levels()]
        lowest = lowest_of_top(rules.get("tiers") or [], ranks)
        if lowest is not None:
            rules.pop("tiers")
            initial["tier_min"] = lowest
        return {**initial, **rules}


class SegmentPreviewForm(SegmentForm):
    """The same rules without a name: the live count while the form is edited."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False


class ChannelsField(forms.MultipleChoiceField):
    """A campaign's channels: the channels in use are offered (and those the
    campaign already has, marked when switched off); any channel of the list is a
    valid value, so a campaign keeping a switched-off channel still saves. Whether a
    newly chosen one may be (it must be in use) is the campaign's own check
    (`Campaign.clean`), shown under this field."""

    accepted: frozenset[str] = frozenset()

    def valid_value(self, value) -> bool:
        return str(value) in self.accepted


class CampaignForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    objective = forms.ChoiceField(label=_("Objective"), choices=CampaignObjective.choices)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Products"), queryset=Product.objects.filter(is_active=True), required=False
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("No segment"),
    )
    channels = ChannelsField(
        label=_("Channels"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("“%(value)s” is not a channel of the list.")},
    )
    budget = forms.DecimalField(
        label=_("Budget (CNY)"), min_value=0, max_digits=18, decimal_places=2, initial=0
    )
    start_date = forms.DateField(label=_("Start"), widget=_date())
    end_date = forms.DateField(label=_("End"), widget=_date())

    def __init__(self, *args, segments=None, kept_channels=None, **kwargs):
        super().__init__(*args, **kwargs)
        if segments is not None:
            self.fields["segment"].queryset = segments
        # offered: the channels in use, those the campaign has (`kept_channels`, else
        # its initial ones) and those just posted, so a page shown again keeps them
        kept = list(kept_channels if kept_channels is not None else self.initial.get("channels") or ())
        if self.is_bound:
            kept += self.data.getlist("channels") if hasattr(self.data, "getlist") else []
        every = channel_choices(switched_off=True)
        self._in_use = Channel.codes(active=True)
        field = cast(ChannelsField, self.fields["channels"])
        field.accepted = frozenset(code for code, _label in every)
        field.choices = [(code, label) for code, label in every if code in self._in_use or code in kept]
        self._kept_channels = None if kept_channels is None else set(kept_channels)

    def clean_channels(self):
        """A switched-off channel newly chosen is refused here when the campaign's
        own channels are known (`kept_channels`), else by the campaign's check."""
        channels = self.cleaned_data.get("channels") or []
        if self._kept_channels is not None:
            off = [c for c in channels if c not in self._kept_channels and c not in self._in_use]
            if off:
                raise ValidationError(
                    _("%(channels)s is switched off and cannot be chosen.")
                    % {"channels": "、".join(channel_names(off))}
                )
        return channels

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


class ContactChannelField(forms.ChoiceField):
    """The campaign channel a contact went through: those that reach customers are
    offered; another channel of the campaign (mobile banking) is refused with why."""

    campaign_channels: tuple[str, ...] = ()

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or str(value) in self.campaign_channels


class ContactForm(BootstrapFormMixin, forms.Form):
    channel = ContactChannelField(label=_("Channel"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    occurred_at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def __init__(self, *args, channels=None, **kwargs):
        """`channels`: the campaign's channel codes (None: every channel in use
        that reaches customers)."""
        super().__init__(*args, **kwargs)
        field = cast(ContactChannelField, self.fields["channel"])
        field.choices = contact_channel_choices(channels)
        field.campaign_channels = tuple(channels or ())

    def clean_channel(self):
        code = self.cleaned_data["channel"]
        try:
            channel_for_contact(code)
        except ValidationError as exc:  # a channel that reaches nobody: said on this field
            raise ValidationError(exc.messages) from None
        return code


class OpportunityForm(BootstrapFormMixin, forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True), empty_label=_("Choose a product")
    )
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
        empty_label=_("Choose an indicator"),
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
        # the empty choice says what it asks for, not "---------"
        for name, empty in (("kind", _("Choose a kind")), ("unit", _("Choose a unit"))):
            field = cast(forms.ChoiceField, self.fields[name])
            field.choices = [("", empty), *((v, label) for v, label in field.choices if v != "")]
