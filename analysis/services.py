"""Writes of the customer analysis: the nightly run after each load."""

from __future__ import annotations

import datetime
import logging
import time

from django.db import transaction

from .alerts import raise_at_risk_alerts
from .recommend import recommend_products
from .scoring import score_customers

logger = logging.getLogger(__name__)


def analyse_customers(as_of: datetime.date) -> dict[str, object]:
    """Every customer's scores as of `as_of` (analysis.scoring), then their next best
    products (analysis.recommend), then the save lists' alerts (analysis.alerts): one
    transaction, so that pages read last night's analysis until tonight's is whole.
    Returns the counts and each step's seconds."""
    timings: dict[str, object] = {}
    with transaction.atomic():
        started = time.monotonic()
        timings["customers"] = score_customers(as_of)
        timings["scoring_s"] = round(time.monotonic() - started, 3)
        started = time.monotonic()
        timings["recommendations"] = recommend_products(as_of)
        timings["recommend_s"] = round(time.monotonic() - started, 3)
        started = time.monotonic()
        timings["alerts"] = raise_at_risk_alerts(as_of)
        timings["alerts_s"] = round(time.monotonic() - started, 3)
    logger.info("customer analysis as of %s: %s", as_of, timings)
    return timings
