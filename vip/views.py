"""Pages of the VIP area. Thin: each is a `core.views.ScopedView`, which fetches
one object through an `access_<thing>` (`access_customer`, `vip.permissions`) or
narrows its list to `visible_to(user)`, calls one service, and says what happened.
Templates only hide buttons; the services check again."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit
from accounts.scope import ScopeKind, data_scope, visible_branches
from core.views import ScopedView
from customers.exports import neutralise
from customers.models import Customer
from customers.permissions import access_customer
from customers.selectors import customer_search

from . import selectors, services
from .choices import BatchRowOutcome, BatchSource, BatchStatus, ProposalStatus, VipStatus
from .forms import (
    AssignForm,
    BatchSearchForm,
    BatchUploadForm,
    BookFilterForm,
    LiquidateForm,
    NoteForm,
    OverrideForm,
    PoolFilterForm,
    ProspectCloseForm,
    ProspectForm,
    ReasonForm,
    RegisterForm,
    ReportForm,
    ShareForm,
    TransferForm,
)
from .models import (
    EvaluationRun,
    ParameterProposal,
    TierLevel,
    TierPolicy,
    VipProspect,
)
from .permissions import (
    access_batch,
    access_manager,
    access_prospect,
    access_reminder,
    access_share,
    access_transfer,
)
from .reports import build_report_workbook


def _next_or(request, default: str) -> str:
    """The `next` the form carried, if it is a page of this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _errors(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")]:
        messages.error(request, message)


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


# --- my customers -----------------------------------------------------------------------


class MyCustomersView(PermissionRequiredMixin, ScopedView):
    """A manager's book by tier, with the last contact and the next one due. A
    branch head or head office may open any manager's book in their scope."""

    permission_required = "customers.view_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        form = BookFilterForm(request.GET or None)
        form.is_valid()
        data = form.cleaned_data if form.is_bound else {}
        manager = request.user
        employee_no = (data.get("manager") or "").strip()
        if employee_no and employee_no != request.user.employee_no:
            manager = access_manager(request.user, employee_no, for_change=False)
        book = selectors.manager_book(
            user=request.user,
            manager=manager,
            tier=data.get("tier", ""),
            cursor=data.get("cursor", ""),
            customers=self.queryset,
        )
        reminders, reminder_total = selectors.open_reminders(request.user, limit=10, names=book.names)
        return render(
            request,
            "vip/my_customers.html",
            {
                "book": book,
                "tier": data.get("tier", ""),
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


class ApprovalsPanelView(View):
    def get(self, request):
        return render(
            request,
            "vip/panels/_approvals_body.html",
            {"count": selectors.pending_approval_count(request.user)},
        )


class ReminderDoneView(ScopedView):
    access = access_reminder

    def post(self, request, pk: int):
        reminder = self.get_object(pk, for_change=True)
        services.reminder_done(reminder=reminder, by=request.user)
        return redirect(_next_or(request, reverse("vip:my_customers")))


# --- one customer ------------------------------------------------------------------------


class CustomerVipView(PermissionRequiredMixin, ScopedView):
    """A customer's tier, VIP status and manager of record with their histories, and
    the actions the user may take on them."""

    permission_required = "customers.view_customer"
    access = access_customer

    def get(self, request, customer_no: str):
        customer = self.get_object(customer_no, for_change=False)
        view = selectors.customer_vip(customer)
        user = request.user
        own = customer.primary_manager_id == user.pk
        scope = data_scope(user)
        context: dict[str, Any] = {"c": customer, "view": view, "VipStatus": VipStatus}
        if user.has_perm("vip.assign_customer") and customer.primary_manager_id is None:
            context["assign_form"] = AssignForm(user=user)
        if (
            user.has_perm("vip.add_transferrequest")
            and customer.primary_manager_id
            and not view.pending_transfer
        ):
            context["transfer_form"] = TransferForm(user=user)
        if user.has_perm("vip.recall_customer") and customer.primary_manager_id:
            context["recall_form"] = ReasonForm()
        if user.has_perm("vip.share_customer") and (own or scope.kind is not ScopeKind.OWN):
            context["share_form"] = ShareForm(user=user)
            context["can_revoke_share"] = True
        if user.has_perm("vip.add_tieroverride"):
            context["override_form"] = OverrideForm()
            context["override_end_form"] = ReasonForm(prefix="end")
        if user.has_perm("vip.register_vip"):
            if customer.vip_status == VipStatus.REGISTERED:
                context["liquidate_form"] = LiquidateForm()
            elif customer.tier:
                context["register_form"] = RegisterForm()
        return render(request, "vip/customer_vip.html", context)


class CustomerActionView(PermissionRequiredMixin, ScopedView):
    """POST one action on one customer, then back to the customer's VIP page."""

    access = access_customer
    form_class: Any = ReasonForm
    success = ""

    def get_form(self, request):
        return self.form_class(request.POST)

    def act(self, request, customer: Customer, form) -> None:
        raise NotImplementedError

    def post(self, request, customer_no: str):
        customer = self.get_object(customer_no, for_change=True)
        form = self.get_form(request)
        if form.is_valid():
            try:
                self.act(request, customer, form)
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                messages.success(request, self.success)
        else:
            _form_errors(request, form)
        return redirect("vip:customer", customer_no=customer.customer_no)


class AssignView(CustomerActionView):
    permission_required = "vip.assign_customer"

    def get_form(self, request):
        return AssignForm(request.POST, user=request.user)

    def act(self, request, customer, form):
        services.customer_assign(
            customer=customer,
            manager=form.cleaned_data["manager"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Customer assigned.")


class TransferRequestView(CustomerActionView):
    permission_required = "vip.add_transferrequest"

    def get_form(self, request):
        return TransferForm(request.POST, user=request.user)

    def act(self, request, customer, form):
        services.transfer_request(
            customer=customer,
            to_manager=form.cleaned_data["manager"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Transfer requested: it takes effect when approved.")


class RecallView(CustomerActionView):
    permission_required = "vip.recall_customer"

    def act(self, request, customer, form):
        services.customers_recall(customers=[customer], by=request.user, reason=form.cleaned_data["reason"])
        self.success = _("Customer recalled to the branch pool.")


class ShareView(CustomerActionView):
    permission_required = "vip.share_customer"

    def get_form(self, request):
        return ShareForm(request.POST, user=request.user)

    def act(self, request, customer, form):
        services.customer_share(
            customer=customer,
            with_user=form.cleaned_data["with_user"],
            by=request.user,
            until=form.until_datetime(),
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Customer shared until %(d)s.") % {"d": form.cleaned_data["until"]}


class ShareRevokeView(CustomerActionView):
    permission_required = "vip.share_customer"

    def get_form(self, request):
        return NoteForm(request.POST)

    def post(self, request, customer_no: str, grant_id: int = 0):
        self.grant_id = grant_id
        return super().post(request, customer_no)

    def act(self, request, customer, form):
        grant = access_share(request.user, self.grant_id, for_change=True)
        if grant.content_object_id != customer.pk:
            raise Http404
        services.customer_share_revoke(grant=grant, by=request.user, reason=form.cleaned_data["note"])
        self.success = _("Share ended.")


class OverrideView(CustomerActionView):
    permission_required = "vip.add_tieroverride"
    form_class = OverrideForm

    def act(self, request, customer, form):
        services.tier_override_set(
            customer=customer,
            tier=form.tier_code(),
            reason=form.cleaned_data["reason"],
            expires_on=form.cleaned_data["expires_on"],
            by=request.user,
        )
        self.success = _("Tier set until %(d)s.") % {"d": form.cleaned_data["expires_on"]}


class OverrideEndView(CustomerActionView):
    permission_required = "vip.add_tieroverride"

    def get_form(self, request):
        return ReasonForm(request.POST, prefix="end")

    def act(self, request, customer, form):
        override = customer.tier_overrides.filter(ended_on__isnull=True).first()
        if override is None:
            raise ValidationError(_("This customer has no running override."))
        services.tier_override_end(override=override, by=request.user, reason=form.cleaned_data["reason"])
        self.success = _("Override ended: the rules decide the tier again.")


class RegisterView(CustomerActionView):
    permission_required = "vip.register_vip"
    form_class = RegisterForm

    def act(self, request, customer, form):
        services.vip_register(
            customer=customer,
            by=request.user,
            benefits=form.cleaned_data["benefits"],
            registered_on=form.cleaned_data["registered_on"],
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Registered as a VIP.")


class LiquidateView(CustomerActionView):
    permission_required = "vip.register_vip"
    form_class = LiquidateForm

    def act(self, request, customer, form):
        services.vip_liquidate(
            customer=customer,
            by=request.user,
            reason=form.cleaned_data["reason"],
            liquidated_on=form.cleaned_data["liquidated_on"],
        )
        self.success = _("VIP registration ended.")


# --- pool -------------------------------------------------------------------------------


class PoolView(PermissionRequiredMixin, ScopedView):
    """Customers without a manager of record, per branch, and assigning a selection
    of them to one manager."""

    permission_required = "vip.assign_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        form = PoolFilterForm(request.GET or None)
        form.is_valid()
        data = form.cleaned_data if form.is_bound else {}
        branch = None
        if data.get("branch"):
            branch = visible_branches(request.user).filter(code=data["branch"]).first()
            if branch is None:
                messages.error(request, _("No branch with this code in your scope."))
        page = selectors.pool_customers(
            user=request.user, branch=branch, cursor=data.get("cursor", ""), customers=self.queryset
        )
        return render(
            request,
            "vip/pool.html",
            {
                "page": page,
                "customers": page.rows,
                "counts": selectors.pool_counts(request.user),
                "branch": branch,
                "assign_form": AssignForm(user=request.user),
            },
        )

    def post(self, request):
        form = AssignForm(request.POST, user=request.user)
        numbers = request.POST.getlist("customer")[: services.MAX_BATCH_ROWS]
        if not numbers:
            messages.error(request, _("Tick the customers to assign."))
        elif form.is_valid():
            customers = self.queryset.filter(customer_no__in=numbers)
            assigned = 0
            for customer in customers:
                try:
                    services.customer_assign(
                        customer=customer,
                        manager=form.cleaned_data["manager"],
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    assigned += 1
                except (ValidationError, PermissionDenied) as exc:
                    _errors(request, exc)
            messages.success(request, _("%(n)s customers assigned.") % {"n": assigned})
        else:
            _form_errors(request, form)
        return redirect(request.get_full_path())


# --- managers and recall of a book ---------------------------------------------------------


class ManagerListView(PermissionRequiredMixin, View):
    permission_required = "vip.recall_customer"

    def get(self, request):
        return render(request, "vip/managers.html", {"managers": selectors.managers_with_books(request.user)})


class ManagerRecallView(PermissionRequiredMixin, ScopedView):
    """A manager leaves: their whole book back to the pool in one action."""

    permission_required = "vip.recall_customer"
    access = access_manager

    def get(self, request, employee_no: str):
        manager = self.get_object(employee_no, for_change=True)
        size = Customer.objects.visible_to(request.user).filter(primary_manager=manager).count()
        return render(
            request, "vip/manager_recall.html", {"manager": manager, "size": size, "form": ReasonForm()}
        )

    def post(self, request, employee_no: str):
        manager = self.get_object(employee_no, for_change=True)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            size = Customer.objects.visible_to(request.user).filter(primary_manager=manager).count()
            return render(
                request,
                "vip/manager_recall.html",
                {"manager": manager, "size": size, "form": form},
                status=400,
            )
        try:
            result = services.manager_book_recall(
                manager=manager, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
            return redirect("vip:managers")
        messages.success(
            request,
            _("%(n)s customers of %(name)s are back in the pool.")
            % {"n": result.recalled, "name": manager.display_name},
        )
        if result.outside_scope:
            messages.warning(
                request,
                _("%(n)s of their customers are outside your scope and stay with them.")
                % {"n": result.outside_scope},
            )
        return redirect("vip:managers")


# --- approvals -------------------------------------------------------------------------------


class ApprovalsView(View):
    """What waits for the user's decision (transfers, parameter proposals) and what
    the user asked for."""

    def get(self, request):
        user = request.user
        if not (
            user.has_perm("vip.approve_transferrequest")
            or user.has_perm("vip.add_transferrequest")
            or user.has_perm("vip.approve_parameterproposal")
            or user.has_perm("vip.add_parameterproposal")
        ):
            raise PermissionDenied
        return render(
            request,
            "vip/approvals.html",
            {
                "transfers": selectors.transfers_to_approve(user),
                "my_transfers": selectors.my_transfer_requests(user),
                "proposals": selectors.proposals_to_approve(user),
                "my_proposals": selectors.my_proposals(user),
                "names": selectors.tier_names(),
                "note_form": NoteForm(),
            },
        )


class TransferDecisionView(ScopedView):
    access = access_transfer
    action = "approve"

    def post(self, request, pk: int):
        if self.action != "cancel" and not request.user.has_perm("vip.approve_transferrequest"):
            raise PermissionDenied
        transfer = self.get_object(pk, for_change=True)
        form = NoteForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            if self.action == "approve":
                services.transfer_approve(transfer=transfer, by=request.user, note=note)
                messages.success(
                    request, _("Transfer approved: the new manager looks after the customer from today.")
                )
            elif self.action == "reject":
                services.transfer_reject(transfer=transfer, by=request.user, note=note)
                messages.success(request, _("Transfer rejected."))
            else:
                services.transfer_cancel(transfer=transfer, by=request.user, note=note)
                messages.success(request, _("Transfer request cancelled."))
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        return redirect("vip:approvals")


class ProposalDecisionView(View):
    action = "approve"

    def post(self, request, pk: int):
        needed = "vip.add_parameterproposal" if self.action == "withdraw" else "vip.approve_parameterproposal"
        if not request.user.has_perm(needed):
            raise PermissionDenied
        proposal = get_object_or_404(ParameterProposal, pk=pk)
        form = NoteForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            if self.action == "approve":
                services.parameter_approve(proposal=proposal, approved_by=request.user, note=note)
                messages.success(
                    request, _("Proposal approved: the new parameters apply from the next evaluation.")
                )
            elif self.action == "reject":
                services.parameter_reject(proposal=proposal, rejected_by=request.user, note=note)
                messages.success(request, _("Proposal rejected."))
            else:
                services.parameter_withdraw(proposal=proposal, by=request.user)
                messages.success(request, _("Proposal withdrawn."))
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        return redirect(_next_or(request, reverse("vip:approvals")))


# --- batch assignment --------------------------------------------------------------------------


class BatchStartView(PermissionRequiredMixin, View):
    permission_required = "vip.assign_customer"

    def get(self, request):
        return render(
            request,
            "vip/batch_start.html",
            {"upload_form": BatchUploadForm(), "search_form": BatchSearchForm(user=request.user)},
        )

    def post(self, request):
        upload_form = BatchUploadForm()
        search_form = BatchSearchForm(user=request.user)
        try:
            if request.POST.get("source") == BatchSource.UPLOAD:
                upload_form = BatchUploadForm(request.POST, request.FILES)
                if upload_form.is_valid():
                    upload = upload_form.cleaned_data["file"]
                    rows = services.parse_assignment_file(upload)
                    batch = services.batch_prepare(
                        by=request.user,
                        rows=rows,
                        source=BatchSource.UPLOAD,
                        reason=upload_form.cleaned_data["reason"],
                        filename=upload.name,
                    )
                    return redirect("vip:batch", pk=batch.pk)
            else:
                search_form = BatchSearchForm(request.POST, user=request.user)
                if search_form.is_valid():
                    data = search_form.cleaned_data
                    customers = customer_search(user=request.user, q=data["q"], filters=search_form.filters())
                    rows = services.batch_rows_from_search(
                        by=request.user, customers=customers, manager_no=data["to_manager"].employee_no
                    )
                    batch = services.batch_prepare(
                        by=request.user, rows=rows, source=BatchSource.SEARCH, reason=data["reason"]
                    )
                    return redirect("vip:batch", pk=batch.pk)
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        return render(
            request,
            "vip/batch_start.html",
            {"upload_form": upload_form, "search_form": search_form},
            status=400,
        )


class BatchView(PermissionRequiredMixin, ScopedView):
    """The preview of a batch (and its confirmation), or what it did."""

    permission_required = "vip.assign_customer"
    access = access_batch

    def get(self, request, pk: int):
        batch = self.get_object(pk, for_change=False)
        counts: dict[str, int] = {}
        for row in batch.rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        labels = dict(BatchRowOutcome.choices)
        return render(
            request,
            "vip/batch_detail.html",
            {
                "batch": batch,
                "rows": batch.rows,
                "counts": [(labels.get(k, k), v, k) for k, v in sorted(counts.items())],
                "labels": labels,
                "draft": batch.status == BatchStatus.DRAFT,
                "errors": counts.get(BatchRowOutcome.ERROR, 0),
            },
        )

    def post(self, request, pk: int):
        batch = self.get_object(pk, for_change=True)
        try:
            if request.POST.get("cancel"):
                services.batch_cancel(batch=batch, by=request.user)
                messages.info(request, _("Batch cancelled: nothing was changed."))
            else:
                batch = services.batch_execute(batch=batch, by=request.user)
                messages.success(request, _("Batch done: see what each row did below."))
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        return redirect("vip:batch", pk=batch.pk)


class BatchErrorsView(PermissionRequiredMixin, ScopedView):
    """The rows of a batch that failed, as a CSV to correct and upload again."""

    permission_required = "vip.assign_customer"
    access = access_batch

    def get(self, request, pk: int):
        batch = self.get_object(pk, for_change=False)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-errors.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with a byte-order mark
        writer = csv.writer(response)
        writer.writerow(["line", "customer_no", "manager", "reason", "error"])
        for row in batch.rows:
            if row["outcome"] == BatchRowOutcome.ERROR:
                writer.writerow(
                    [
                        neutralise(str(v))
                        for v in (
                            row["line"],
                            row["customer_no"],
                            row["manager"],
                            row.get("reason", ""),
                            row["message"],
                        )
                    ]
                )
        return response


# --- prospects -----------------------------------------------------------------------------------


class ProspectListView(PermissionRequiredMixin, ScopedView):
    permission_required = "vip.view_vipprospect"
    queryset = VipProspect.objects.all()

    def _render(self, request, form, status=200):
        prospects = selectors.prospect_list(user=request.user, prospects=self.queryset)[:200]
        return render(
            request,
            "vip/prospects.html",
            {
                "prospects": prospects,
                "form": form,
                "close_form": ProspectCloseForm(),
                "can_add": request.user.has_perm("vip.add_vipprospect"),
            },
            status=status,
        )

    def get(self, request):
        return self._render(request, ProspectForm())

    def post(self, request):
        if not request.user.has_perm("vip.add_vipprospect"):
            raise PermissionDenied
        form = ProspectForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            customer = None
            if data["customer_no"]:
                customer = access_customer(request.user, data["customer_no"].strip(), for_change=True)
            try:
                services.prospect_create(
                    by=request.user,
                    name=data["name"],
                    mobile=data["mobile"],
                    source=data["source"],
                    estimated_assets=data["estimated_assets"],
                    held_at=data["held_at"],
                    note=data["note"],
                    customer=customer,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Prospect registered."))
                return redirect("vip:prospects")
        return self._render(request, form, status=400)


class ProspectCloseView(PermissionRequiredMixin, ScopedView):
    permission_required = "vip.change_vipprospect"
    access = access_prospect

    def post(self, request, pk: int):
        prospect = self.get_object(pk, for_change=True)
        form = ProspectCloseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            customer = (
                access_customer(request.user, data["customer_no"].strip(), for_change=True)
                if data["customer_no"]
                else None
            )
            try:
                services.prospect_close(
                    prospect=prospect,
                    by=request.user,
                    won=data["outcome"] == "won",
                    note=data["note"],
                    customer=customer,
                )
                messages.success(request, _("Prospect closed."))
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
        else:
            _form_errors(request, form)
        return redirect("vip:prospects")


# --- reports -------------------------------------------------------------------------------------


def _report_data(request) -> tuple[ReportForm, dict[str, Any] | None]:
    form = ReportForm(request.GET or {})
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    user = request.user
    by_branch = selectors.vip_by_branch(user, data["level"])
    matrix = selectors.migration_matrix(user, data["month_from"], data["month_to"])
    won_lost = selectors.won_and_lost(user, data["start"], data["end"])
    return form, {"by_branch": by_branch, "matrix": matrix, "won_lost": won_lost, "filters": data}


class ReportView(PermissionRequiredMixin, View):
    permission_required = "vip.view_vip_report"

    def get(self, request):
        form, data = _report_data(request)
        context: dict[str, Any] = {"form": form, "can_export": request.user.has_perm("vip.export_vip_report")}
        if data is not None:
            context.update(data)
            report = data["by_branch"]
            context["chart"] = {
                "labels": [row["branch"].name for row in report.rows],
                "series": [
                    {"label": level["name"], "data": [row["cells"][i]["n"] for row in report.rows]}
                    for i, level in enumerate(report.levels)
                ],
                "aum": [float(row["aum"]) for row in report.rows],
            }
            context["query"] = request.GET.urlencode()
            matrix = data["matrix"]
            context["matrix_rows"] = list(zip(matrix.labels, matrix.cells, matrix.row_totals, strict=True))
        return render(request, "vip/reports.html", context, status=200 if data is not None else 400)


class ReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (audited, formulas neutralised)."""

    permission_required = ("vip.view_vip_report", "vip.export_vip_report")

    def get(self, request):
        form, data = _report_data(request)
        if data is None:
            return HttpResponse(_("Invalid report filters."), status=400)
        content, rows = build_report_workbook(data)
        filters = {k: str(v) for k, v in data["filters"].items()}
        audit(
            Action.EXPORT,
            request=request,
            target_type="vip.report",
            details={"report": "vip", "filters": filters, "rows": rows},
        )
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="vip-report-{timezone.localdate():%Y%m%d}.xlsx"'
        )
        return response


# --- parameters ----------------------------------------------------------------------------------


class ParametersView(PermissionRequiredMixin, View):
    """The tier parameters in force and their history (changes go through the
    admin, as proposals)."""

    permission_required = "vip.view_tierlevel"

    def get(self, request):
        history = (
            ParameterProposal.objects.exclude(status=ProposalStatus.PENDING)
            .select_related("proposed_by", "decided_by")
            .order_by("-decided_at", "-id")[:50]
        )
        pending = ParameterProposal.objects.filter(status=ProposalStatus.PENDING).select_related(
            "proposed_by"
        )

        return render(
            request,
            "vip/parameters.html",
            {
                "levels": TierLevel.objects.order_by("-is_active", "-aum_threshold"),
                "policy": TierPolicy.current(),
                "history": history,
                "pending": pending,
                "runs": EvaluationRun.objects.order_by("-started_at")[:10],
            },
        )
