"""The models of keeping close, one module per part; each part's module is imported
here so that Django finds every model."""

from .alerts import Alert
from .outbox import Message, MessageTemplate
from .parameters import AlertParameterProposal, AlertParameters
from .plan import JournalEntry, PlanItem
from .subscriptions import ServiceSubscription

__all__ = [
    "Alert",
    "AlertParameterProposal",
    "AlertParameters",
    "JournalEntry",
    "PlanItem",
    "Message",
    "MessageTemplate",
    "ServiceSubscription",
]
