"""A customer search, built from its parameters: the user's scope (its kind, its
branch ids, its alternatives), the text (its kind, its alternatives), the filters
and the sort. From them come both the search as one queryset (counts, exports, the
API's rows) and the parts a page reads its keys from (`parts`):

- a search with one source of alternatives (the places a name or pinyin prefix can
  be, or a manager's own customers and those shared with them) is read once per
  alternative: each is one index range or one ordered walk, where their OR makes
  PostgreSQL visit every match in the table;
- otherwise a search held to a few branches (a branch head's subtree, the branch
  filter), in AUM order, with no text or a text that matches a large share of the
  bank, is read once per branch: each branch's own AUM-ordered index is walked as
  far as the page, instead of the bank's (passing over every other branch's
  customers) or the whole AUM range of every branch to sort it (an index cannot be
  read in order for `branch IN (...)`; limited parts of a UNION ALL are merged in
  order). A selective text (two characters or more, a number) fetches its matches
  once for all branches.

Nothing here reads Django's query tree or asks PostgreSQL for a plan: the choice
follows from the parameters alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from accounts.scope import ScopeKind
from customers.models import Customer
from customers.querysets import ScopeRule

from .filters import SearchFilters
from .text import TextMatch, text_match

# sort name -> (field, descending); `id` breaks ties in the same direction.
SORTS: dict[str, tuple[str, bool]] = {
    "aum": ("aum", True),
    "-aum": ("aum", False),
    "name": ("name", False),
    "-name": ("name", True),
    "customer_no": ("customer_no", False),
    "-customer_no": ("customer_no", True),
}
BRANCH_PARTS_MAX = 16  # a search held to more branches walks the bank's AUM index
ALTERNATIVES_MAX = 4
RELATED = ("home_branch", "primary_manager")


class CustomerSearch:
    """Customers in the user's scope matching the text, the filters and `where` (a
    caller's own condition, e.g. "without a manager"), in a stable order (the sort
    key, then id) that keyset pagination follows. Merged-away records are never
    found. `annotations` are computed for the rows of a page only."""

    def __init__(
        self,
        *,
        user,
        q: str = "",
        filters: SearchFilters | None = None,
        sort: str = "aum",
        where: Q | None = None,
        annotations: Mapping[str, Any] | None = None,
    ):
        self.user = user
        self.q = (q or "").strip()
        self.filters = filters or SearchFilters()
        self.sort = sort if sort in SORTS else "aum"
        self.field, descending = SORTS[self.sort]
        self.order = (f"-{self.field}", "-id") if descending else (self.field, "id")
        self.where = where or Q()
        self.annotations = dict(annotations or {})
        rule = ScopeRule.of(user)
        self.scope_kind = rule.kind
        self.scope_alternatives: tuple[Q, ...] = ()
        self.branch_ids: frozenset[int] | None = None  # None: any branch
        if rule.kind is ScopeKind.SUBTREE:
            self.branch_ids = frozenset(rule.branch_ids)
        elif rule.kind is not ScopeKind.NONE:
            self.scope_alternatives = rule.alternatives() or ()
        wanted = self.filters.branch_ids()
        if wanted is not None:
            self.branch_ids = wanted if self.branch_ids is None else self.branch_ids & wanted
        self.text: TextMatch | None = text_match(self.q) if self.q else None
        self.empty = rule.kind is ScopeKind.NONE or self.branch_ids == frozenset()

    # --- the search as one queryset ----------------------------------------------------

    @property
    def queryset(self) -> QuerySet[Customer]:
        if self.empty:
            return Customer.objects.none()
        text = self.text.condition if self.text else Q()
        scope = Q()
        for alternative in self.scope_alternatives:
            scope |= alternative
        found = self._matching(scope, text, self.branch_ids)
        return found.select_related(*RELATED).annotate(**self.annotations).order_by(*self.order)

    def __iter__(self):
        return iter(self.queryset)

    # --- the parts a page reads its keys from ------------------------------------------

    def parts(self) -> tuple[list[QuerySet[Customer]], bool]:
        """The querysets whose ordered keys, merged, are the search's keys, and whether
        they may overlap (alternatives: their union is distinct)."""
        if self.empty:
            return [], False
        scopes = self.scope_alternatives or (Q(),)
        texts = self.text.alternatives if self.text else (Q(),)
        if len(scopes) == 1 and 1 < len(texts) <= ALTERNATIVES_MAX:
            return [self._matching(scopes[0], text, self.branch_ids) for text in texts], True
        if len(texts) == 1 and 1 < len(scopes) <= ALTERNATIVES_MAX:
            return [self._matching(scope, texts[0], self.branch_ids) for scope in scopes], True
        if self.branch_ids is not None and self._per_branch():
            return [
                self._matching(scopes[0], texts[0], {branch}) for branch in sorted(self.branch_ids)
            ], False
        return [self.queryset.order_by()], False

    def _per_branch(self) -> bool:
        if self.field != "aum" or self.branch_ids is None or not 1 < len(self.branch_ids) <= BRANCH_PARTS_MAX:
            return False
        if len(self.scope_alternatives) > 1:
            return False
        return self.text is None or (len(self.text.alternatives) == 1 and self.text.dense)

    def rows(self, ids: list[int]) -> QuerySet[Customer]:
        """The rows of `ids`, keys this search found just before, with what a page
        shows (related rows, annotations) but not the search's conditions: testing
        the text, the scope and the filters again on rows that passed them costs more
        to plan than to read the rows."""
        return Customer.objects.select_related(*RELATED).annotate(**self.annotations).filter(pk__in=ids)

    def _matching(self, scope: Q, text: Q, branches) -> QuerySet[Customer]:
        found = Customer.objects.filter(scope).filter(merged_into__isnull=True)
        if text:
            found = found.filter(text)
        if branches is not None:
            found = found.filter(home_branch_id__in=sorted(branches))
        return found.filter(self.filters.condition()).filter(self.where)

    def none(self) -> CustomerSearch:
        """The same search, matching nothing."""
        empty = CustomerSearch.__new__(CustomerSearch)
        empty.__dict__.update(self.__dict__, empty=True)
        return empty


class CustomerRows:
    """A plain queryset of customers (a manager's book, a pool), paged like a search:
    one part read in the sort's order, its page's rows read back by key with the
    queryset's own conditions and annotations."""

    def __init__(self, queryset: QuerySet[Customer], *, sort: str = "aum"):
        self.sort = sort if sort in SORTS else "aum"
        self.field, descending = SORTS[self.sort]
        self.order = (f"-{self.field}", "-id") if descending else (self.field, "id")
        self.queryset = queryset.order_by(*self.order)
        self.empty = False

    def parts(self) -> tuple[list[QuerySet[Customer]], bool]:
        return [self.queryset.order_by()], False

    def rows(self, ids: list[int]) -> QuerySet[Customer]:
        return self.queryset.order_by().filter(pk__in=ids)


def customer_search(
    *,
    user,
    q: str = "",
    filters: SearchFilters | None = None,
    sort: str = "aum",
) -> QuerySet[Customer]:
    """The customers the search finds, as one queryset (see `CustomerSearch`)."""
    return CustomerSearch(user=user, q=q, filters=filters, sort=sort).queryset
