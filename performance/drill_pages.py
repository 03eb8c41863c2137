"""Below a customer's row of a manager's figures: the days credited and the balances
behind them (`performance.drill`), and the disputes a manager raises from there
and a branch head decides (`performance.disputes`).

Every read starts from the user's scope: the manager's row is one the user may see
(`pages.manager_result`, else 404); the disputes listed are the user's own or, for a
branch head, those of managers in their branches."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.models import User
from accounts.people import person_choices
from accounts.scope import visible_branches
from core.listing import Sorting, paginate
from customers.masking import mask_name
from customers.models import Customer
from vip.selectors.books import managers_in_scope

from . import disputes, drill, tables
from .dispute_forms import DecisionForm, DisputeForm, DisputeListForm
from .forms import FiguresForm
from .models import Dispute, ManagerResult, Period
from .pages import BOARD_SCOPES, _FiguresPage, manager_result, pool_result
from .views import _show_errors as show_errors

PAGE_SIZE = 25
DISPUTE_SORTING = Sorting(
    {
        "raised": ("proposed_at",),
        "period": ("period__start", "-proposed_at"),
        "manager": ("proposed_by__display_name", "-proposed_at"),
        "status": ("status", "-proposed_at"),
    },
    default="-raised",
)


class DisputeFilterForm(DisputeListForm):
    """The list's filters: the status, the period and (for a branch head) the manager
    who raised it, chosen by name among the managers of their branches; any other
    manager or period is refused with a message."""

    period = forms.ChoiceField(
        label=gettext_lazy("Assessment period"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("There is no such period: choose one from the list.")},
    )
    manager = forms.ChoiceField(
        label=gettext_lazy("Manager"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("This manager is not in your branches: choose one from the list.")
        },
    )

    def __init__(self, *args, periods, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = {p.code: p for p in periods}
        period_field = self.fields["period"]
        assert isinstance(period_field, forms.ChoiceField)
        period_field.choices = [("", gettext_lazy("All periods")), *((code, code) for code in self.periods)]
        if managers is None:
            del self.fields["manager"]
        else:
            self.managers = {m.employee_no: m for m in managers if m.employee_no}
            manager_field = self.fields["manager"]
            assert isinstance(manager_field, forms.ChoiceField)
            manager_field.choices = person_choices(self.managers.values(), gettext_lazy("All managers"))

    def clean_period(self) -> Period | None:
        code = self.cleaned_data.get("period")
        return self.periods[code] if code else None

    def clean_manager(self) -> User | None:
        number = self.cleaned_data.get("manager")
        return self.managers[number] if number else None


def _may_dispute(user, result: ManagerResult) -> bool:
    return result.manager_id == user.pk and user.has_perm("performance.add_dispute")


class CustomerDaysView(_FiguresPage):
    """/performance/managers/<employee_no>/days/<customer_no>/: one customer's
    credited days, the balances of the batches standing for them, the income on
    them and, for the manager's own customer, the accounts behind the balances."""

    template_name = "performance/customer_days.html"

    def get(self, request, employee_no: str, customer_no: str, form: DisputeForm | None = None, status=200):
        figures = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not figures.is_valid():
            return self.invalid(figures)
        period, version = self.shown(figures)
        result = manager_result(request, version, employee_no)
        customer = Customer.objects.filter(customer_no=customer_no).first()
        if customer is None:
            raise Http404(_("No such customer."))
        explanation = drill.customer_explanation(request.user, result, customer.pk)
        context = self.base_context(figures, period, version)
        context.update(
            result=result,
            manager_label=tables.manager_label(result),
            explanation=explanation,
            dispute_form=(form or DisputeForm()) if _may_dispute(request.user, result) else None,
            back_url=reverse("performance:manager", args=[employee_no]),
        )
        return render(request, self.template_name, context, status=status)

    def post(self, request, employee_no: str, customer_no: str):
        """A dispute of this customer's days, by the manager whose figures these are."""
        if not request.user.has_perm("performance.add_dispute"):
            raise PermissionDenied
        figures = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not figures.is_valid():
            return self.invalid(figures)
        period, version = self.shown(figures)
        result = manager_result(request, version, employee_no)
        if not _may_dispute(request.user, result):
            raise PermissionDenied
        assert period is not None  # a manager's row has its period
        customer = get_object_or_404(Customer, customer_no=customer_no)
        form = DisputeForm(request.POST)
        if form.is_valid():
            try:
                dispute = disputes.dispute_raise(
                    by=request.user, period=period, customer=customer, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Dispute #%(n)s recorded: your branch head decides on it.") % {"n": dispute.pk},
                )
                return redirect(reverse("performance:disputes"))
        return self.get(request, employee_no, customer_no, form=form, status=400)


