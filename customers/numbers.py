"""The bank-wide customer number rule: one place that makes customer numbers.

A number the portal issues is 12 digits: the digit 9 (issued by the portal, so it can
never collide with core-banking numbers, which do not start with 9), a 10-digit
sequence, and a Luhn check digit that catches a mistyped digit.
"""

from __future__ import annotations

from django.db import transaction

from .models import CustomerNumberSequence

PREFIX = "9"
SEQUENCE_DIGITS = 10


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, starting with the last
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def format_customer_number(sequence: int) -> str:
    body = f"{PREFIX}{sequence:0{SEQUENCE_DIGITS}d}"
    return body + luhn_check_digit(body)


def is_portal_customer_number(value: str) -> bool:
    return (
        len(value) == 1 + SEQUENCE_DIGITS + 1
        and value.isdigit()
        and value.startswith(PREFIX)
        and luhn_check_digit(value[:-1]) == value[-1]
    )


@transaction.atomic
def reserve_customer_numbers(count: int) -> list[str]:
    """Reserve `count` consecutive numbers under a row lock (safe across processes)."""
    if count < 1:
        return []
    CustomerNumberSequence.objects.get_or_create(prefix=PREFIX)
    row = CustomerNumberSequence.objects.select_for_update().get(prefix=PREFIX)
    first = row.next_value
    row.next_value = first + count
    row.save(update_fields=["next_value"])
    return [format_customer_number(n) for n in range(first, first + count)]


def next_customer_number() -> str:
    return reserve_customer_numbers(1)[0]
