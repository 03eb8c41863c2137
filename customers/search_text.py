"""What the name search matches, computed once when a name is written (never at
query time): every 1- and 2-character piece of a Chinese name (so any substring
is found through an index, including the 2-character ones trigram indexes cannot
serve), each character after the first marked as such (LATER), the full pinyin and
the pinyin initials (`zhangsan`, `zs` for 张三), and the lower-cased words of a Latin
name. On PostgreSQL the tokens are indexed with a GIN
full-text index ('simple' configuration: no stemming, no stop words)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT

# Surnames whose reading differs from the character's everyday reading.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "区": "ou",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "召": "shao",
    "缪": "miao",
    "员": "yun",
    "隗": "wei",
    "尉迟": "yuchi",
    "长孙": "zhangsun",
    "万俟": "moqi",
    "宁": "ning",
    "过": "guo",
}
# Names whose tokens hold more than their pinyin and initials columns: a surname
# with a second reading, or Latin letters (each word a token). A pinyin search finds
# them through the search vector (a partial GIN index of exactly these names:
# customers migration 0008, whose predicate must stay the same as this).
EXTRA_TOKEN_NAMES = ("^(" + "|".join(SURNAME_READINGS) + ")", "[A-Za-z]")
CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class NameSearch:
    pinyin: str  # "zhangsan"
    initials: str  # "zs"
    tokens: str  # space-separated tokens for the full-text index


@functools.lru_cache(maxsize=50_000)
def _char_syllables(char: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(char, errors="ignore"))


def syllables(text: str) -> list[str]:
    """`lazy_pinyin(text, errors="ignore")`, about ten times faster for names.

    pypinyin reads a string word by word: a word of its phrase dictionary gets the
    phrase's reading, any other piece is read character by character, each
    character alone. So when no substring of two or more characters is a phrase,
    the reading is exactly the characters' readings in a row, which are cached;
    otherwise pypinyin itself reads the string. (The nightly load computes this
    for every new customer: pypinyin's segmentation was most of its cost.)"""
    n = len(text)
    if any(text[i:j] in PHRASES_DICT for i in range(n - 1) for j in range(i + 2, n + 1)):
        return lazy_pinyin(text, errors="ignore")
    return [s for char in text for s in _char_syllables(char)]


def _pinyin_variants(name: str) -> list[list[str]]:
    """Syllables of the name; a second reading when the surname reads differently."""
    variants = [syllables(name)]
    for surname, reading in SURNAME_READINGS.items():
        if name.startswith(surname):
            rest = syllables(name[len(surname) :])
            variants.append([reading, *rest])
            break
    return variants


# A token for a Chinese character anywhere but first in the name ("2伟"): with the
# name's own prefix index, a one-character search is two narrow lookups (the
# surname, or a later character) instead of every name holding the character.
# A digit, so that no letters-only (pinyin) prefix ever matches it.
LATER = "2"


def later_char_token(char: str) -> str:
    return LATER + char


def name_search(name: str) -> NameSearch:
    raw = name or ""
    name = raw.strip()
    chinese = "".join(CJK.findall(name))
    # positions as stored: the name column, unstripped, is what its index orders
    tokens: set[str] = {later_char_token(char) for char in raw[1:] if CJK.match(char)}
    pinyin_full = initials = ""
    if chinese:
        tokens.update(chinese)
        tokens.update(chinese[i : i + 2] for i in range(len(chinese) - 1))
        for i, syllables in enumerate(_pinyin_variants(chinese)):
            full = "".join(syllables).lower()
            first = "".join(s[0] for s in syllables if s).lower()
            tokens.update(t for t in (full, first) if t)
            if i == 0:
                pinyin_full, initials = full, first
    latin_words = WORD.findall(name.lower())
    tokens.update(latin_words)
    if latin_words and not chinese:
        pinyin_full = "".join(latin_words)
        initials = "".join(w[0] for w in latin_words)
        tokens.update((pinyin_full, initials))
    return NameSearch(pinyin_full[:120], initials[:30], " ".join(sorted(tokens)))


def is_latin_query(q: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]+", q))


def query_grams(q: str) -> list[str]:
    """The index tokens a name query must all match: the query itself when it is
    1 or 2 Chinese characters, else its 2-character pieces (checked afterwards
    against the name itself)."""
    chinese = "".join(CJK.findall(q))
    if not chinese:
        return []
    if len(chinese) <= 2:
        return [chinese]
    return sorted({chinese[i : i + 2] for i in range(len(chinese) - 1)})
