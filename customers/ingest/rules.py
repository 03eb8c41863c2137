"""The rules every row of a data file must meet that SQL can check: on a column's
own value (required, length, code lists, calendar dates, amounts and counts,
control characters in text) and the interface's rules that involve more than a
column's kind (mobiles and e-mail addresses of contacts, a customer's income, an
amount past due). Each rule is a condition on the staged row `s`;
`Staging.check_fields` runs them."""

from __future__ import annotations

from dataclasses import dataclass

from core.text import EMAIL_RE, control_character_class

from .dialect import Dialect
from .spec import (
    ALPHA3,
    ALPHA3_RE,
    AMOUNT,
    AMOUNT_RE,
    CODE,
    CONTACT,
    COUNT,
    COUNT_RE,
    CUSTOMER,
    DATE,
    LOAN_STATUS,
    MOBILE_RE,
    TEXT,
    Column,
    FileSpec,
)

# Every real date YYYYMMDD from 00010101 to 99991231 (99991231 is core banking's "no
# end date"): the months of 31 and 30 days, February to the 28th in any year and the
# 29th in a leap year (divisible by 4, centuries by 400). Non-capturing groups and a
# lookahead, read alike by PostgreSQL and Python.
_MONTH_AND_DAY = (
    "(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    "|02(?:0[1-9]|1[0-9]|2[0-8])"
)
_LEAP_YEAR = "[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00"
CALENDAR_DATE_RE = f"^(?!0000)(?:[0-9]{{4}}(?:{_MONTH_AND_DAY})|(?:{_LEAP_YEAR})0229)$"
# A control character in a field (the portal's one list, core.text; a field
# is one line, so tabs and line breaks too). A line holding NUL never gets here: it
# is refused while decoding, as a whole ("contains a NUL character").
CONTROL_RE = control_character_class(single_line=True)
CONTROL_CODE, CONTROL_REASON = "bad_character", "contains a control character"
# A negative amount (with a digit other than 0: -0.00 is not negative).
NEGATIVE_RE = "^-.*[1-9]"

# pattern, error code and reason of the value kinds checked by a regular expression
PATTERNS = {
    AMOUNT: (AMOUNT_RE, "bad_amount", "not an amount (digits, a dot and up to 2 decimals)"),
    COUNT: (COUNT_RE, "bad_number", "not a whole number"),
    ALPHA3: (ALPHA3_RE, "bad_code", "not a 3-letter code"),
    DATE: (CALENDAR_DATE_RE, "bad_date", "not a date (YYYYMMDD)"),
}


@dataclass
class Rule:
    column: Column
    where: str
    params: list
    code: str
    reason: str
    # A control-character rule: the rows breaking one are found by a single test
    # over all the file's text columns (see check_fields).
    control: bool = False


def column_rules(column: Column, dialect: Dialect) -> list[Rule]:
    """The rules on a column's own value."""
    c = f"s.{column.staged}"
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(column, f"{c} IS NULL", [], "required", "a value is required"))
    if column.max_length:
        rules.append(
            Rule(
                column,
                f"LENGTH({c}) > %s",
                [column.max_length],
                "too_long",
                f"longer than {column.max_length} characters",
            )
        )
    if column.kind == CODE:
        marks = ", ".join(["%s"] * len(column.codes))
        reason = "not one of " + ", ".join(column.codes)
        rules.append(Rule(column, f"{c} NOT IN ({marks})", list(column.codes), "bad_code", reason))
    elif column.kind == TEXT:
        rules.append(Rule(column, dialect.regex(c), [CONTROL_RE], CONTROL_CODE, CONTROL_REASON, control=True))
    elif column.kind in PATTERNS:
        pattern, code, reason = PATTERNS[column.kind]
        rules.append(Rule(column, f"NOT ({dialect.regex(c)})", [pattern], code, reason))
    # a missing value is only the "required" rule's business
    for rule in rules:
        if rule.code != "required":
            rule.where = f"{c} IS NOT NULL AND {rule.where}"
    return rules


def file_rules(spec: FileSpec, dialect: Dialect) -> list[Rule]:
    """The interface's rules that involve more than a column's kind."""
    regex = dialect.regex
    if spec.name == CONTACT.name:
        value = spec.column("VALUE")
        return [
            Rule(
                value,
                f"s.c_type = 'MOBILE' AND s.c_value IS NOT NULL AND NOT ({regex('s.c_value')})",
                [MOBILE_RE],
                "bad_mobile",
                "not a mobile number (11 digits starting with 1)",
            ),
            Rule(
                value,
                f"s.c_type = 'EMAIL' AND s.c_value IS NOT NULL AND NOT ({regex('s.c_value')})",
                [EMAIL_RE],
                "bad_email",
                "not an e-mail address (name@example.com)",
            ),
        ]
    if spec.name == CUSTOMER.name:
        # an income is never negative (the web forms agree: min_value=0)
        return [_not_negative(spec.column("ANNUAL_INCOME"), dialect)]
    if spec.name == LOAN_STATUS.name:
        # an amount past due is owed, never negative (the days are a count: a
        # negative number is not one)
        return [_not_negative(spec.column("OVERDUE_AMOUNT"), dialect)]
    return []


def _not_negative(column: Column, dialect: Dialect) -> Rule:
    """An amount that must not be negative (checked on the amounts only: a value that
    is not one has its own error)."""
    c = f"s.{column.staged}"
    return Rule(
        column,
        f"{c} IS NOT NULL AND {dialect.regex(c)} AND {dialect.regex(c)}",
        [AMOUNT_RE, NEGATIVE_RE],
        "negative_amount",
        "must not be negative",
    )
