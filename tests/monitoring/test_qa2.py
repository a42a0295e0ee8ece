"""Second QA pass over monitoring: query parameters, boundaries, month names, exports."""

from decimal import Decimal as D

import pytest
from django.conf import settings

from cegah.monitoring.tepra import import_realisation


@pytest.mark.parametrize("query", ["?year=²", "?month=²", "?year=2026&month=¹²", "?year=٢٠٢٦"])
def test_unicode_digits_in_the_tepra_query_are_ignored_not_a_server_error(
    mcp, client_for, query
) -> None:
    response = client_for(mcp.city_admin).get(f"/monitoring/{mcp.city.slug}/tepra/{query}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/monitoring/frameworks/?id=²",
        "/monitoring/frameworks/export/?id=³",
        "/monitoring/coverage/?period=²",
        "/monitoring/coverage/ranking.xlsx?period=²",
        "/monitoring/coverage/tepra/?year=²",
        "/monitoring/pemkot-bandar-lampung/export.xlsx?year=²",
    ],
)
def test_unicode_digits_in_supervisor_queries_are_ignored(mcp, client_for, path) -> None:
    response = client_for(mcp.verifier).get(path)
    assert response.status_code in {200, 404}


def test_a_superscript_month_in_the_file_is_reported_not_a_server_error(mcp) -> None:
    record = import_realisation(
        organisation=mcp.city,
        year=2026,
        month=3,
        file_name="maret.csv",
        data="opd;kegiatan;bulan;pagu;realisasi_keuangan;realisasi_fisik\nA;X;²;100;10;10\n".encode(),
        actor=mcp.city_admin,
    )
    assert record.refused
    assert [e["code"] for e in record.errors] == ["unreadable_month"]


def _march(mcp, financial_actual: str, physical: str = "20") -> None:
    """One OPD in March (target 20 % for both, the default for the first quarter)."""
    record = import_realisation(
        organisation=mcp.city,
        year=2026,
        month=3,
        file_name="maret.csv",
        data=(
            "opd;kegiatan;pagu;realisasi_keuangan;realisasi_fisik\n"
            f"Dinas A;Jalan;10000;{financial_actual};{physical}\n"
        ).encode(),
        actor=mcp.city_admin,
    )
    assert not record.refused, record.errors


