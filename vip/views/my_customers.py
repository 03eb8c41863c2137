"""A manager's book and the reminders beside it (also the home page's panel)."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from core.views import ScopedView
from customers.models import Customer

from .. import selectors, services
from ..filters import BookFilterSet
from ..permissions import access_manager, access_reminder
from ._common import filter_errors, next_or


class MyCustomersView(PermissionRequiredMixin, ScopedView):
    """A manager's book by tier, with the last contact and the next one due. A
    branch head or head office may open any manager's book in their scope."""

    permission_required = "customers.view_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        filters = BookFilterSet(request.GET, queryset=self.queryset)
        params = filters.params
        manager = request.user
        employee_no = (params.get("manager") or "").strip()
        if employee_no and employee_no != request.user.employee_no:
            manager = access_manager(request.user, employee_no, for_change=False)
        filter_errors(request, filters)
        book = selectors.manager_book(
            user=request.user,
            manager=manager,
            cursor=params.get("cursor", ""),
            customers=self.queryset,
            filtered=filters.qs,
        )
        reminders, reminder_total = selectors.open_reminders(request.user, limit=10, names=book.names)
        return render(
            request,
            "vip/my_customers.html",
            {
                "book": book,
                "tier": params.get("tier", ""),
                "own": manager.pk == request.user.pk,
                "reminders": reminders,
                "reminder_total": reminder_total,
                "no_tier": selectors.NO_TIER,
                "today": timezone.localdate(),
            },
        )


class RemindersPanelView(View):
    """The home page's reminders panel (loaded by htmx after the page)."""

    def get(self, request):
        reminders, total = selectors.open_reminders(request.user, limit=8)
        return render(
            request,
            "vip/panels/_reminders_body.html",
            {"reminders": reminders, "reminder_total": total, "next": reverse("home")},
        )


class ReminderDoneView(ScopedView):
    access = access_reminder

    def post(self, request, pk: int):
        reminder = self.get_object(pk, for_change=True)
        services.reminder_done(reminder=reminder, by=request.user)
        return redirect(next_or(request, reverse("vip:my_customers")))
