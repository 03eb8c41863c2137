"""The URL harness's entries of the opening reports pages; see tests/url_table.py for the format."""

from __future__ import annotations


def add(t) -> None:
    return None
