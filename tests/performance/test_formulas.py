"""Scoring formulas (performance/formulas.py): each kind, floor and cap, direction,
ranks with ties, grades by score and by share, and expressions that may not run
anything but arithmetic."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from performance.formulas import (
    Band,
    Inputs,
    check_params,
    competition_ranks,
    grade_for,
    points,
    weighted,
)

D = Decimal


def score(kind, params, **inputs):
    return points(kind, check_params(kind, params), Inputs(**inputs))


class TestCompletion:
    def test_actual_over_target_held_between_floor_and_cap(self):
        params = {"floor": 50, "cap": 120}
        assert score("completion", params, actual=D(80), target=D(100)) == D(80)
        assert score("completion", params, actual=D(300), target=D(100)) == D(120)
        assert score("completion", params, actual=D(10), target=D(100)) == D(50)

    def test_default_is_zero_to_one_hundred_and_twenty_percent(self):
        assert score("completion", {}, actual=D(0), target=D(100)) == D(0)
        assert score("completion", {}, actual=D(500), target=D(100)) == D(120)

    def test_lower_is_better_divides_the_target_by_the_actual(self):
        # a target of 4 complaints, 5 happened: 80%; none happened: the cap
        assert score("completion", {}, actual=D(5), target=D(4), lower_is_better=True) == D(80)
        assert score("completion", {}, actual=D(0), target=D(4), lower_is_better=True) == D(120)

    def test_no_target_scores_nothing(self):
        assert score("completion", {}, actual=D(100), target=None) == D(0)
        assert score("completion", {}, actual=D(100), target=D(0)) == D(0)

    def test_weighted_by_the_indicator_weight(self):
        assert weighted("completion", D(80), D(40)) == D(32)

    @pytest.mark.parametrize(
        "params", [{"floor": 130, "cap": 120}, {"floor": -1}, {"cap": "lots"}, {"cap": True}]
    )
    def test_bad_floor_or_cap_refused(self, params):
        with pytest.raises(ValidationError):
            check_params("completion", params)


class TestSteps:
    params = {"steps": [[100, 100], [60, 60], [80, 80]]}

    def test_highest_threshold_reached_counts(self):
        assert score("steps", self.params, actual=D(85), target=D(100)) == D(80)
        assert score("steps", self.params, actual=D(100), target=D(100)) == D(100)
        assert score("steps", self.params, actual=D(59), target=D(100)) == D(0)

    def test_on_the_actual_and_lower_is_better(self):
        params = {"on": "actual", "steps": [[0, 100], [2, 50], [5, 10]]}
        assert score("steps", params, actual=D(1), target=None, lower_is_better=True) == D(50)
        assert score("steps", params, actual=D(0), target=None, lower_is_better=True) == D(100)
        assert score("steps", params, actual=D(6), target=None, lower_is_better=True) == D(0)
        assert score("steps", {**params, "on": "actual"}, actual=D(3), target=None) == D(50)

    @pytest.mark.parametrize(
        "params",
        [{}, {"steps": []}, {"steps": [[1]]}, {"steps": [[1, 2], [1, 3]]}, {"steps": [[1, 2]], "on": "x"}],
    )
    def test_bad_steps_refused(self, params):
        with pytest.raises(ValidationError):
            check_params("steps", params)


class TestRank:
    params = {"bands": [[20, 100], [50, 80]], "otherwise": 50}

    def test_points_by_top_share_of_the_peer_group(self):
        assert score("rank", self.params, actual=D(0), target=None, rank=2, peers=10) == D(100)
        assert score("rank", self.params, actual=D(0), target=None, rank=3, peers=10) == D(80)
        assert score("rank", self.params, actual=D(0), target=None, rank=6, peers=10) == D(50)

    def test_share_above_one_hundred_refused(self):
        with pytest.raises(ValidationError):
            check_params("rank", {"bands": [[120, 100]]})


class TestDeduction:
    def test_points_per_unit_up_to_a_maximum_subtracted_unweighted(self):
        params = {"per_unit": 2, "max": 5}
        assert score("deduction", params, actual=D(1), target=None) == D(-2)
        assert score("deduction", params, actual=D(9), target=None) == D(-5)
        assert weighted("deduction", D(-5), D(0)) == D(-5)

    def test_needs_positive_numbers(self):
        with pytest.raises(ValidationError):
            check_params("deduction", {"per_unit": 0, "max": 5})


class TestExpression:
    def test_arithmetic_over_actual_target_and_completion(self):
        params = {"expression": "min(completion, 110) * 0.5 + max(actual - target, 0) / 100"}
        assert score("expression", params, actual=D(150), target=D(100)) == D("55.5")

    def test_division_by_a_zero_target_scores_nothing(self):
        assert score("expression", {"expression": "actual / target"}, actual=D(5), target=D(0)) == D(0)

    @pytest.mark.parametrize(
        ("text", "named"),
        [
            ("__import__('os')", "__import__()"),
            ("actual.__class__", "actual.__class__"),
            ("open('x')", "open()"),
            ("abs(actual)", "abs()"),
            ("actual ** 2", "Pow"),
            ("'a' * 3", "'a'"),
            ("[actual]", "List"),
            ("lambda: 1", "Lambda"),
            ("secret", "secret"),
            ("min(x=actual)", "min(…)"),
        ],
    )
    def test_anything_else_refused_with_a_message(self, text, named):
        with pytest.raises(ValidationError) as refused:
            check_params("expression", {"expression": text})
        message = refused.value.messages[0]
        assert named in message and "is not allowed" in message

    def test_unreadable_expression_refused(self):
        with pytest.raises(ValidationError, match="cannot be read"):
            check_params("expression", {"expression": "actual +"})

    def test_unknown_formula_refused(self):
        with pytest.raises(ValidationError, match="not a scoring formula"):
            check_params("eval", {})


def test_ties_share_a_rank_and_the_next_rank_skips():
    ranks = competition_ranks({"a": D(90), "b": D(80), "c": D(80), "d": D(70)})
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}
    assert competition_ranks({"a": D(1), "b": D(3)}, lower_is_better=True) == {"a": 1, "b": 2}


def test_grades_by_minimum_score():
    bands = [Band("A", min_score=D(90)), Band("B", min_score=D(75)), Band("C", min_score=D(60))]
    assert grade_for(bands, score=D(90), rank=1, peers=3) == "A"
    assert grade_for(bands, score=D("89.99"), rank=1, peers=3) == "B"
    assert grade_for(bands, score=D(10), rank=3, peers=3) is None


def test_grades_by_share_of_the_peer_group_ties_get_the_better_grade():
    bands = [Band("A", share=D(20)), Band("B", share=D(70)), Band("C", share=D(100))]
    assert grade_for(bands, score=D(0), rank=2, peers=10) == "A"
    assert grade_for(bands, score=D(0), rank=3, peers=10) == "B"
    assert grade_for(bands, score=D(0), rank=8, peers=10) == "C"
