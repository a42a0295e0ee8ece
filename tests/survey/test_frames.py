import io

from openpyxl import Workbook

from cegah.survey.frames import parse_frame
from tests.survey.web import FRAME_CSV


def test_phones_are_normalised_and_problems_located_without_the_value() -> None:
    parsed = parse_frame("list.csv", FRAME_CSV.encode())
    phones = [r.phone for r in parsed.rows]
    assert phones[0] == "+6281211110001" and phones[1] == "+6281211110002"
    assert {"row": 5, "column": "D", "code": "phone"} in parsed.problems
    assert "12345" not in str(parsed.problems)


def test_reads_xlsx_and_semicolon_csv() -> None:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["Name", "Unit", "Group", "Phone", "Email"])
    sheet.append(["Ani", "", "pegawai", "0812 3456 7890", ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    parsed = parse_frame("list.xlsx", buffer.getvalue())
    assert [(r.name, r.group, r.phone) for r in parsed.rows] == [
        ("Ani", "internal", "+6281234567890")
    ]
    semi = parse_frame("l.csv", b"name;unit;group;phone;email\nAni;;expert;;ani@contoh.id\n")
    assert semi.rows[0].email == "ani@contoh.id"


def test_a_file_without_the_columns_is_one_problem() -> None:
    assert parse_frame("l.csv", b"a,b\n1,2\n").problems[0]["code"] == "header"
