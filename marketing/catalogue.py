"""Changes of the product catalogue, maker-checker.

A product's terms (risk rating, amounts, rates, sale window, channels) decide what
managers may offer and to whom, so nobody changes them alone: what a parameter
manager saves in the admin, or imports from a spreadsheet, becomes a
`ProductChange` waiting for approval, and the products and their promotions
change only when another user with the right approves it (`accounts.approvals`).
A change records the values it replaces; if they moved before the approval, the
approval is refused and the change must be proposed again.

The demo seeding writes the catalogue directly, as a bootstrap.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User
from core.approvals import ProposalSource
from core.serialization import field_value, jsonable

from .models import Product, ProductChange, Promotion

PRODUCT_FIELDS = (
    "name",
    "category",
    "risk_rating",
    "min_amount",
    "term_days",
    "rate",
    "price",
    "sale_start",
    "sale_end",
    "channels",
    "is_payroll",
    "is_active",
    "description",
)
PROMOTION_FIELDS = ("name", "kind", "value", "start_date", "end_date", "eligible_tiers", "is_active")


def _require(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def _values(instance, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: jsonable(getattr(instance, f)) for f in fields}


def _set(instance, values: dict[str, Any], fields: tuple[str, ...]) -> None:
    unknown = set(values) - set(fields)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    for field, value in values.items():
        setattr(instance, field, field_value(type(instance), field, value))


def _prefixed(label: str, exc: ValidationError) -> list[str]:
    return [f"{label}: {message}" for message in exc.messages]


def _product_changes(
    products: dict[str, dict[str, Any]], current: dict[str, Product], by: User, errors: list[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Product]]:
    """The fields each product would change, the values they replace (None for a
    new product) and the products as they would be."""
    changes: dict[str, Any] = {}
    base: dict[str, Any] = {}
    after: dict[str, Product] = {}
    for code, values in products.items():
        product = current.get(code)
        _require(by, "marketing.change_product" if product else "marketing.add_product")
        candidate = Product.objects.get(pk=product.pk) if product else Product(code=code)
        try:
            _set(candidate, values, PRODUCT_FIELDS)
            candidate.full_clean(validate_unique=product is None)
        except ValidationError as exc:
            errors.extend(_prefixed(code, exc))
            continue
        after[code] = candidate
        before = _values(product, PRODUCT_FIELDS) if product else None
        changed = {
            f: v for f, v in _values(candidate, PRODUCT_FIELDS).items() if before is None or before[f] != v
        }
        if changed:
            changes[code] = changed
            base[code] = None if before is None else {f: before[f] for f in changed}
    return changes, base, after


def _promotion_changes(
    promotions: list[dict[str, Any]], products: dict[str, Product], by: User, errors: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each promotion added, changed or deleted, and the values it replaces."""
    changes: list[dict[str, Any]] = []
    base: dict[str, Any] = {}
    for entry in promotions:
        code, pk = entry["product"], entry.get("id")
        label = f"{code} {entry.get('values', {}).get('name') or pk or ''}".strip()
        if code not in products:
            errors.append(_("%(code)s: no such product.") % {"code": code})
            continue
        existing = Promotion.objects.filter(pk=pk, product__code=code).first() if pk else None
        if pk and existing is None:
            errors.append(_("%(code)s: no such promotion.") % {"code": label})
            continue
        if entry.get("delete"):
            _require(by, "marketing.delete_promotion")
            changes.append({"product": code, "id": pk, "delete": True})
            base[str(pk)] = _values(existing, PROMOTION_FIELDS)
            continue
        _require(by, "marketing.change_promotion" if existing else "marketing.add_promotion")
        candidate = Promotion.objects.get(pk=existing.pk) if existing else Promotion()
        try:
            _set(candidate, entry.get("values", {}), PROMOTION_FIELDS)
            candidate.full_clean(exclude=["product"])
        except ValidationError as exc:
            errors.extend(_prefixed(label, exc))
            continue
        before = _values(existing, PROMOTION_FIELDS) if existing else None
        changed = {
            f: v for f, v in _values(candidate, PROMOTION_FIELDS).items() if before is None or before[f] != v
        }
        if changed:
            changes.append({"product": code, "id": pk, "values": changed, "delete": False})
            if before is not None:
                base[str(pk)] = {f: before[f] for f in changed}
    return changes, base


