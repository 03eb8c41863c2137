"""How one indicator of an assessment scheme turns into points: never by evaluating
user text, only by one of five formula kinds with checked parameters.

Every kind but the deduction gives the indicator's points out of 100; the scheme
weights them (points × weight ÷ 100), so a scheme whose weights add up to 100 scores
out of 100 (more where a cap above 100% allows it). A deduction carries no weight:
its points are subtracted from the score as they are.

- `completion`: the completion rate in percent (actual ÷ target; target ÷ actual
  where lower is better), held between `floor` and `cap` (default 0 and 120).
- `steps`: thresholds on the completion rate (or on the actual, `on: "actual"`),
  each with its points; the highest threshold reached counts, none reached is 0.
- `rank`: points by the unit's place in its peer group on this indicator: `bands`
  of [top share in percent, points], the first share the place falls in counts,
  `otherwise` (default 0) below them all.
- `deduction`: `per_unit` points for each unit of the actual, at most `max`,
  subtracted.
- `expression`: arithmetic over `actual`, `target` and `completion` with numbers,
  + - * /, parentheses and min()/max(), parsed with `ast` against a whitelist; the
  result is the points out of 100.

A missing target (or a target of 0) leaves a rate-based indicator at 0 points.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

COMPLETION = "completion"
STEPS = "steps"
RANK = "rank"
DEDUCTION = "deduction"
EXPRESSION = "expression"
KINDS = (COMPLETION, STEPS, RANK, DEDUCTION, EXPRESSION)

HUNDRED = Decimal("100")
ZERO = Decimal("0")
CENT = Decimal("0.01")
MAX_EXPRESSION_LENGTH = 200


def to_decimal(value: Any, *, name: str) -> Decimal:
    """A parameter as a Decimal; a ValidationError naming it otherwise."""
    if isinstance(value, bool):
        value = None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            _("%(name)s must be a number, not %(value)s.") % {"name": name, "value": value},
            code="not_a_number",
        )
    return number


def plain(value: Decimal) -> str:
    """A number as people write it: 110, 99.5 (never 1.1E+2)."""
    return format(value.normalize(), "f")


def round_points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Inputs:
    """What a formula sees of one unit and one indicator."""

    actual: Decimal
    target: Decimal | None
    lower_is_better: bool = False
    rank: int | None = None  # the unit's place on this indicator in its peer group
    peers: int = 0

    @property
    def completion(self) -> Decimal | None:
        """The completion rate in percent; None without a usable target."""
        if self.target is None or self.target <= 0:
            return None
        if self.lower_is_better:
            if self.actual <= 0:
                return None  # nothing to divide by: the cap decides (see completion())
            return self.target / self.actual * HUNDRED
        return self.actual / self.target * HUNDRED


# --- the kinds: each checks its parameters, then scores --------------------------------


def _check_completion(params: Mapping[str, Any]) -> dict[str, Any]:
    floor = to_decimal(params.get("floor", 0), name="floor")
    cap = to_decimal(params.get("cap", 120), name="cap")
    if floor < 0 or cap <= 0 or floor > cap:
        raise ValidationError(
            _("The floor must be at least 0 and not above the cap (%(floor)s%% – %(cap)s%%).")
            % {"floor": floor, "cap": cap},
            code="floor_cap",
        )
    return {"floor": str(floor), "cap": str(cap)}


def _completion(params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    floor, cap = Decimal(params["floor"]), Decimal(params["cap"])
    rate = inputs.completion
    if rate is None:
        # lower is better and nothing happened: the best there is; no target: nothing
        usable = inputs.lower_is_better and inputs.target is not None and inputs.target > 0
        return cap if usable else ZERO
    return min(max(rate, floor), cap)


def _check_steps(params: Mapping[str, Any]) -> dict[str, Any]:
    on = params.get("on", COMPLETION)
    if on not in (COMPLETION, "actual"):
        raise ValidationError(_("Steps apply to the completion rate or to the actual."), code="steps_on")
    steps = params.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ValidationError(_("Give at least one step: a threshold and its points."), code="no_steps")
    checked = []
    for position, step in enumerate(steps, start=1):
        if not isinstance(step, list | tuple) or len(step) != 2:
            raise ValidationError(
                _("Step %(n)s must be a threshold and its points.") % {"n": position}, code="bad_step"
            )
        checked.append((to_decimal(step[0], name=_("threshold")), to_decimal(step[1], name=_("points"))))
    thresholds = [threshold for threshold, _points in checked]
    if len(set(thresholds)) != len(thresholds):
        raise ValidationError(_("Two steps have the same threshold."), code="step_twice")
    return {"on": on, "steps": [[str(t), str(p)] for t, p in sorted(checked)]}


def _steps(params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    steps = [(Decimal(t), Decimal(p)) for t, p in params["steps"]]
    if params["on"] == COMPLETION:
        rate = inputs.completion
        if rate is None:
            if inputs.lower_is_better and inputs.target is not None and inputs.target > 0:
                return steps[-1][1]  # nothing happened where lower is better: the top step
            return ZERO
        reached = [points for threshold, points in steps if rate >= threshold]
        return reached[-1] if reached else ZERO
    if inputs.lower_is_better:  # thresholds are ceilings: the lowest ceiling kept counts
        kept = [points for threshold, points in steps if inputs.actual <= threshold]
        return kept[0] if kept else ZERO
    reached = [points for threshold, points in steps if inputs.actual >= threshold]
    return reached[-1] if reached else ZERO


def _check_rank(params: Mapping[str, Any]) -> dict[str, Any]:
    bands = params.get("bands")
    if not isinstance(bands, list) or not bands:
        raise ValidationError(_("Give at least one band: a top share and its points."), code="no_bands")
    checked = []
    for position, band in enumerate(bands, start=1):
        if not isinstance(band, list | tuple) or len(band) != 2:
            raise ValidationError(
                _("Band %(n)s must be a top share in percent and its points.") % {"n": position},
                code="bad_band",
            )
        share = to_decimal(band[0], name=_("share"))
        if not ZERO < share <= HUNDRED:
            raise ValidationError(_("A top share is above 0% and at most 100%."), code="bad_share")
        checked.append((share, to_decimal(band[1], name=_("points"))))
    otherwise = to_decimal(params.get("otherwise", 0), name=_("otherwise"))
    return {"bands": [[str(s), str(p)] for s, p in sorted(checked)], "otherwise": str(otherwise)}


def _rank(params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    if inputs.rank is None or inputs.peers <= 0:
        return ZERO
    for share, points in params["bands"]:
        if in_top_share(inputs.rank, inputs.peers, Decimal(share)):
            return Decimal(points)
    return Decimal(params["otherwise"])


def _check_deduction(params: Mapping[str, Any]) -> dict[str, Any]:
    per_unit = to_decimal(params.get("per_unit"), name=_("points per unit"))
    most = to_decimal(params.get("max"), name=_("maximum"))
    if per_unit <= 0 or most <= 0:
        raise ValidationError(
            _("A deduction takes a positive number of points per unit and a positive maximum."),
            code="bad_deduction",
        )
    return {"per_unit": str(per_unit), "max": str(most)}


def _deduction(params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    units = max(inputs.actual, ZERO)
    return -min(units * Decimal(params["per_unit"]), Decimal(params["max"]))


# --- expressions: parsed once, evaluated over three names --------------------------------

VARIABLES = ("actual", "target", "completion")
_BINARY: dict[type, Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., Decimal]] = {"min": min, "max": max}


def _refuse(what: str) -> ValidationError:
    return ValidationError(
        _(
            "%(what)s is not allowed in a formula: use numbers, actual, target, completion, "
            "+ - * /, brackets, min() and max()."
        )
        % {"what": what},
        code="expression",
    )


def _check_node(node: ast.AST) -> None:
    """Refuse anything but the whitelist, before anything is evaluated."""
    if isinstance(node, ast.Expression):
        _check_node(node.body)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _refuse(repr(node.value))
    elif isinstance(node, ast.Name):
        if node.id not in VARIABLES:
            raise _refuse(node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise _refuse(type(node.op).__name__)
        _check_node(node.left)
        _check_node(node.right)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise _refuse(type(node.op).__name__)
        _check_node(node.operand)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise _refuse(f"{name}()")
        if node.keywords or not node.args:
            raise _refuse(f"{node.func.id}(…)")
        for argument in node.args:
            _check_node(argument)
    elif isinstance(node, ast.Attribute):
        raise _refuse(ast.unparse(node))
    else:
        raise _refuse(type(node).__name__)


@functools.lru_cache(maxsize=256)
def parse_expression(text: str) -> ast.Expression:
    """The expression's tree, every node on the whitelist (cached: a scheme's
    expression is parsed once per process, not once per unit)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write the expression."), code="expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValidationError(
            _("An expression has at most %(n)s characters.") % {"n": MAX_EXPRESSION_LENGTH}, code="expression"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValidationError(
            _("The expression cannot be read: %(error)s") % {"error": exc.msg}, code="expression"
        ) from exc
    _check_node(tree)
    return tree


def _evaluate(node: ast.AST, names: Mapping[str, Decimal]) -> Decimal:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, names)
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, names), _evaluate(node.right, names))
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, names)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)  # _check_node let only min and max through
        return _FUNCTIONS[node.func.id](*(_evaluate(argument, names) for argument in node.args))
    raise _refuse(type(node).__name__)  # unreachable after _check_node


