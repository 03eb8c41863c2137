"""The unified social credit code (统一社会信用代码) of an organisation, GB 32100-2015.

Eighteen characters from a 31-character alphabet (the digits and the capital
letters without I, O, Z, S and V): the registration authority (1), the kind of
organisation (1), the region of registration (6 digits, GB/T 2260), the
organisation code (9, GB 11714) and a check character. The check character is
the one whose value makes the weighted sum of all eighteen a multiple of 31,
the weight of position i (from 0) being 3**i mod 31. A code typed with a
character swapped or mistyped fails the check, which is why the portal refuses
it rather than storing an organisation nobody can find again."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character of the first seventeen characters (all in ALPHABET)."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value: str) -> str:
    """The code as stored: spaces dropped, capital letters."""
    return "".join((value or "").split()).upper()


def validate_uscc(value: str) -> str:
    """The code, normalised; a ValidationError that says what is wrong with it."""
    code = normalise_uscc(value)
    if len(code) != LENGTH:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)s.")
            % {"count": len(code)},
            code="length",
        )
    wrong = sorted({char for char in code if char not in ALPHABET})
    if wrong:
        raise ValidationError(
            _(
                "A unified social credit code uses digits and capital letters other than "
                "I, O, Z, S and V; this one has %(chars)s."
            )
            % {"chars": "、".join(wrong)},
            code="alphabet",
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the region's six digits."),
            code="region",
        )
    if check_character(code[:17]) != code[17]:
        raise ValidationError(
            _(
                "The check character (the last one) does not match the rest of the unified "
                "social credit code: compare the code with the business licence."
            ),
            code="check",
        )
    return code


def make_uscc(first17: str) -> str:
    """A valid code from its first seventeen characters (the demo and the tests)."""
    return first17 + check_character(first17)
