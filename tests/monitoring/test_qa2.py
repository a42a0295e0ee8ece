"""Second QA pass over monitoring: query parameters, boundaries, month names, exports."""

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
