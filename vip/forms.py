from __future__ import annotations

import datetime
from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from core.forms import BootstrapFormMixin
from customers.forms import CustomerSearchForm
from customers.models import Customer

from .choices import ProspectSource
from .models import TierLevel, TierPolicy
from .selectors import NO_TIER, managers_in_scope
from .services.sharing import share_excluded_user_ids


def date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ManagerChoiceField(forms.ModelChoiceField):
    """An active client manager, chosen by name (the employee number tells two of the
    same name apart); the query string and the services take the employee number."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("Choose a client manager"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: User) -> str:
        branch = obj.branch.name if obj.branch is not None else ""
        return f"{obj.display_name} ({obj.employee_no}) · {branch}"


def active_managers(user: User):
    return managers_in_scope(user).filter(is_active=True).order_by("branch__path", "employee_no")


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)


class NoteForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class AssignForm(BootstrapFormMixin, forms.Form):
    manager = ManagerChoiceField(
        label=_("Client manager"), queryset=User.objects.none(), to_field_name="employee_no"
    )
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        cast(ManagerChoiceField, self.fields["manager"]).queryset = active_managers(user)


def all_active_managers():
    return (
        User.objects.filter(is_active=True, groups__name=Role.CLIENT_MANAGER)
        .select_related("branch")
        .order_by("branch__path", "employee_no")
    )


class TransferForm(AssignForm):
    """To which manager (any active client manager: the approver judges), and why."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        cast(ManagerChoiceField, self.fields["manager"]).queryset = all_active_managers()


class ShareForm(BootstrapFormMixin, forms.Form):
    with_user = ManagerChoiceField(
        label=_("Share with"),
        queryset=User.objects.none(),
        to_field_name="employee_no",
        error_messages={
            "invalid_choice": _(
                "Choose a client manager of the list: not the customer's manager of record "
                "nor one the customer is shared with now."
            )
        },
    )
    until = forms.DateField(label=_("Until (end of day)"), widget=date_widget())
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, user: User, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        # Any active client manager of the bank may be asked to help, but not the
        # one who looks after the customer nor one it is shared with already.
        cast(ManagerChoiceField, self.fields["with_user"]).queryset = all_active_managers().exclude(
            pk__in=share_excluded_user_ids(customer)
        )
        if not self.is_bound:
            self.initial.setdefault("until", timezone.localdate() + datetime.timedelta(days=14))

    def until_datetime(self) -> datetime.datetime:
        day = self.cleaned_data["until"] + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SplitCreditForm(BootstrapFormMixin, forms.Form):
    """An assisting manager and their share of the credit, from a day. The service
    judges the share, the manager and the day; the form only reads them."""

    manager = ManagerChoiceField(
        label=_("Assisting manager"), queryset=User.objects.none(), to_field_name="employee_no"
    )
    share = forms.DecimalField(
        label=_("Assisting share (%)"),
        help_text=_("The manager of record keeps the rest: the two add up to 100%."),
    )
    start_date = forms.DateField(label=_("From"), widget=date_widget(), required=False)
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any active client manager of the bank may assist (a specialist elsewhere too).
        cast(ManagerChoiceField, self.fields["manager"]).queryset = all_active_managers()
        if not self.is_bound:
            self.initial.setdefault("start_date", timezone.localdate())


class SplitCreditEndForm(BootstrapFormMixin, forms.Form):
    end_date = forms.DateField(label=_("Last day of the split"), widget=date_widget(), required=False)
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "split_end")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("end_date", timezone.localdate())


class OverrideForm(BootstrapFormMixin, forms.Form):
    tier = forms.ChoiceField(label=_("Tier"))
    expires_on = forms.DateField(label=_("Until (exclusive)"), widget=date_widget())
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        levels = TierLevel.objects.filter(is_active=True).order_by("-aum_threshold")
        self.fields["tier"].choices = [(lvl.code, lvl.name) for lvl in levels] + [(NO_TIER, _("No tier"))]
        if not self.is_bound:
            self.initial.setdefault("expires_on", timezone.localdate() + datetime.timedelta(days=90))

    def tier_code(self) -> str:
        tier = self.cleaned_data["tier"]
        return "" if tier == NO_TIER else tier


class RegisterForm(BootstrapFormMixin, forms.Form):
    benefits = forms.CharField(label=_("Benefits"), max_length=200)
    registered_on = forms.DateField(
        label=_("Registered on"), widget=date_widget(), initial=timezone.localdate
    )
    reason = forms.CharField(label=_("Note"), required=False, max_length=200)


class LiquidateForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)
    liquidated_on = forms.DateField(
        label=_("Liquidated on"), widget=date_widget(), initial=timezone.localdate
    )


class BatchUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("List (.xlsx or .csv)"),
        help_text=_("Columns: customer_no, manager (employee number), reason (optional)."),
    )
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)


class BatchSearchForm(CustomerSearchForm):
    """The customer search, plus the manager to give the result to."""

    to_manager = ManagerChoiceField(
        label=_("Assign to"), queryset=User.objects.none(), to_field_name="employee_no"
    )
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)  # the filters as selects of the user's scope
        cast(ManagerChoiceField, self.fields["to_manager"]).queryset = active_managers(user)


class ProspectForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=60)
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=20)
    customer_no = forms.CharField(
        label=_("Customer number (if already a customer)"), required=False, max_length=20
    )
    source = forms.ChoiceField(label=_("Source"), choices=ProspectSource.choices)
    estimated_assets = forms.DecimalField(
        label=_("Estimated assets (CNY)"), min_value=0, max_digits=18, decimal_places=2
    )
    held_at = forms.CharField(label=_("Assets now held at"), required=False, max_length=100)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ProspectCloseForm(BootstrapFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("won", _("Won")), ("lost", _("Lost"))])
    customer_no = forms.CharField(label=_("Customer number"), required=False, max_length=20)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class LevelProposalForm(BootstrapFormMixin, forms.ModelForm):
    """The admin form of a tier level: what it saves is a proposal, never the level."""

    reason = forms.CharField(label=_("Reason for the change"), min_length=4, max_length=200)

    class Meta:
        model = TierLevel
        fields = ["code", "name", "aum_threshold", "contact_interval_days", "is_active"]


class PolicyProposalForm(BootstrapFormMixin, forms.ModelForm):
    reason = forms.CharField(label=_("Reason for the change"), min_length=4, max_length=200)

    class Meta:
        model = TierPolicy
        fields = [
            "window_months",
            "observation_months",
            "potential_distance_pct",
            "growth_pct",
            "growth_min_aum",
            "major_share_pct",
            "major_contact_interval_days",
            "override_max_days",
            "share_max_days",
        ]


class TickedIdsField(forms.Field):
    """The ids of the rows ticked on a page (`<input type="checkbox" name=... value=id>`)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("A ticked row is not one of this page: reload it and tick again.")}

    def to_python(self, value) -> list[int]:
        try:
            ids = {int(v) for v in value or []}
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(not 0 < pk < 2**31 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted(ids)


class BulkDecisionForm(forms.Form):
    """The requests ticked on the approvals page and the one decision on them (the
    service, `vip.services.approvals_decide`, wants something ticked and a reason
    to reject)."""

    transfer = TickedIdsField(required=False)
    proposal = TickedIdsField(required=False)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
