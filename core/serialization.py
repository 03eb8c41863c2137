"""Values made safe for JSON (audit details, snapshots)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models


def jsonable(value: Any) -> Any:
    """Dates and times as ISO text, decimals as exact text, anything else as is."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def field_value(model: type[models.Model], field: str, value: Any) -> Any:
    """A value given as text (a form, a spreadsheet, a stored proposal) as the
    model's field holds it; decimals at the field's places, so that "600000" and
    "600000.00" compare and store alike. Refused: ValidationError on the field."""
    model_field = cast(models.Field, model._meta.get_field(field))
    try:
        value = model_field.to_python(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    places = getattr(model_field, "decimal_places", None)
    if isinstance(value, Decimal) and places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return value
