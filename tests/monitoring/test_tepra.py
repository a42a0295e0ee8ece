"""TEPRA imports: reading Indonesian files, all-or-nothing imports and the problems they report."""

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.utils import translation

from cegah.monitoring.models import Realisation, TepraImport
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


GOOD_DECEMBER = (
    "opd,activity_code,activity,pagu,financial_target,financial_actual,physical_target,"
    "physical_actual\n"
    "Dinas PU,1.01,Jalan,5000000000,2500000000,2100000000,50,42\n"
    "Dinas PU,1.02,Jembatan,3000000000,1500000000,1400000000,50,45\n"
    "Dinas Kesehatan,2.01,Obat,1200000000,600000000,640000000,50,55\n"
)


def _december(mcp) -> list[tuple[str, str, D]]:
    return list(
        Realisation.objects.filter(organisation=mcp.city, year=2026, month=12)
        .order_by("opd_name", "activity_code")
        .values_list("opd_name", "activity_name", "pagu")
    )


def test_a_file_with_one_bad_row_changes_nothing_and_lists_every_problem(mcp, client_for) -> None:
    first = _import(mcp, GOOD_DECEMBER)
    assert first.rows_imported == 3
    before = _december(mcp)
    typo = GOOD_DECEMBER.replace("Obat,1200000000", "Obat,12OO000000").replace(
        "Jembatan,3000000000,1500000000,1400000000,50,45", "Jembatan,3000000000,,x,50,145"
    )
    refused = _import(mcp, typo)
    assert (refused.rows_total, refused.rows_imported) == (3, 0)
    assert [(e["row"], e["column"], e["code"]) for e in refused.errors] == [
        (3, "financial_actual", "not_a_number"),
        (3, "physical_actual", "over_100"),
        (4, "pagu", "not_a_number"),
    ]
    assert _december(mcp) == before  # Dinas Kesehatan's figures are still there
    assert Realisation.objects.filter(source=first).count() == 3
    page = _page(client_for(mcp.city_admin), refused)
    assert "Tidak ada yang diimpor" in page and "12OO000000" in page
    assert "Semua baris berhasil diimpor" not in page


def test_a_good_file_replaces_the_month_and_a_retry_changes_nothing(mcp) -> None:
    _import(mcp, GOOD_DECEMBER)
    corrected = GOOD_DECEMBER.replace("Obat,1200000000", "Obat,1300000000")
    for _attempt in range(2):
        record = _import(mcp, corrected)
        assert record.rows_imported == 3 and record.errors == []
        rows = _december(mcp)
        assert len(rows) == 3 and ("Dinas Kesehatan", "Obat", D(1_300_000_000)) in rows


def test_a_failure_while_writing_keeps_the_old_figures(mcp, monkeypatch) -> None:
    _import(mcp, GOOD_DECEMBER)
    before = _december(mcp)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Realisation.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        _import(mcp, GOOD_DECEMBER.replace("Obat,1200000000", "Obat,1300000000"))
    assert _december(mcp) == before
    assert TepraImport.objects.count() == 1


def test_a_number_too_large_for_its_column_is_refused_by_name(mcp, client_for) -> None:
    record = _import(
        mcp,
        "opd,activity,pagu,financial_actual,physical_actual\n"
        "Dinas PU,Jalan,100000000000000000000,5,5\n"
        "Dinas PU,Jembatan,1000,9.999.999.999.999.999.999,5\n",
        month=3,
    )
    assert (record.rows_imported, [(e["row"], e["column"], e["code"]) for e in record.errors]) == (
        0,
        [(2, "pagu", "too_large"), (3, "financial_actual", "too_large")],
    )
    assert not Realisation.objects.exists()
    page = _page(client_for(mcp.city_admin), record)
    assert "100000000000000000000" in page and "16 digit" in page
    response = client_for(mcp.city_admin).get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026")
    assert response.status_code == 200


def test_amounts_keep_two_decimals(mcp) -> None:
    _import(
        mcp, 'opd,activity,pagu,financial_actual,physical_actual\nA,B,"1.234,565",0,"12,3456"\n'
    )
    row = Realisation.objects.get()
    assert (row.pagu, row.physical_actual) == (D("1234.57"), D("12.35"))


