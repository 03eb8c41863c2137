"""`core.forms.QuickSelect`, the select every portal form renders (BootstrapFormMixin
gives it to each plain select): the HTML Django's own select writes, options in
groups, the chosen one selected, every label and value escaped; and the pages'
selects of a whole branch's managers are it."""

from __future__ import annotations

import re

import pytest
from django import forms

from core.forms import BootstrapFormMixin, QuickSelect

CHOICES = [
    ("", "All managers"),
    ("11101 中关村网点", [("E1101", "王经理 (E1101)"), ("E<b>", 'Tom "the" <script>x</script> & co')]),
    ("11102 五道口网点", [("E1102", "李经理 (E1102)")]),
    ("X", "no group"),
]


def normalised(html: str) -> str:
    """Whitespace between tags aside: the two write the same tags in the same order."""
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("value", ["", "E1102", "E<b>", None, "not a choice"])
def test_it_writes_the_html_django_s_select_writes(value):
    # in an order no sorting gives, as a bound field with errors sets them
    attrs = {
        "class": "form-select",
        "aria-invalid": "true",
        "id": "id_manager",
        "required": True,
        "disabled": False,
    }
    django_s = forms.Select(choices=CHOICES).render("manager", value, attrs=attrs)
    quick = QuickSelect(choices=CHOICES).render("manager", value, attrs=attrs)
    assert normalised(quick) == normalised(django_s)
    assert "<script>" not in quick and "&lt;script&gt;" in quick
    assert quick.count(" selected") == (1 if value in ("", "E1102", "E<b>", None) else 0)


def test_a_portal_form_s_plain_selects_are_quick_and_keep_their_choices():
    class Filter(BootstrapFormMixin, forms.Form):
        manager = forms.ChoiceField(required=False)
        colour = forms.ChoiceField(choices=[("r", "red")], widget=forms.RadioSelect, required=False)

    form = Filter(data={"manager": "E1102"})
    form.fields["manager"].choices = CHOICES  # set after the form is built, as the pages do
    assert type(form.fields["manager"].widget) is QuickSelect
    assert type(form.fields["colour"].widget) is forms.RadioSelect
    html = str(form["manager"])
    assert 'class="form-select"' in html and '<option value="E1102" selected>李经理 (E1102)</option>' in html
    assert form.is_valid() and form.cleaned_data["manager"] == "E1102"
