"""What a contact point's value must look like, by its type: one rule that the
contact form and `services.contact_add` both apply, so a form, the API and a
script are refused alike. A mobile number is a mainland number kept as its 11
digits; a home or work phone is digits with an optional + in front and spaces or
hyphens between groups (kept as typed: an extension or area code reads better so);
an e-mail address is one the portal can send to."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.text import validate_email_address

from .choices import ContactType
from .idnumbers import validate_mobile

# Groups of digits separated by one space or hyphen, an optional + in front.
PHONE_RE = re.compile(r"\+?[0-9]+(?:[ -][0-9]+)*")
# The shortest a bank's customer gives (a short service number), the longest
# an international number with an extension.
PHONE_DIGITS = (5, 20)


def validate_phone_number(value: str) -> None:
    """Refuse what is not a phone number (digits, optional +, spaces or hyphens)."""
    digits = sum(character.isdigit() for character in value)
    if not (value.isascii() and PHONE_RE.fullmatch(value)) or not (
        PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
    ):
        raise ValidationError(
            _(
                "Enter a phone number of %(min)s to %(max)s digits, with an optional + in front "
                "and spaces or hyphens between groups, e.g. 010-6234 5678."
            ),
            code="phone",
            params={"min": PHONE_DIGITS[0], "max": PHONE_DIGITS[1]},
        )


def clean_contact_value(type: str, value: str) -> str:
    """The value to keep for a contact point of `type`, or a ValidationError saying
    what is wrong with it."""
    value = value.strip()
    if not value:
        raise ValidationError(_("Enter a value."), code="required")
    if type == ContactType.MOBILE:
        return validate_mobile(value)
    if type in (ContactType.HOME, ContactType.WORK):
        validate_phone_number(value)
    elif type == ContactType.EMAIL:
        validate_email_address(value)
    return value
