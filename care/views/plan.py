"""Pages of the work plan (calendar, plan items), the visit journal and own
reminders. Thin: the forms check what is typed, the services write (and check the
scope again), the selectors read from `visible_to(user)`."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.scope import ScopeKind, data_scope
from core.forms import add_service_errors
from core.listing import Sorting, paginate
from customers.masking import mask_name
from customers.permissions import access_customer

from ..choices import JournalKind, PlanKind, PlanRecurrence
from ..forms.plan import CompleteForm, JournalEntryForm, JournalFilterForm, OwnReminderForm, PlanItemForm
from ..models import Alert
from ..selectors import plan as selectors
from ..services import plan as services

JOURNAL_PAGE = 25
JOURNAL_SORTING = Sorting(
    {
        "when": ("visited_at",),
        "customer": ("customer__name", "-visited_at"),
        "kind": ("kind", "-visited_at"),
        "purpose": ("purpose", "-visited_at"),
        "manager": ("manager__display_name", "-visited_at"),
    },
    default="-when",
)
NO_CUSTOMER = gettext_lazy("No customer with this number in your scope.")


def _calendar_url(day: datetime.date) -> str:
    return f"{reverse('care:calendar')}?{urlencode({'week': selectors.week_value(day)})}"


def _customer_or_error(request, form, customer_no: str):
    """The customer of a typed number in the user's scope, or None with the form's error."""
    if not customer_no:
        return None
    try:
        return access_customer(request.user, customer_no, for_change=False)
    except Http404:
        form.add_error("customer_no", NO_CUSTOMER)
        return None


class CalendarView(PermissionRequiredMixin, View):
    """The week (?week=2026-W23) or month (?month=2026-06) of a plan; a branch head
    reads a team member's with ?manager=<employee number>."""

    permission_required = "care.view_planitem"

    def get(self, request):
        today = timezone.localdate()
        owner = request.user
        if request.GET.get("manager"):
            owner = selectors.team_member(request.user, request.GET["manager"])
        status, error = 200, ""
        month, week = request.GET.get("month"), request.GET.get("week")
        try:
            if month or request.GET.get("view") == "month":
                first = selectors.parse_month(month) if month else today.replace(day=1)
                page = selectors.calendar_month(user=request.user, first=first, owner=owner)
            else:
                monday = (
                    selectors.parse_week(week) if week else today - datetime.timedelta(days=today.weekday())
                )
                page = selectors.calendar_week(user=request.user, monday=monday, owner=owner)
        except ValueError:
            status, error = 400, _("Not a week or a month: showing this week.")
            monday = today - datetime.timedelta(days=today.weekday())
            page = selectors.calendar_week(user=request.user, monday=monday, owner=owner)
        return render(
            request,
            "care/plan/calendar.html",
            {
                "page": page,
                "error": error,
                "own": owner.pk == request.user.pk,
                "this_week": selectors.week_value(today),
                "this_month": selectors.month_value(today),
                "manager": "" if owner.pk == request.user.pk else owner.employee_no,
            },
            status=status,
        )


def _item_words(item) -> dict:
    """What an answer about a plan item names: its title and its day."""
    return {"title": item.title, "date": item.start_date.isoformat()}


def _item_kwargs(data: dict) -> dict:
    return {
        "kind": data["kind"],
        "title": data["title"],
        "start_date": data["start_date"],
        "start_time": data.get("start_time"),
        "end_time": data.get("end_time"),
        "recurrence": data["recurrence"],
        "recur_until": data.get("recur_until"),
        "notes": data.get("notes") or "",
    }


class PlanCreateView(PermissionRequiredMixin, View):
    """Plan a visit, a call or a to-do; from an alert or a customer
    (?customer=<customer number>&alert=<alert id>) the form comes filled in."""

    permission_required = "care.add_planitem"

    def _alert(self, request, pk) -> Alert:
        try:
            return Alert.objects.visible_to(request.user).select_related("customer").get(pk=int(pk))
        except (Alert.DoesNotExist, ValueError, TypeError):
            raise Http404 from None

    def get(self, request):
        today = timezone.localdate()
        initial: dict = {"kind": PlanKind.VISIT, "recurrence": PlanRecurrence.NONE, "start_date": today}
        customer = alert = None
        if request.GET.get("alert"):
            alert = self._alert(request, request.GET["alert"])
            initial["alert"] = alert.pk
            initial["title"] = alert.get_kind_display()
            initial["start_date"] = max(alert.due_date, today)
            customer = alert.customer
        if request.GET.get("customer"):
            customer = access_customer(request.user, request.GET["customer"], for_change=False)
            if alert is not None and alert.customer_id not in (None, customer.pk):
                raise Http404
        if customer is not None:
            initial["customer_no"] = customer.customer_no
            initial.setdefault("title", _("Visit"))
        form = PlanItemForm(initial=initial)
        return render(
            request, "care/plan/plan_form.html", {"form": form, "customer": customer, "alert": alert}
        )

    def post(self, request):
        form = PlanItemForm(request.POST)
        alert = customer = None
        if form.is_valid():
            data = form.cleaned_data
            customer = _customer_or_error(request, form, data["customer_no"].strip())
            if data.get("alert"):
                alert = Alert.objects.visible_to(request.user).filter(pk=data["alert"]).first()
                if alert is None:
                    form.add_error(None, _("This alert is not in your scope."))
        if form.is_valid():
            try:
                item = services.plan_item_create(
                    owner=request.user, customer=customer, alert=alert, **_item_kwargs(form.cleaned_data)
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("“%(title)s” on %(date)s is in your plan.") % _item_words(item))
                return redirect(_calendar_url(item.start_date))
        return render(
            request,
            "care/plan/plan_form.html",
            {"form": form, "customer": customer, "alert": alert},
            status=400,
        )


