"""The reasons of a customer's scores as sentences with figures
(docs/analysis.md), ranked and worded when a row is shown from the parts the
nightly row keeps (`analysis.scoring` writes numbers only).

    ranked(row) -> {"churn": [(code, {figures}), ...], "loyalty": ..., ...}
    reasons(row) -> {"churn": [...], "loyalty": [...], "satisfaction": [...], "contribution": [...]}
    churn_source_note(row) -> "Scored by the trained model v3 (history up to 2026-10-31)"

The figures (numbers, dates and codes only):
- churn, the strongest three features, each with "points" (rules) or "weight"
  (the model's bᵢ·zᵢ):
  aum_change_3m / aum_change_6m {"change": ratio|null, "aum", "before"};
  maturity_runoff / outflow {"amount", "aum_3m"}; dormant_days {"days"};
  txn_change {"change"}; complaints / service_requests {"count"}; manager_changed {}
- loyalty, the three parts that gave most: tenure {"months"}, depth {"kinds"},
  wallet {"change": ratio|null, "aum", "aum_12m"}, rfm {"score"}; each with "points"
- satisfaction: rating {"average", "count", "points"} or unrated {"points"};
  complaints {"count", "points"}; service_requests {"count", "free", "points"}
- contribution: liability / asset / intermediary {"amount"}; months {"from", "to",
  "published", "provisional"}

Amounts with thousands separators and two decimals, percentages with one decimal,
points with at most one. No query: the model's version is read from `row.model`
(select it with the row).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from care.reasons import amount
from core.months import month_back

from .choices import ChurnSource
from .features import FEATURES
from .scoring import CONTRIBUTION_MONTHS, REQUESTS_FREE

SECTIONS = ("churn", "loyalty", "satisfaction", "contribution")
MINUS = "\u2212"


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _percent(ratio: Any) -> str:
    """-0.352 → "35.2" (the sentence says up or down)."""
    number = _decimal(ratio)
    if number is None:
        return "—"
    return str(abs(number * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _points(value: Any) -> str:
    """18 → "18", 5.75 → "5.8", -30 → "30" (the sentence says more or less)."""
    number = _decimal(value)
    if number is None:
        return "—"
    number = abs(number).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(number.quantize(Decimal("1"))) if number == number.to_integral_value() else str(number)


def _int(value: Any) -> int:
    number = _decimal(value)
    return int(number) if number is not None else 0


def _change(figures: dict, months: int) -> str:
    values = {
        "percent": _percent(figures.get("change")),
        "months": months,
        "before": amount(figures.get("before")),
        "now": amount(figures.get("aum")),
    }
    change = _decimal(figures.get("change"))
    if change is None:
        return _("No AUM %(months)s months before to compare with (now %(now)s)") % values
    if change < 0:
        return _("AUM down %(percent)s%% in %(months)s months (%(before)s → %(now)s)") % values
    return _("AUM up %(percent)s%% in %(months)s months (%(before)s → %(now)s)") % values


def _churn(code: str, f: dict, as_of: datetime.date | None) -> str:
    if code == "aum_change_3m":
        return _change(f, 3)
    if code == "aum_change_6m":
        return _change(f, 6)
    if code == "maturity_runoff":
        return _("%(amount)s CNY matured in the last 90 days and was not renewed") % {
            "amount": amount(f.get("amount"))
        }
    if code == "outflow":
        return _("Largest monthly outflow in the last 3 months: %(amount)s CNY") % {
            "amount": amount(f.get("amount"))
        }
    if code == "dormant_days":
        days = f.get("days")
        if days is None:
            return _("No transaction on record")
        if as_of is not None:
            last = as_of - datetime.timedelta(days=_int(days))
            return _("No transaction for %(days)s days (the last on %(date)s)") % {
                "days": _int(days),
                "date": last.isoformat(),
            }
        return _("No transaction for %(days)s days") % {"days": _int(days)}
    if code == "txn_change":
        change = _decimal(f.get("change"))
        if change is None:
            return _("No transactions in the 3 months before to compare with")
        values = {"percent": _percent(change)}
        if change < 0:
            return _("Transactions down %(percent)s%% on the 3 months before") % values
        return _("Transactions up %(percent)s%% on the 3 months before") % values
    if code == "complaints":
        count = _int(f.get("count"))
        return ngettext("%(count)s complaint in 12 months", "%(count)s complaints in 12 months", count) % {
            "count": count
        }
    if code == "service_requests":
        count = _int(f.get("count"))
        return ngettext(
            "%(count)s service request in 12 months", "%(count)s service requests in 12 months", count
        ) % {"count": count}
    if code == "manager_changed":
        return _("A new manager of record in the last 90 days")
    return code


def churn_reason(code: str, f: dict, as_of: datetime.date | None = None) -> str:
    """One churn reason's sentence (also what an at-risk alert may quote)."""
    sentence = _churn(code, f if isinstance(f, dict) else {}, as_of)
    if "points" in f:  # the rules say how many points it gave
        return _("%(reason)s (+%(points)s points)") % {"reason": sentence, "points": _points(f["points"])}
    return sentence


