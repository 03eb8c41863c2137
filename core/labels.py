"""What a code reads as on a screen. A choice's code never reaches a page: a field
with choices shows `get_<field>_display`, and a code kept outside such a field (a
tier code on a customer, the channels of a campaign, a user's roles) shows through
the labels of its kind, registered here by the app that owns the codes, below every
app (as `core.widgets` is), so that a lower app names a higher app's codes without
importing it.

A kind is `labels(kind) -> {code: label}`: choices the app knows at import time, or
a function reading them (the tier levels are rows), called once per page
(`{% labels "tier" as tiers %}` in core/templatetags/display.py); a Choices class
serves as a kind by its dotted path, unregistered. A list of rows may rather get
its labels in its own query (`annotation(kind, field)`, registered by the same app).
An unknown code shows as it is: a code that has lost its label is a data defect to
see, not to hide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.db.models import Choices
from django.db.models.expressions import BaseExpression
from django.utils.module_loading import import_string

Labels = Callable[[], Mapping[str, str]]

_KINDS: dict[str, Labels] = {}


_ANNOTATIONS: dict[str, Callable[[str], BaseExpression]] = {}


def register(kind: str, source: Labels | type[Choices]) -> None:
    """Name the codes of one kind: a Choices class, or a function returning
    {code: label} (read when a page asks for it)."""
    if isinstance(source, type):
        choices: Any = source
        _KINDS[kind] = lambda: {str(value): str(label) for value, label in choices.choices}
    else:
        _KINDS[kind] = source


class _OnFirstUse(Mapping[str, str]):
    """A kind's labels read when a page first looks one up: a page with no code of
    the kind to show reads nothing."""

    def __init__(self, source: Labels):
        self._source = source
        self._labels: Mapping[str, str] | None = None

    def _loaded(self) -> Mapping[str, str]:
        if self._labels is None:
            self._labels = self._source()
        return self._labels

    def __getitem__(self, code: str) -> str:
        return self._loaded()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def register_annotation(kind: str, label_of: Callable[[str], BaseExpression]) -> None:
    """Name the codes of one kind inside a query: `label_of(field)` is an
    expression giving the label of the code in `field` of the rows annotated (a
    list of rows gets its labels in its own query)."""
    _ANNOTATIONS[kind] = label_of


def annotation(kind: str, field: str) -> BaseExpression | None:
    """The expression labelling the code in `field`, or None if no app names the
    kind in a query (show the code's label another way)."""
    label_of = _ANNOTATIONS.get(kind)
    return label_of(field) if label_of is not None else None


def labels(kind: str) -> Mapping[str, str]:
    """Every code of a kind with its label: a registered kind (read on first use),
    or a Choices class by its dotted path ("customers.choices.MarketingChannel")."""
    source = _KINDS.get(kind)
    if source is not None:
        return _OnFirstUse(source)
    choices = import_string(kind)
    if not (isinstance(choices, type) and issubclass(choices, Choices)):
        raise TypeError(f"{kind} is neither a registered kind nor a Choices class")
    return {str(value): str(label) for value, label in choices.choices}


def label(code: object, names: Mapping[str, str]) -> str:
    if code is None or code == "":
        return ""
    return str(names.get(str(code), code))
