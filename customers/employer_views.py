"""The employer pages: the register (search by name or code), one employer with its
payroll customers (those in the viewer's scope), the forms to register and edit an
employer, and to link a customer to one or end the link. Thin: the forms check the
input, the services (customers.employers) write and audit, the selectors read
through the data scope."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors
from core.views import ScopedView

from . import employers
from .employer_forms import EmployerForm, EmployerSearchForm, PayrollEndForm, PayrollLinkForm
from .models import Employer

PAGE_SIZE = 25


class EmployerListView(PermissionRequiredMixin, ScopedView):
    """The register of employers, searched by name or unified social credit code."""

    permission_required = "customers.view_employer"
    queryset = Employer.objects.all()

    def get(self, request):
        form = EmployerSearchForm(request.GET)
        q = form.cleaned_data["q"] if form.is_valid() else ""
        found = employers.employer_search(user=request.user, q=q)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "customers/employers/employer_list.html",
            {
                "form": form,
                "q": q,
                "page_obj": page,
                "for_customer": request.GET.get("for", "")[:20],
                "can_add": request.user.has_perm("customers.add_employer"),
            },
            status=200 if form.is_valid() else 400,
        )


class EmployerCreateView(PermissionRequiredMixin, View):
    permission_required = "customers.add_employer"

    def get(self, request):
        return render(request, "customers/employers/employer_form.html", {"form": EmployerForm()})

    def post(self, request):
        form = EmployerForm(request.POST)
        if form.is_valid():
            try:
                employer = employers.employer_create(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Employer %(name)s registered (unified social credit code %(uscc)s).")
                    % {"name": employer.name, "uscc": employer.uscc},
                )
                return redirect("customers:employer_detail", pk=employer.pk)
        return render(request, "customers/employers/employer_form.html", {"form": form}, status=400)


class EmployerEditView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.change_employer"
    access = employers.access_employer

    def get(self, request, pk):
        employer = self.get_object(pk, for_change=True)
        form = EmployerForm(initial={field: getattr(employer, field) for field in employers.EMPLOYER_FIELDS})
        return render(request, "customers/employers/employer_form.html", {"form": form, "employer": employer})

    def post(self, request, pk):
        employer = self.get_object(pk, for_change=True)
        form = EmployerForm(request.POST)
        if form.is_valid():
            try:
                employers.employer_update(user=request.user, employer=employer, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Employer %(name)s updated.") % {"name": form.cleaned_data["name"]}
                )
                return redirect("customers:employer_detail", pk=employer.pk)
        return render(
            request,
            "customers/employers/employer_form.html",
            {"form": form, "employer": employer},
            status=400,
        )


def _detail_page(request, employer: Employer, *, link_form: PayrollLinkForm | None = None, status: int = 200):
    """One employer and its payroll customers the viewer may see, current ones (or,
    with ?ended=1, ended ones); a refused link comes back on its form (400)."""
    ended = request.GET.get("ended") == "1"
    links = employers.employer_employees(user=request.user, employer=employer, current=not ended)
    page = Paginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    if link_form is None:
        link_form = PayrollLinkForm(initial={"customer_no": request.GET.get("for", "")[:20]})
    context: dict[str, Any] = {
        "employer": employer,
        "page_obj": page,
        "ended": ended,
        "link_form": link_form,
        "can_link": request.user.has_perm("customers.add_payrolllink"),
        "can_end": request.user.has_perm("customers.change_payrolllink"),
        "can_change": request.user.has_perm("customers.change_employer"),
    }
    return render(request, "customers/employers/employer_detail.html", context, status=status)


class EmployerDetailView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.view_employer"
    access = employers.access_employer

    def get(self, request, pk):
        return _detail_page(request, self.get_object(pk, for_change=False))


class PayrollLinkView(PermissionRequiredMixin, ScopedView):
    """Link a customer (by number, in the viewer's scope) to the employer."""

    permission_required = ("customers.view_employer", "customers.add_payrolllink")
    access = employers.access_employer

    def post(self, request, pk):
        employer = self.get_object(pk, for_change=False)
        form = PayrollLinkForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            customer = employers.customer_for_payroll(user=request.user, customer_no=data["customer_no"])
            account = None
            if customer is None:
                form.add_error("customer_no", _("No customer with this number among the customers you see."))
            elif data["account_no"]:
                account = employers.payroll_account(customer=customer, account_no=data["account_no"])
                if account is None:
                    form.add_error("account_no", _("This account is not the customer's."))
            if customer is not None and not form.errors:
                try:
                    link = employers.payroll_link(
                        user=request.user,
                        employer=employer,
                        customer=customer,
                        since=data["since"],
                        account=account,
                        monthly_amount=data["monthly_amount"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(
                        request,
                        _("%(name)s (%(no)s) is recorded as paid by %(employer)s since %(since)s.")
                        % {
                            "name": customer.name,
                            "no": customer.customer_no,
                            "employer": employer.name,
                            "since": link.since.isoformat(),
                        },
                    )
                    return redirect("customers:employer_detail", pk=employer.pk)
        return _detail_page(request, employer, link_form=form, status=400)


class PayrollEndView(PermissionRequiredMixin, ScopedView):
    """End a payroll relationship (kept as history); back to the employer's page,
    or to the customer's when the form came from there."""

    permission_required = "customers.change_payrolllink"
    access = employers.access_payroll_link

    def post(self, request, pk):
        link = self.get_object(pk, for_change=True)
        form = PayrollEndForm(request.POST)
        back_to_customer = request.POST.get("back") == "customer"
        if form.is_valid():
            try:
                ended = employers.payroll_end(user=request.user, link=link, until=form.cleaned_data["until"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The payroll relationship of %(name)s with %(employer)s ended on %(until)s.")
                    % {
                        "name": link.customer.name,
                        "employer": link.employer.name,
                        "until": ended.until.isoformat() if ended.until else "",
                    },
                )
        for error in [e for errors in form.errors.values() for e in errors]:
            messages.error(request, error)
        if back_to_customer:
            return redirect("customers:detail", customer_no=link.customer.customer_no)
        return redirect("customers:employer_detail", pk=link.employer_id)
