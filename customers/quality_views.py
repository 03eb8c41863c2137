"""Pages of the data-quality queue: the queue with its counts, the review of one
issue (a duplicate pair side by side), merge and dismiss. Thin: the scope and the
rules are in `customers.quality`; every customer is fetched through
`Customer.objects.visible_to(user)`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import BootstrapFormMixin
from core.listing import Sorting, paginate
from core.views import ScopedView

from . import quality
from .choices import QualityIssueKind, QualityIssueStatus
from .filters import CodeField, branch_choices
from .masking import mask_id_number, mask_mobile
from .models import Account, ContactPoint, Customer, DataQualityIssue, Interaction
from .permissions import access_quality_issue

PAGE_SIZE = 50

# What the codes in DataQualityIssue.detail mean.
DETAIL_LABELS = {
    "mobile": gettext_lazy("mobile"),
    "birth_date": gettext_lazy("birth date"),
    "name": gettext_lazy("name"),
    "suffix": gettext_lazy("impossible last digits"),
    "missing": gettext_lazy("no ID number"),
    "undecryptable": gettext_lazy("cannot be decrypted"),
    "index_mismatch": gettext_lazy("search index does not match"),
    "id_length": gettext_lazy("wrong length"),
    "id_chars": gettext_lazy("invalid characters"),
    "id_region": gettext_lazy("unknown region code"),
    "id_birth_date": gettext_lazy("impossible birth date"),
    "id_check_digit": gettext_lazy("wrong check digit"),
}


def detail_text(detail: str) -> str:
    return ", ".join(str(DETAIL_LABELS.get(code, code)) for code in detail.split())


class QueueFilterForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *QualityIssueKind.choices],
    )
    branch = CodeField(label=gettext_lazy("Branch"), required=False, max_length=20, widget=forms.Select)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *QualityIssueStatus.choices],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # the branches the user may see, read when the select is shown or a branch checked
        cast(CodeField, self.fields["branch"]).choices = self._branch_choices

    def _branch_choices(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_branches"):
            self._branches = [("", _("All branches")), *branch_choices(self.user)]
        return self._branches

    def clean_branch(self) -> str:
        code = self.cleaned_data["branch"]
        if code and code not in {value for value, _label in self._branch_choices()}:
            raise ValidationError(
                _("Branch %(code)s is outside the branches you may see: choose one from the list."),
                code="branch_out_of_scope",
                params={"code": code},
            )
        return code


# Sorted by the issues' own columns; "detected" follows the ids (each scan inserts
# after the previous one), so the default walks the primary key backwards.
QUEUE_SORTING = Sorting(
    {
        "detected": ("id",),
        "kind": ("kind",),
        "customer": ("customer__customer_no",),
        "branch": ("branch__path",),
        "status": ("status",),
    },
    default="-detected",
)


class MergeForm(BootstrapFormMixin, forms.Form):
    survivor = forms.ChoiceField(label=gettext_lazy("Record to keep"), widget=forms.RadioSelect)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, strip=True)

    def __init__(self, *args, pair: tuple[Customer, Customer], **kwargs):
        super().__init__(*args, **kwargs)
        survivor = cast(forms.ChoiceField, self.fields["survivor"])
        survivor.choices = [(c.customer_no, c.customer_no) for c in pair]


class DismissForm(BootstrapFormMixin, forms.Form):
    prefix = "dismiss"  # the merge form on the same page has a reason too
    reason = forms.CharField(label=gettext_lazy("Reason"), min_length=4, max_length=200, strip=True)


def _count_of(model, field: str = "customer"):
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0, output_field=IntegerField())


def _customers_of(request, issue: DataQualityIssue) -> list[Customer]:
    """The issue's customers, through the user's scope (404 if one is outside it),
    with what the comparison counts, in one query."""
    pks = [issue.customer_id] + ([issue.other_customer_id] if issue.other_customer_id else [])
    rows = {
        c.pk: c
        for c in Customer.objects.visible_to(request.user)
        .filter(pk__in=pks)
        .select_related("home_branch", "primary_manager", "merged_into")
        .annotate(
            account_count=_count_of(Account),
            contact_count=_count_of(ContactPoint),
            interaction_count=_count_of(Interaction),
        )
    }
    if len(rows) != len(pks):
        raise Http404
    return [rows[pk] for pk in pks]


def _risk_text(customer: Customer) -> str:
    if not customer.risk_level:
        return "—"
    until = customer.risk_expiry.isoformat() if customer.risk_expiry else "—"
    return _("%(level)s until %(date)s") % {"level": customer.risk_level, "date": until}


def _comparison(customers: list[Customer]) -> list[dict[str, Any]]:
    """Rows of the side-by-side table; `differs` marks what does not agree."""
    fields = [
        (_("Customer no."), lambda c: c.customer_no),
        (_("Name"), lambda c: c.name),
        (_("ID number"), lambda c: f"{c.get_id_type_display()} {mask_id_number(c.id_number)}"),
        (_("Mobile"), lambda c: mask_mobile(c.mobile) or "—"),
        (_("Birth date"), lambda c: c.birth_date.isoformat() if c.birth_date else "—"),
        (_("Home branch"), lambda c: f"{c.home_branch.code} {c.home_branch.name}"),
        (
            _("Manager of record"),
            lambda c: c.primary_manager.display_name if c.primary_manager_id else "—",
        ),
        (_("AUM (CNY)"), lambda c: f"{c.aum:,.2f}"),
        (_("Liabilities (CNY)"), lambda c: f"{c.liabilities:,.2f}"),
        (_("Accounts"), lambda c: c.account_count),
        (_("Contacts"), lambda c: c.contact_count),
        (_("Interactions"), lambda c: c.interaction_count),
        (_("Risk assessment"), _risk_text),
        (_("Customer since"), lambda c: c.open_date.isoformat() if c.open_date else "—"),
        (_("Status"), lambda c: c.get_status_display()),
    ]
    rows = []
    for label, value in fields:
        values = [value(c) for c in customers]
        rows.append({"label": label, "values": values, "differs": len(set(map(str, values))) > 1})
    return rows


def _counts_table(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Pivot the counts: one row per branch, one column per kind, with totals."""
    kinds = list(QualityIssueKind.values)
    branches: dict[int, dict[str, Any]] = {}
    totals = dict.fromkeys(kinds, 0)
    for row in counts:
        branch = branches.setdefault(
            row["branch_id"],
            {
                "code": row["branch__code"],
                "name": row["branch__name"],
                "counts": dict.fromkeys(kinds, 0),
                "total": 0,
            },
        )
        branch["counts"][row["kind"]] += row["count"]
        branch["total"] += row["count"]
        totals[row["kind"]] += row["count"]
    for branch in branches.values():
        branch["cells"] = [branch["counts"][k] for k in kinds]
    return {
        "kinds": QualityIssueKind.choices,
        "branches": list(branches.values()),
        "totals": [totals[k] for k in kinds],
        "total": sum(totals.values()),
    }


