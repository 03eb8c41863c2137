"""The names of the VIP codes a customer holds, for every page that shows them
(core.labels): `Customer.tier`, named by the level rows, and `Customer.vip_status`."""

from core import labels

from .choices import VipStatus
from .selectors.levels import tier_names

labels.register("tier", tier_names)
labels.register("vip_status", VipStatus)
