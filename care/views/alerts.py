"""Pages of alerts: the list (filters, a page with its position), one alert with
the forms that work it (done with an outcome, snooze, dismiss, hand over), and the
home page's panel of alerts due. Thin: the forms check what is typed, the services
decide who may act (and refuse anyone else), the selectors read from
`Alert.objects.visible_to(user)`."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import User
from accounts.scope import ScopeKind, data_scope
from core.forms import add_service_errors
from core.listing import Sorting, paginate
from customers.masking import mask_name
from vip.selectors.books import managers_in_scope

from ..choices import AlertOutcome
from ..forms.alerts import (
    AlertDismissForm,
    AlertDoneForm,
    AlertFilterForm,
    AlertHandOverForm,
    AlertSnoozeForm,
)
from ..selectors import alerts as selectors
from ..services import alerts as services

PAGE = 25
# The columns the list sorts by; without a choice the selector's order stands (open
# alerts the most pressing first, closed ones the latest closed first).
SORTING = Sorting(
    {
        "due": ("due_date", "priority"),
        "priority": ("priority", "due_date"),
        "kind": ("kind", "due_date"),
        "customer": ("customer__customer_no",),
        "assignee": ("assignee__display_name", "due_date"),
        "status": ("status", "due_date"),
    },
    default="due",
)


def alert_subject(alert) -> str:
    """What an action's answer names: the alert's kind and its customer (masked)."""
    kind = alert.get_kind_display()
    if alert.customer_id is None:
        return str(kind)
    customer = alert.customer
    return _("%(kind)s of %(name)s (%(no)s)") % {
        "kind": kind,
        "name": mask_name(customer.name),
        "no": customer.customer_no,
    }


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _may_hand_over(user: User) -> bool:
    return user.has_perm("care.hand_over_alert") and data_scope(user).kind is ScopeKind.SUBTREE


class AlertListView(PermissionRequiredMixin, View):
    """The user's alerts: open ones by due date by default; filters by kind, status,
    priority, due (overdue, today, this week), manager (for a branch head or head
    office) and customer number."""

    permission_required = "care.view_alert"

    def get(self, request):
        day = timezone.localdate()
        team = data_scope(request.user).kind in (ScopeKind.SUBTREE, ScopeKind.ALL)
        managers = (
            list(managers_in_scope(request.user).order_by("branch__path", "display_name", "employee_no"))
            if team
            else None
        )
        form = AlertFilterForm(request.GET or None, managers=managers)
        status = 200
        sort = ""
        if form.is_bound and not form.is_valid():
            page_obj = paginate(request, [], default_size=PAGE)
            rows: list = []
            status = 400
        else:
            values = form.cleaned_data if form.is_bound else {}
            alerts = selectors.alert_list(
                user=request.user,
                day=day,
                kind=values.get("kind") or "",
                status=values.get("status") or "open",
                priority=values.get("priority"),
                due=values.get("due") or "",
                manager=values.get("manager") or "",
                customer_no=values.get("q") or "",
            )
            if request.GET.get("sort"):
                sort = SORTING.key(request)
                alerts = SORTING.apply(request, alerts)
            page_obj = paginate(request, selectors.shown_columns(alerts), default_size=PAGE)
            rows = selectors.alert_rows(request.user, list(page_obj.object_list), day)
        return render(
            request,
            "care/alerts/alert_list.html",
            {
                "form": form,
                "page_obj": page_obj,
                "rows": rows,
                "today": day,
                "sort": sort,
                "filtered": any(v for k, v in request.GET.items() if k not in ("page", "size", "sort")),
            },
            status=status,
        )


class AlertDetailView(PermissionRequiredMixin, View):
    """One alert: its reason and figures, and the forms of what the user may do."""

    permission_required = "care.view_alert"

    def context(self, request, alert, **forms) -> dict:
        day = timezone.localdate()
        row = selectors.alert_detail(request.user, alert, day)
        hand_over = _may_hand_over(request.user) and row.is_open
        candidates = list(services.hand_over_candidates(request.user)) if hand_over else []
        return {
            "row": row,
            "alert": alert,
            "today": day,
            "snooze_limit": services.snooze_limit(alert, day),
            "done_form": forms.get("done_form") or AlertDoneForm(),
            "snooze_form": forms.get("snooze_form") or AlertSnoozeForm(),
            "dismiss_form": forms.get("dismiss_form") or AlertDismissForm(),
            "hand_over_form": forms.get("hand_over_form") or AlertHandOverForm(candidates=candidates),
            "may_hand_over": hand_over,
            "plan_url": (
                reverse("care:plan_new")
                + "?"
                + urlencode({"customer": alert.customer.customer_no, "alert": alert.pk})
                if alert.customer_id
                else ""
            ),
        }

    def get(self, request, pk: int):
        alert = selectors.access_alert(request.user, pk, for_change=False)
        return render(request, "care/alerts/alert_detail.html", self.context(request, alert))


class _AlertActionView(PermissionRequiredMixin, View):
    """POST one small form; on success back to `next` (or the alert), on bad input
    the alert's page again with the form's errors (400)."""

    permission_required = "care.change_alert"
    form_class: type = AlertDoneForm
    form_name = "done_form"
    done_message = ""

    def make_form(self, request, alert):
        return self.form_class(request.POST)

    def act(self, request, alert, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        alert = selectors.access_alert(request.user, pk, for_change=True)
        form = self.make_form(request, alert)
        if form.is_valid():
            try:
                self.act(request, alert, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied:
                raise
            else:
                messages.success(request, self.done_message)
                return redirect(_next_or(request, reverse("care:alert_detail", args=[alert.pk])))
        context = AlertDetailView().context(request, alert, **{self.form_name: form})
        return render(request, "care/alerts/alert_detail.html", context, status=400)


class AlertDoneView(_AlertActionView):
    form_class = AlertDoneForm
    form_name = "done_form"

    def act(self, request, alert, data) -> None:
        self.done_message = _("%(alert)s is done: %(outcome)s.") % {
            "alert": alert_subject(alert),
            "outcome": AlertOutcome(data["outcome"]).label,
        }
        services.alert_done(
            alert=alert, by=request.user, outcome=data["outcome"], note=data["note"], channel=data["channel"]
        )


class AlertSnoozeView(_AlertActionView):
    form_class = AlertSnoozeForm
    form_name = "snooze_form"

    def act(self, request, alert, data) -> None:
        self.done_message = _("%(alert)s is snoozed until %(date)s.") % {
            "alert": alert_subject(alert),
            "date": data["until"].isoformat(),
        }
        services.alert_snooze(alert=alert, by=request.user, until=data["until"])


class AlertDismissView(_AlertActionView):
    form_class = AlertDismissForm
    form_name = "dismiss_form"

    def act(self, request, alert, data) -> None:
        self.done_message = _("%(alert)s is dismissed: %(reason)s") % {
            "alert": alert_subject(alert),
            "reason": data["reason"],
        }
        services.alert_dismiss(alert=alert, by=request.user, reason=data["reason"])


class AlertHandOverView(_AlertActionView):
    permission_required = "care.hand_over_alert"
    form_class = AlertHandOverForm
    form_name = "hand_over_form"

    def make_form(self, request, alert):
        self.candidates = {u.employee_no: u for u in services.hand_over_candidates(request.user)}
        return AlertHandOverForm(request.POST, candidates=self.candidates.values())

    def act(self, request, alert, data) -> None:
        to_manager = self.candidates[data["to_manager"]]
        self.done_message = _("%(alert)s is handed over to %(name)s.") % {
            "alert": alert_subject(alert),
            "name": to_manager.display_name or to_manager.get_full_name() or to_manager.username,
        }
        services.alert_hand_over(alert=alert, by=request.user, to_manager=to_manager, reason=data["reason"])


class AlertsDuePanelView(View):
    """The home page's panel of alerts due (loaded by htmx after the page)."""

    def get(self, request):
        if not request.user.has_perm("care.view_alert"):
            return render(request, "care/alerts/_due_panel.html", {"rows": [], "total": 0, "hidden": True})
        rows, total = selectors.alerts_due(request.user, timezone.localdate(), limit=8)
        return render(request, "care/alerts/_due_panel.html", {"rows": rows, "total": total})


urlpatterns = [
    path("alerts/", AlertListView.as_view(), name="alert_list"),
    path("alerts/panel/", AlertsDuePanelView.as_view(), name="alerts_panel"),
    path("alerts/<int:pk>/", AlertDetailView.as_view(), name="alert_detail"),
    path("alerts/<int:pk>/done/", AlertDoneView.as_view(), name="alert_done"),
    path("alerts/<int:pk>/snooze/", AlertSnoozeView.as_view(), name="alert_snooze"),
    path("alerts/<int:pk>/dismiss/", AlertDismissView.as_view(), name="alert_dismiss"),
    path("alerts/<int:pk>/hand-over/", AlertHandOverView.as_view(), name="alert_hand_over"),
]