class QualityQueueView(PermissionRequiredMixin, ScopedView):
    permission_required = "customers.view_dataqualityissue"
    queryset = DataQualityIssue.objects.all()

    def get(self, request):
        data = request.GET.copy()
        if "status" not in data:
            data["status"] = QualityIssueStatus.OPEN
        form = QueueFilterForm(data, user=request.user)
        page = None
        if form.is_valid():
            issues = quality.quality_queue(user=request.user, issues=self.queryset, **form.cleaned_data)
            page = paginate(request, QUEUE_SORTING.apply(request, issues), default_size=PAGE_SIZE)
            for issue in page.object_list:
                issue.detail_text = detail_text(issue.detail)
        return render(
            request,
            "customers/quality/queue.html",
            {
                "form": form,
                "page": page,
                "page_obj": page,
                "sort": QUEUE_SORTING.key(request),
                "counts": _counts_table(quality.quality_counts(user=request.user)),
            },
            status=200 if page is not None else 400,
        )


def _review_page(request, issue, *, merge_form=None, dismiss_form=None, status=200):
    customers = _customers_of(request, issue)
    can_act = issue.status == QualityIssueStatus.OPEN
    is_pair = issue.kind in quality.PAIR_KINDS and len(customers) == 2
    if merge_form is None and is_pair:
        merge_form = MergeForm(pair=(customers[0], customers[1]))
    return render(
        request,
        "customers/quality/compare.html",
        {
            "issue": issue,
            "detail": detail_text(issue.detail),
            "customers": customers,
            "rows": _comparison(customers),
            "is_pair": is_pair,
            "can_merge": can_act and is_pair and request.user.has_perm("customers.merge_customer"),
            "can_dismiss": can_act and request.user.has_perm("customers.change_dataqualityissue"),
            "merge_form": merge_form,
            "dismiss_form": dismiss_form or DismissForm(),
        },
        status=status,
    )


class QualityCompareView(PermissionRequiredMixin, ScopedView):
    """One issue: the customers side by side (a duplicate pair) or the one customer."""

    permission_required = "customers.view_dataqualityissue"
    access = access_quality_issue

    def get(self, request, pk):
        return _review_page(request, self.get_object(pk, for_change=False))


class QualityMergeView(PermissionRequiredMixin, ScopedView):
    permission_required = ("customers.view_dataqualityissue", "customers.merge_customer")
    access = access_quality_issue

    def post(self, request, pk):
        issue = self.get_object(pk, for_change=True)
        if issue.kind not in quality.PAIR_KINDS:
            raise Http404
        first, second = _customers_of(request, issue)
        form = MergeForm(request.POST, pair=(first, second))
        if form.is_valid():
            survivor, merged = (
                (first, second) if form.cleaned_data["survivor"] == first.customer_no else (second, first)
            )
            try:
                if issue.status != QualityIssueStatus.OPEN:
                    raise ValidationError(_("This issue is no longer open."))
                quality.customer_merge(
                    survivor=survivor,
                    merged=merged,
                    merged_by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Customer %(merged)s merged into %(survivor)s.")
                    % {"merged": merged.customer_no, "survivor": survivor.customer_no},
                )
                return redirect("customers:detail", customer_no=survivor.customer_no)
        return _review_page(request, issue, merge_form=form, status=400)


class QualityDismissView(PermissionRequiredMixin, ScopedView):
    permission_required = ("customers.view_dataqualityissue", "customers.change_dataqualityissue")
    access = access_quality_issue

    def post(self, request, pk):
        issue = self.get_object(pk, for_change=True)
        _customers_of(request, issue)  # the customers must be in scope too
        form = DismissForm(request.POST)
        if form.is_valid():
            try:
                quality.quality_issue_dismiss(
                    issue=issue, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Issue “%(kind)s” of %(name)s dismissed.")
                    % {"kind": issue.get_kind_display(), "name": issue.customer.name},
                )
                return redirect("customers:quality_queue")
        return _review_page(request, issue, dismiss_form=form, status=400)
