"""Follow-ups to the second QA pass: project pagu, reopened recommendations, quarter labels."""

from cegah.monitoring import services
from cegah.monitoring.models import StrategicProject


def _project_form(pagu: str) -> dict[str, str]:
    return {
        "year": "2026",
        "opd_name": "Dinas PUPR",
        "package_name": "Jalan lingkar",
        "rup_code": "",
        "method": "Tender",
        "pagu": pagu,
        "status": StrategicProject.Status.PLANNED,
        "physical_progress": "0",
        "notes": "",
    }


def test_a_negative_project_pagu_is_refused_and_nothing_is_saved(mcp, client_for) -> None:
    client = client_for(mcp.city_admin)
    url = f"/monitoring/{mcp.city.slug}/tepra/projects/"
    response = client.post(url, _project_form("-5000000"), HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert not StrategicProject.objects.exists()
    assert response.context["form"].errors["pagu"]
    assert client.post(url, _project_form("5000000")).status_code == 302
    assert StrategicProject.objects.get().pagu == 5_000_000


def test_a_reopened_recommendation_goes_back_to_the_progress_last_reported(mcp) -> None:
    rec = mcp.recommend(area_name="Pengadaan")
    services.add_progress(recommendation=rec, actor=mcp.city_admin, note="Draf SOP", progress=40)
    services.set_recommendation_status(recommendation=rec, actor=mcp.verifier, status="done")
    rec.refresh_from_db()
    assert rec.progress == 100
    services.set_recommendation_status(recommendation=rec, actor=mcp.verifier, status="in_progress")
    rec.refresh_from_db()
    assert (rec.status, rec.progress, rec.completed_at) == ("in_progress", 40, None)


def test_a_reopened_recommendation_without_any_report_is_back_at_zero(mcp) -> None:
    rec = mcp.recommend(area_name="Pengadaan")
    services.set_recommendation_status(recommendation=rec, actor=mcp.verifier, status="done")
    services.set_recommendation_status(recommendation=rec, actor=mcp.verifier, status="open")
    rec.refresh_from_db()
    assert rec.progress == 0


def test_cancelling_keeps_the_progress_reported(mcp) -> None:
    rec = mcp.recommend(area_name="Pengadaan")
    services.add_progress(recommendation=rec, actor=mcp.city_admin, note="Draf", progress=30)
    services.set_recommendation_status(recommendation=rec, actor=mcp.verifier, status="cancelled")
    rec.refresh_from_db()
    assert rec.progress == 30


def test_quarters_are_labelled_in_the_page_language(mcp, client_for) -> None:
    client = client_for(mcp.city_admin)
    url = f"/monitoring/{mcp.city.slug}/tepra/"
    indonesian = client.get(url, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "<td>TW 1</td>" in indonesian and "<td>Q1</td>" not in indonesian
