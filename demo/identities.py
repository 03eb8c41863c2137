"""Who each demo customer is: identities that are bijections of the customer's index.

The index of a customer is the number of demo customers that existed before it, so
resident ID, passport number, mobile and account number never repeat between two
demo customers, whatever the number seeded and however many runs it took: uniqueness
never depends on luck. `identity()` also draws the age from a realistic distribution
(18 to 85) through the resident ID's birth date.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from customers.choices import IdType
from customers.idnumbers import REGION_CODES, make_resident_id

# Multipliers near the golden ratio of the modulus spread neighbouring indices apart.
# Resident IDs: (region, birth date, sequence) is an affine permutation of a key, the
# key being index * _ID_TRIES + attempt. Attempts reshape the age distribution (and
# keep every age within 18..85 whatever today is); keys of different customers never
# meet, so neither do their IDs.
_BIRTH_FIRST = datetime.date(1930, 1, 1).toordinal()
_BIRTH_DAYS = datetime.date(2015, 12, 31).toordinal() - _BIRTH_FIRST + 1
_REGIONS = len(REGION_CODES)
_ID_SPACE = _REGIONS * _BIRTH_DAYS * 1000
_ID_MUL = int(_ID_SPACE * 0.6180339887) | 1
while math.gcd(_ID_MUL, _ID_SPACE) != 1:
    _ID_MUL += 2
_ID_ADD = 1_234_567
_ID_TRIES = 32
# Relative frequency of customers by age (acceptance probability per attempt).
_AGE_WEIGHT = [0.0] * 18 + [0.45] * 7 + [0.9] * 10 + [1.0] * 20 + [0.85] * 10 + [0.55] * 10 + [0.3] * 11
# Passports ("E" + 8 digits): affine permutation of 10**8.
_PASSPORT_MUL, _PASSPORT_ADD = 61_803_399, 10_203_040
# Mobiles: one of the prefixes below + 8 digits, an affine permutation of len * 10**8.
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
_MOBILE_SPACE = len(_MOBILE_PREFIXES) * 10**8
_MOBILE_MUL, _MOBILE_ADD = int(_MOBILE_SPACE * 0.6180339887) | 1, 77_777_777
while math.gcd(_MOBILE_MUL, _MOBILE_SPACE) != 1:
    _MOBILE_MUL += 2
# Account numbers: a 10-digit scramble of the index plus the account's slot.
ACCOUNT_MUL, ACCOUNT_ADD = 6_180_339_887, 3_141_592_653  # odd, not a multiple of 5

for _mul, _space in ((_ID_MUL, _ID_SPACE), (_PASSPORT_MUL, 10**8), (_MOBILE_MUL, _MOBILE_SPACE)):
    assert math.gcd(_mul, _space) == 1, "not a permutation"  # noqa: S101
assert math.gcd(ACCOUNT_MUL, 10**10) == 1  # noqa: S101


def luhn(body: str) -> str:
    """The Luhn check digit of a string of digits (account and card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def mobile_number(index: int) -> str:
    p = (_MOBILE_MUL * index + _MOBILE_ADD) % _MOBILE_SPACE
    return f"{_MOBILE_PREFIXES[p // 10**8]}{p % 10**8:08d}"


def passport_number(index: int) -> str:
    return f"E{(_PASSPORT_MUL * index + _PASSPORT_ADD) % 10**8:08d}"


def age_on(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass
class Person:
    """One demo customer as the generator builds it (household and place filled in
    by `people`)."""

    index: int
    id_type: str
    id_number: str
    gender: str
    birth: datetime.date
    age: int
    household: int = -1  # local household number
    household_role: str = ""
    surname: str = ""
    outlet: int = -1  # index into the outlets list
    address: str = ""
    married: bool | None = None


def identity(rng: random.Random, index: int, today: datetime.date) -> Person:
    """The identity of the customer `index`: a resident ID for 97% (the attempts
    reshape the age distribution), else a passport."""
    if rng.random() >= 0.03:
        for attempt in range(_ID_TRIES):
            p = (_ID_MUL * (index * _ID_TRIES + attempt) + _ID_ADD) % _ID_SPACE
            region, p = p % _REGIONS, p // _REGIONS
            birth = datetime.date.fromordinal(_BIRTH_FIRST + p % _BIRTH_DAYS)
            age = age_on(birth, today)
            if 0 <= age < len(_AGE_WEIGHT) and rng.random() < _AGE_WEIGHT[age]:
                seq = p // _BIRTH_DAYS
                number = make_resident_id(region_code=REGION_CODES[region], birth_date=birth, sequence=seq)
                return Person(index, IdType.RESIDENT_ID, number, "M" if seq % 2 else "F", birth, age)
    # a passport holder (also the fallback if no attempt fitted, which is rare)
    age = 18 + min(int(rng.expovariate(1 / 22)), 67)
    birth = datetime.date.fromordinal(today.toordinal() - int(age * 365.25) - 2 - int(rng.random() * 360))
    return Person(
        index,
        IdType.PASSPORT,
        passport_number(index),
        "M" if rng.random() < 0.5 else "F",
        birth,
        age_on(birth, today),
    )


def account_scramble(index: int) -> int:
    """A 10-digit scramble of the index: the body of the customer's account numbers."""
    return (ACCOUNT_MUL * index + ACCOUNT_ADD) % 10**10
