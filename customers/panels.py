"""Panels other areas add to the 360 view (open reminders from the VIP area,
running campaigns from marketing) without this app depending on them: each area
registers a provider in its AppConfig.ready(); the 360 view asks every provider of
a panel, each in a bounded number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

REMINDERS = "reminders"
CAMPAIGNS = "campaigns"
SERVICES = "services"  # the customer's service subscriptions (keep close)
ACTIONS = "actions"  # what other areas offer to do about the customer (plan a visit...)


@dataclass(frozen=True)
class PanelItem:
    text: str
    url: str = ""
    when: datetime.date | None = None
    note: str = ""


Provider = Callable[..., list[PanelItem]]  # (customer, user) -> items

_providers: dict[str, list[Provider]] = {REMINDERS: [], CAMPAIGNS: [], SERVICES: [], ACTIONS: []}


def register(panel: str, provider: Provider) -> None:
    providers = _providers[panel]
    if provider not in providers:
        providers.append(provider)


def panel_items(panel: str, customer, user) -> list[PanelItem]:
    return [item for provider in _providers[panel] for item in provider(customer, user)]
