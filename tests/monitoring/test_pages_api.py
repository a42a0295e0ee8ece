"""The supervisor's ranking and map, the institution pages, exports and the JSON API."""

from decimal import Decimal as D

from cegah.accounts.services import create_api_token
from cegah.monitoring import services
from cegah.monitoring.models import Assessment
from cegah.monitoring.tepra import import_realisation

CSV = (
    b"opd,activity,pagu,financial_actual,physical_actual\n"
    b"Dinas PU,Jalan,1000,50,5\n"
    b"Dinas Kesehatan,Obat,1000,300,30\n"
)


def _verified(mcp, org, admin, value) -> None:
    for area, ind, code in (
        ("1", "1", "1"),
        ("1", "1", "2"),
        ("1", "2", "1"),
        ("2", "1", "1"),
        ("2", "1", "2"),
    ):
        sub = mcp.sub(area, ind, code)
        services.save_answer(
            organisation=org,
            period=mcp.period,
            sub=sub,
            actor=admin,
            value=D(value),
            pending_document=True,
        )
    assessment = Assessment.objects.get(organisation=org, period=mcp.period)
    services.submit_assessment(assessment=assessment, actor=admin)
    for answer in assessment.answers.all():
        services.verify_answer(answer=answer, actor=mcp.verifier, verdict="accepted")


