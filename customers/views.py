from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import client_ip
from accounts.scope import visible_branches
from core.listing import page_size
from core.replica import replica_reads
from core.views import ScopedView

from . import selectors, services
from .choices import InteractionKind
from .detail_forms import RevealChoiceForm
from .forms import (
    ContactForm,
    CustomerCreateForm,
    CustomerEditForm,
    CustomerSearchForm,
    InteractionForm,
    RevealForm,
)
from .masking import mask_contact
from .models import Customer
from .permissions import access_customer
from .search import CustomerSearch, KeysetPage, keyset_page
from .search_keys import SearchKeys


class SeeOther(HttpResponseRedirect):
    status_code = 303


def _search_form(request, data) -> CustomerSearchForm:
    return CustomerSearchForm(data, keys=SearchKeys(request.session, request.user), user=request.user)


def _to_results(form: CustomerSearchForm, *, keep_cursor: bool = False) -> HttpResponseRedirect:
    """To the results page of the search, a full identifier as its key (`k`)."""
    query = form.query_string(keep_cursor=keep_cursor)
    url = reverse("customers:list")
    return SeeOther(f"{url}?{query}" if query else url)


def _search_page(request, form: CustomerSearchForm):
    """The results of the search (held to the user's scope by the search itself), or
    its errors (400); an htmx request gets the results table only (live search).
    Pages follow a key (`cursor`): the rank of a page's first row (`at`) travels
    with it in the links, for the position shown ("Items 26–50 of 312")."""
    size = page_size(request)
    context: dict[str, Any] = {"form": form, "page": None, "sort": "aum", "size": size}
    if not form.is_bound:
        context["page"] = keyset_page(CustomerSearch(user=request.user), size=size)
    elif form.is_valid():
        context["sort"] = form.cleaned_data["sort"] or "aum"
        search = CustomerSearch(
            user=request.user, q=form.cleaned_data["q"], filters=form.filters(), sort=context["sort"]
        )
        context["page"] = keyset_page(search, cursor=form.cleaned_data["cursor"], size=size)
    context["customers"] = context["page"].rows if context["page"] else []
    context["tiers"] = form.tier_labels  # one read for the rows and the tier filter
    if context["customers"]:
        context["position"] = _position(request, context["page"], size)
    context["searched"] = form.is_bound and bool(form.data.get("q") or form.data.get("k"))
    context["search_key"] = form.search_key()
    template = "customers/partials/_table.html" if request.htmx else "customers/customer_list.html"
    return render(request, template, context, status=200 if not form.errors else 400)


def _position(request, page: KeysetPage, size: int) -> dict[str, Any]:
    """Where the page stands: the rank of its first and last rows (None when a link
    came without it: an old bookmark), of how many (capped), and the ranks the
    previous and next pages start at."""
    raw = request.GET.get("at", "")
    given = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0
    first: int | None = 1 if page.is_first else (given if given > 1 else None)
    shown = len(page.rows)
    return {
        "first": first,
        "last": first + shown - 1 if first is not None else None,
        "count": page.count,
        "capped": page.count_capped,
        "previous_at": max(first - size, 1) if first is not None else None,
        "next_at": first + shown if first is not None else None,
    }


@replica_reads
class CustomerListView(PermissionRequiredMixin, ScopedView):
    """Search and browse the customers in the user's scope, keyset-paginated. A full
    identifier sent as `?q=` (an old bookmark) is not searched nor echoed back from
    that URL: the answer is a redirect to its key."""

    permission_required = "customers.view_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        form = _search_form(request, request.GET or None)
        if form.text_in_url():
            return _to_results(form, keep_cursor=True)
        return _search_page(request, form)


class CustomerSearchView(PermissionRequiredMixin, View):
    """The search box posts here (the htmx live search too) and is sent on to the
    results page (303): a full identifier by its key, any other text as the ordinary
    shareable `?q=` URL. The results page validates the search (errors: 400), so a
    reload or the browser's history never posts again."""

    permission_required = "customers.view_customer"

    def post(self, request):
        return _to_results(_search_form(request, request.POST))


