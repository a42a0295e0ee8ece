"""TEPRA imports: reading Indonesian files, all-or-nothing imports and the problems they report."""

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.utils import translation

from cegah.monitoring.models import TepraImport
from cegah.monitoring.tepra import CellProblem, import_realisation, parse_number, read_number

INDONESIAN_HEADER = "SKPD;Kegiatan;Pagu;Realisasi Keuangan;Realisasi Fisik\n"


def _import(mcp, text: str, *, month: int = 12, name: str = "des.csv") -> TepraImport:
    return import_realisation(
        organisation=mcp.city,
        year=2026,
        month=month,
        file_name=name,
        data=text.encode(),
        actor=mcp.city_admin,
    )


def _page(client, record: TepraImport, language: str = "id") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/monitoring/tepra/imports/{record.pk}/")
    assert response.status_code == 200
    return response.content.decode()


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


def test_problems_name_the_column_as_the_file_wrote_it_in_the_readers_language(
    mcp, client_for
) -> None:
    with translation.override("en"):  # uploaded by someone reading English
        record = _import(mcp, INDONESIAN_HEADER + "Dinas PU;Jalan;1.000;100;sepuluh\n")
    [issue] = record.errors
    assert (issue["row"], issue["column"], issue["letter"]) == (2, "Realisasi Fisik", "E")
    assert issue["code"] == "not_a_number" and "message" not in issue
    client = client_for(mcp.city_admin)
    indonesian = _page(client, record)
    assert "Realisasi Fisik" in indonesian and "physical_actual" not in indonesian
    assert "“sepuluh” bukan angka." in indonesian
    assert "“sepuluh” is not a number." in _page(client, record, "en")


def test_problems_stored_as_sentences_before_codes_stay_readable(mcp, client_for) -> None:
    record = TepraImport.objects.create(
        organisation=mcp.city,
        year=2026,
        month=3,
        file_name="lama.csv",
        rows_total=2,
        rows_imported=1,
        errors=[{"row": 3, "column": "financial_actual", "message": "This is not a number."}],
    )
    page = _page(client_for(mcp.city_admin), record)
    assert "financial_actual" in page and "This is not a number." in page
