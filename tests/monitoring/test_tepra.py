"""TEPRA imports: reading Indonesian files, all-or-nothing imports and the problems they report."""

from decimal import Decimal as D

import pytest

from cegah.monitoring.tepra import CellProblem, parse_number, read_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("750.000", D(750_000)),  # one dot and three digits: Indonesian thousands
        ("400.000", D(400_000)),
        ("Rp 5.000.000.000", D(5_000_000_000)),
        ("Rp. 1.250.000.000,00", D(1_250_000_000)),
        ("1.234.567,89", D("1234567.89")),
        ("Rp 1,234,567.89", D("1234567.89")),  # both separators: the last one is the decimal
        ("1,234,567", D(1_234_567)),
        ("12,5", D("12.5")),
        ("12.5", D("12.5")),  # a dot before one or two digits cannot be thousands
        ("0.500", D("0.5")),  # nor before a leading zero
        ("42,5 %", D("42.5")),
        ("1\u00a0234\u00a0567", D(1_234_567)),
        (7, D(7)),
        (7.25, D("7.25")),
        ("", None),
        (None, None),
    ],
)
def test_numbers_are_read_the_indonesian_way(text, expected) -> None:
    assert read_number(text) == expected


@pytest.mark.parametrize("text", ["5,000", "750,000"])
def test_a_comma_before_three_digits_is_reported_as_ambiguous(text) -> None:
    with pytest.raises(CellProblem) as exc:
        read_number(text)
    assert exc.value.code == "ambiguous_number"
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["sejuta", "1.23.4", "1,2,3", "1e5", "12OO000000", "1.234,5.6"])
def test_what_is_not_a_number_is_reported(text) -> None:
    with pytest.raises(CellProblem) as exc:
        read_number(text)
    assert exc.value.code == "not_a_number"


def test_an_ambiguous_amount_is_reported_on_its_row(mcp) -> None:
    from cegah.monitoring.tepra import clean_rows

    row = {
        "opd": "A",
        "activity": "X",
        "pagu": "5,000",
        "financial_actual": "1",
        "physical_actual": "5",
    }
    good, errors = clean_rows([(2, row)])
    assert good == [] and [(e.row, e.column) for e in errors] == [(2, "pagu")]
    assert "5,000" in errors[0].message
