"""Second QA pass over monitoring: query parameters, boundaries, month names, exports."""

import pytest

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
