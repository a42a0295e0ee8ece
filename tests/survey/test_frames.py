import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from cegah.survey import frames, sealing, services
from cegah.survey.frames import parse_frame
from cegah.survey.models import FrameImport, Respondent
from tests.survey.web import FRAME_CSV, FRAME_CSV_WITH_PROBLEMS, World


def _xlsx(*rows: list[object]) -> bytes:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_phones_are_normalised_and_problems_located_without_the_value() -> None:
    parsed = parse_frame("list.csv", FRAME_CSV_WITH_PROBLEMS.encode())
    phones = [r.phone for r in parsed.rows]
    assert phones[0] == "+6281211110001" and phones[1] == "+6281211110002"
    assert {"row": 6, "column": "D", "code": "phone"} in parsed.problems
    assert "12345" not in str(parsed.problems)
    assert parsed.encoding == "UTF-8"


def test_reads_xlsx_and_semicolon_csv() -> None:
    content = _xlsx(
        ["Name", "Unit", "Group", "Phone", "Email"], ["Ani", "", "pegawai", "0812 3456 7890", ""]
    )
    parsed = parse_frame("list.xlsx", content)
    assert [(r.name, r.group, r.phone) for r in parsed.rows] == [
        ("Ani", "internal", "+6281234567890")
    ]
    semi = parse_frame("l.csv", b"name;unit;group;phone;email\nAni;;expert;;ani@contoh.id\n")
    assert semi.rows[0].email == "ani@contoh.id"


def test_a_header_without_the_columns_names_what_is_missing() -> None:
    parsed = parse_frame("l.csv", b"name,unit,telepon\nAni,,0812 3456 7890\n")
    assert parsed.problems == [
        {"row": 1, "column": "", "code": "header", "params": {"columns": "group (kelompok)"}}
    ]
    assert "group (kelompok)" in frames.problem_text(parsed.problems[0])
    assert "a,b" not in str(parse_frame("l.csv", b"a,b\n1,2\n").problems)


def test_indonesian_headers_are_accepted() -> None:
    parsed = parse_frame(
        "daftar.csv",
        b"Nama,Unit Kerja,Kelompok,Telepon,Surel\nAni,,pegawai,0812 3456 7890,ani@contoh.id\n",
    )
    assert parsed.problems == []
    assert [(r.name, r.group, r.phone, r.email) for r in parsed.rows] == [
        ("Ani", "internal", "+6281234567890", "ani@contoh.id")
    ]


def test_windows_1252_is_read_as_such_and_said() -> None:
    content = "nama,unit,kelompok,telepon\nJosé Müller,,pegawai,0812 3456 7890\n".encode("cp1252")
    parsed = parse_frame("daftar.csv", content)
    assert parsed.problems == [] and parsed.rows[0].name == "José Müller"
    assert parsed.encoding == "Windows-1252"


@pytest.mark.parametrize(
    ("codec", "encoding"),
    [
        ("utf-8", "UTF-8"),  # Excel's "CSV UTF-8" writes a byte order mark
        ("utf-16-le", "UTF-16"),  # Excel's "Unicode Text": UTF-16 with a mark, tab-separated
        ("utf-16-be", "UTF-16"),
    ],
)
def test_utf8_and_utf16_with_a_byte_order_mark_are_read(codec: str, encoding: str) -> None:
    text = "\ufeffnama\tunit\tkelompok\ttelepon\nJosé Müller\t\tpegawai\t0812 3456 7890\n"
    parsed = parse_frame("daftar.txt", text.encode(codec))
    assert parsed.problems == [] and parsed.encoding == encoding
    assert parsed.rows[0].name == "José Müller"


def test_bytes_no_encoding_can_read_are_refused_with_their_line() -> None:
    content = b"nama,unit,kelompok,telepon\nAni,,pegawai,0812 3456 7890\nBad \x81 byte,,pegawai,0812 3456 7891\n"
    parsed = parse_frame("daftar.csv", content)
    assert parsed.problems == [{"row": 3, "column": "", "code": "encoding"}]
    binary = parse_frame("daftar.csv", b"\x00\x01\x02PDF\x00")
    assert [p["code"] for p in binary.problems] == ["unreadable"]
    assert binary.problems[0]["row"] is None


def test_an_unevaluated_formula_is_not_called_an_empty_cell() -> None:
    content = _xlsx(
        ["nama", "unit", "kelompok", "telepon"],
        ['=CONCAT("A","ni")', "", "pegawai", "0812 3456 7890"],
    )
    parsed = parse_frame("daftar.xlsx", content)
    assert parsed.problems == [{"row": 2, "column": "A", "code": "formula"}]


def test_a_header_only_file_is_a_problem() -> None:
    assert [p["code"] for p in parse_frame("l.csv", b"name,unit,group,phone\n").problems] == [
        "no_rows"
    ]
    assert [p["code"] for p in parse_frame("l.csv", b"").problems] == ["empty"]


def test_a_list_over_the_row_limit_is_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "MAX_ROWS", 3)
    rows = "".join(f"Orang {i},,pegawai,08121234{i:04d}\n" for i in range(4))
    parsed = parse_frame("l.csv", f"nama,unit,kelompok,telepon\n{rows}".encode())
    assert parsed.problems == [
        {"row": None, "column": "", "code": "too_many", "params": {"max": 3}}
    ]
    assert parsed.rows == []


# --- the import --------------------------------------------------------------------------------


def _import(client: Client, world: World, name: str, content: bytes) -> str:
    url = f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/"
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(url + "frame/", {"file": upload}, follow=True).content.decode()