def test_kpk_sees_the_province_ranking_and_the_map(mcp, client_for) -> None:
    _verified(mcp, mcp.city, mcp.city_admin, 80)
    _verified(mcp, mcp.regency, mcp.regency_admin, 30)
    response = client_for(mcp.kpk_viewer).get(f"/monitoring/coverage/?period={mcp.period.pk}")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Pemkot Bandar Lampung") < body.index("Pemkab Lampung Selatan")
    assert 'class="zone-green"' in body and 'class="zone-yellow"' in body  # map shapes
    assert "<svg" in body and body.count("<script") == 1  # only the vendored htmx
    assert "Pemprov Lampung" in body  # covered but not submitted
    # A name typed by a user stays text in the file, never a formula.
    mcp.city.name = "=1+1 Pemkot"
    mcp.city.save(update_fields=["name"])
    xlsx = client_for(mcp.kpk_viewer).get(
        f"/monitoring/coverage/ranking.xlsx?period={mcp.period.pk}"
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    [cell] = [c for row in sheet.iter_rows() for c in row if c.value == "=1+1 Pemkot"]
    assert cell.data_type == "s"


def test_regional_government_pages_and_exports(mcp, client_for) -> None:
    _verified(mcp, mcp.city, mcp.city_admin, 60)
    import_realisation(
        organisation=mcp.city, year=2026, month=5, file_name="m.csv", data=CSV, actor=None
    )
    client = client_for(mcp.city_admin)
    for url in (
        "/monitoring/",
        f"/monitoring/{mcp.city.slug}/",
        f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/",
        f"/monitoring/{mcp.city.slug}/tepra/?year=2026",
        f"/monitoring/{mcp.city.slug}/tepra/projects/",
        f"/monitoring/{mcp.city.slug}/recommendations/",
        "/monitoring/frameworks/",
    ):
        assert client.get(url).status_code == 200, url
    tepra = client.get(f"/monitoring/{mcp.city.slug}/tepra/?year=2026").content.decode()
    assert "s-fin" in tepra and "light-red" in tepra
    xlsx = client.get(f"/monitoring/{mcp.city.slug}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = client.get(f"/monitoring/{mcp.city.slug}/summary.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_api_token_sees_its_own_and_covered_organisations_only(mcp, client) -> None:
    _verified(mcp, mcp.city, mcp.city_admin, 80)
    _verified(mcp, mcp.regency, mcp.regency_admin, 40)
    import_realisation(
        organisation=mcp.city, year=2026, month=5, file_name="m.csv", data=CSV, actor=None
    )
    _t, city_token = create_api_token(organisation=mcp.city, name="city", actor=mcp.city_admin)
    _t, kpk_token = create_api_token(organisation=mcp.kpk, name="kpk", actor=None)
    city = {"Authorization": f"Bearer {city_token}"}
    kpk = {"Authorization": f"Bearer {kpk_token}"}

    scores = client.get(f"/api/v1/monitoring/scores?period_id={mcp.period.pk}", headers=city).json()
    assert [s["organisation"] for s in scores] == [mcp.city.slug]
    assert scores[0]["zone"] == "green" and scores[0]["national_rank"] == 1
    assert (
        client.get(
            f"/api/v1/monitoring/organisations/{mcp.regency.slug}/scores", headers=city
        ).status_code
        == 404
    )

    scores = client.get(f"/api/v1/monitoring/scores?period_id={mcp.period.pk}", headers=kpk).json()
    assert {s["organisation"] for s in scores} == {mcp.city.slug, mcp.regency.slug}
    own = client.get(
        f"/api/v1/monitoring/organisations/{mcp.regency.slug}/scores", headers=kpk
    ).json()
    assert own[0]["score"] == "40.00"
    tepra = client.get(
        f"/api/v1/monitoring/organisations/{mcp.city.slug}/tepra?year=2026", headers=kpk
    ).json()
    assert tepra["month"] == 5 and {o["opd"] for o in tepra["opds"]} == {
        "Dinas PU",
        "Dinas Kesehatan",
    }
    recs = client.get(
        f"/api/v1/monitoring/organisations/{mcp.city.slug}/recommendations", headers=kpk
    )
    assert recs.status_code == 200 and recs.json() == []
    frameworks = client.get("/api/v1/monitoring/frameworks", headers=city).json()
    assert frameworks[0]["weights_are_placeholders"] is True
    assert client.get("/api/v1/monitoring/frameworks").status_code == 401
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/monitoring/scores" in schema["paths"]


def test_demo_is_idempotent_and_shows_the_flows(db) -> None:
    from cegah.core.demo import load_demo
    from cegah.monitoring.models import Coverage, Realisation, Recommendation

    load_demo()
    counts = (
        Assessment.objects.count(),
        Recommendation.objects.count(),
        Realisation.objects.count(),
        Coverage.objects.count(),
    )
    load_demo()
    assert (
        Assessment.objects.count(),
        Recommendation.objects.count(),
        Realisation.objects.count(),
        Coverage.objects.count(),
    ) == counts
    city = Assessment.objects.filter(organisation__slug="pemkot-bandar-lampung", status="returned")
    assert city.exists()
    assert Recommendation.objects.filter(status="open", due_date__lt="2100-01-01").exists()


def test_regional_realisation_takes_each_latest_month_in_a_fixed_number_of_queries(
    mcp, client_for
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cegah.monitoring.models import QuarterTarget
    from cegah.monitoring.tepra import DEFAULT_TARGETS, regional_progress, target_at

    def realise(org, month: int, actual: int) -> None:
        data = (
            f"opd,activity,pagu,financial_actual,physical_actual\nDinas PU,Jalan,1000,{actual},5\n"
        )
        import_realisation(
            organisation=org,
            year=2026,
            month=month,
            file_name="m.csv",
            data=data.encode(),
            actor=None,
        )

    realise(mcp.city, 4, 100)
    realise(mcp.city, 5, 400)
    realise(mcp.regency, 3, 300)
    QuarterTarget.objects.create(year=2026, quarter=2, financial_pct=D(90), physical_pct=D(90))
    QuarterTarget.objects.create(
        organisation=mcp.city, year=2026, quarter=2, financial_pct=D(60), physical_pct=D(60)
    )
    orgs = [mcp.city, mcp.regency, mcp.province]
    with CaptureQueriesContext(connection) as two:
        rows = regional_progress(orgs, 2026)
    found = {
        org.slug: (month, p.financial_actual, p.financial_target_pct) for org, month, p in rows
    }
    # The latest month only, against the institution's own targets where it has them (the
    # city's 60 % for June, interpolated to May), else the defaults (with the default 90 %).
    city_targets = {**DEFAULT_TARGETS, 2: (D(60), D(60))}
    default_targets = {**DEFAULT_TARGETS, 2: (D(90), D(90))}
    assert found[mcp.city.slug] == (5, D(400), target_at(city_targets, 5)[0])
    assert found[mcp.regency.slug] == (3, D(300), target_at(default_targets, 3)[0])
    assert target_at(city_targets, 5) != target_at(default_targets, 5)
    assert mcp.province.slug not in found
    realise(mcp.province, 2, 50)
    with CaptureQueriesContext(connection) as three:
        rows = regional_progress(orgs, 2026)
    assert len(rows) == 3 and len(three.captured_queries) == len(two.captured_queries) <= 3
    page = client_for(mcp.kpk_viewer).get("/monitoring/coverage/tepra/?year=2026")
    assert page.status_code == 200 and "Pemprov Lampung" in page.content.decode()


def test_ranking_and_map_mark_scores_with_answers_awaiting_verification(mcp, client_for) -> None:
    import io
    import re

    from openpyxl import load_workbook

    from cegah.monitoring.scores import period_standings

    _verified(mcp, mcp.city, mcp.city_admin, 80)
    for area, ind, code in (("1", "1", "1"), ("1", "2", "1"), ("2", "1", "1")):
        services.save_answer(
            organisation=mcp.regency,
            period=mcp.period,
            sub=mcp.sub(area, ind, code),
            actor=mcp.regency_admin,
            value=D(90),
            pending_document=True,
        )
    regency = Assessment.objects.get(organisation=mcp.regency)
    services.submit_assessment(assessment=regency, actor=mcp.regency_admin)
    services.verify_answer(
        answer=regency.answers.get(sub_indicator=mcp.sub("1", "1", "1")),
        actor=mcp.verifier,
        verdict="accepted",
    )
    by_slug = {s.organisation.slug: s for s in period_standings(mcp.period)}
    assert (by_slug[mcp.city.slug].awaiting, by_slug[mcp.regency.slug].awaiting) == (0, 2)
    assert by_slug[mcp.regency.slug].card.zone == "red"  # the scoring rule is unchanged

    client = client_for(mcp.kpk_viewer)
    body = client.get(f"/monitoring/coverage/?period={mcp.period.pk}").content.decode()
    rows = {
        name: row
        for row in re.findall(r"<tr>.*?</tr>", body, re.DOTALL)
        for name in ("Pemkot Bandar Lampung", "Pemkab Lampung Selatan")
        if f">{name}</a>" in row
    }
    assert "2 jawaban menunggu verifikasi" in rows["Pemkab Lampung Selatan"]
    assert "menunggu verifikasi" not in rows["Pemkot Bandar Lampung"]
    [regency_shape] = re.findall(r'<path class="([^"]*)"[^>]*><title>Pemkab Lampung', body)
    assert regency_shape == "zone-red awaiting"
    assert 'class="zone-green"' in body  # the city's shape has no mark
    assert "menunggu verifikasi" in body.split('class="legend"')[1].split("</ul>")[0]

    xlsx = client.get(f"/monitoring/coverage/ranking.xlsx?period={mcp.period.pk}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    column = header.index("Jawaban menunggu verifikasi")
    awaiting = {
        row[2]: row[column]
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if isinstance(row[0], int)  # the ranked rows, not the notes under them
    }
    assert awaiting == {"Pemkot Bandar Lampung": 0, "Pemkab Lampung Selatan": 2}


def test_coverage_page_speaks_indonesian_numbers_and_province_names(mcp, client_for) -> None:
    import re

    from cegah.accounts.models import Membership, User
    from cegah.accounts.permissions import Role
    from cegah.orgs.models import Organisation, Region

    jabar = Region.objects.create(code="32", name="Jawa Barat", level=1, type="provinsi")
    bandung = Region.objects.create(
        code="32.73", name="Kota Bandung", level=2, type="kota", parent=jabar
    )
    Organisation.objects.create(
        slug="pemkot-bandung", name="Pemkot Bandung", kind="regency", region=bandung
    )
    kemendagri = Organisation.objects.create(slug="kemendagri", name="Kemendagri", kind="kl")
    services.grant_coverage(supervisor=kemendagri, nationwide=True, actor=None)
    verifier = User.objects.create_user(username="verifikator.kemendagri", password="x-long-pw-1")
    Membership.objects.create(user=verifier, organisation=kemendagri, role=Role.VERIFIER)
    _verified(mcp, mcp.city, mcp.city_admin, 75)
    body = (
        client_for(verifier).get(f"/monitoring/coverage/?period={mcp.period.pk}").content.decode()
    )
    assert "<title>Pemkot Bandar Lampung: 75,00</title>" in body
    assert "75.00" not in body
    options = re.findall(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>', body.split('id="province"')[1]
    )
    assert options == [("18", "Lampung"), ("32", "Jawa Barat")]


def test_exports_name_zones_and_lights_in_the_readers_language(mcp, client_for) -> None:
    import io

    from openpyxl import load_workbook

    _verified(mcp, mcp.city, mcp.city_admin, 80)
    import_realisation(
        organisation=mcp.city, year=2026, month=5, file_name="m.csv", data=CSV, actor=None
    )
    client = client_for(mcp.kpk_viewer)
    ranking = load_workbook(
        io.BytesIO(client.get(f"/monitoring/coverage/ranking.xlsx?period={mcp.period.pk}").content)
    ).worksheets[0]
    header = [c.value for c in ranking[1]]
    assert ranking.cell(2, header.index("Zona") + 1).value == "hijau"
    book = load_workbook(
        io.BytesIO(client.get(f"/monitoring/{mcp.city.slug}/export.xlsx?year=2026").content)
    )
    values = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert "hijau" in values and "tertinggal" in values
    assert not values & {"green", "yellow", "blue", "red"}


def test_minutes_are_notulen_on_monitoring_pages(mcp, client_for) -> None:
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    meeting = services.create_meeting(
        convened_by=mcp.kpk,
        title="Rakor",
        held_on=dt.date(2026, 3, 1),
        minutes=SimpleUploadedFile("notulen.pdf", b"%PDF-1.4 notulen"),
        actor=mcp.verifier,
    )
    rec = services.create_recommendation(
        institution=mcp.city,
        issued_by=mcp.kpk,
        actor=mcp.verifier,
        title="X",
        due_date=dt.date(2030, 1, 1),
        meeting=meeting,
    )
    client = client_for(mcp.verifier)
    for url in (f"/monitoring/recommendations/{rec.pk}/", "/monitoring/coverage/meetings/"):
        page = client.get(url).content.decode()
        assert "Notulen" in page and "Menit" not in page, url


def test_the_sub_indicator_page_has_no_duplicate_ids(mcp, client_for) -> None:
    import re
    from collections import Counter

    sub = mcp.sub("1", "1", "1")
    page = client_for(mcp.city_admin).get(
        f"/monitoring/{mcp.city.slug}/periods/{mcp.period.pk}/subs/{sub.pk}/"
    )
    ids = Counter(re.findall(r'\sid="([^"]+)"', page.content.decode()))
    assert [i for i, n in ids.items() if n > 1] == []
