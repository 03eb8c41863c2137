"""The customer search: what was typed (`text`), the filters (`filters`), the search
built from its parameters (`plan`) and its keyset pages (`paging`)."""

from .filters import SearchFilters
from .paging import COUNT_CAP, MATCH_SETTINGS, Cursor, KeysetPage, keyset_page
from .plan import SORTS, CustomerRows, CustomerSearch, customer_search
from .text import TextMatch, classify_query, text_condition, text_match

__all__ = [
    "COUNT_CAP",
    "MATCH_SETTINGS",
    "SORTS",
    "Cursor",
    "CustomerRows",
    "CustomerSearch",
    "KeysetPage",
    "SearchFilters",
    "TextMatch",
    "classify_query",
    "customer_search",
    "keyset_page",
    "text_condition",
    "text_match",
]
