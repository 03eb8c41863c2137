"""Panels other areas add to the 360 view (open reminders from the VIP area,
running campaigns from marketing) without this app depending on them: each area
registers a provider in its AppConfig.ready(); the 360 view asks every provider of
a panel, each in a bounded number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


# --- sections: a whole panel of another area ---------------------------------------------
#
# A list of items does not fit everything: the customer analysis shows scores with
# their reasons and recommended products. Such an area registers a section: a
# provider that gives the template of its panel and that template's context, or
# None when the user may not see it (the 360 view is already held to the user's
# scope; the provider checks its own permission). The 360 page includes each
# section's template in the order registered (`{% customer_sections c %}`,
# customers/templatetags/customer_sections.py); the customer API adds a section's
# data under its name to the 360 summary, for the callers allowed to read it.


@dataclass(frozen=True)
class Section:
    name: str
    template: str
    context: dict[str, Any]


SectionProvider = Callable[..., Section | None]  # (customer, user) -> Section or None


@dataclass(frozen=True)
class ApiSection:
    """A key of the 360 summary of the customer API: `allowed(user)` says whether
    the caller may read it (else the key is left out), `read(customer, user)` gives
    its JSON data (None: null, e.g. nothing computed yet for the customer);
    `serializer` describes it for the OpenAPI document."""

    name: str
    allowed: Callable[[Any], bool]
    read: Callable[[Any, Any], Any]
    serializer: Any = None


_sections: dict[str, SectionProvider] = {}
_api_sections: dict[str, ApiSection] = {}


def register_section(name: str, provider: SectionProvider) -> None:
    """Called from an AppConfig.ready(); registering a name again replaces it."""
    _sections[name] = provider


def sections(customer, user) -> list[Section]:
    """The sections `user` may see on the customer's 360 page, in the order registered."""
    if user is None:
        return []
    found = (provider(customer, user) for provider in _sections.values())
    return [section for section in found if section is not None]


def register_api_section(section: ApiSection) -> None:
    """Called from an AppConfig.ready(); registering a name again replaces it."""
    _api_sections[section.name] = section


def api_sections() -> list[ApiSection]:
    return list(_api_sections.values())


def api_section_data(customer, user) -> dict[str, Any]:
    """{name: data} of the sections the caller may read."""
    return {
        section.name: section.read(customer, user)
        for section in _api_sections.values()
        if section.allowed(user)
    }
