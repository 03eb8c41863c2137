from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin

from .models import Branch, User, UserStatus
from .roles import Role


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Wrong username or password, or the account is not active yet. "
            "Repeated failures lock the account for a while."
        ),
        "inactive": _("This account is not active."),
    }


class UserRequestForm(BootstrapFormMixin, forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    employee_no = forms.RegexField(label=_("Employee number"), max_length=20, regex=r"^[A-Za-z0-9]+$")
    display_name = forms.CharField(label=_("Display name"), max_length=60)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    mobile = forms.RegexField(label=_("Mobile"), regex=r"^1[3-9]\d{9}$", required=False)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        help_text=password_validators_help_text_html(),
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches if branches is not None else Branch.objects.none()

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean_employee_no(self):
        employee_no = self.cleaned_data["employee_no"].upper()
        if User.objects.filter(employee_no=employee_no).exists():
            raise forms.ValidationError(_("This employee number already has an account."))
        return employee_no


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class UserFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(UserStatus.choices)
    )
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All"))] + list(Role.choices))
