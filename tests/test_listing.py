"""The list pages' shared controls (core/listing.py): the page size a user picks,
the position shown, and sorting only by the columns a page offers."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from core.listing import PAGE_SIZES, Sorting, page_size, paginate

rf = RequestFactory()
SORTING = Sorting({"name": ("name",), "due": ("-due_date", "name")}, default="-due")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", 25), ("size=50", 50), ("size=100", 100), ("size=7", 25), ("size=100000", 25), ("size=abc", 25)],
)
def test_only_the_offered_page_sizes_are_taken(query, expected):
    assert page_size(rf.get(f"/?{query}")) == expected


def test_a_page_past_the_end_is_the_last_and_garbage_the_first():
    rows = list(range(130))
    assert paginate(rf.get("/?page=99&size=50"), rows).number == 3
    assert paginate(rf.get("/?page=x"), rows).number == 1
    page = paginate(rf.get("/?page=2&size=50"), rows)
    assert (page.start_index(), page.end_index()) == (51, 100)


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("", "-due"),
        ("sort=name", "name"),
        ("sort=-name", "-name"),
        ("sort=password", "-due"),
        ("sort=--name", "-due"),
    ],
)
def test_a_sort_must_name_an_offered_column(query, key):
    assert SORTING.key(rf.get(f"/?{query}")) == key


def test_the_order_flips_every_field_and_ends_with_the_key():
    assert SORTING.order_by("due") == ["-due_date", "name", "pk"]
    assert SORTING.order_by("-due") == ["due_date", "-name", "-pk"]


def test_a_default_that_is_no_column_is_refused():
    with pytest.raises(ValueError):
        Sorting({"name": ("name",)}, default="due")


def _render(text: str, query: str, **context) -> str:
    request = rf.get(f"/list/?{query}")
    return Template("{% load listing %}" + text).render(Context({"request": request, **context}))


def test_a_header_sorts_ascending_then_descending_and_keeps_the_filters():
    first = _render('{% sort_header "name" "Name" %}', "status=open&page=3")
    assert 'href="?status=open&amp;sort=name"' in first and "▲" not in first
    again = _render('{% sort_header "name" "Name" %}', "status=open&sort=name", sort="name")
    assert 'sort=-name"' in again and "▲" in again
    assert _render('{% sort_aria "name" %}', "sort=-name", sort="-name") == 'aria-sort="descending"'


def test_the_pages_show_the_position_and_the_sizes():
    rows = list(range(1204))
    page = paginate(rf.get("/?page=2"), rows)
    html = _render('{% include "partials/pagination.html" %}', "page=2&q=x", page_obj=page)
    assert "Items 26–50 of 1,204" in html
    assert 'href="?page=1&amp;q=x"' in html and 'href="?page=3&amp;q=x"' in html
    for size in PAGE_SIZES[1:]:
        assert f'href="?q=x&amp;size={size}"' in html
    assert (
        _render('{% include "partials/pagination.html" %}', "", page_obj=paginate(rf.get("/"), [])).strip()
        == ""
    )
