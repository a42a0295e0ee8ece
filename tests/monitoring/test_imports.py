"""TEPRA realisation imports and framework workbooks."""

import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from cegah.monitoring.framework_io import (
    FrameworkImportError,
    read_workbook,
    save_framework,
    write_workbook,
)
from cegah.monitoring.models import Framework, Realisation, TepraImport
from cegah.monitoring.tepra import import_realisation, opd_progress, parse_number, target_at

HEADER = "opd,activity_code,activity,pagu,financial_target,financial_actual,physical_target,physical_actual\n"
GOOD = (
    "Dinas PU,1.01,Jalan,1000,400,100,40,10\n"
    "Dinas PU,1.02,Jembatan,1000,400,380,40,38\n"
    "Dinas Kesehatan,2.01,Obat,2000,800,820,40,41\n"
)
BAD = "Dinas Pendidikan,3.01,Sekolah,1000,400,sejuta,40,10\n"


def test_import_with_one_bad_row_reports_it_and_imports_nothing(mcp, client_for) -> None:
    client = client_for(mcp.city_admin)
    data = (HEADER + GOOD + BAD).encode()
    response = client.post(
        f"/monitoring/{mcp.city.slug}/tepra/import/",
        {"year": 2026, "month": 4, "file": SimpleUploadedFile("april.csv", data)},
    )
    assert response.status_code == 302
    record = TepraImport.objects.get()
    assert (record.rows_total, record.rows_imported) == (4, 0)
    assert [(e["row"], e["column"], e["code"]) for e in record.errors] == [
        (5, "financial_actual", "not_a_number")
    ]
    assert not Realisation.objects.filter(organisation=mcp.city, year=2026, month=4).exists()
    page = client.get(response["Location"])
    assert b"financial_actual" in page.content and b"sejuta" in page.content


def test_a_broken_csv_is_refused_with_a_message_not_an_error_page(mcp, client_for) -> None:
    client = client_for(mcp.city_admin)
    data = (HEADER + 'Dinas PU,"' + "x" * 200_000 + "\n").encode()  # a quote never closed
    response = client.post(
        f"/monitoring/{mcp.city.slug}/tepra/import/",
        {"year": 2026, "month": 4, "file": SimpleUploadedFile("april.csv", data)},
    )
    assert response.status_code == 200
    assert "Ini bukan berkas CSV yang sah" in response.content.decode()
    assert not Realisation.objects.exists()


def test_reimporting_a_month_replaces_it(mcp) -> None:
    for _ in range(2):
        import_realisation(
            organisation=mcp.city,
            year=2026,
            month=4,
            file_name="a.csv",
            data=(HEADER + GOOD).encode(),
            actor=mcp.city_admin,
        )
    assert Realisation.objects.filter(organisation=mcp.city, month=4).count() == 3
    import_realisation(
        organisation=mcp.city,
        year=2026,
        month=4,
        file_name="b.csv",
        data=(HEADER + GOOD.splitlines()[0] + "\n").encode(),
        actor=None,
    )
    assert Realisation.objects.filter(organisation=mcp.city, month=4).count() == 1
    # A file of only bad rows leaves the month alone.
    import_realisation(
        organisation=mcp.city,
        year=2026,
        month=4,
        file_name="c.csv",
        data=(HEADER + BAD).encode(),
        actor=None,
    )
    assert Realisation.objects.filter(organisation=mcp.city, month=4).count() == 1


def test_row_errors_name_the_column() -> None:
    from cegah.monitoring.tepra import clean_rows

    rows = [
        (
            2,
            {
                "opd": "",
                "activity": "X",
                "pagu": "10",
                "financial_actual": "1",
                "physical_actual": "5",
            },
        ),
        (
            3,
            {
                "opd": "A",
                "activity": "X",
                "pagu": "10",
                "financial_actual": "11",
                "physical_actual": "5",
            },
        ),
        (
            4,
            {
                "opd": "A",
                "activity": "Y",
                "pagu": "10",
                "financial_actual": "1",
                "physical_actual": "120",
            },
        ),
        (
            5,
            {
                "opd": "A",
                "activity": "Z",
                "pagu": "-1",
                "financial_actual": "0",
                "physical_actual": "5",
            },
        ),
        (
            6,
            {
                "opd": "A",
                "activity": "W",
                "pagu": "10",
                "financial_actual": "1",
                "physical_actual": "5",
            },
        ),
        (
            7,
            {
                "opd": "a",
                "activity": "w",
                "pagu": "10",
                "financial_actual": "1",
                "physical_actual": "5",
            },
        ),
    ]
    good, errors = clean_rows(rows)
    assert len(good) == 1
    assert [(e.row, e.column) for e in errors] == [
        (2, "opd"),
        (3, "financial_actual"),
        (4, "physical_actual"),
        (5, "pagu"),
        (7, "activity"),
    ]