class CustomerCreateView(PermissionRequiredMixin, View):
    permission_required = "customers.add_customer"

    def _form(self, request, data=None):
        return CustomerCreateForm(data, branches=visible_branches(request.user).filter(is_active=True))

    def get(self, request):
        return render(
            request, "customers/customer_form.html", {"form": self._form(request), "creating": True}
        )

    def post(self, request):
        form = self._form(request, request.POST)
        if form.is_valid():
            try:
                result = services.customer_create(created_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return self._done(request, form, result)
        return render(request, "customers/customer_form.html", {"form": form, "creating": True}, status=400)

    def _done(self, request, form, result):
        if result.created:
            messages.success(
                request,
                _("Customer %(name)s (%(no)s) created.")
                % {"name": result.customer.name, "no": result.customer.customer_no},
            )
            return redirect("customers:detail", customer_no=result.customer.customer_no)
        # The person is already a customer: open them, if this user may see them.
        visible = Customer.objects.visible_to(request.user).filter(pk=result.customer.pk).exists()
        if visible:
            messages.info(request, _("This person is already a customer; here is their record."))
            return redirect("customers:detail", customer_no=result.customer.customer_no)
        form.add_error(
            "id_number",
            _(
                "This person is already a customer of the bank, looked after elsewhere. "
                "Ask your branch head to share the customer with you."
            ),
        )
        return render(request, "customers/customer_form.html", {"form": form, "creating": True}, status=409)


class CustomerEditView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.change_customer"
    access = access_customer

    def get(self, request, customer_no):
        customer = self.get_object(customer_no, for_change=True)
        form = CustomerEditForm(initial=CustomerEditForm.initial_for(customer))
        return render(request, "customers/customer_form.html", {"form": form, "customer": customer})

    def post(self, request, customer_no):
        customer = self.get_object(customer_no, for_change=True)
        form = CustomerEditForm(request.POST)
        if form.is_valid():
            try:
                services.customer_update(customer=customer, updated_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Customer %(name)s (%(no)s) updated.")
                    % {"name": form.cleaned_data["name"], "no": customer.customer_no},
                )
                return redirect("customers:detail", customer_no=customer.customer_no)
        return render(
            request, "customers/customer_form.html", {"form": form, "customer": customer}, status=400
        )


class CustomerDetailView(PermissionRequiredMixin, ScopedView):
    """The 360 view: a bounded number of queries whatever the customer holds."""

    permission_required = "customers.view_customer"
    access = access_customer

    def get(self, request, customer_no):
        customer = self.get_object(customer_no, for_change=False)
        return _detail_page(request, customer)


def _detail_page(request, customer: Customer, *, contact_form: ContactForm | None = None, status: int = 200):
    """The 360 view of `customer`; a refused contact comes back on its form (400)."""
    view = selectors.customer_360(customer, user=request.user)
    return render(
        request,
        "customers/customer_detail.html",
        {
            "c": customer,
            "view": view,
            "interaction_form": InteractionForm(),
            "contact_form": contact_form or ContactForm(),
            "can_reveal": request.user.has_perm("customers.reveal_customer_pii"),
            "can_change": request.user.has_perm("customers.change_customer"),
            "can_log": request.user.has_perm("customers.add_interaction"),
            "aum_chart": {
                "labels": [p["month"] for p in view.aum_trend],
                "avg": [float(p["avg_aum"]) for p in view.aum_trend],
                "end": [float(p["end_aum"]) for p in view.aum_trend],
            },
        },
        status=status,
    )


class RevealView(PermissionRequiredMixin, ScopedView):
    """Reveal one field of one customer, with a reason, audited before it is shown.
    Answers with a small fragment that replaces the masked value (never cached)."""

    permission_required = "customers.reveal_customer_pii"
    access = access_customer

    def post(self, request, customer_no):
        customer = self.get_object(customer_no, for_change=False)
        if "field" not in request.POST:  # the reveal dialog (one field: "field", "item")
            return self._reveal_chosen(request, customer)
        form = RevealForm(request.POST)
        if not form.is_valid():
            return render(request, "customers/partials/_reveal_error.html", {"form": form}, status=400)
        try:
            value = services.pii_reveal(
                user=request.user,
                customer=customer,
                field=form.cleaned_data["field"],
                item_id=form.cleaned_data.get("item"),
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            return render(
                request, "customers/partials/_reveal_error.html", {"errors": exc.messages}, status=400
            )
        return render(request, "customers/partials/_revealed.html", {"value": value})

    def _reveal_chosen(self, request, customer: Customer):
        """The reveal dialog: the values chosen, for one reason, all or none. The
        answer says how many were revealed and swaps each value into its place on
        the page (htmx out-of-band swaps)."""
        form = RevealChoiceForm(request.POST)
        if not form.is_valid():
            return render(request, "customers/partials/_reveal_error.html", {"form": form}, status=400)
        chosen = form.cleaned_data["reveal"]
        try:
            values = services.pii_reveals(
                user=request.user,
                customer=customer,
                fields=chosen,
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            return render(
                request, "customers/partials/_reveal_error.html", {"errors": exc.messages}, status=400
            )
        revealed = [
            {"target": f"pii-{field}-{item or 0}", "value": value}
            for (field, item), value in zip(chosen, values, strict=True)
        ]
        return render(request, "customers/partials/_revealed_many.html", {"revealed": revealed})


class InteractionCreateView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.add_interaction"
    access = access_customer

    def post(self, request, customer_no):
        # a write about the customer: fetched for change (404 outside the scope)
        customer = self.get_object(customer_no, for_change=True)
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                services.interaction_log(customer=customer, logged_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
        if request.htmx:
            interactions = customer.interactions.select_related("manager").order_by("-occurred_at", "-pk")[
                :20
            ]
            status = 200 if form.is_valid() and not form.errors else 400
            return render(
                request,
                "customers/partials/_timeline.html",
                {
                    "c": customer,
                    "interactions": interactions,
                    "interaction_form": InteractionForm() if status == 200 else form,
                    "can_log": True,
                },
                status=status,
            )
        if form.errors:
            for message in [e for errors in form.errors.values() for e in errors]:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(kind)s logged on %(name)s's timeline.")
                % {"kind": InteractionKind(form.cleaned_data["kind"]).label, "name": customer.name},
            )
        return redirect("customers:detail", customer_no=customer.customer_no)


class ContactCreateView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.change_customer"
    access = access_customer

    def post(self, request, customer_no):
        customer = self.get_object(customer_no, for_change=True)
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact = services.contact_add(customer=customer, added_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("%(type)s %(value)s added to %(name)s's contacts.")
                    % {
                        "type": contact.get_type_display(),
                        "value": mask_contact(contact.type, contact.value),
                        "name": customer.name,
                    },
                )
                return redirect("customers:detail", customer_no=customer.customer_no)
        # Refused: the page again, the form open with what was typed and why.
        return _detail_page(request, customer, contact_form=form, status=400)