class PlanEditView(PermissionRequiredMixin, View):
    permission_required = "care.change_planitem"

    def get(self, request, pk):
        item = selectors.access_plan_item(request.user, pk, for_change=True)
        initial = {
            "kind": item.kind,
            "customer_no": item.customer.customer_no if item.customer else "",
            "title": item.title,
            "start_date": item.start_date,
            "start_time": item.start_time,
            "end_time": item.end_time,
            "recurrence": item.recurrence,
            "recur_until": item.recur_until,
            "notes": item.notes,
        }
        return render(
            request, "care/plan/plan_form.html", {"form": PlanItemForm(initial=initial), "item": item}
        )

    def post(self, request, pk):
        item = selectors.access_plan_item(request.user, pk, for_change=True)
        form = PlanItemForm(request.POST)
        customer = None
        if form.is_valid():
            customer = _customer_or_error(request, form, form.cleaned_data["customer_no"].strip())
        if form.is_valid():
            try:
                item = services.plan_item_update(
                    item=item, by=request.user, customer=customer, **_item_kwargs(form.cleaned_data)
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("“%(title)s” on %(date)s is saved.") % _item_words(item))
                return redirect(_calendar_url(item.start_date))
        return render(request, "care/plan/plan_form.html", {"form": form, "item": item}, status=400)


class PlanDoneView(PermissionRequiredMixin, View):
    """Done: a one-off item, or one occurrence (?on= / on=) of a recurring one."""

    permission_required = "care.change_planitem"

    def post(self, request, pk):
        item = selectors.access_plan_item(request.user, pk, for_change=True)
        form = CompleteForm(request.POST)
        on = form.cleaned_data.get("on") if form.is_valid() else None
        try:
            services.plan_item_complete(item=item, by=request.user, on=on)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("“%(title)s” on %(date)s is marked as done.")
                % {"title": item.title, "date": (on or item.start_date).isoformat()},
            )
        return redirect(_calendar_url(on or item.start_date))


class PlanCancelView(PermissionRequiredMixin, View):
    permission_required = "care.change_planitem"

    def post(self, request, pk):
        item = selectors.access_plan_item(request.user, pk, for_change=True)
        services.plan_item_cancel(item=item, by=request.user)
        messages.success(
            request, _("“%(title)s” on %(date)s is cancelled: it is off your plan.") % _item_words(item)
        )
        return redirect(_calendar_url(max(item.start_date, timezone.localdate())))