def _loyalty(code: str, f: dict) -> str:
    points = _points(f.get("points"))
    if code == "tenure":
        months = _int(f.get("months"))
        return ngettext(
            "With the bank for %(months)s month: %(points)s of 30 points",
            "With the bank for %(months)s months: %(points)s of 30 points",
            months,
        ) % {"months": months, "points": points}
    if code == "depth":
        kinds = _int(f.get("kinds"))
        return ngettext(
            "%(kinds)s kind of product held: %(points)s of 30 points",
            "%(kinds)s kinds of product held: %(points)s of 30 points",
            kinds,
        ) % {"kinds": kinds, "points": points}
    if code == "wallet":
        change = _decimal(f.get("change"))
        values = {
            "percent": _percent(change),
            "before": amount(f.get("aum_12m")),
            "now": amount(f.get("aum")),
            "points": points,
        }
        if change is None:
            return _("No AUM 12 months ago: %(points)s of 20 points") % values
        if change < 0:
            return (
                _("AUM down %(percent)s%% on 12 months ago (%(before)s → %(now)s): %(points)s of 20 points")
                % values
            )
        return (
            _("AUM up %(percent)s%% on 12 months ago (%(before)s → %(now)s): %(points)s of 20 points")
            % values
        )
    if code == "rfm":
        return _("RFM score %(score)s of 15: %(points)s of 20 points") % {
            "score": f.get("score", "—"),
            "points": points,
        }
    return code


def _satisfaction(code: str, f: dict) -> str:
    points = _points(f.get("points"))
    if code == "rating":
        count = _int(f.get("count"))
        average = _decimal(f.get("average"))
        shown = average.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if average is not None else "—"
        return ngettext(
            "Average rating %(average)s of 5 from %(count)s rated contact: %(points)s points",
            "Average rating %(average)s of 5 from %(count)s rated contacts: %(points)s points",
            count,
        ) % {
            "average": shown,
            "count": count,
            "points": points,
        }
    if code == "unrated":
        return _("No rated contact in 12 months: %(points)s points to start from") % {"points": points}
    if code == "complaints":
        count = _int(f.get("count"))
        return ngettext(
            "%(count)s complaint in 12 months: %(minus)s%(points)s points",
            "%(count)s complaints in 12 months: %(minus)s%(points)s points",
            count,
        ) % {"count": count, "points": points, "minus": MINUS}
    if code == "service_requests":
        count = _int(f.get("count"))
        free = _int(f.get("free"))
        if _decimal(f.get("points")) in (None, Decimal(0)):
            return ngettext(
                "%(count)s service request in 12 months (the first %(free)s cost nothing)",
                "%(count)s service requests in 12 months (the first %(free)s cost nothing)",
                count,
            ) % {"count": count, "free": free}
        return ngettext(
            "%(count)s service request in 12 months: %(minus)s%(points)s points beyond the first %(free)s",
            "%(count)s service requests in 12 months: %(minus)s%(points)s points beyond the first %(free)s",
            count,
        ) % {"count": count, "free": free, "points": points, "minus": MINUS}
    return code


def _contribution(code: str, f: dict) -> str:
    if code == "liability":
        return _("Liability business: %(amount)s CNY") % {"amount": amount(f.get("amount"), signed=True)}
    if code == "asset":
        return _("Asset business: %(amount)s CNY") % {"amount": amount(f.get("amount"), signed=True)}
    if code == "intermediary":
        return _("Intermediary business: %(amount)s CNY") % {"amount": amount(f.get("amount"), signed=True)}
    if code == "months":
        published, provisional = _int(f.get("published")), _int(f.get("provisional"))
        return _(
            "%(first)s to %(last)s: %(published)s months of published figures, "
            "%(provisional)s provisional, %(none)s without figures"
        ) % {
            "first": f.get("from", "—"),
            "last": f.get("to", "—"),
            "published": published,
            "provisional": provisional,
            "none": max(0, 12 - published - provisional),
        }
    return code


# --------------------------------------------------------------------------- ranking

TOP = 3  # reasons shown per score


def _round(value: Any, places: int) -> Decimal | None:
    number = _decimal(value)
    return None if number is None else number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _strongest(weighed: list[tuple[str, Any, dict]]) -> list[tuple[str, dict]]:
    """The reasons with a weight above 0, strongest first (ties in the order given),
    the first TOP of them."""
    counted = [(float(weight or 0), index, code, f) for index, (code, weight, f) in enumerate(weighed)]
    counted = [item for item in counted if item[0] > 0]
    counted.sort(key=lambda item: (-item[0], item[1]))
    return [(code, f) for _weight, _index, code, f in counted[:TOP]]