def test_figures_stored_out_of_range_are_removed_and_noted_so_pages_open(mcp, client_for) -> None:
    """Before imports checked the bounds, SQLite stored what PostgreSQL refuses; reading such a
    row raised decimal.InvalidOperation and the year's TEPRA page answered 500."""
    import importlib

    from django.apps import apps
    from django.db import DataError, connection, transaction

    record = _import(mcp, GOOD_DECEMBER)
    bad = Realisation(
        organisation=mcp.city,
        year=2026,
        month=12,
        opd_name="Dinas Pendidikan",
        activity_name="Sekolah",
        pagu=D("1E+20"),
        financial_target=D(0),
        financial_actual=D(5),
        physical_target=D(0),
        physical_actual=D(5),
        source=record,
    )
    if connection.vendor != "sqlite":  # PostgreSQL never stored such a number
        with pytest.raises(DataError), transaction.atomic():
            bad.save()
        return
    bad.save()
    client = client_for(mcp.city_admin)
    migration = importlib.import_module("cegah.monitoring.migrations.0002_realisation_out_of_range")
    migration.remove_out_of_range(apps, connection.schema_editor())
    assert client.get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026").status_code == 200
    assert len(_december(mcp)) == 3
    record.refresh_from_db()
    [note] = record.errors
    assert (note["column"], note["code"]) == ("pagu", "removed_out_of_range")
    page = _page(client, record)
    assert "Dinas Pendidikan" in page and "Sekolah" in page


def test_activity_and_sub_activity_are_two_columns_and_both_rows_are_kept(mcp) -> None:
    record = _import(
        mcp,
        "SKPD;Kode;Kegiatan;Sub Kegiatan;Pagu (Rp);Realisasi Keuangan (Rp);Realisasi Fisik (%)\n"
        "Dinas Kesehatan;1.02.02.2.02;Penyediaan Layanan Kesehatan;Obat puskesmas;"
        "1.200.000.000;640.000.000;55\n"
        "Dinas Kesehatan;1.02.02.2.02;Penyediaan Layanan Kesehatan;Alat kesehatan;"
        "800.000.000;200.000.000;20\n",
    )
    assert (record.rows_imported, record.errors) == (2, [])
    assert set(Realisation.objects.values_list("activity_name", "sub_activity_name", "pagu")) == {
        ("Penyediaan Layanan Kesehatan", "Obat puskesmas", D(1_200_000_000)),
        ("Penyediaan Layanan Kesehatan", "Alat kesehatan", D(800_000_000)),
    }