class OwnReminderCreateView(PermissionRequiredMixin, View):
    """A reminder the manager sets for themselves (?customer=<customer number>)."""

    permission_required = "care.add_alert"

    def get(self, request):
        initial: dict = {"on": timezone.localdate() + datetime.timedelta(days=1)}
        customer = None
        if request.GET.get("customer"):
            customer = access_customer(request.user, request.GET["customer"], for_change=False)
            initial["customer_no"] = customer.customer_no
        form = OwnReminderForm(initial=initial)
        return render(request, "care/plan/own_reminder_form.html", {"form": form, "customer": customer})

    def post(self, request):
        form = OwnReminderForm(request.POST)
        customer = None
        if form.is_valid():
            customer = _customer_or_error(request, form, form.cleaned_data["customer_no"].strip())
        if form.is_valid():
            try:
                alert = services.own_reminder_create(
                    manager=request.user,
                    customer=customer,
                    on=form.cleaned_data["on"],
                    text=form.cleaned_data["text"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("You will be reminded on %(date)s: %(text)s")
                    % {"date": alert.due_date.isoformat(), "text": form.cleaned_data["text"]},
                )
                return redirect(_calendar_url(alert.due_date))
        return render(
            request, "care/plan/own_reminder_form.html", {"form": form, "customer": customer}, status=400
        )


class JournalListView(PermissionRequiredMixin, View):
    """The visit journal: a client manager's own, a branch head's team's (one
    manager's with ?manager=<employee number>); by day range, customer, purpose."""

    permission_required = "care.view_journalentry"

    def get(self, request):
        today = timezone.localdate()
        team = data_scope(request.user).kind in (ScopeKind.SUBTREE, ScopeKind.ALL)
        managers = (
            list(
                selectors.team_members(request.user)
                .select_related("branch")
                .order_by("branch__path", "display_name")
            )
            if team
            else None
        )
        form = JournalFilterForm(request.GET or None, managers=managers)
        filters: dict = {}
        status = 200
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            filters = {
                "date_from": data.get("date_from"),
                "date_to": data.get("date_to"),
                "customer_no": (data.get("customer_no") or "").strip(),
                "purpose": data.get("purpose") or "",
                "manager": data.get("manager"),
            }
        if form.is_bound and not form.is_valid():
            status = 400
            entries = selectors.journal_list(user=request.user).none()
        else:
            entries = selectors.journal_list(user=request.user, **filters)
        entries = JOURNAL_SORTING.apply(request, entries)
        page = paginate(request, entries, default_size=JOURNAL_PAGE)
        monday = today - datetime.timedelta(days=today.weekday())
        return render(
            request,
            "care/plan/journal_list.html",
            {
                "form": form,
                "page_obj": page,
                "team": team,
                "sort": JOURNAL_SORTING.key(request),
                "today": today.isoformat(),
                "week_from": monday.isoformat(),
                "week_to": (monday + datetime.timedelta(days=6)).isoformat(),
            },
            status=status,
        )


class JournalCreateView(PermissionRequiredMixin, View):
    """Record a visit or a call (?customer=<customer number> fills the customer in)."""

    permission_required = "care.add_journalentry"

    def get(self, request):
        initial: dict = {"visited_at": timezone.localtime().replace(second=0, microsecond=0)}
        customer = None
        if request.GET.get("customer"):
            customer = access_customer(request.user, request.GET["customer"], for_change=False)
            initial["customer_no"] = customer.customer_no
        form = JournalEntryForm(initial=initial)
        return render(request, "care/plan/journal_form.html", {"form": form, "customer": customer})

    def post(self, request):
        form = JournalEntryForm(request.POST)
        customer = None
        if form.is_valid():
            customer = _customer_or_error(request, form, form.cleaned_data["customer_no"].strip())
        if form.is_valid() and customer is not None:
            data = form.cleaned_data
            try:
                services.journal_entry_create(
                    manager=request.user,
                    customer=customer,
                    kind=data["kind"],
                    visited_at=data["visited_at"],
                    purpose=data["purpose"],
                    products=data["products"],
                    feedback=data.get("feedback") or "",
                    next_step=data.get("next_step") or "",
                    next_step_date=data.get("next_step_date"),
                    confidential=data["confidential"],
                    satisfaction=data.get("satisfaction"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                words = {
                    "kind": JournalKind(data["kind"]).label,
                    "name": mask_name(customer.name),
                    "no": customer.customer_no,
                    "when": timezone.localtime(data["visited_at"]).strftime("%Y-%m-%d %H:%M"),
                }
                if data.get("next_step_date"):
                    words["date"] = data["next_step_date"].isoformat()
                    messages.success(
                        request,
                        _(
                            "%(kind)s with %(name)s (%(no)s) on %(when)s recorded; the next step is in "
                            "your plan on %(date)s."
                        )
                        % words,
                    )
                else:
                    messages.success(
                        request, _("%(kind)s with %(name)s (%(no)s) on %(when)s recorded.") % words
                    )
                return redirect("care:journal")
        return render(
            request, "care/plan/journal_form.html", {"form": form, "customer": customer}, status=400
        )


urlpatterns = [
    path("plan/", CalendarView.as_view(), name="calendar"),
    path("plan/new/", PlanCreateView.as_view(), name="plan_new"),
    path("plan/<int:pk>/edit/", PlanEditView.as_view(), name="plan_edit"),
    path("plan/<int:pk>/done/", PlanDoneView.as_view(), name="plan_done"),
    path("plan/<int:pk>/cancel/", PlanCancelView.as_view(), name="plan_cancel"),
    path("reminders/new/", OwnReminderCreateView.as_view(), name="own_reminder_new"),
    path("journal/", JournalListView.as_view(), name="journal"),
    path("journal/new/", JournalCreateView.as_view(), name="journal_new"),
]
