"""check_number: one wording for every bad number, shared by the config and the layer registry."""
import math

import pytest

from playground.checks import check_number


def test_accepts_an_integer_in_range_and_returns_the_kind():
    assert check_number(3, int, 1, 10) == 3
    value = check_number(3, float, 0.0, 10.0)
    assert value == 3.0 and isinstance(value, float)


def test_whole_float_is_accepted_as_an_integer():
    value = check_number(4.0, int, 1, 10)
    assert value == 4 and isinstance(value, int)


def test_bounds_are_inclusive():
    assert check_number(1, int, 1, 10) == 1
    assert check_number(10, int, 1, 10) == 10
    assert check_number(0.0, float, 0.0, 1.0) == 0.0


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("kind", [int, float])
def test_rejects_booleans(value, kind):
    with pytest.raises(ValueError, match="must be a number"):
        check_number(value, kind, 0, 10)


@pytest.mark.parametrize("value", ["3", "abc", None, [3], {"v": 3}])
def test_rejects_non_numbers(value):
    with pytest.raises(ValueError, match="must be a number"):
        check_number(value, float, 0, 10)


def test_rejects_fractions_for_integers():
    with pytest.raises(ValueError, match="whole number, got 2.5"):
        check_number(2.5, int, 0, 10)


@pytest.mark.parametrize("value", [0, 11, -1, 10.5])
def test_rejects_values_out_of_range_naming_the_range(value):
    with pytest.raises(ValueError, match=r"between 1 and 10, got"):
        check_number(value, float, 1, 10)


def test_rejects_nan():
    for kind in (int, float):
        with pytest.raises(ValueError):
            check_number(math.nan, kind, 0, 10)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_rejects_infinite_floats(value):
    with pytest.raises(ValueError):
        check_number(value, float, 0, 10)


@pytest.mark.parametrize("value", [math.inf, -math.inf, 10**400], ids=["inf", "-inf", "10**400"])
def test_rejects_infinite_or_huge_values_for_integers_with_value_error(value):
    with pytest.raises(ValueError):
        check_number(value, int, 1, 100)