def test_two_columns_for_one_field_are_refused_naming_both(mcp, client_for) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = "SKPD,Perangkat Daerah,Kegiatan,Pagu,Realisasi Keuangan,Realisasi Fisik\nA,A,X,1,1,1\n"
    response = client_for(mcp.city_admin).post(
        f"/monitoring/{mcp.city.slug}/tepra/import/",
        {"year": 2026, "month": 11, "file": SimpleUploadedFile("nov.csv", data.encode())},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "“SKPD” (A)" in page and "“Perangkat Daerah” (B)" in page
    assert not TepraImport.objects.exists() and not Realisation.objects.exists()


def test_a_month_column_that_disagrees_with_the_chosen_month_refuses_the_file(
    mcp, client_for
) -> None:
    rows = (
        "bulan,opd,activity,pagu,financial_actual,physical_actual\n"
        "1,Dinas PU,Jalan,1000,100,10\n"
        "2,Dinas PU,Jalan,1000,200,20\n"
        "3,Dinas PU,Jalan,1000,300,30\n"
    )
    record = _import(mcp, rows)
    assert record.rows_imported == 0 and not Realisation.objects.exists()
    assert [(e["row"], e["column"], e["code"]) for e in record.errors] == [
        (2, "bulan", "month_mismatch"),
        (3, "bulan", "month_mismatch"),
        (4, "bulan", "month_mismatch"),
    ]
    page = _page(client_for(mcp.city_admin), record)
    assert "bulan Januari, padahal impor ini untuk bulan Desember" in page
    # The same file split by month imports each month, with the column checked.
    header, *lines = rows.splitlines()
    january = _import(mcp, f"{header}\n{lines[0]}\n", month=1)
    assert (january.rows_imported, january.errors, january.warnings) == (1, [], [])


@pytest.mark.parametrize(
    ("header", "cell"),
    [("Periode", "Desember 2026"), ("periode", "2026-12"), ("Tahun", "2026"), ("Bulan", "Des")],
)
def test_period_columns_that_agree_are_accepted(mcp, header, cell) -> None:
    record = _import(
        mcp, f"{header};opd;activity;pagu;financial_actual;physical_actual\n{cell};A;B;10;1;1\n"
    )
    assert (record.rows_imported, record.errors) == (1, [])


def test_a_year_column_that_disagrees_is_refused(mcp) -> None:
    record = _import(
        mcp, "tahun,opd,activity,pagu,financial_actual,physical_actual\n2025,A,B,10,1,1\n"
    )
    assert [(e["column"], e["code"], e["params"]) for e in record.errors] == [
        ("tahun", "year_mismatch", {"found": 2025, "chosen": 2026})
    ]


def test_other_unknown_columns_are_reported_on_the_import(mcp, client_for) -> None:
    record = _import(
        mcp,
        "opd,activity,pagu,financial_actual,physical_actual,Keterangan,,\n"
        "Dinas PU,Jalan,1000,100,10,tepat waktu,x,\n",
    )
    assert record.rows_imported == 1
    assert [(w["column"], w["letter"], w["code"]) for w in record.warnings] == [
        ("Keterangan", "F", "unknown_column"),
        ("", "G", "unnamed_column"),
    ]
    page = _page(client_for(mcp.city_admin), record)
    assert "Keterangan" in page and "tidak dibaca" in page


def _post(mcp, client_for, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client_for(mcp.city_admin).post(
        f"/monitoring/{mcp.city.slug}/tepra/import/",
        {"year": 2026, "month": 11, "file": SimpleUploadedFile(name, data)},
    )


def _workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_HEADER = ["SKPD", "Kegiatan", "Pagu", "Realisasi Keuangan", "Realisasi Fisik"]


def test_a_header_without_rows_is_refused_not_reported_as_all_imported(mcp, client_for) -> None:
    response = _post(mcp, client_for, "kosong.csv", INDONESIAN_HEADER.encode())
    page = response.content.decode()
    assert response.status_code == 200 and "tidak memiliki baris angka" in page
    assert "Semua baris berhasil diimpor" not in page and not TepraImport.objects.exists()


def test_an_unclosed_quote_is_reported_as_a_csv_error_with_its_line(mcp, client_for) -> None:
    data = INDONESIAN_HEADER + 'Dinas PU;"Jalan;1.000;100;10\nDinas Kesehatan;Obat;2.000;800;40\n'
    response = _post(mcp, client_for, "nov.csv", data.encode())
    page = response.content.decode()
    assert "bukan berkas CSV yang sah" in page and "baris 2" in page
    assert "belum diisi" not in page and not TepraImport.objects.exists()


def test_a_formula_without_a_saved_result_is_named_as_a_formula(mcp, client_for) -> None:
    data = _workbook(("Nov", [XLSX_HEADER, ["Dinas PU", "Jalan", 1000, "=C2*0.4", 10]]))
    response = _post(mcp, client_for, "nov.xlsx", data)
    record = TepraImport.objects.get()
    assert [(e["row"], e["column"], e["code"]) for e in record.errors] == [
        (2, "Realisasi Keuangan", "formula_without_value")
    ]
    page = client_for(mcp.city_admin).get(response["Location"]).content.decode()
    assert "rumus" in page and "=C2*0.4" in page


def test_a_workbook_with_its_figures_on_another_sheet_reads_that_sheet_and_says_so(
    mcp, client_for
) -> None:
    data = _workbook(
        ("Petunjuk", [["Isi lembar Realisasi."]]),
        ("Realisasi", [XLSX_HEADER, ["Dinas PU", "Jalan", 1000, 400, 10]]),
    )
    response = _post(mcp, client_for, "nov.xlsx", data)
    record = TepraImport.objects.get()
    assert record.rows_imported == 1
    assert [(w["code"], w["params"]) for w in record.warnings] == [
        ("sheet_read", {"sheet": "Realisasi"})
    ]
    assert "Realisasi" in client_for(mcp.city_admin).get(response["Location"]).content.decode()


def test_a_percentage_formatted_cell_is_read_as_the_percent_it_shows(mcp, client_for) -> None:
    """Excel keeps 42,5% as 0.425 in a cell formatted as a percentage: read it as 42,5."""
    import io

    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.append(XLSX_HEADER)
    ws.append(["Dinas PU", "Jalan", 1000, 400, 0.425])
    ws["E2"].number_format = "0.0%"
    out = io.BytesIO()
    wb.save(out)
    assert load_workbook(io.BytesIO(out.getvalue()))["Sheet"]["E2"].value == 0.425
    _post(mcp, client_for, "nov.xlsx", out.getvalue())
    assert Realisation.objects.get().physical_actual == D("42.5")


def test_a_workbook_without_the_columns_names_the_sheets_it_read(mcp, client_for) -> None:
    data = _workbook(("Petunjuk", [["Isi lembar Realisasi."]]), ("Catatan", [["opd", "pagu"]]))
    page = _post(mcp, client_for, "nov.xlsx", data).content.decode()
    assert "Lembar “Petunjuk”" in page and "Lembar “Catatan”" in page
    assert not TepraImport.objects.exists()


def test_the_separator_is_taken_from_the_header_line(mcp) -> None:
    # More commas than semicolons in the rows: decimal commas and names with commas.
    record = _import(
        mcp,
        "opd;activity;pagu;financial_actual;physical_actual\n"
        "Dinas PU;Jalan, jembatan, gorong-gorong, trotoar, dan drainase, tahap 1, 2, 3;"
        "1000,50;100,25;10,5\n",
    )
    assert (record.rows_imported, record.errors) == (1, [])
    assert Realisation.objects.get().pagu == D("1000.50")


def _month_file(actual: int) -> str:
    return f"opd,activity,pagu,financial_actual,physical_actual\nDinas PU,Jalan,1000,{actual},50\n"


def test_the_overview_shows_the_month_asked_for_and_offers_the_months_with_data(
    mcp, client_for
) -> None:
    _import(mcp, _month_file(777), month=11, name="nov.csv")
    _import(mcp, _month_file(888), month=12, name="des.csv")
    client = client_for(mcp.city_admin)
    url = f"/monitoring/{mcp.city.slug}/tepra/"
    latest = client.get(url, {"year": 2026}).content.decode()
    assert "akhir Desember 2026" in latest and "88,8" in latest
    november = client.get(url, {"year": 2026, "month": 11}).content.decode()
    assert "akhir November 2026" in november and "77,7" in november
    assert '<option value="11" selected>November</option>' in november
    assert '<option value="12">Desember</option>' in november
    # A month without figures falls back to the latest one.
    assert "akhir Desember 2026" in client.get(url, {"year": 2026, "month": 4}).content.decode()


def test_the_imports_listed_are_those_of_the_year_shown(mcp, client_for) -> None:
    import_realisation(
        organisation=mcp.city,
        year=2025,
        month=12,
        file_name="tahun-lalu.csv",
        data=_month_file(100).encode(),
        actor=None,
    )
    _import(mcp, _month_file(200), month=3, name="maret.csv")
    client = client_for(mcp.city_admin)
    page = client.get(f"/monitoring/{mcp.city.slug}/tepra/", {"year": 2026}).content.decode()
    assert "maret.csv" in page and "tahun-lalu.csv" not in page
    page = client.get(f"/monitoring/{mcp.city.slug}/tepra/", {"year": 2025}).content.decode()
    assert "tahun-lalu.csv" in page and "maret.csv" not in page


@pytest.mark.parametrize(
    ("today", "year", "month"), [((2026, 12, 7), 2026, 11), ((2027, 1, 5), 2026, 12)]
)
def test_the_import_form_offers_the_previous_month(
    mcp, client_for, monkeypatch, today, year, month
) -> None:
    import datetime as dt

    from cegah.monitoring import views

    monkeypatch.setattr(views.timezone, "localdate", lambda: dt.date(*today))
    page = client_for(mcp.city_admin).get(f"/monitoring/{mcp.city.slug}/tepra/import/")
    body = page.content.decode()
    assert f'value="{year}"' in body and f'<option value="{month}" selected>' in body
