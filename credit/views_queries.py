"""Credit-report queries (征信查询), the pages: a customer's authorizations and queries
with the forms to record, revoke and request; the queries list; the queue of
queries waiting for a branch head's decision, and the decisions. The rules are the
services' (credit.services); a refusal comes back as a message or on the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from core.forms import add_service_errors
from core.listing import Sorting, filtered, paginate
from core.views import ScopedView, form_errors, show_errors
from customers.masking import mask_name
from customers.models import Customer
from customers.permissions import access_customer

from . import query_selectors as selectors
from . import services
from .choices import QueryPurpose, QueryStatus
from .forms import AuthorizationForm, NoteForm, QueryFilter, QueryRequestForm
from .models import CreditQuery

SORTING = Sorting(
    {
        "asked": ("proposed_at",),
        "customer": ("customer__customer_no",),
        "purpose": ("purpose",),
        "status": ("status",),
        "requester": ("proposed_by__display_name",),
    },
    default="-asked",
)


def _named(customer: Customer) -> str:
    return f"{customer.customer_no} {mask_name(customer.name)}"


# --- a customer's page ----------------------------------------------------------------------


def _customer(request, customer_no: str) -> Customer:
    if not selectors.may_read_customer_credit(request.user):
        raise PermissionDenied
    return access_customer(request.user, customer_no, for_change=False)


def _customer_page(request, customer: Customer, *, authorization_form=None, request_form=None, status=200):
    user = request.user
    return render(
        request,
        "credit/queries/customer.html",
        {
            "customer": customer,
            "authorizations": selectors.customer_authorizations(user, customer, timezone.localdate()),
            "queries": selectors.customer_queries(user, customer),
            "authorization_form": authorization_form or AuthorizationForm(),
            "request_form": request_form or QueryRequestForm(),
            "max_days": services.AUTHORIZATION_MAX_DAYS,
        },
        status=status,
    )


class CustomerCreditView(View):
    """A customer's written authorizations and credit-report queries."""

    def get(self, request, customer_no: str):
        return _customer_page(request, _customer(request, customer_no))


class AuthorizationRecordView(PermissionRequiredMixin, View):
    permission_required = services.RECORD_PERMISSION

    def post(self, request, customer_no: str):
        customer = _customer(request, customer_no)
        form = AuthorizationForm(request.POST)
        if form.is_valid():
            try:
                services.authorization_record(customer=customer, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Authorization of %(customer)s for %(purpose)s recorded.")
                    % {
                        "customer": _named(customer),
                        "purpose": QueryPurpose(form.cleaned_data["purpose"]).label,
                    },
                )
                return redirect("credit:queries_customer", customer_no=customer.customer_no)
        return _customer_page(request, customer, authorization_form=form, status=400)


class AuthorizationRevokeView(PermissionRequiredMixin, View):
    permission_required = services.RECORD_PERMISSION

    def post(self, request, pk: int):
        authorization = selectors.access_authorization(request.user, pk)
        services.authorization_revoke(authorization=authorization, by=request.user)
        messages.success(
            request,
            _("Authorization %(form)s revoked: no query may use it from now on.")
            % {"form": authorization.form_reference},
        )
        return redirect("credit:queries_customer", customer_no=authorization.customer.customer_no)


class QueryRequestView(PermissionRequiredMixin, View):
    permission_required = services.REQUEST_PERMISSION

    def post(self, request, customer_no: str):
        customer = _customer(request, customer_no)
        form = QueryRequestForm(request.POST)
        if form.is_valid():
            try:
                query = services.query_request(
                    customer=customer, purpose=form.cleaned_data["purpose"], by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                names = {"customer": _named(customer), "purpose": query.get_purpose_display()}
                if query.status == QueryStatus.REFUSED:
                    messages.error(
                        request,
                        _("Query of %(customer)s for %(purpose)s refused: %(reason)s")
                        % {**names, "reason": query.refusal},
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "Query of %(customer)s for %(purpose)s requested: it waits for a second person's "
                            "approval."
                        )
                        % names,
                    )
                return redirect("credit:queries_customer", customer_no=customer.customer_no)
        return _customer_page(request, customer, request_form=form, status=400)


# --- the list and the queue -----------------------------------------------------------------


class QueryListView(PermissionRequiredMixin, ScopedView):
    permission_required = selectors.QUERY_READ
    queryset = CreditQuery.objects.all()

    def get(self, request):
        listing = filtered(request, QueryFilter, selectors.query_list(self.queryset))
        return render(
            request,
            "credit/queries/query_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "filter": listing.filter,
            },
            status=listing.status,
        )


class ApprovalQueueView(PermissionRequiredMixin, View):
    """The queries waiting for the user's decision, and those the bureau failed."""

    permission_required = services.APPROVE_PERMISSION

    def get(self, request):
        return render(
            request,
            "credit/queries/approvals.html",
            {
                "page_obj": paginate(request, selectors.queries_to_decide(request.user)),
                "to_resend": selectors.queries_to_resend(request.user),
            },
        )


def _outcome(request, query: CreditQuery) -> None:
    names = {"customer": _named(query.customer), "purpose": query.get_purpose_display()}
    if query.status == QueryStatus.DONE:
        messages.success(
            request,
            _("Query of %(customer)s for %(purpose)s approved; report reference %(reference)s.")
            % {**names, "reference": query.result_reference},
        )
    elif query.status == QueryStatus.FAILED:
        messages.error(
            request,
            _(
                "Query of %(customer)s for %(purpose)s approved, but the bureau failed: %(error)s. "
                "Send it again later."
            )
            % {**names, "error": query.failure},
        )
    elif query.status == QueryStatus.REJECTED:
        messages.success(request, _("Query of %(customer)s for %(purpose)s rejected.") % names)
    elif query.status == QueryStatus.WITHDRAWN:
        messages.success(request, _("Query of %(customer)s for %(purpose)s withdrawn.") % names)


class QueryActionView(View):
    """A decision on one query: approve, reject (with a reason), send again after a
    bureau failure, or withdraw (the requester)."""

    action = "approve"

    def post(self, request, pk: int):
        needed = services.REQUEST_PERMISSION if self.action == "withdraw" else services.APPROVE_PERMISSION
        if not request.user.has_perm(needed):
            raise PermissionDenied
        query = selectors.access_query(request.user, pk)
        form = NoteForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            return redirect("credit:queries_approvals")
        note = form.cleaned_data["note"]
        try:
            if self.action == "approve":
                query = services.query_approve(query=query, by=request.user, note=note)
            elif self.action == "reject":
                query = services.query_reject(query=query, by=request.user, note=note)
            elif self.action == "resend":
                query = services.query_retry(query=query, by=request.user)
            else:
                query = services.query_withdraw(query=query, by=request.user, note=note)
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        else:
            _outcome(request, query)
        if self.action == "withdraw":
            return redirect("credit:queries_customer", customer_no=query.customer.customer_no)
        return redirect("credit:queries_approvals")
