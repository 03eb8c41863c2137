"""One customer's VIP page (tier, VIP status, manager of record and their
histories) and the actions on it, each a POST that goes back to the page."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.scope import ScopeKind, data_scope
from core.views import ScopedView
from customers.models import Customer
from customers.permissions import access_customer

from .. import selectors, services
from ..choices import VipStatus
from ..forms import (
    AssignForm,
    LiquidateForm,
    NoteForm,
    OverrideForm,
    ReasonForm,
    RegisterForm,
    ShareForm,
    SplitCreditEndForm,
    SplitCreditForm,
    TransferForm,
)
from ..permissions import access_share
from ._common import form_errors, show_errors


class CustomerVipView(PermissionRequiredMixin, ScopedView):
    """A customer's tier, VIP status and manager of record with their histories, and
    the actions the user may take on them."""

    permission_required = "customers.view_customer"
    access = access_customer

    def get(self, request, customer_no: str):
        customer = self.get_object(customer_no, for_change=False)
        view = selectors.customer_vip(customer)
        split = selectors.split_of(view.assignments)
        context: dict[str, Any] = {"c": customer, "view": view, "split": split, "VipStatus": VipStatus}
        context.update(_action_forms(request.user, customer, view, split))
        return render(request, "vip/customer_vip.html", context)


def _action_forms(
    user, customer: Customer, view: selectors.CustomerVip, split: selectors.SplitCredit
) -> dict[str, Any]:
    """The forms of the actions the user may take on the customer as they are now
    (the template shows those; the services check again)."""
    own = customer.primary_manager_id == user.pk
    scope = data_scope(user)
    forms: dict[str, Any] = {}
    if user.has_perm("vip.assign_customer") and customer.primary_manager_id is None:
        forms["assign_form"] = AssignForm(user=user)
    if user.has_perm("vip.add_transferrequest") and customer.primary_manager_id and not view.pending_transfer:
        forms["transfer_form"] = TransferForm(user=user)
    if user.has_perm("vip.recall_customer") and customer.primary_manager_id:
        forms["recall_form"] = ReasonForm()
    if user.has_perm(services.SPLIT_PERMISSION) and customer.primary_manager_id:
        forms["split_form"] = SplitCreditForm()
        if split.assisting is not None:
            forms["split_end_form"] = SplitCreditEndForm()
    if user.has_perm("vip.share_customer") and (own or scope.kind is not ScopeKind.OWN):
        forms["share_form"] = ShareForm(user=user, customer=customer)
        forms["can_revoke_share"] = True
    if user.has_perm("vip.add_tieroverride"):
        forms["override_form"] = OverrideForm()
        forms["override_end_form"] = ReasonForm(prefix="end")
    if user.has_perm("vip.register_vip"):
        if customer.vip_status == VipStatus.REGISTERED:
            forms["liquidate_form"] = LiquidateForm()
        elif customer.tier:
            forms["register_form"] = RegisterForm()
    return forms


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
        self.customer = customer
        form = self.get_form(request)
        if form.is_valid():
            try:
                self.act(request, customer, form)
            except (ValidationError, PermissionDenied) as exc:
                show_errors(request, exc)
            else:
                messages.success(request, self.success)
        else:
            form_errors(request, form)
        return redirect("vip:customer", customer_no=customer.customer_no)


class AssignView(CustomerActionView):
    permission_required = "vip.assign_customer"

    def get_form(self, request):
        return AssignForm(request.POST, user=request.user)

    def act(self, request, customer, form):
        manager = form.cleaned_data["manager"]
        services.customer_assign(
            customer=customer, manager=manager, by=request.user, reason=form.cleaned_data["reason"]
        )
        self.success = _("%(name)s assigned to %(manager)s.") % {
            "name": customer.name,
            "manager": manager.get_full_name(),
        }


class TransferRequestView(CustomerActionView):
    permission_required = "vip.add_transferrequest"

    def get_form(self, request):
        return TransferForm(request.POST, user=request.user)

    def act(self, request, customer, form):
        manager = form.cleaned_data["manager"]
        services.transfer_request(
            customer=customer, to_manager=manager, by=request.user, reason=form.cleaned_data["reason"]
        )
        self.success = _(
            "Transfer of %(name)s to %(manager)s requested; waiting for a branch head or "
            "business manager to approve it."
        ) % {"name": customer.name, "manager": manager.get_full_name()}


class RecallView(CustomerActionView):
    permission_required = "vip.recall_customer"

    def act(self, request, customer, form):
        services.customers_recall(customers=[customer], by=request.user, reason=form.cleaned_data["reason"])
        self.success = _("%(name)s recalled to the branch pool.") % {"name": customer.name}


class ShareView(CustomerActionView):
    permission_required = "vip.share_customer"

    def get_form(self, request):
        return ShareForm(request.POST, user=request.user, customer=self.customer)

    def act(self, request, customer, form):
        manager = form.cleaned_data["with_user"]
        services.customer_share(
            customer=customer,
            with_user=manager,
            by=request.user,
            until=form.until_datetime(),
            reason=form.cleaned_data["reason"],
        )
        self.success = _("%(name)s shared with %(manager)s until %(d)s.") % {
            "name": customer.name,
            "manager": manager.get_full_name(),
            "d": form.cleaned_data["until"].isoformat(),
        }


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
        self.success = _("The share of %(name)s with %(manager)s ended.") % {
            "name": customer.name,
            "manager": grant.user.get_full_name(),
        }


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
        self.success = _("Tier of %(name)s set by hand until %(d)s.") % {
            "name": customer.name,
            "d": form.cleaned_data["expires_on"].isoformat(),
        }


class OverrideEndView(CustomerActionView):
    permission_required = "vip.add_tieroverride"

    def get_form(self, request):
        return ReasonForm(request.POST, prefix="end")

    def act(self, request, customer, form):
        override = customer.tier_overrides.filter(ended_on__isnull=True).first()
        if override is None:
            raise ValidationError(_("This customer has no running override."))
        services.tier_override_end(override=override, by=request.user, reason=form.cleaned_data["reason"])
        self.success = _("Override of %(name)s ended: the rules decide the tier again.") % {
            "name": customer.name
        }


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
        self.success = _("%(name)s registered as a VIP.") % {"name": customer.name}


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
        self.success = _("VIP registration of %(name)s ended.") % {"name": customer.name}


class SplitCreditSetView(CustomerActionView):
    """An assisting manager with a share of the credit (or a new share)."""

    permission_required = services.SPLIT_PERMISSION
    form_class = SplitCreditForm

    def act(self, request, customer, form):
        split = services.split_credit_set(
            customer=customer,
            manager=form.cleaned_data["manager"],
            share=form.cleaned_data["share"],
            start_date=form.cleaned_data["start_date"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Credit split: %(name)s assists with %(share)s%% from %(d)s.") % {
            "name": split.manager.get_full_name(),
            "share": split.credit_share,
            "d": split.start_date.isoformat(),
        }


class SplitCreditEndView(CustomerActionView):
    permission_required = services.SPLIT_PERMISSION
    form_class = SplitCreditEndForm

    def act(self, request, customer, form):
        split = services.split_credit_end(
            customer=customer,
            end_date=form.cleaned_data["end_date"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        self.success = _("Split ended: from %(d)s the manager of record counts the customer in full.") % {
            "d": (split.end_date + datetime.timedelta(days=1)).isoformat() if split.end_date else ""
        }
