"""What the tests of the analysis panel, the save list, their API section and the
at-risk alerts share: an analysis row made through the ORM, as the nightly scoring
would leave it."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from analysis.models import CustomerAnalysis

AS_OF = datetime.date(2026, 11, 30)


def analysed(customer, *, as_of: datetime.date = AS_OF, **fields: Any) -> CustomerAnalysis:
    """The customer's analysis row: 40% likely to leave, 12,000 CNY of contribution
    at risk, unless the test says otherwise."""
    probability = Decimal(str(fields.pop("churn_probability", "0.4000")))
    contribution = Decimal(str(fields.pop("contribution", "30000")))
    values: dict[str, Any] = {
        "as_of": as_of,
        "contribution": contribution,
        "contribution_liability": contribution - Decimal("5000"),
        "contribution_asset": Decimal("2000"),
        "contribution_intermediary": Decimal("3000"),
        "loyalty": 62,
        "churn_probability": probability,
        "satisfaction": 75,
        "value_at_risk": (probability * max(contribution, Decimal("0"))).quantize(Decimal("0.01")),
        **fields,
    }
    return CustomerAnalysis.objects.create(customer=customer, **values)
