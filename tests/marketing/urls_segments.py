"""The URL harness's entries of the segment editor (issue 16); see tests/url_table.py
for the format. `t` is that module.

The live count is `marketing:segment_preview` (its entry stays in tests/url_table.py);
these cases add the rules built from selects: a lowest tier ("Platinum or above") is
counted, a value that names no tier level is refused (400) and never saved, and a
segment's list sorts and pages like every list."""

from __future__ import annotations

PREVIEWERS_OK = "403 403 200 200 200 403 403 403 login"
PREVIEWERS_BAD = "403 403 400 400 400 403 403 403 login"


def add(t) -> None:
    t.URLS["marketing:segment_preview"] = t.Url(
        *t.URLS["marketing:segment_preview"].cases,
        t.Case(
            label="tier or above",
            post=PREVIEWERS_OK,
            data=lambda w, s: {"tier_min": "platinum", "gender": "F", "dormant_days": "90"},
        ),
        t.Case(label="unknown tier", post=PREVIEWERS_BAD, data=lambda w, s: {"tiers": "白金级"}),
    )
    t.URLS["marketing:segment_create"] = t.Url(
        *t.URLS["marketing:segment_create"].cases,
        t.Case(
            label="unknown tier",
            post="403 403 400 403 400 403 403 403 login",
            data=lambda w, s: {"name": "写错的等级", "tiers": "白金级"},
        ),
    )
    t.URLS["marketing:segment_list"] = t.Url(
        *t.URLS["marketing:segment_list"].cases,
        t.Case(
            label="sorted, paged",
            get=t.SEGMENT_READERS,
            query=lambda w, s: {"sort": "-name", "size": "50", "page": "2"},
        ),
    )
