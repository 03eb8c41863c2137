"""The save list (/analysis/save-list/, docs/analysis.md): a client manager's
customers of record, highest value at risk first, with what puts each at risk and
what to offer them. A branch head or head office reads their team's lists together
or picks one manager of their scope by name; a manager outside it, or any other
filter that does not hold, is refused with the form's message (400), never shown.

Names are masked; tiers, reasons and products are shown by name. A page runs a
fixed number of queries whatever its size (tests/analysis/test_save_list.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.people import person_choices
from core.forms import BootstrapFormMixin
from core.listing import paginate
from core.views import ScopedView

from .. import selectors
from ..models import CustomerAnalysis

CUSTOMER_NO = re.compile(r"^[0-9A-Za-z]+$")


class SaveListForm(BootstrapFormMixin, forms.Form):
    """The save list's filters, from the query string. `managers`: whose list the
    user may read (a client manager: only their own)."""

    manager = forms.ChoiceField(
        label=_("Client manager"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a client manager whose customers you may see: choose one from the list."
            )
        },
    )
    min_probability = forms.DecimalField(
        label=_("Churn probability at least (%)"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        error_messages={"invalid": _("Enter the probability as a percentage from 0 to 100.")},
    )
    tier = forms.ChoiceField(
        label=_("Tier"),
        required=False,
        error_messages={"invalid_choice": _("There is no such tier: choose one from the list.")},
    )
    q = forms.CharField(label=_("Customer number"), required=False, max_length=20)

    def __init__(self, *args, managers: list[User], team: bool, tiers: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.managers = {m.employee_no: m for m in managers if m.employee_no}
        manager = self.fields["manager"]
        assert isinstance(manager, forms.ChoiceField)
        manager.choices = person_choices(self.managers.values(), _("My whole team") if team else _("Mine"))
        tier = self.fields["tier"]
        assert isinstance(tier, forms.ChoiceField)
        tier.choices = [("", _("All tiers")), *tiers.items(), (selectors.NO_TIER, _("No tier"))]

    def clean_manager(self) -> User | None:
        number = self.cleaned_data.get("manager") or ""
        return self.managers[number] if number else None

    def clean_min_probability(self) -> Decimal | None:
        percent = self.cleaned_data.get("min_probability")
        return None if percent is None else percent / 100

    def clean_q(self) -> str:
        number = (self.cleaned_data.get("q") or "").strip()
        if number and not CUSTOMER_NO.match(number):
            raise forms.ValidationError(_("A customer number has letters and digits only."))
        return number


class SaveListView(PermissionRequiredMixin, ScopedView):
    permission_required = "analysis.view_customeranalysis"
    queryset = CustomerAnalysis.objects.all()

    def get(self, request):
        from vip.selectors.levels import tier_names

        user = request.user
        team = selectors.chooses_manager(user)
        managers = list(selectors.save_list_managers(user)) if team else [user]
        names = tier_names()
        form = SaveListForm(request.GET, managers=managers, team=team, tiers=names)
        context: dict[str, Any] = {"form": form, "team": team, "page_obj": None, "rows": []}
        if not form.is_valid():
            return render(request, "analysis/save_list.html", context, status=400)
        data = form.cleaned_data
        manager = data["manager"] or (None if team else user)
        rows = selectors.save_list(
            rows=self.queryset,
            user=user,
            manager=manager,
            min_probability=data["min_probability"],
            tier=data["tier"],
            customer_no=data["q"],
        )
        page_obj = paginate(request, rows)
        shown = list(page_obj.object_list)
        context.update(
            valid=True,
            page_obj=page_obj,
            rows=selectors.save_list_rows(shown, tier_names=names),
            manager=manager,
            own=manager is not None and manager.pk == user.pk,
            as_of=max((row.as_of for row in shown), default=None),
            filtered=data["min_probability"] is not None or bool(data["tier"] or data["q"]),
        )
        return render(request, "analysis/save_list.html", context)
