"""Pages to record what the bank's data does not hold about a customer: their
relationships, their household and the assets they hold elsewhere (the 360 view
links here). Thin: each view fetches the customer through `access_customer` for a
change (404 outside the scope, 403 for a role that may not change customers),
checks the form, calls one service of `customers.records` and goes back to the 360
view saying what happened; a refused form comes back with its errors (400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import add_service_errors
from core.views import ScopedView

from . import records
from .detail_forms import HouseholdChangeForm, HouseholdJoinForm, OtherAssetForm, RelationshipForm
from .models import Customer, OtherAsset, Relationship
from .permissions import access_customer

TEMPLATE = "customers/record_form.html"


class RecordView(PermissionRequiredMixin, ScopedView):
    """The customer of the URL, fetched for a change; `page()` renders the form."""

    permission_required = "customers.change_customer"
    access = access_customer
    title: Any = ""

    def customer(self, customer_no: str) -> Customer:
        return self.get_object(customer_no, for_change=True)

    def page(self, request, customer: Customer, form, *, status: int = 200, **context):
        return render(
            request,
            TEMPLATE,
            {"c": customer, "form": form, "title": self.title, **context},
            status=status,
        )

    def done(self, customer: Customer, message: str):
        messages.success(self.request, message)
        return redirect("customers:detail", customer_no=customer.customer_no)


# --- relationships ---------------------------------------------------------------------


def _relationship(customer: Customer, pk: int) -> Relationship:
    """A relationship of this customer (another customer's: 404)."""
    return get_object_or_404(Relationship.objects.select_related("customer"), pk=pk, customer=customer)


def _related_in_scope(user, relationship: Relationship) -> Customer | None:
    """The related customer if the user may see them (else None: not shown)."""
    if relationship.related_customer_id is None:
        return None
    return Customer.objects.visible_to(user).filter(pk=relationship.related_customer_id).first()


class RelationshipCreateView(RecordView):
    title = gettext_lazy("Record a relationship")

    def get(self, request, customer_no: str):
        return self.page(request, self.customer(customer_no), RelationshipForm())

    def post(self, request, customer_no: str):
        customer = self.customer(customer_no)
        form = RelationshipForm(request.POST)
        if form.is_valid():
            try:
                relationship = records.relationship_add(
                    customer=customer, by=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(
                    customer,
                    _("%(relation)s recorded for %(name)s.")
                    % {"relation": relationship.get_relation_type_display(), "name": customer.name},
                )
        return self.page(request, customer, form, status=400)


class RelationshipEditView(RecordView):
    title = gettext_lazy("Change a relationship")

    def _form(self, request, relationship: Relationship, data=None) -> RelationshipForm:
        related = _related_in_scope(request.user, relationship)
        hidden = relationship.related_customer_id is not None and related is None
        initial = {
            "relation_type": relationship.relation_type,
            "related_customer_no": related.customer_no if related else "",
            "related_name": relationship.related_name,
            "note": relationship.note,
        }
        return RelationshipForm(data, initial=initial, keep_related=hidden)

    def get(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        relationship = _relationship(customer, pk)
        return self.page(request, customer, self._form(request, relationship))

    def post(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        relationship = _relationship(customer, pk)
        form = self._form(request, relationship, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.setdefault("related_customer_no", records.KEEP)
            try:
                relationship = records.relationship_update(relationship=relationship, by=request.user, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(
                    customer,
                    _("%(relation)s of %(name)s changed.")
                    % {"relation": relationship.get_relation_type_display(), "name": customer.name},
                )
        return self.page(request, customer, form, status=400)


class RelationshipRemoveView(RecordView):
    def post(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        relationship = _relationship(customer, pk)
        records.relationship_remove(relationship=relationship, by=request.user)
        return self.done(
            customer,
            _("%(relation)s removed from %(name)s's relationships.")
            % {"relation": relationship.get_relation_type_display(), "name": customer.name},
        )


# --- household -------------------------------------------------------------------------


class HouseholdView(RecordView):
    """A customer in no household joins one or starts one; a customer in one changes
    their place in it or its name."""

    def _form(self, customer: Customer, data=None):
        if customer.household_id is None:
            self.title = gettext_lazy("Record the household")
            return HouseholdJoinForm(data)
        self.title = gettext_lazy("Change the household")
        household = customer.household
        assert household is not None  # loaded with the customer by access_customer
        initial = {"role": customer.household_role, "name": household.name}
        return HouseholdChangeForm(data, initial=initial)

    def get(self, request, customer_no: str):
        customer = self.customer(customer_no)
        return self.page(request, customer, self._form(customer))

    def post(self, request, customer_no: str):
        customer = self.customer(customer_no)
        form = self._form(customer, request.POST)
        if form.is_valid():
            try:
                if isinstance(form, HouseholdJoinForm):
                    household = records.household_join(
                        customer=customer, by=request.user, **form.cleaned_data
                    )
                    message = _("%(name)s is now in the household %(household)s.")
                else:
                    household = records.household_change(
                        customer=customer, by=request.user, **form.cleaned_data
                    )
                    message = _("The household %(household)s of %(name)s is updated.")
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(customer, message % {"name": customer.name, "household": household.name})
        return self.page(request, customer, form, status=400)


class HouseholdLeaveView(RecordView):
    def post(self, request, customer_no: str):
        customer = self.customer(customer_no)
        if customer.household_id is None:
            messages.info(request, _("%(name)s is in no household.") % {"name": customer.name})
            return redirect("customers:detail", customer_no=customer.customer_no)
        records.household_leave(customer=customer, by=request.user)
        return self.done(customer, _("%(name)s left the household.") % {"name": customer.name})


# --- other assets ----------------------------------------------------------------------


def _asset(customer: Customer, pk: int) -> OtherAsset:
    return get_object_or_404(OtherAsset.objects.select_related("customer"), pk=pk, customer=customer)


class OtherAssetCreateView(RecordView):
    title = gettext_lazy("Record an asset held elsewhere")

    def get(self, request, customer_no: str):
        return self.page(request, self.customer(customer_no), OtherAssetForm())

    def post(self, request, customer_no: str):
        customer = self.customer(customer_no)
        form = OtherAssetForm(request.POST)
        if form.is_valid():
            try:
                asset = records.other_asset_add(customer=customer, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(
                    customer,
                    _("%(kind)s “%(description)s” recorded for %(name)s.")
                    % {
                        "kind": asset.get_kind_display(),
                        "description": asset.description,
                        "name": customer.name,
                    },
                )
        return self.page(request, customer, form, status=400)


class OtherAssetEditView(RecordView):
    title = gettext_lazy("Change an asset held elsewhere")

    def _form(self, asset: OtherAsset, data=None) -> OtherAssetForm:
        initial = {
            "kind": asset.kind,
            "description": asset.description,
            "estimated_value": asset.estimated_value,
            "valued_on": asset.valued_on,
        }
        return OtherAssetForm(data, initial=initial)

    def get(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        return self.page(request, customer, self._form(_asset(customer, pk)))

    def post(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        asset = _asset(customer, pk)
        form = self._form(asset, request.POST)
        if form.is_valid():
            try:
                asset = records.other_asset_update(asset=asset, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(
                    customer,
                    _("%(kind)s “%(description)s” of %(name)s changed.")
                    % {
                        "kind": asset.get_kind_display(),
                        "description": asset.description,
                        "name": customer.name,
                    },
                )
        return self.page(request, customer, form, status=400)


class OtherAssetRemoveView(RecordView):
    def post(self, request, customer_no: str, pk: int):
        customer = self.customer(customer_no)
        asset = _asset(customer, pk)
        records.other_asset_remove(asset=asset, by=request.user)
        return self.done(
            customer,
            _("%(kind)s “%(description)s” removed from %(name)s's assets.")
            % {"kind": asset.get_kind_display(), "description": asset.description, "name": customer.name},
        )
