"""What the search text is, and where each kind of text can be found.

`text_match(q)` says what was typed (`classify_query`) and returns the condition as
its alternatives: the places that kind of text can live (a name's prefix index or a
later character's token; the initials, pinyin or token columns of a pinyin prefix).
The search reads each alternative apart where that is cheaper than their OR
(`customers.search.plan`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

from customers import crypto
from customers.crypto import cipher
from customers.idnumbers import normalise_mobile
from customers.models import Account, ContactPoint, Customer
from customers.search_text import EXTRA_TOKEN_NAMES, later_char_token, query_grams

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
ID_SUFFIX_RE = re.compile(r"^\d{5}[\dX]$")
DIGITS_RE = re.compile(r"^\d+$")
NUMBER_RE = re.compile(r"^[A-Z]{0,3}\d{6,}$")
LATIN_RE = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class TextMatch:
    """The condition for a search text, as the OR of `alternatives`. `dense`: the
    text matches a large share of the bank (a single pinyin letter), so walking the
    AUM-ordered index finds a page sooner than fetching every match to sort it."""

    kind: str
    alternatives: tuple[Q, ...]
    dense: bool = False

    @property
    def condition(self) -> Q:
        condition = Q()
        for alternative in self.alternatives:
            condition |= alternative
        return condition


def classify_query(q: str) -> str:
    """What was typed: mobile, mobile_suffix (last 4), id_number, id_suffix (last 6),
    number (customer or account number), pinyin, or name. Digits can be several
    things at once; the condition looks in every place that shape can live."""
    q = q.strip().upper()
    mobile = normalise_mobile(q)
    if MOBILE_RE.match(mobile):
        return "mobile"
    if DIGITS_RE.match(q) and len(q) == 4:
        return "mobile_suffix"
    if ID_SUFFIX_RE.match(q):
        return "id_suffix"
    if RESIDENT_ID_RE.match(q):
        return "id_number"
    if NUMBER_RE.match(q):
        return "number"
    if LATIN_RE.match(q.lower()):
        return "pinyin"
    return "name"


def text_match(q: str) -> TextMatch:
    """The condition for the search text (scope and filters are applied apart)."""
    q = q.strip()
    kind = classify_query(q)
    if kind == "mobile":
        return TextMatch(
            kind, (_number_condition(q, mobile_hash=_blind(normalise_mobile(q), crypto.MOBILE)),)
        )
    if kind == "mobile_suffix":
        return TextMatch(kind, (Q(mobile_suffix=q),))
    if kind == "id_suffix":
        return TextMatch(kind, (Q(id_suffix=q.upper()),))
    if kind in ("id_number", "number"):
        return TextMatch(kind, (_number_condition(q),))
    if kind == "pinyin":
        return _pinyin_match(q.lower())
    grams = query_grams(q)
    if grams == [q] and len(q) == 1:
        # one character: first in the name (an index range), or later (one token)
        return TextMatch(kind, (Q(name__startswith=q), Q(search_tokens__tokens_match=later_char_token(q))))
    if grams:
        condition = Q(search_tokens__tokens_match=" & ".join(grams))
        # 3+ characters: the pieces narrow it down, the name itself decides
        return TextMatch(kind, (condition & Q(name__contains=q) if len(q) > 2 else condition,))
    return TextMatch(kind, (Q(name__icontains=q), Q(customer_no=q)))


def text_condition(q: str) -> Q:
    """`text_match(q)` as one condition."""
    return text_match(q).condition


def _blind(value: str, context: str) -> str:
    return cipher().blind_index(value, context=context)


def _number_condition(q: str, *, mobile_hash: str = "") -> Q:
    """A number may be a customer number, an account number, an ID number or a
    mobile. Each place is an exact index lookup; they are resolved together in one
    UNION query first, because an OR across tables and subqueries would make
    PostgreSQL scan the whole customer table."""
    by_number = Customer.objects.filter(customer_no=q).values_list("pk", flat=True)
    lookups = [
        Account.objects.filter(account_no=q).values_list("customer_id", flat=True),
        Customer.objects.filter(id_hash=_blind(q.upper(), crypto.ID_NUMBER)).values_list("pk", flat=True),
    ]
    if mobile_hash:
        lookups.append(Customer.objects.filter(mobile_hash=mobile_hash).values_list("pk", flat=True))
        lookups.append(
            ContactPoint.objects.filter(value_hash=mobile_hash).values_list("customer_id", flat=True)
        )
    ids = set(by_number.union(*lookups))
    return Q(pk__in=ids)


def _pinyin_match(prefix: str) -> TextMatch:
    """A name token starting with `prefix`. From two letters on, the three places
    such a token can be: the pinyin or initials column (each an index range), or,
    for the few names with more tokens than those two
    (search_text.EXTRA_TOKEN_NAMES), the search vector. One letter matches a tenth
    of the bank: the token prefix alone, read by walking the AUM-ordered index."""
    tokens = Q(search_tokens__tokens_match=f"{prefix}:*")
    if len(prefix) < 2:
        return TextMatch("pinyin", (tokens,), dense=True)
    extra = Q(name__regex=EXTRA_TOKEN_NAMES[0]) | Q(name__regex=EXTRA_TOKEN_NAMES[1])
    return TextMatch(
        "pinyin",
        (Q(name_initials__startswith=prefix), Q(name_pinyin__startswith=prefix), extra & tokens),
    )
