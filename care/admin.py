"""Alert parameters in the admin: the values in force are read-only (only an approved
proposal writes them); a parameter manager proposes new values with the proposal's
add form (every parameter, at its value in force), and someone else approves or
rejects them as list actions (through accounts.approvals.decide)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin import ProposalAdmin

from . import parameters
from .models import AlertParameterProposal, AlertParameters


@admin.register(AlertParameters)
class AlertParametersAdmin(admin.ModelAdmin):
    list_display = ("__str__", "updated_at")
    fields = ("values_table", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("values"))
    def values_table(self, obj: AlertParameters):
        values = parameters.parameter_values()
        rows = [(p.label, p.text(values[name])) for name, p in parameters.PARAMETERS.items()]
        return format_html_join("", "<div>{}: <strong>{}</strong></div>", rows)


class NumbersField(forms.CharField):
    """A list of whole numbers ("1,30,60,90"), checked as the service checks it."""

    def __init__(self, parameter: parameters.Parameter, **kwargs: Any) -> None:
        self.parameter = parameter
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return self.parameter.text(value) if isinstance(value, tuple) else value

    def clean(self, value: Any) -> Any:
        return self.parameter.clean(super().clean(value))


def _number_field(parameter: parameters.Parameter) -> forms.Field:
    if parameter.many:
        return NumbersField(parameter, label=cast(str, parameter.label))
    return forms.DecimalField(
        label=cast(str, parameter.label),
        min_value=parameter.minimum,
        max_value=parameter.maximum,
        decimal_places=2 if parameter.decimal else 0,
    )


# The add form: one field per parameter (declared, so the admin's form factory
# knows them), then the reason.
ProposeForm: type[forms.ModelForm] = type(
    "ProposeForm",
    (forms.ModelForm,),
    {
        **{name: _number_field(p) for name, p in parameters.PARAMETERS.items()},
        "Meta": type("Meta", (), {"model": AlertParameterProposal, "fields": ["reason"]}),
    },
)


@admin.register(AlertParameterProposal)
class AlertParameterProposalAdmin(ProposalAdmin):
    approval_flow = parameters.ALERT_PARAMETER_FLOW
    list_select_related = ("proposed_by", "decided_by")

    def has_add_permission(self, request):
        return request.user.has_perm(parameters.PROPOSE)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProposeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return [*parameters.PARAMETERS, "reason"] if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_changeform_initial_data(self, request) -> dict[str, Any]:
        return dict(parameters.parameter_values())

    def save_model(self, request, obj, form, change):
        request._alert_proposal = None
        current = parameters.parameter_values()
        values = {
            name: form.cleaned_data[name]
            for name in parameters.PARAMETERS
            if form.cleaned_data.get(name) is not None and form.cleaned_data[name] != current[name]
        }
        try:
            request._alert_proposal = parameters.alert_parameters_propose(
                by=request.user, values=values, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                self.message_user(request, message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass

    def log_addition(self, request, obj, message):
        pass  # the proposal is audited by the service

    def response_add(self, request, obj, post_url_continue=None):
        proposal = getattr(request, "_alert_proposal", None)
        if proposal is None:
            return HttpResponseRedirect(request.path)
        self.message_user(
            request,
            _("Proposal #%(id)s created: the parameters change when someone else approves it.")
            % {"id": proposal.pk},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:care_alertparameterproposal_change", args=[proposal.pk]))

    @admin.display(description=_("changes"))
    def summary(self, obj: AlertParameterProposal) -> str:
        return ", ".join(f"{label}: {after}" for label, _before, after in parameters.proposal_rows(obj))

    @admin.display(description=_("changes (before → after)"))
    def changes_table(self, obj: AlertParameterProposal):
        return format_html_join("", "<div>{}: {} → <strong>{}</strong></div>", parameters.proposal_rows(obj))
