"""What the VIP pages share: where to go back to, how errors reach the page, and
the controls of the keyset-paged lists."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme

from core.listing import Sorting, page_size
from core.views import form_errors, show_errors  # noqa: F401  (re-exported for the VIP pages)
from customers.search import KeysetPage


def next_or(request, default: str) -> str:
    """The `next` the form carried, if it is a page of this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def filter_errors(request, filters) -> None:
    """The filter values a list page did not understand (it ignores them), each
    message saying which value."""
    for errors in filters.errors.values():
        for error in errors:
            messages.error(request, error)


# --- keyset-paged lists (a manager's book, the branch pool) -------------------------------
#
# A book or a pool may hold a whole branch: its pages stay keyset pages (an index
# range however deep, customers.search.paging) rather than OFFSET pages. They share
# the list controls of core.listing all the same: a page size (`size`), sorting by
# a column (`sort`) and the position of the page ("Items 26–50 of 1,204").
#
# The cursor of a keyset page is valid in one order only: the page's links carry it
# prefixed with the sort it belongs to ("-aum.eyJ..."), and a cursor of another
# sort (a header clicked on page 3, an old bookmark) starts again at the first page.
# A cursor without a prefix is one of the default order. The position of the first
# row (`at`) rides along with the cursor; it is only shown, never trusted for data.

KEYSET_SORTING = Sorting(
    {"aum": ("aum",), "name": ("name",), "customer_no": ("customer_no",)},
    default="-aum",
)
# Each sort of the headers as the keyset pages name it (customers.search.SORTS:
# "aum" is the largest first there).
_KEYSET_ORDER = {
    "-aum": "aum",
    "aum": "-aum",
    "name": "name",
    "-name": "-name",
    "customer_no": "customer_no",
    "-customer_no": "-customer_no",
}


@dataclass(frozen=True)
class KeysetRequest:
    """What a keyset-paged list page was asked for."""

    sort: str  # as the headers say it: "-aum", "name"
    order: str  # as `keyset_page` takes it: "aum", "name"
    cursor: str  # the keyset cursor, "" for the first page
    size: int
    start: int  # the position of the page's first row, from 1


def keyset_request(request, cursor: str = "") -> KeysetRequest:
    """The sort, page size, cursor and position a keyset page is asked for;
    `cursor` is the page form's (validated) value."""
    sort = KEYSET_SORTING.key(request)
    owner, dot, raw = (cursor or "").partition(".")
    if not dot:  # a cursor of the default order, from before the prefix
        owner, raw = KEYSET_SORTING.default, owner
    if owner != sort:
        raw = ""
    at = request.GET.get("at", "")
    start = int(at) if raw and at.isdigit() and 0 < int(at) < 10**9 else 1
    return KeysetRequest(
        sort=sort, order=_KEYSET_ORDER[sort], cursor=raw, size=page_size(request), start=start
    )


@dataclass(frozen=True)
class KeysetPosition:
    """Where a keyset page is, for vip/partials/_keyset_pages.html: the position of
    its rows among `count` (more than `count` when `capped`) and the links' cursors
    and positions."""

    start: int
    end: int
    count: int
    capped: bool
    per_page: int
    is_first: bool
    next_cursor: str
    next_at: int
    previous_cursor: str
    previous_at: int

    @property
    def paginator(self) -> KeysetPosition:
        """What `{% page_sizes %}` reads the page size from (`paginator.per_page`)."""
        return self


def keyset_position(
    asked: KeysetRequest, page: KeysetPage, *, shown: int, count: int | None = None
) -> KeysetPosition:
    """The position of a keyset page of `shown` rows; `count`: the exact number of
    rows when the page knows it (else the page's, capped)."""
    start = 1 if page.is_first else asked.start
    exact = count is not None
    total = count if count is not None else page.count
    return KeysetPosition(
        start=start if shown else 0,
        end=start + shown - 1 if shown else 0,
        count=max(total, start + shown - 1) if exact or not page.count_capped else total,
        capped=not exact and page.count_capped,
        per_page=asked.size,
        is_first=page.is_first,
        next_cursor=f"{asked.sort}.{page.next_cursor}" if page.next_cursor else "",
        next_at=start + shown,
        previous_cursor=f"{asked.sort}.{page.previous_cursor}" if page.previous_cursor else "",
        previous_at=max(start - asked.size, 1),
    )