@pytest.mark.parametrize(
    ("actual", "shown_pct", "shown_deviation", "light"),
    [
        ("1499,6", "15,0", "-5,0", "green"),  # -5.004 unrounded was yellow under "-5,0"
        ("1494", "14,9", "-5,1", "yellow"),
        ("499,6", "5,0", "-15,0", "yellow"),  # -15.004 unrounded was red under "-15,0"
        ("494", "4,9", "-15,1", "red"),
    ],
)
def test_the_tepra_light_agrees_with_the_deviation_shown(
    mcp, client_for, actual, shown_pct, shown_deviation, light
) -> None:
    from cegah.monitoring.tepra import opd_progress

    _march(mcp, actual)
    (progress,) = opd_progress(mcp.city, 2026, 3)
    assert progress.light == light
    client = client_for(mcp.city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    page = client.get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026").content.decode()
    row = page.split("<td>Dinas A</td>", 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{shown_pct}</td><td class="num">{shown_deviation}</td>' in row
    assert f"light-{light}" in row


def test_the_api_gives_the_deviation_the_light_reads(mcp, client) -> None:
    from cegah.accounts.services import create_api_token

    _march(mcp, "1499,6")
    _t, token = create_api_token(organisation=mcp.kpk, name="kpk", actor=None)
    body = client.get(
        f"/api/v1/monitoring/organisations/{mcp.city.slug}/tepra?year=2026",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    (opd,) = body["opds"]
    assert opd["financial_deviation"] == "-5.0" and opd["light"] == "green"


def test_tepra_months_are_named_in_the_readers_language(mcp, client_for) -> None:
    _march(mcp, "1000")
    client = client_for(mcp.city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    page = client.get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026").content.decode()
    assert "Per OPD pada akhir Maret 2026" in page
    assert "Maret 2026 · maret.csv" in page  # the imports listed
    assert "1 dari 1 baris diimpor" in page
    assert ">Agu</text>" in page  # the S-curve's axis
    record_url = page.split('href="/monitoring/tepra/imports/', 1)[1].split('"', 1)[0]
    detail = client.get(f"/monitoring/tepra/imports/{record_url}").content.decode()
    assert "Impor Maret 2026" in detail
    form = client.get(f"/monitoring/{mcp.city.slug}/tepra/import/").content.decode()
    assert '<option value="3">Maret</option>' in form
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026").content.decode()
    assert "Per OPD at the end of March 2026" in page and "1 of 1 row imported" in page
    supervisor = client_for(mcp.kpk_viewer)
    supervisor.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    regional = supervisor.get("/monitoring/coverage/tepra/?year=2026").content.decode()
    assert "<td>Maret</td>" in regional


def test_the_tepra_sheet_holds_percent_cells_and_names_its_month(mcp, client_for) -> None:
    import io

    from openpyxl import load_workbook

    _march(mcp, "1499,6", physical="42,5")
    client = client_for(mcp.city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    book = load_workbook(
        io.BytesIO(client.get(f"/monitoring/{mcp.city.slug}/export.xlsx?year=2026").content)
    )
    sheet = book["TEPRA"]
    name, pagu, financial, physical, fin_dev, phys_dev, light = (c for c in sheet[2])
    assert (name.value, pagu.value, pagu.number_format) == ("Dinas A", 10000, "#,##0")
    assert (financial.value, financial.number_format) == (0.15, "0.0%")
    assert (physical.value, physical.number_format) == (0.425, "0.0%")
    assert (fin_dev.value, fin_dev.number_format) == (-5.0, "0.0")
    assert (phys_dev.value, phys_dev.number_format) == (22.5, "0.0")
    assert light.value == "sesuai target"
    assert [c.value for c in sheet[4]][:2] == ["Bulan", "Maret 2026"]


def _scored(mcp, values: dict[tuple[str, str, str], str]) -> None:
    """The city's assessment with these values, submitted and accepted as they are."""
    from decimal import Decimal

    from cegah.monitoring import services
    from cegah.monitoring.models import Assessment

    for (area, indicator, code), value in values.items():
        services.save_answer(
            organisation=mcp.city,
            period=mcp.period,
            sub=mcp.sub(area, indicator, code),
            actor=mcp.city_admin,
            value=Decimal(value),
            pending_document=True,
        )
    assessment = Assessment.objects.get(organisation=mcp.city, period=mcp.period)
    services.submit_assessment(assessment=assessment, actor=mcp.city_admin)
    for answer in assessment.answers.all():
        services.verify_answer(answer=answer, actor=mcp.verifier, verdict="accepted")


def test_a_score_shown_as_75_00_is_in_the_zone_from_75(mcp, client_for) -> None:
    from cegah.monitoring.scores import period_standings

    # Area 1 full (60 points), area 2: 0.12 × 8.30 + 0.28 × 50 = 14.996 → 74.996 in all.
    _scored(
        mcp,
        {
            ("1", "1", "1"): "100",
            ("1", "1", "2"): "100",
            ("1", "2", "1"): "100",
            ("2", "1", "1"): "8.30",
            ("2", "1", "2"): "50",
        },
    )
    (standing,) = period_standings(mcp.period)
    assert standing.card.total == D("74.996")
    assert standing.card.zone == "green"  # was blue under "75,00"
    client = client_for(mcp.kpk_viewer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    page = client.get(f"/monitoring/coverage/?period={mcp.period.pk}").content.decode()
    row = page.split(">Pemkot Bandar Lampung</a>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">75,00</td>' in row and "zone zone-green" in row


def test_scores_round_half_up_everywhere(mcp, client, client_for) -> None:
    import io

    from openpyxl import load_workbook

    from cegah.accounts.services import create_api_token

    # Only 1.2.1 (0.3 points per percent): 40.15 → 12.045, shown 12,05 on the pages.
    _scored(mcp, {("1", "2", "1"): "40.15"})
    _t, token = create_api_token(organisation=mcp.kpk, name="kpk", actor=None)
    (score,) = client.get(
        f"/api/v1/monitoring/scores?period_id={mcp.period.pk}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert score["score"] == "12.05"  # half even gave 12.04
    viewer = client_for(mcp.kpk_viewer)
    page = viewer.get(f"/monitoring/coverage/?period={mcp.period.pk}").content.decode()
    assert "12,05" in page
    sheet = load_workbook(
        io.BytesIO(viewer.get(f"/monitoring/coverage/ranking.xlsx?period={mcp.period.pk}").content)
    ).worksheets[0]
    total = sheet.cell(2, 6)
    assert (total.value, total.number_format) == (12.05, "0.00")  # round() on a float gave 12.04


def test_the_gap_is_the_difference_of_the_scores_shown() -> None:
    from decimal import Decimal as D

    from cegah.monitoring.scoring import ScoreCard

    card = ScoreCard(total=D("75.004"), zone="green", self_total=D("80.005"), areas=[])
    # "80,01" − "75,00": the unrounded 5.001 read "5,00".
    assert card.gap == D("5.01")


def test_the_same_evidence_file_twice_is_refused_and_changes_nothing(mcp, client_for) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cegah.core.models import AuditEntry
    from cegah.monitoring.models import Evidence

    sub = mcp.sub("1", "1", "1")
    url = f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/evidence/"
    client = client_for(mcp.city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    pdf = b"%PDF-1.4 surat keputusan\n"

    def post(name: str, content: bytes):
        return client.post(
            url, {"kind": "file", "file-file": SimpleUploadedFile(name, content)}, follow=True
        )

    post("sk.pdf", pdf)
    audits = AuditEntry.objects.filter(action="monitoring.evidence.added").count()
    again = post("sk (1).pdf", pdf).content.decode()  # a second click, or the file renamed
    assert "sudah dilampirkan" in again and "sk.pdf" in again
    assert Evidence.objects.filter(answer__sub_indicator=sub).count() == 1
    assert AuditEntry.objects.filter(action="monitoring.evidence.added").count() == audits
    post("sk.pdf", pdf + b"halaman 2\n")  # another file of the same name is kept
    assert Evidence.objects.filter(answer__sub_indicator=sub).count() == 2


def test_the_same_evidence_link_twice_is_refused(mcp) -> None:
    from django.core.exceptions import ValidationError

    from cegah.monitoring import services

    def add():
        return services.add_evidence_link(
            organisation=mcp.city,
            period=mcp.period,
            sub=mcp.sub("1", "1", "1"),
            url="https://jdih.example/sk",
            actor=mcp.city_admin,
        )

    add()
    with pytest.raises(ValidationError):
        add()


def test_setting_the_status_a_recommendation_has_changes_nothing(mcp, client_for) -> None:
    from cegah.core.models import AuditEntry

    rec = mcp.recommend(title="Tetapkan SOP")
    client = client_for(mcp.verifier)
    url = f"/monitoring/recommendations/{rec.pk}/status/"
    assert client.post(url, {"status": "done"}).status_code == 302
    rec.refresh_from_db()
    completed = rec.completed_at
    entries = AuditEntry.objects.filter(action="monitoring.recommendation.status_changed").count()
    assert client.post(url, {"status": "done"}).status_code == 302  # a second click
    rec.refresh_from_db()
    assert rec.completed_at == completed
    assert (
        AuditEntry.objects.filter(action="monitoring.recommendation.status_changed").count()
        == entries
    )


def test_a_csv_saved_by_excel_on_windows_keeps_its_dashes(mcp) -> None:
    from cegah.monitoring.models import Realisation

    data = (
        "opd;kegiatan;pagu;realisasi_keuangan;realisasi_fisik\n"
        "Dinas PU – Bina Marga;“Jalan” desa;1000;100;10\n"
    ).encode("cp1252")
    record = import_realisation(
        organisation=mcp.city, year=2026, month=3, file_name="maret.csv", data=data, actor=None
    )
    assert not record.refused
    row = Realisation.objects.get(source=record)
    assert (row.opd_name, row.activity_name) == ("Dinas PU – Bina Marga", "“Jalan” desa")
