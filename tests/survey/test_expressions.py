import pytest

from cegah.survey.expressions import ExpressionError, evaluate, references


@pytest.mark.parametrize(
    ("expr", "answers", "expected"),
    [
        ("", {}, True),
        ("${a} = 'ya'", {"a": "ya"}, True),
        ("${a} = 'ya'", {"a": "tidak"}, False),
        ("${a} = 'ya'", {}, False),
        ("${a} != 'ya'", {}, True),
        ("${a} = 'ya' and ${b} = 'x'", {"a": "ya", "b": "x"}, True),
        ("${a} = 'ya' and ${b} = 'x'", {"a": "ya", "b": "y"}, False),
        ("${a} = 'ya' or ${b} = 'x'", {"a": "no", "b": "x"}, True),
        ("selected(${m}, 'b')", {"m": "a b c"}, True),
        ("selected(${m}, 'd')", {"m": "a b c"}, False),
        ("not(selected(${m}, 'd'))", {"m": "a"}, True),
        ("${n} >= 18", {"n": "20"}, True),
        ("${n} >= 18", {"n": "17"}, False),
        ("${n} > 2.5", {"n": "3"}, True),
        ("${n} < 5", {}, False),
        ("(${a} = 'x' or ${a} = 'y') and ${n} != 0", {"a": "y", "n": "1"}, True),
        ('${a} = "ya"', {"a": "ya"}, True),
        ("count-selected(${m}) >= 2", {"m": "a b"}, True),
    ],
)
def test_evaluates_common_xlsform_expressions(expr: str, answers: dict, expected: bool) -> None:
    assert evaluate(expr, answers) is expected


@pytest.mark.parametrize(
    "expr",
    ["__import__('os')", "${a} = 'x' +", "${a} == 'x'", "pulldata('f', 'a')", "${a} ="],
)
def test_refuses_anything_else_without_evaluating_it(expr: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expr, {"a": "x"})


def test_lists_references() -> None:
    assert references("${a} = 'x' and selected(${b}, '1')") == {"a", "b"}
