"""The pages of a change of a user's roles and branch (accounts.user_changes): the
form on the user's page, the list of pending changes, and the decisions on them.
Each view calls a service; the services refuse, the views report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST

from core.forms import BootstrapFormMixin, add_service_errors
from core.listing import Sorting, paginate

from . import selectors, user_changes
from .models import Branch, User, UserChangeRequest, UserStatus
from .roles import Role
from .scope import visible_branches


def user_visible_or_404(viewer: User, pk: int) -> User:
    """A user outside the viewer's scope does not exist for them."""
    try:
        return selectors.user_list(viewer=viewer).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


class UserChangeForm(BootstrapFormMixin, forms.Form):
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("New roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    branch = forms.ModelChoiceField(label=gettext_lazy("New branch"), queryset=Branch.objects.none())
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def __init__(self, *args, viewer: User, subject: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {"roles": [g.name for g in subject.groups.all()], "branch": subject.branch_id},
        )
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(viewer).filter(is_active=True)  # type: ignore[attr-defined]


def _change_rows(viewer: User, changes) -> list[dict[str, Any]]:
    may_decide = viewer.has_perm(user_changes.APPROVE_PERMISSION)
    return [
        {
            "change": change,
            "old_roles": user_changes.roles_text(change.old_roles),
            "new_roles": user_changes.roles_text(change.roles),
            "can_decide": may_decide
            and change.is_pending
            and not change.is_proposed_by(viewer)
            and change.user_id != viewer.pk,
            "can_withdraw": change.is_pending and change.is_proposed_by(viewer),
        }
        for change in changes
    ]


def may_request_change(viewer: User, subject: User) -> bool:
    return (
        viewer.has_perm(user_changes.REQUEST_PERMISSION)
        and subject.pk != viewer.pk
        and subject.status == UserStatus.ACTIVE
    )


def detail_context(request, subject: User) -> dict[str, Any]:
    """What the user's page shows of changes of their roles and branch."""
    viewer = request.user
    pending = list(user_changes.user_change_list(viewer=viewer, user=subject))
    may_request = may_request_change(viewer, subject) and not pending
    return {
        "user_changes": _change_rows(viewer, pending),
        "change_form": UserChangeForm(viewer=viewer, subject=subject) if may_request else None,
    }


def _submitted_message(change: UserChangeRequest) -> str:
    return _(
        "Change of %(name)s's roles to %(roles)s at %(branch)s submitted; "
        "waiting for another administrator's approval."
    ) % {
        "name": change.user.get_full_name(),
        "roles": user_changes.roles_text(change.roles),
        "branch": change.branch.name,
    }


class UserChangeView(PermissionRequiredMixin, View):
    """Ask for a change of a user's roles and branch."""

    permission_required = user_changes.REQUEST_PERMISSION
    template_name = "accounts/user_change.html"

    def _render(self, request, subject: User, form: UserChangeForm, *, has_customers=False, status=200):
        return render(
            request,
            self.template_name,
            {
                "subject": subject,
                "form": form,
                "has_customers": has_customers,
                "handover_pages": user_changes.handover_pages(request.user) if has_customers else [],
            },
            status=status,
        )

    def get(self, request, pk: int):
        subject = user_visible_or_404(request.user, pk)
        return self._render(request, subject, UserChangeForm(viewer=request.user, subject=subject))

    def post(self, request, pk: int):
        subject = user_visible_or_404(request.user, pk)
        form = UserChangeForm(request.POST, viewer=request.user, subject=subject)
        if not form.is_valid():
            return self._render(request, subject, form, status=400)
        try:
            change = user_changes.user_change_request(
                user=subject, requested_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            codes = {error.code for error in exc.error_list} if not hasattr(exc, "error_dict") else set()
            return self._render(request, subject, form, has_customers="has_customers" in codes, status=400)
        messages.success(request, _submitted_message(change))
        return redirect("accounts:user_detail", pk=subject.pk)


CHANGE_SORTING = Sorting(
    {
        "requested": ("proposed_at",),
        "user": ("user__display_name", "user__username"),
        "branch": ("branch__path", "-proposed_at"),
    },
    default="-requested",
)


class UserChangeListView(PermissionRequiredMixin, View):
    """The changes of users' roles and branch waiting for a decision, a page at a time,
    by the column asked for (the latest requested first)."""

    permission_required = user_changes.APPROVE_PERMISSION

    def get(self, request):
        changes = CHANGE_SORTING.apply(request, user_changes.user_change_list(viewer=request.user))
        page = paginate(request, changes)
        return render(
            request,
            "accounts/user_change_list.html",
            {
                "page_obj": page,
                "rows": _change_rows(request.user, page.object_list),
                "sort": CHANGE_SORTING.key(request),
            },
        )


@method_decorator(require_POST, name="dispatch")
class UserChangeDecisionView(View):
    """approve / reject / withdraw: each a service call that checks the permission
    and the state; back to the list or the user's page."""

    action = ""

    def post(self, request, pk: int):
        try:
            change = user_changes.user_change_list(viewer=request.user, pending=False).get(pk=pk)
        except UserChangeRequest.DoesNotExist:
            raise Http404 from None
        name = change.user.get_full_name()
        try:
            if self.action == "approve":
                change = user_changes.user_change_approve(change=change, approved_by=request.user)
                messages.success(
                    request,
                    _("%(name)s now has the roles %(roles)s at %(branch)s.")
                    % {
                        "name": name,
                        "roles": user_changes.roles_text(change.roles),
                        "branch": change.branch.name,
                    },
                )
            elif self.action == "reject":
                user_changes.user_change_reject(
                    change=change, rejected_by=request.user, reason=request.POST.get("reason", "")
                )
                messages.success(
                    request, _("Change of %(name)s's roles or branch rejected.") % {"name": name}
                )
            elif self.action == "withdraw":
                user_changes.user_change_withdraw(change=change, by=request.user)
                messages.success(
                    request, _("Change of %(name)s's roles or branch withdrawn.") % {"name": name}
                )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        if request.POST.get("back") == "list":
            return redirect("accounts:user_change_list")
        return redirect("accounts:user_detail", pk=change.user_id)