@pytest.mark.django_db
def test_a_file_with_problems_is_refused_whole_and_every_problem_listed(
    world: World, client_for
) -> None:
    client = client_for(world.coordinator)
    # The unit column is the fourth here: the problem names the column it is in.
    reordered = "nama,kelompok,telepon,unit,email\n" + "".join(
        f"{n},{g},{p},{u},{e}\n"
        for n, u, g, p, e in (line.split(",") for line in FRAME_CSV_WITH_PROBLEMS.splitlines()[1:])
    )
    page = _import(client, world, "daftar.csv", reordered.encode())
    assert not Respondent.objects.exists()
    record = FrameImport.objects.get()
    assert record.refused and (record.added, record.merged, record.rejected) == (0, 0, 2)
    assert [(p["row"], p["column"], p["code"]) for p in record.problems] == [
        (6, "C", "phone"),
        (7, "D", "unit"),
    ]
    assert 'class="msg msg-error"' in page and "2 baris bermasalah" in page
    assert "Tidak ada yang disimpan" in page and "msg-success" not in page
    # Corrected and imported again: all of it is saved; a retry adds nothing twice.
    _import(client, world, "daftar.csv", FRAME_CSV.encode())
    _import(client, world, "daftar.csv", FRAME_CSV.encode())
    first, second = FrameImport.objects.order_by("created_at", "pk")[1:]
    assert (first.added, first.merged, first.refused) == (3, 1, False)
    assert (second.added, second.merged) == (0, 4)
    assert Respondent.objects.count() == 3


@pytest.mark.django_db
def test_a_row_with_a_bad_phone_and_a_good_email_is_a_problem_too(world: World) -> None:
    record = services.import_frame(
        world.locus,
        "daftar.csv",
        b"name,unit,group,phone,email\nAni,,internal,12345,ani@contoh.id\n",
        world.coordinator,
    )
    assert record.refused and record.rejected == 1 and len(record.problems) == 1
    assert not Respondent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"a,b\n1,2\n", "name (nama), group (kelompok), phone (telepon)/email (surel)"),
        (b"name,unit,group,phone\n", "tidak berisi baris"),
        (b"\x00\x01binary\x00", "tidak dapat dibaca"),
    ],
)
def test_a_refused_file_is_said_in_red_with_the_reason(
    world: World, client_for, content: bytes, said: str
) -> None:
    page = _import(client_for(world.coordinator), world, "daftar.csv", content)
    assert 'class="msg msg-error"' in page and said in page
    assert "msg-success" not in page and "Baris 0" not in page
    assert FrameImport.objects.get().refused


@pytest.mark.django_db
def test_windows_1252_names_reach_the_frame_intact(world: World, client_for) -> None:
    content = "nama,unit,kelompok,telepon\nJosé Müller,,pegawai,0812 3456 7890\n".encode("cp1252")
    page = _import(client_for(world.coordinator), world, "daftar.csv", content)
    person = Respondent.objects.get()
    assert sealing.unseal_contact(person.public_id, person.contact_sealed)["name"] == "José Müller"
    assert "Windows-1252" in page and 'class="msg msg-success"' in page
    assert FrameImport.objects.get().encoding == "Windows-1252"


def test_an_unclosed_quotation_mark_is_reported_with_its_line_not_as_row_problems() -> None:
    content = (
        b"nama,unit,kelompok,telepon\n"
        b"Ani,,pegawai,0812 3456 7890\n"
        b'"Budi,,pegawai,0812 3456 7891\n'  # the quotation mark swallows the rows after it
        b"Cici,,pegawai,0812 3456 7892\n"
        b"Dodi,,pegawai,0812 3456 7893\n"
    )
    parsed = parse_frame("daftar.csv", content)
    assert parsed.rows == []
    assert [(p["row"], p["code"]) for p in parsed.problems] == [(3, "csv_quote")]
    assert parsed.rows_with_problems == 0
    text = frames.problem_text(parsed.problems[0])
    assert "baris 3 tidak pernah ditutup" in text
    after_quote = parse_frame("d.csv", b'nama,kelompok,telepon\n"Budi" Santoso,pegawai,0812\n')
    assert [(p["row"], p["code"]) for p in after_quote.problems] == [(2, "csv_after_quote")]


def test_the_separator_is_the_header_lines() -> None:
    # A semicolon list typed by hand leaves out empty trailing fields: guessing from the rows
    # found no separator and read the file as one comma-separated column.
    rows = "".join(
        f"Budi {i};;pegawai;0812 3456 {i:04d}\n" if i % 2 else f"Sari {i};;pegawai;;s{i}@x.id\n"
        for i in range(50)
    )
    parsed = parse_frame("daftar.csv", ("nama;unit;kelompok;telepon;surel\n" + rows).encode())
    assert parsed.problems == [] and len(parsed.rows) == 50
    # Names with commas and quotes in a semicolon list: the rows suggested a comma.
    quoted = 'nama;unit;kelompok;telepon\nBudi, "Bob", Santoso;;pegawai;0812 3456 0001\n'
    assert [r.name for r in parse_frame("d.csv", quoted.encode()).rows] == ['Budi, "Bob", Santoso']


@pytest.mark.django_db
def test_a_csv_syntax_error_is_said_with_its_line(world: World, client_for) -> None:
    content = b'nama,kelompok,telepon\nAni,pegawai,0812 3456 7890\n"Budi,pegawai,0812 3456 7891\n'
    page = _import(client_for(world.coordinator), world, "daftar.csv", content)
    assert 'class="msg msg-error"' in page
    assert "tanda kutip yang dibuka di baris 3 tidak pernah ditutup" in page
    assert "Kelompok tidak dikenal" not in page and "Tidak ada nomor telepon" not in page
    assert not Respondent.objects.exists()