def _churn_figures(row: Any) -> list[tuple[str, Any, dict]]:
    model = row.churn_source == ChurnSource.MODEL
    figures: dict[str, dict] = {
        "aum_change_3m": {"change": row.aum_change_3m, "aum": row.aum, "before": row.aum_3m},
        "aum_change_6m": {"change": row.aum_change_6m, "aum": row.aum, "before": row.aum_6m},
        "maturity_runoff": {"amount": row.maturity_runoff, "aum_3m": row.aum_3m},
        "outflow": {"amount": row.outflow, "aum_3m": row.aum_3m},
        "dormant_days": {"days": row.dormant_days},
        "txn_change": {"change": row.txn_change},
        "complaints": {"count": row.complaints},
        "service_requests": {"count": row.service_requests},
        "manager_changed": {},
    }
    weighed = []
    for code in FEATURES:
        push = getattr(row, f"push_{code}") or 0
        shown = {"weight": round(float(push), 4)} if model else {"points": round(float(push))}
        weighed.append((code, push, {**figures[code], **shown}))
    return weighed


def ranked(row: Any) -> dict[str, list[tuple[str, dict]]]:
    """Each score's top reasons as (code, figures), strongest first, from the parts
    the nightly row keeps (`analysis.scoring`): the churn features by their push
    (the model's bᵢ·zᵢ or the rules' points), the loyalty parts by their points,
    satisfaction's parts in a fixed order (all that apply), the contribution's
    business lines and the months it covers. No query."""

    def points(value: Any) -> Decimal | None:
        return _round(value, 1)

    loyalty = [
        ("tenure", row.loyalty_tenure, {"months": row.tenure_months, "points": points(row.loyalty_tenure)}),
        ("depth", row.loyalty_depth, {"kinds": row.product_depth, "points": points(row.loyalty_depth)}),
        (
            "wallet",
            row.loyalty_wallet,
            {
                "change": row.wallet_trend,
                "aum": row.aum,
                "aum_12m": row.aum_12m,
                "points": points(row.loyalty_wallet),
            },
        ),
        ("rfm", row.loyalty_rfm, {"score": row.rfm_score, "points": points(row.loyalty_rfm)}),
    ]
    satisfaction: list[tuple[str, dict]] = []
    if row.rating_count:
        satisfaction.append(
            (
                "rating",
                {
                    "average": _round(row.rating_average, 2),
                    "count": row.rating_count,
                    "points": points(row.satisfaction_base),
                },
            )
        )
    else:
        satisfaction.append(("unrated", {"points": points(row.satisfaction_base)}))
    if row.complaints:
        satisfaction.append(
            ("complaints", {"count": row.complaints, "points": points(row.satisfaction_complaints)})
        )
    if row.service_requests:
        satisfaction.append(
            (
                "service_requests",
                {
                    "count": row.service_requests,
                    "free": REQUESTS_FREE,
                    "points": points(row.satisfaction_requests),
                },
            )
        )
    month = row.as_of.replace(day=1)
    contribution = [
        ("liability", {"amount": row.contribution_liability}),
        ("asset", {"amount": row.contribution_asset}),
        ("intermediary", {"amount": row.contribution_intermediary}),
        (
            "months",
            {
                "from": f"{month_back(month, CONTRIBUTION_MONTHS - 1):%Y-%m}",
                "to": f"{month:%Y-%m}",
                "published": row.months_published,
                "provisional": row.months_provisional,
            },
        ),
    ]
    return {
        "churn": _strongest(_churn_figures(row)),
        "loyalty": _strongest(loyalty),
        "satisfaction": satisfaction[:TOP],
        "contribution": contribution,
    }


def top_churn_reason(row: Any) -> str:
    """The strongest churn reason's sentence alone ("" without any): what a list
    shows per row, without the sentences of the other scores."""
    churn = _strongest(_churn_figures(row))[:1]
    return churn_reason(*churn[0], row.as_of) if churn else ""


def reasons(row: Any) -> dict[str, list[str]]:
    """The sentences of each score's reasons, strongest first."""
    found = ranked(row)
    return {
        "churn": [churn_reason(code, f, row.as_of) for code, f in found["churn"]],
        "loyalty": [_loyalty(code, f) for code, f in found["loyalty"]],
        "satisfaction": [_satisfaction(code, f) for code, f in found["satisfaction"]],
        "contribution": [_contribution(code, f) for code, f in found["contribution"]],
    }


def churn_source_note(row: Any) -> str:
    """Which scored the churn probability: the trained model (its version) or the
    rules."""
    if row.churn_source == ChurnSource.MODEL:
        model = row.model
        if model is None:
            return _("Scored by a trained model since removed")
        return _("Scored by the trained model v%(number)s (history up to %(date)s)") % {
            "number": model.number,
            "date": model.as_of.isoformat(),
        }
    return _("Scored by the rules: not enough history for a trained model yet")
