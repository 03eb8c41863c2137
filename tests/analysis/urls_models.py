"""The URL harness's entries of the customer analysis (models); see tests/url_table.py.

The churn model versions are read by head office's business managers and the
auditor (analysis.view_churnmodel); nobody else, and nothing is written by reading
them. An unknown version is a 404 to those who may read the versions."""

from __future__ import annotations

MODEL_READERS = "403 403 200 200 403 403 403 403 login"
MODEL_READERS_UNKNOWN = "403 403 404 404 403 403 403 403 login"


def _version(w, s) -> dict:
    return {"number": w.objects["churn_model"].number}


def add(t) -> None:
    t.URLS["analysis:models"] = t.Url(
        t.Case(get=MODEL_READERS),
        t.Case(label="second page", get=MODEL_READERS, query=lambda w, s: {"page": "2"}),
    )
    t.URLS["analysis:model_detail"] = t.Url(
        t.Case(get=MODEL_READERS, kwargs=_version),
        t.Case(label="unknown version", get=MODEL_READERS_UNKNOWN, kwargs=lambda w, s: {"number": 9999}),
    )
