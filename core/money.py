"""Money columns: CNY amounts to the fen, up to 16 digits of yuan."""

from __future__ import annotations

from typing import Any

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}
