from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from core.listing import Sorting, paginate

from . import selectors, services
from .audit import Action, audit
from .forms import LoginForm, ReasonForm, UserFilterForm, UserRequestForm
from .models import Branch, User, UserStatus
from .roles import Role, role_label
from .scope import visible_branches
from .user_change_views import detail_context as user_change_context


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            User.objects.filter(pk=user.pk).update(must_change_password=False)
        audit(Action.PASSWORD_CHANGED, actor=user, target=user, request=self.request)
        messages.success(self.request, _("Your password has been changed."))
        return response


def user_visible_or_404(viewer: User, pk: int) -> User:
    """A user outside the viewer's scope does not exist for them."""
    try:
        return selectors.user_list(viewer=viewer).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


class UserListFilterForm(UserFilterForm):
    """The users list's filters: every select labelled with a worded "all" first, and
    the branch among those the viewer may see (any other is refused with a message)."""

    branch = forms.ModelChoiceField(
        label=gettext_lazy("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=gettext_lazy("All branches"),
        error_messages={
            "invalid_choice": gettext_lazy("This branch is not one you may see: choose one from the list.")
        },
    )

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        status, role = self.fields["status"], self.fields["role"]
        assert isinstance(status, forms.ChoiceField) and isinstance(role, forms.ChoiceField)
        status.choices = [("", gettext_lazy("All statuses")), *UserStatus.choices]
        role.choices = [("", gettext_lazy("All roles")), *Role.choices]
        branch = self.fields["branch"]
        assert isinstance(branch, forms.ModelChoiceField)
        branches = list(visible_branches(viewer).order_by("path"))
        top = min((b.level for b in branches), default=0)
        branch.queryset = visible_branches(viewer).order_by("path")
        # read once for the choices, indented under their parent from the viewer's top branch
        branch.choices = [
            ("", branch.empty_label),
            *((b.code, f"{'· ' * (b.level - top)}{b.name}") for b in branches),
        ]


USER_SORTING = Sorting(
    {
        "username": ("username",),
        "name": ("display_name", "username"),
        "employee_no": ("employee_no",),
        "branch": ("branch__path", "username"),
        "status": ("status", "username"),
    },
    default="status",
)


class UserListView(PermissionRequiredMixin, View):
    """The users the viewer may see, by name, status, role and branch, a page at a time."""

    permission_required = "accounts.view_user"

    def get(self, request):
        form = UserListFilterForm(request.GET or None, viewer=request.user)
        status = 200
        users = selectors.user_list(viewer=request.user)
        if form.is_bound and not form.is_valid():
            status = 400
            users = users.none()
        elif form.is_bound:
            data = form.cleaned_data
            users = selectors.user_list(
                viewer=request.user,
                q=(data.get("q") or "").strip(),
                status=data.get("status") or "",
                role=data.get("role") or "",
            )
            if data.get("branch") is not None:
                users = users.filter(branch__path__startswith=data["branch"].path)
        page = paginate(request, USER_SORTING.apply(request, users))
        context = {
            "filter_form": form,
            "page_obj": page,
            "users": page.object_list,
            "is_paginated": page.has_other_pages(),
            "sort": USER_SORTING.key(request),
            "pending_count": selectors.user_list(viewer=request.user, status=UserStatus.PENDING).count(),
        }
        return render(request, "accounts/user_list.html", context, status=status)


class UserRequestView(PermissionRequiredMixin, FormView):
    permission_required = "accounts.request_user"
    template_name = "accounts/user_request.html"
    form_class = UserRequestForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["branches"] = visible_branches(self.request.user)
        return kwargs

    def form_valid(self, form):
        try:
            user = services.user_request(requested_by=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Account %(username)s requested; it needs another person's approval.")
            % {"username": user.username},
        )
        return redirect("accounts:user_detail", pk=user.pk)


class UserDetailView(PermissionRequiredMixin, View):
    permission_required = "accounts.view_user"

    def get(self, request, pk):
        user = user_visible_or_404(request.user, pk)
        return render(
            request,
            "accounts/user_detail.html",
            {
                "subject": user,
                "roles": [role_label(g.name) for g in user.groups.all()],
                "reason_form": ReasonForm(),
                "can_approve": user.status == UserStatus.PENDING
                and request.user.has_perm("accounts.approve_user")
                and not user.is_proposed_by(request.user),
                "can_disable": user.status != UserStatus.DISABLED
                and request.user.has_perm("accounts.disable_user")
                and user.pk != request.user.pk,
                "can_reactivate": user.status in (UserStatus.DISABLED, UserStatus.REJECTED)
                and request.user.has_perm("accounts.request_user"),
                **user_change_context(request, user),
            },
        )


@method_decorator(require_POST, name="dispatch")
class UserActionView(View):
    """approve / reject / disable / reactivate: each a service call; the service
    checks the permission and the state, the view only reports."""

    action = ""

    def post(self, request, pk):
        subject = user_visible_or_404(request.user, pk)
        form = ReasonForm(request.POST)
        reason = form.data.get("reason", "")
        who = {"name": subject.display_name or subject.username, "username": subject.username}
        try:
            if self.action == "approve":
                services.user_approve(user=subject, approved_by=request.user)
                messages.success(
                    request, _("The account of %(name)s (%(username)s) is approved: they may log in.") % who
                )
            elif self.action == "reject":
                services.user_reject(user=subject, rejected_by=request.user, reason=reason)
                messages.success(request, _("The account of %(name)s (%(username)s) is rejected.") % who)
            elif self.action == "disable":
                services.user_disable(user=subject, disabled_by=request.user, reason=reason)
                messages.success(
                    request,
                    _("The account of %(name)s (%(username)s) is disabled; its sessions have ended.") % who,
                )
            elif self.action == "reactivate":
                services.user_request_reactivation(user=subject, requested_by=request.user)
                messages.success(
                    request,
                    _(
                        "Reactivation of the account of %(name)s (%(username)s) requested; "
                        "it needs another person's approval."
                    )
                    % who,
                )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(reverse("accounts:user_detail", args=[pk]))
