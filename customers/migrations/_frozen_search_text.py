"""The name search tokens as migrations 0003 and 0009 compute them: a frozen copy of
`customers.search_text.name_search` and what it calls (every 1- and 2-character
piece of a Chinese name, each character after the first marked "2", the full
pinyin and the initials with a surname's second reading, the lower-cased words of a
Latin name). Migrations import no app code, so that a later change of the app cannot
change what an old migration does; this copy is never edited. Django's migration
loader skips modules whose names start with "_"."""

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
CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[0-9a-z]+")
# The token of a Chinese character anywhere but first in the name ("2伟").
LATER = "2"


@dataclass(frozen=True)
class NameSearch:
    pinyin: str  # "zhangsan"
    initials: str  # "zs"
    tokens: str  # space-separated tokens for the full-text index


@functools.lru_cache(maxsize=50_000)
def _char_syllables(char: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(char, errors="ignore"))


def syllables(text: str) -> list[str]:
    """`lazy_pinyin(text, errors="ignore")`: pypinyin itself when a substring of two
    or more characters is a phrase, else the characters' cached readings in a row."""
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
