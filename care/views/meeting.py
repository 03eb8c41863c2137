"""The branch morning meeting page (晨会): /care/meeting/?date=YYYY-MM-DD&branch=code.
A branch head's, for their subtree or a branch in it; printable."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, user_roles, visible_branches

from ..selectors.meeting import meeting_branch, morning_meeting


class MeetingForm(forms.Form):
    date = forms.DateField(
        label=_("Meeting date"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        error_messages={"invalid": _("Give the date as YYYY-MM-DD, e.g. 2026-12-07.")},
    )
    branch = forms.CharField(label=_("Branch"), required=False, max_length=20)

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data.get("date") or timezone.localdate()
        if day > timezone.localdate():
            raise forms.ValidationError(_("A morning meeting cannot be held on a day still to come."))
        return day


class MeetingView(View):
    template_name = "care/meeting/meeting.html"

    def get(self, request):
        user = request.user
        if Role.BRANCH_HEAD not in user_roles(user) or data_scope(user).kind is not ScopeKind.SUBTREE:
            raise PermissionDenied
        form = MeetingForm(request.GET or None)
        if request.GET and not form.is_valid():
            return render(request, self.template_name, {"form": form, "meeting": None}, status=400)
        data = form.cleaned_data if request.GET else {}
        day = data.get("date") or timezone.localdate()
        branch = meeting_branch(user, data.get("branch"))
        if branch is None:
            raise Http404
        meeting = morning_meeting(user, day, branch)
        if not request.GET:
            form = MeetingForm(initial={"date": day, "branch": branch.code})
        # the branches of the head's subtree, to choose from
        branches = visible_branches(user).order_by("path")
        return render(
            request, self.template_name, {"form": form, "meeting": meeting, "branches": list(branches)}
        )


urlpatterns = [
    path("meeting/", MeetingView.as_view(), name="meeting"),
]