@transaction.atomic
def product_change_propose(
    *,
    proposed_by: User,
    reason: str,
    products: dict[str, dict[str, Any]] | None = None,
    promotions: list[dict[str, Any]] | None = None,
    source: str = ProposalSource.FORM,
) -> ProductChange:
    """Propose new values for products (by code; an unknown code is a new product)
    and their promotions ({"product": code, "id": id or None, "values": {...},
    "delete": bool}). Nothing changes until another user approves."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("Give a reason (at least 4 characters).")})
    products, promotions = products or {}, promotions or []
    codes = set(products) | {entry["product"] for entry in promotions}
    current = {p.code: p for p in Product.objects.filter(code__in=codes)}
    errors: list[str] = []
    product_changes, product_base, after = _product_changes(products, current, proposed_by, errors)
    promotion_changes, promotion_base = _promotion_changes(
        promotions, {**current, **after}, proposed_by, errors
    )
    if errors:
        raise ValidationError(errors)
    if not product_changes and not promotion_changes:
        raise ValidationError(_("Nothing would change: the values are the current ones."))
    changes = {"products": product_changes, "promotions": promotion_changes}
    base = {"products": product_base, "promotions": promotion_base}
    change = ProductChange.objects.create(
        changes=changes, base=base, reason=reason[:200], source=source, proposed_by=proposed_by
    )
    audit(
        Action.PARAMETER_CHANGED,
        actor=proposed_by,
        target=change,
        details={
            "parameter": "product",
            "decision": "proposed",
            "changes": changes,
            "before": base,
            "reason": change.reason,
            "source": source,
        },
    )
    return change


def _apply_change(change: ProductChange, by: User) -> dict[str, Any]:
    """The effect of an approval: the products and promotions take the proposed
    values, unless the values the change replaces moved since it was proposed."""
    changes, base = change.changes or {}, change.base or {}
    codes = change.product_codes
    current = {p.code: p for p in Product.objects.select_for_update().filter(code__in=codes)}
    promotion_ids = [entry["id"] for entry in changes.get("promotions", []) if entry.get("id")]
    promotions = {p.pk: p for p in Promotion.objects.select_for_update().filter(pk__in=promotion_ids)}
    stale = []
    for code, before in base.get("products", {}).items():
        product = current.get(code)
        if before is None:
            if product is not None:
                stale.append(code)
        elif product is None or any(_values(product, PRODUCT_FIELDS)[f] != v for f, v in before.items()):
            stale.append(code)
    for pk, before in base.get("promotions", {}).items():
        promotion = promotions.get(int(pk))
        if promotion is None or any(_values(promotion, PROMOTION_FIELDS)[f] != v for f, v in before.items()):
            stale.append(_("promotion %(id)s") % {"id": pk})
    if stale:
        raise ValidationError(
            _("These products changed since the change was proposed: %(p)s. Reject it and propose again.")
            % {"p": ", ".join(stale)}
        )
    now = change.decided_at or timezone.now()
    for code, values in changes.get("products", {}).items():
        product = current.get(code) or Product(code=code)
        _set(product, values, PRODUCT_FIELDS)
        product.updated_at = now
        product.full_clean()
        product.save()
        current[code] = product
    for entry in changes.get("promotions", []):
        if entry.get("delete"):
            promotions[entry["id"]].delete()
            continue
        promotion = (
            promotions[entry["id"]] if entry.get("id") else Promotion(product=current[entry["product"]])
        )
        _set(promotion, entry["values"], PROMOTION_FIELDS)
        promotion.full_clean()
        promotion.save()
    return {"products": codes}


def _change_details(change: ProductChange, decision: str) -> dict[str, Any]:
    return {"parameter": "product", "changes": change.changes, "before": change.base}


PRODUCT_FLOW: ApprovalFlow[ProductChange] = ApprovalFlow(
    model=ProductChange,
    item=gettext_lazy("product change"),
    permission="marketing.approve_productchange",
    action=Action.PARAMETER_CHANGED,
    on_approve=_apply_change,
    details=_change_details,
)


def product_change_approve(*, change: ProductChange, user: User, note: str = "") -> ProductChange:
    return decide(PRODUCT_FLOW, change, by=user, approve=True, note=note)


def product_change_reject(*, change: ProductChange, user: User, note: str) -> ProductChange:
    return decide(PRODUCT_FLOW, change, by=user, approve=False, note=note)


def product_change_withdraw(*, change: ProductChange, user: User) -> ProductChange:
    return withdraw(PRODUCT_FLOW, change, by=user)