class PoolCustomerDaysView(_FiguresPage):
    """/performance/pools/<branch_code>/days/<customer_no>/: one customer's days in a
    branch's pool and the balances behind them (read only: a pool disputes nothing)."""

    template_name = "performance/customer_days.html"
    scopes = BOARD_SCOPES

    def get(self, request, branch_code: str, customer_no: str):
        figures = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not figures.is_valid():
            return self.invalid(figures)
        period, version = self.shown(figures)
        result = pool_result(request, version, branch_code)
        customer = Customer.objects.filter(customer_no=customer_no, home_branch_id=result.branch_id).first()
        if customer is None:
            raise Http404(_("No such customer in this pool."))
        context = self.base_context(figures, period, version)
        context.update(
            result=result,
            manager_label=tables.manager_label(result),
            explanation=drill.customer_explanation(request.user, result, customer.pk),
            dispute_form=None,
            back_url=reverse("performance:pool", args=[branch_code]),
        )
        return render(request, self.template_name, context)


class DisputesView(View):
    """/performance/disputes/: a manager's own disputes, or the disputes a branch head
    decides (managers of their branches), newest first, by status."""

    def get(self, request):
        user = request.user
        decides = user.has_perm("performance.decide_dispute")
        if not (decides or user.has_perm("performance.add_dispute")):
            raise PermissionDenied
        scoped = (
            Dispute.objects.filter(proposed_by__branch__in=visible_branches(user))
            if decides
            else Dispute.objects.filter(proposed_by=user)
        )
        # the choices: the client managers of the user's branches, the periods disputed
        managers = (
            list(managers_in_scope(user).order_by("branch__path", "display_name", "employee_no"))
            if decides
            else None
        )
        periods = Period.objects.filter(pk__in=scoped.values("period")).order_by("-start", "kind")
        form = DisputeFilterForm(request.GET, periods=periods, managers=managers)
        if not form.is_valid():
            return render(
                request, "performance/disputes.html", {"form": form, "decides": decides}, status=400
            )
        rows = scoped.select_related("customer", "period", "proposed_by", "decided_by", "manager_of_record")
        data = form.cleaned_data
        if data.get("status"):
            rows = rows.filter(status=data["status"])
        if data.get("period"):
            rows = rows.filter(period=data["period"])
        if data.get("manager"):
            rows = rows.filter(proposed_by=data["manager"])
        page = paginate(request, DISPUTE_SORTING.apply(request, rows), default_size=PAGE_SIZE)
        shown = [(d, mask_name(d.customer.name)) for d in page]
        return render(
            request,
            "performance/disputes.html",
            {
                "form": form,
                "page_obj": page,
                "rows": shown,
                "decides": decides,
                "decision_form": DecisionForm(),
                # whom an approved "not mine" claim credits the days to: a client
                # manager of the decider's branches, by name, or the branch pool
                "decision_managers": person_choices(managers or [], _("the branch pool")),
                "sort": DISPUTE_SORTING.key(request),
            },
        )


class DisputeDecisionView(View):
    approve = True

    def post(self, request, pk: int):
        if not request.user.has_perm("performance.decide_dispute"):
            raise PermissionDenied
        dispute = get_object_or_404(
            Dispute.objects.filter(proposed_by__branch__in=visible_branches(request.user)), pk=pk
        )
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Check the note and the employee number."))
            return redirect("performance:disputes")
        manager = None
        number = form.cleaned_data["manager"].strip()
        if number:
            manager = managers_in_scope(request.user).filter(employee_no=number).first()
            if manager is None:
                messages.error(
                    request,
                    _("%(no)s is not a client manager of your branches: choose one from the list.")
                    % {"no": number},
                )
                return redirect("performance:disputes")
        try:
            decided = disputes.dispute_decide(
                dispute=dispute,
                by=request.user,
                approve=self.approve,
                note=form.cleaned_data["note"],
                manager=manager,
            )
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        else:
            if self.approve:
                messages.success(
                    request,
                    _(
                        "Dispute #%(n)s approved: the history is corrected; the periods holding its days "
                        "are being computed again (see the dispute below)."
                    )
                    % {"n": decided.pk},
                )
            else:
                messages.success(
                    request,
                    _("Dispute #%(n)s of %(name)s rejected: the days stay credited as they were.")
                    % {
                        "n": decided.pk,
                        "name": decided.proposed_by.display_name or decided.proposed_by.username,
                    },
                )
        return redirect("performance:disputes")
