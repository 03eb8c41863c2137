"""The visit journal's form asks how satisfied the customer said they were, 1 to 5,
optionally (the customer analysis averages the ratings: docs/analysis.md)."""

from __future__ import annotations

import pytest

from care.choices import JournalKind, VisitPurpose
from care.forms.plan import JournalEntryForm

pytestmark = pytest.mark.django_db


def _form(**fields) -> JournalEntryForm:
    data = {
        "customer_no": "900005000001",
        "kind": JournalKind.VISIT,
        "visited_at": "2026-11-30T10:00",
        "purpose": VisitPurpose.KEEP_IN_TOUCH,
        **fields,
    }
    return JournalEntryForm(data)


@pytest.mark.parametrize("rating", ["1", "3", "5"])
def test_a_rating_from_one_to_five_is_taken(rating):
    form = _form(satisfaction=rating)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["satisfaction"] == int(rating)


def test_no_rating_is_none():
    form = _form(satisfaction="")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["satisfaction"] is None


@pytest.mark.parametrize("rating", ["0", "6", "good"])
def test_any_other_rating_is_refused_with_a_message(rating):
    form = _form(satisfaction=rating)
    assert not form.is_valid()
    assert form.errors["satisfaction"] == ["Rate the satisfaction from 1 to 5, or leave it empty."]


def test_the_form_page_offers_the_rating(client, demo_users, demo_password):
    from tests.customers.conftest import log_in

    log_in(client, "demo_cm1", demo_password)
    html = client.get("/care/journal/new/").content.decode()
    assert 'name="satisfaction"' in html
    assert "1 not satisfied at all, 5 very satisfied" in html
