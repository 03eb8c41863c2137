"""The catalogue's product names for every page that shows a product code
(core.labels): an account holds the code core banking gives its product."""

from django.db.models import OuterRef, Subquery
from django.db.models.expressions import BaseExpression

from core import labels

from .models import Product


def product_names() -> dict[str, str]:
    return dict(Product.objects.values_list("code", "name"))


def product_name_of(field: str) -> BaseExpression:
    return Subquery(Product.objects.filter(code=OuterRef(field)).values("name")[:1])


labels.register("product", product_names)
labels.register_annotation("product", product_name_of)
