"""The indicator library's rows as the migration seeded them (marketing 0004)."""

from marketing.models import Indicator


def library(code: str) -> Indicator:
    """The library's indicator of that code: the four former task indicators keep
    their codes (wealth_sales, sales_amount, new_gold_vips, new_payroll)."""
    return Indicator.objects.get(code=code)
