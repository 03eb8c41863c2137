"""Rules on text that every part of the portal applies alike: no control characters
(forms and the core-banking load), what an e-mail address is."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Characters no text of the portal may hold, from a form or a core-banking batch:
# the C0 controls but the whitespace of a multi-line text (tab, line feed, carriage
# return), DEL, the C1 controls, and the bidirectional overrides and isolates, which
# make a text read differently from what it holds ("Trojan Source"). Code-point
# ranges, inclusive.
CONTROL_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x00, 0x08),
    (0x0B, 0x0C),
    (0x0E, 0x1F),
    (0x7F, 0x9F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
)
# What a single-line value (a field of a batch file) may not hold either.
LINE_BREAKS_AND_TABS: tuple[tuple[int, int], ...] = ((0x09, 0x0A), (0x0D, 0x0D))


def control_character_class(*, single_line: bool = False) -> str:
    r"""A regular-expression bracket matching one of the CONTROL_CHARACTERS, in \uXXXX
    escapes, which Python and PostgreSQL read alike. `single_line`: tabs and line
    breaks too."""
    merged: list[list[int]] = []
    for low, high in sorted([*CONTROL_CHARACTERS, *(LINE_BREAKS_AND_TABS if single_line else ())]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    parts = (rf"\u{low:04x}" if low == high else rf"\u{low:04x}-\u{high:04x}" for low, high in merged)
    return "[" + "".join(parts) + "]"


_CONTROL_CHARACTER = re.compile(control_character_class())
_ANY_CONTROL_CHARACTER = re.compile(control_character_class(single_line=True))


def visible_control_characters(value: str) -> str:
    """The value with each of its control characters (tabs and line breaks too)
    written out as <U+XXXX>: a rejected value shown without letting it act."""
    return _ANY_CONTROL_CHARACTER.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)


def validate_no_control_characters(value) -> None:
    """Field validator: refuse a text holding one of the CONTROL_CHARACTERS."""
    found = _CONTROL_CHARACTER.search(str(value))
    if found:
        raise ValidationError(
            _("Remove the control character %(code)s: it is not allowed in a text."),
            code="control_character",
            params={"code": f"U+{ord(found.group()):04X}"},
        )


def reject_control_characters(form: forms.BaseForm) -> None:
    """Give every text field of a form the control-character rule (passwords aside:
    they are never shown, and a stored one must keep working)."""
    for field in form.fields.values():
        if (
            isinstance(field, forms.CharField)
            and not isinstance(field.widget, forms.PasswordInput)
            and validate_no_control_characters not in field.validators
        ):
            field.validators.append(validate_no_control_characters)


# An e-mail address as the portal takes it, from a form or a batch (Python and
# PostgreSQL regular expressions alike): dot-separated words of letters, digits and
# _%+'- before the @, a domain of labels and a top-level domain of letters.
EMAIL_RE = (
    r"^[A-Za-z0-9_%+'-]+([.][A-Za-z0-9_%+'-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?[.])+[A-Za-z]{2,63}$"
)
_EMAIL = re.compile(EMAIL_RE)


def validate_email_address(value: str) -> None:
    """Field validator: refuse what is not an e-mail address by EMAIL_RE."""
    if not _EMAIL.fullmatch(value) or len(value) > 254:
        raise ValidationError(_("Enter a valid e-mail address, e.g. name@example.com."), code="email")