def test_xlsx_with_indonesian_headers_imports(mcp) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "SKPD",
            "Kode Kegiatan",
            "Sub Kegiatan",
            "Pagu",
            "Target Keuangan",
            "Realisasi Keuangan",
            "Target Fisik",
            "Realisasi Fisik",
        ]
    )
    ws.append(
        [
            "Dinas PU",
            "1.01",
            "Jalan",
            5_000_000_000,
            2_500_000_000,
            "Rp 1.250.000.000,00",
            50,
            "42,5",
        ]
    )
    out = io.BytesIO()
    wb.save(out)
    record = import_realisation(
        organisation=mcp.city,
        year=2026,
        month=6,
        file_name="juni.xlsx",
        data=out.getvalue(),
        actor=None,
    )
    assert record.rows_imported == 1 and record.errors == []
    row = Realisation.objects.get(month=6)
    assert row.financial_actual == D(1_250_000_000) and row.physical_actual == D("42.5")


def test_unreadable_files_change_nothing(mcp) -> None:
    with pytest.raises(ValidationError):
        import_realisation(
            organisation=mcp.city,
            year=2026,
            month=1,
            file_name="x.csv",
            data=b"opd,pagu\nA,1\n",
            actor=None,
        )
    with pytest.raises(ValidationError):
        import_realisation(
            organisation=mcp.city, year=2026, month=1, file_name="x.pdf", data=b"%PDF", actor=None
        )
    assert not TepraImport.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567", D(1234567)),
        ("1.234.567,89", D("1234567.89")),
        ("Rp 1,234,567.89", D("1234567.89")),
        ("12,5", D("12.5")),
        ("12.5", D("12.5")),
        (7, D(7)),
        ("", None),
        ("sejuta", None),
    ],
)
def test_parse_number(text, expected) -> None:
    assert parse_number(text) == expected


def test_deviation_and_traffic_lights(mcp) -> None:
    # April: the default Q1 20 % → Q2 50 % target interpolates to 30 %.
    targets = {1: (D(20), D(20)), 2: (D(50), D(50)), 3: (D(85), D(85)), 4: (D(100), D(100))}
    assert target_at(targets, 4) == (D(30), D(30))
    assert target_at(targets, 3) == (D(20), D(20))
    import_realisation(
        organisation=mcp.city,
        year=2026,
        month=4,
        file_name="a.csv",
        data=(HEADER + GOOD).encode(),
        actor=None,
    )
    rows = {p.name: p for p in opd_progress(mcp.city, 2026, 4)}
    pu, dinkes = rows["Dinas PU"], rows["Dinas Kesehatan"]
    assert pu.financial_pct == D("24") and pu.financial_deviation == D(-6)  # 480 of 2000
    assert pu.physical_pct == D(24) and pu.light == "yellow"
    assert dinkes.financial_pct == D(41) and dinkes.light == "green"


def test_framework_workbook_round_trip(mcp) -> None:
    data = write_workbook(mcp.framework)
    spec = read_workbook(data)
    assert [a.name for a in spec.areas] == ["Pengadaan", "APIP"]
    assert spec.areas[1].indicators[0].subs[1].weight == D(70)
    spec.version = 2
    framework = save_framework(spec, actor=None)
    assert framework.periods.count() == 4
    assert Framework.objects.filter(year=mcp.framework.year).count() == 2


def test_framework_import_reports_sheet_row_and_column(mcp) -> None:
    wb = load_workbook(io.BytesIO(write_workbook(mcp.framework)))
    wb["areas"]["C2"] = "banyak"
    wb["indicators"]["A3"] = "9"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FrameworkImportError) as exc:
        read_workbook(out.getvalue())
    found = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert ("areas", 2, "weight") in found
    assert ("indicators", 3, "area_code") in found
    assert "areas" in str(exc.value.errors[0])


def test_framework_in_use_is_not_replaced(mcp) -> None:
    from cegah.monitoring import services

    services.save_answer(
        organisation=mcp.city,
        period=mcp.period,
        sub=mcp.sub("1", "1", "1"),
        actor=mcp.city_admin,
        value=D(1),
    )
    with pytest.raises(ValidationError):
        save_framework(read_workbook(write_workbook(mcp.framework)), actor=None)


def test_framework_import_page_is_for_kpk_verifiers(mcp, client_for) -> None:
    data = write_workbook(mcp.framework)
    wb = load_workbook(io.BytesIO(data))
    wb["framework"]["B3"] = 3  # version
    out = io.BytesIO()
    wb.save(out)
    upload = lambda: SimpleUploadedFile("f.xlsx", out.getvalue())  # noqa: E731
    assert (
        client_for(mcp.city_admin).post("/monitoring/frameworks/", {"file": upload()}).status_code
        == 404
    )
    response = client_for(mcp.verifier).post("/monitoring/frameworks/", {"file": upload()})
    assert response.status_code == 302
    assert Framework.objects.filter(year=mcp.framework.year, version=3).exists()