def _check_expression(params: Mapping[str, Any]) -> dict[str, Any]:
    text = str(params.get("expression", "")).strip()
    parse_expression(text)
    return {"expression": text}


def _expression(params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    tree = parse_expression(params["expression"])
    names = {
        "actual": inputs.actual,
        "target": inputs.target if inputs.target is not None else ZERO,
        "completion": inputs.completion if inputs.completion is not None else ZERO,
    }
    try:
        return _evaluate(tree, names)
    except (DivisionByZero, InvalidOperation, ZeroDivisionError):
        return ZERO  # a division by a zero target scores nothing


@dataclass(frozen=True)
class Kind:
    check: Callable[[Mapping[str, Any]], dict[str, Any]]
    points: Callable[[Mapping[str, Any], Inputs], Decimal]
    weighted: bool = True  # False: the points are subtracted as they are (a deduction)
    needs_target: bool = True
    needs_rank: bool = False


FORMULAS: dict[str, Kind] = {
    COMPLETION: Kind(_check_completion, _completion),
    STEPS: Kind(_check_steps, _steps),
    RANK: Kind(_check_rank, _rank, needs_target=False, needs_rank=True),
    DEDUCTION: Kind(_check_deduction, _deduction, weighted=False, needs_target=False),
    EXPRESSION: Kind(_check_expression, _expression),
}


def formula(kind: str) -> Kind:
    try:
        return FORMULAS[kind]
    except KeyError:
        raise ValidationError(
            _("%(kind)s is not a scoring formula.") % {"kind": kind}, code="unknown_formula"
        ) from None


def check_params(kind: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The formula's parameters, checked and normalised (numbers as strings);
    ValidationError with a message a business manager understands otherwise."""
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(_("The formula's parameters must be an object."), code="params")
    return formula(kind).check(params or {})


def points(kind: str, params: Mapping[str, Any], inputs: Inputs) -> Decimal:
    """The indicator's points (out of 100; negative for a deduction), unrounded.
    `params` are checked ones (`check_params`)."""
    return formula(kind).points(params, inputs)


def weighted(kind: str, value: Decimal, weight: Decimal) -> Decimal:
    """What the indicator adds to the score: points × weight ÷ 100, or the
    deduction's (negative) points as they are."""
    return value * weight / HUNDRED if formula(kind).weighted else value


def in_top_share(rank: int, peers: int, share: Decimal) -> bool:
    """Whether rank `rank` of `peers` is in the top `share` percent: fewer units are
    ahead of it than that share of the group (rank 2 of 10 is in the top 20%, rank
    3 is not; the one unit of a group of one is in every top share; ties share the
    better place)."""
    return peers > 0 and Decimal(rank - 1) * HUNDRED < share * peers


def competition_ranks(values: Mapping[Any, Decimal], *, lower_is_better: bool = False) -> dict[Any, int]:
    """Rank 1 is the best; equal values share a rank and the next rank skips
    (1, 2, 2, 4)."""
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=not lower_is_better)
    ranks: dict[Any, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, start=1):
        if previous is None or value != previous:
            rank = position
            previous = value
        ranks[key] = rank
    return ranks


@dataclass(frozen=True)
class Band:
    """A grade: by a minimum score, or by a top share (cumulative, in percent) of the
    peer group."""

    label: str
    min_score: Decimal | None = None
    share: Decimal | None = None


def grade_for(bands: list[Band], *, score: Decimal, rank: int, peers: int) -> str | None:
    """The grade of a unit: by score, the band with the highest minimum reached; by
    share, the first band (best first) whose top share holds the unit's rank
    (`in_top_share`). None below every band."""
    by_score = [band for band in bands if band.min_score is not None]
    if by_score:
        for band in sorted(by_score, key=lambda b: b.min_score or ZERO, reverse=True):
            if score >= (band.min_score or ZERO):
                return band.label
        return None
    for band in sorted((b for b in bands if b.share is not None), key=lambda b: b.share or ZERO):
        if in_top_share(rank, peers, band.share or ZERO):
            return band.label
    return None
