"""A demo customer's accounts (arrangements) with their balances on the business
date, and the assets they hold outside the bank.

Account numbers are 19 digits (cards 16): a category prefix, the 10-digit scramble of
the customer's index (`demo.identities`), the account's slot, the outlet and a Luhn
check digit, so that they never repeat. The customer's AUM and liabilities are the
sums of the CNY balances of their open asset and liability accounts."""

from __future__ import annotations

import datetime
import random
from typing import TYPE_CHECKING

from customers.choices import ASSET_CATEGORIES, AccountCategory, AssetKind

from .identities import account_scramble, luhn
from .reference import (
    ACCOUNT_PREFIX,
    CARS,
    CITY_DISTRICTS,
    COMMUNITIES,
    COMMUNITY_WORDS,
    PRODUCTS,
    TIME_TERMS,
    USD_CNY,
    money,
)

if TYPE_CHECKING:
    from .people import Outlet


def person_accounts(
    rng: random.Random,
    *,
    j: int,
    index: int,
    outlet: Outlet,
    aum_target: int,
    richness: float,
    age: int,
    open_ord: int,
    dormant: bool,
    latest: datetime.date,
) -> tuple[list[tuple], int, int]:
    """Account rows (with local customer number j) and the customer's AUM and
    liabilities in cents, the sums of the rows' CNY balances."""
    rnd = rng.random
    latest_ord = latest.toordinal()
    cats = []
    if rnd() < 0.97:
        cats.append(AccountCategory.DEP_CUR)
    if not dormant:
        for cat, p in (
            (AccountCategory.DEP_TIME, 0.40 + 0.2 * richness),
            (AccountCategory.WEALTH, 0.10 + 0.45 * richness),
            (AccountCategory.FUND, 0.08 + 0.3 * richness),
            (AccountCategory.INSURANCE, 0.06 + 0.2 * richness),
            (AccountCategory.CUSTODY, 0.04 + 0.15 * richness),
        ):
            if rnd() < p:
                cats.append(cat)
    if not cats:
        cats.append(AccountCategory.DEP_TIME if rnd() < 0.5 else AccountCategory.WEALTH)
    if not dormant:
        if 25 <= age <= 60 and rnd() < 0.13:
            cats.append(AccountCategory.LOAN_MORTGAGE)
        if rnd() < 0.06:
            cats.append(AccountCategory.LOAN_CONSUMER)
        if rnd() < 0.3:
            cats.append(AccountCategory.CREDIT_CARD)
    if len(cats) > 5:
        cats = cats[:4] + cats[-1:]

    statuses = []
    for k in range(len(cats)):
        r = rnd()
        if k > 0 and r < 0.04:
            statuses.append("C")
        elif r > 0.996:
            statuses.append("F")
        else:
            statuses.append("O")
    asset_slots = [k for k, c in enumerate(cats) if c in ASSET_CATEGORIES and statuses[k] != "C"]
    if not asset_slots:  # a customer always holds something: reopen the first asset account
        first = next(k for k, c in enumerate(cats) if c in ASSET_CATEGORIES)
        statuses[first] = "O"
        asset_slots = [first]
    weights = [
        (rnd() + 0.2) * ((1.6 - richness) if cats[k] == AccountCategory.DEP_CUR else 1.0) for k in asset_slots
    ]
    total_w = sum(weights)
    shares = {k: int(aum_target * w / total_w) for k, w in zip(asset_slots, weights, strict=True)}
    shares[asset_slots[0]] += aum_target - sum(shares.values())

    scramble = account_scramble(index)
    branch_tail = outlet.code[-3:]
    rows = []
    aum = liabilities = 0
    for k, cat in enumerate(cats):
        status = statuses[k]
        if cat == AccountCategory.DEP_CUR:
            body = f"621700{scramble:010d}{k}{int(rnd() * 10)}"
        elif cat == AccountCategory.CREDIT_CARD:
            body = f"62258{scramble:010d}"
        else:
            body = f"{ACCOUNT_PREFIX[cat]}{scramble:010d}{k}{branch_tail}"
        account_no = body + luhn(body)
        maturity = None
        acct_open = open_ord if k == 0 else open_ord + int(rnd() * (latest_ord - open_ord))
        currency = "CNY"
        if cat in ASSET_CATEGORIES:
            cny = shares.get(k, 0)
        elif cat == AccountCategory.LOAN_MORTGAGE:
            cny = int(min(rng.lognormvariate(13.7, 0.6), 8_000_000) * 100)
        elif cat == AccountCategory.LOAN_CONSUMER:
            cny = int(min(rng.lognormvariate(11.0, 0.7), 500_000) * 100)
        else:  # credit card debt
            cny = 0 if rnd() < 0.25 else int(min(rng.lognormvariate(8.5, 1.0), 80_000) * 100)
        if cat == AccountCategory.DEP_TIME:
            term, code = TIME_TERMS[int(rnd() * len(TIME_TERMS))]
            due = 1 + int(rnd() * 30) if rnd() < 0.15 else 31 + int(rnd() * max(term - 31, 1))
            maturity_ord = latest_ord + due
            acct_open = max(maturity_ord - term, open_ord)
            maturity = datetime.date.fromordinal(max(maturity_ord, acct_open + 30))
            product = f"TD-{code}"
        else:
            products = PRODUCTS[cat]
            product = products[int(rnd() * len(products))]
        if cat == AccountCategory.WEALTH and rnd() < 0.6:
            maturity = datetime.date.fromordinal(latest_ord + 1 + int(rnd() * (30 if rnd() < 0.2 else 365)))
        elif cat == AccountCategory.LOAN_MORTGAGE:
            maturity = datetime.date.fromordinal(acct_open + 365 * (10 + int(rnd() * 21)))
        elif cat == AccountCategory.LOAN_CONSUMER:
            maturity = datetime.date.fromordinal(latest_ord + 30 + int(rnd() * 1500))
        if status == "C":
            balance = cny = 0
            balance_date = None
            if maturity is not None and cat != AccountCategory.LOAN_MORTGAGE:
                maturity = datetime.date.fromordinal(latest_ord - 1 - int(rnd() * 300))
                acct_open = min(acct_open, maturity.toordinal() - 30)
        else:
            balance = cny
            balance_date = latest
            if cat in (AccountCategory.DEP_CUR, AccountCategory.DEP_TIME) and rnd() < 0.03:
                currency = "USD"
                balance = round(cny / USD_CNY)
                cny = round(balance * USD_CNY)
            if cat in ASSET_CATEGORIES:
                aum += cny
            else:
                liabilities += cny
        rows.append(
            (account_no, j, product, cat, currency, datetime.date.fromordinal(acct_open), maturity,
             status, outlet.branch_id, money(balance), money(cny), balance_date)
        )  # fmt: skip
    return rows, aum, liabilities


def other_asset(rng: random.Random, *, outlet: Outlet, richness: float, latest: datetime.date) -> tuple:
    """(kind, description, estimated value, valued on) of a home or a car held
    outside the bank; richer customers own bigger homes and dearer cars."""
    rnd = rng.random
    valued_on = datetime.date.fromordinal(latest.toordinal() - int(rnd() * 700))
    if rnd() < 0.7:
        district = rng.choice(CITY_DISTRICTS[outlet.city])
        area = 45 + int(rnd() * (90 + 200 * richness))
        price = 45_000 + int(rnd() * 80_000)
        community = rng.choice(COMMUNITY_WORDS) + rng.choice(COMMUNITIES)
        return (
            AssetKind.PROPERTY,
            f"{outlet.city}{district}{community} 住宅 {area}平方米",
            f"{area * price // 1000 * 1000}.00",
            valued_on,
        )
    brand, models = CARS[int(rnd() * len(CARS))]
    year = latest.year - int(rnd() * 8)
    value = int(rng.lognormvariate(12.5 + 0.5 * richness, 0.4)) // 1000 * 1000
    return AssetKind.VEHICLE, f"{brand} {rng.choice(models)} {year}款", f"{value}.00", valued_on
