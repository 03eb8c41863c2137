"""The URL harness's entries of the customer analysis (save); see tests/url_table.py.

The save list is for every role that reads the customer analysis, each held to
their own scope: a manager's own list (a branch head and head office pick the
manager) opens; a manager outside the user's scope, or a filter that does not
hold, is refused with a message (400)."""

from __future__ import annotations

READERS = "403 403 200 200 200 200 200 200 login"
READERS_BAD = "403 403 400 400 400 400 400 400 login"
# the foreign subject's manager: in head office's scope, outside the others'
READERS_FOREIGN_MANAGER = "403 403 200 200 400 400 400 400 login"


def _manager(w, s) -> dict:
    from tests.url_world import WHO_MANAGER

    return {"manager": w.emp(WHO_MANAGER[s.who])}


def add(t) -> None:
    t.URLS["analysis:save_list"] = t.Url(
        t.Case(get=READERS),
        *t.scoped(
            lambda w, s: {}, label="manager", get=READERS, get_foreign=READERS_FOREIGN_MANAGER, query=_manager
        ),
        t.Case(
            label="filters",
            get=READERS,
            query=lambda w, s: {"min_probability": "30", "tier": "none", "q": w.no("main", s.who)},
        ),
        t.Case(label="bad probability", get=READERS_BAD, query=lambda w, s: {"min_probability": "150"}),
        t.Case(label="bad customer number", get=READERS_BAD, query=lambda w, s: {"q": "12-34"}),
    )
