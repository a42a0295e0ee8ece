"""Second QA pass over the procurement pages: bad parameters, wording, counts, exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import translation

from cegah.accounts.services import create_api_token
from cegah.procurement.charts import monthly_svg
from cegah.procurement.engine.cli import main
from cegah.procurement.engine.store import MSG_JSON, MSG_NOT_GZIP
from cegah.procurement.formats import percent_points
from cegah.procurement.models import Buyer, BuyerRisk, ImportJob, TenderRisk
from cegah.procurement.queries import Month
from cegah.procurement.scoring import Policy, explain, tender_facts
from cegah.procurement.templatetags.procurement import in_language, pct
from tests.conftest import Personas
from tests.procurement.conftest import DATA, needs_data, release, write_releases
from tests.procurement.web_helpers import OWN, World, build_world

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
BANDUNG = DATA / "spse_kab_bandung_2025" / "raw"


@pytest.fixture
def world(personas: Personas, procurement_store: Path, tmp_path: Path) -> World:
    return build_world(personas, tmp_path)


# --- Parameters no database can take ----------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "-3", "0", "²"])
def test_an_impossible_satker_filter_is_a_form_error_not_a_500(
    world: World, client_for, value: str
) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    client = client_for(world.kpk_analyst)
    page = client.get(f"/pbj/kpk-uji/tenders/?buyer={value}&year=2025&page=²")
    assert page.status_code == 200
    assert "tidak sah dan diabaikan" in page.content.decode()
    for fmt in ("csv", "xlsx"):
        refused = client.get(f"/pbj/kpk-uji/tenders/export.{fmt}?buyer={value}")
        assert refused.status_code == 400
    assert client.get(f"/pbj/kpk-uji/tenders/?buyer={own.pk}").status_code == 200


def test_the_api_refuses_impossible_years_and_offsets_cleanly(
    world: World, personas: Personas, client
) -> None:
    _token, raw = create_api_token(organisation=personas.org, name="map", actor=personas.admin)
    headers = {"Authorization": f"Bearer {raw}"}
    for path in (
        f"/api/v1/procurement/institutions?year={HUGE}",
        f"/api/v1/procurement/buyers?year={HUGE}",
    ):
        assert client.get(path, headers=headers).status_code == 422
    page = client.get(f"/api/v1/procurement/buyers?offset={HUGE}", headers=headers)
    assert page.status_code == 200 and page.json()["items"] == [] and page.json()["count"] == 1


# --- Trends: tenders without a date -----------------------------------------------------------


def test_trends_count_undated_tenders_in_a_row_of_their_own_and_in_the_total(
    world: World, client_for
) -> None:
    own = TenderRisk.objects.filter(buyer__buyer_id=OWN).order_by("pk")
    undated = list(own.values_list("pk", flat=True)[:2])
    TenderRisk.objects.filter(pk__in=undated).update(
        month=None, announced_at=None, tender_start=None, tender_end=None
    )
    client = client_for(world.kpk_analyst)
    page = client.get("/pbj/kpk-uji/trends/?year=2025")
    monthly = page.context["monthly"]
    assert monthly.undated.tenders == 2
    assert monthly.total.tenders == TenderRisk.objects.filter(year=2025).count() == 17
    body = page.content.decode()
    assert "Tanggal tidak diketahui" in body
    assert "2 tender tahun anggaran 2025 tidak bertanggal" in body


# --- Reasons that say what the flag measured ----------------------------------------------------


class _Tender:
    currency = "IDR"
    bids = [
        {"amount": 1_310_209_000.0, "status": "valid", "winner": True},
        {"amount": 1_244_699_000.0, "status": "disqualified", "winner": False},
        {"amount": 1_549_386_000.0, "status": "valid", "winner": False},
        {"amount": 1_588_970_000.0, "status": "valid", "winner": False},
    ]


def test_r058_reason_says_the_runner_up_is_above_the_winner_by_the_ratio() -> None:
    flag = {"code": "R058", "value": 0.18254}
    meta = {"R058": {"upper_fence": 0.15}}
    with translation.override("en"):
        reason = explain("R058", 0.18254, meta, facts=tender_facts(_Tender(), flag))["reason"]
    assert reason.startswith(
        "The lowest other valid offer, Rp 1,549,386,000, is 18% above the winning offer,"
        " Rp 1,310,209,000"
    )
    assert "flagged from 15%" in reason and "below" not in reason
    with translation.override("id"):
        reason = explain("R058", 0.18254, meta, facts=tender_facts(_Tender(), flag))["reason"]
    assert "Rp 1.549.386.000, 18% di atas penawaran pemenang, Rp 1.310.209.000" in reason


def test_id06_satker_reason_says_it_counts_every_year() -> None:
    meta = {"ID06": {"q4_share": 0.5}}
    with translation.override("en"):
        reason = explain("ID06", 0.61, meta, buyer=True)["reason"]
    assert reason.startswith("Over all its years in the data, 61% of the buyer's value")
    with translation.override("id"):
        assert "Selama semua tahunnya" in explain("ID06", 0.61, meta, buyer=True)["reason"]


def test_ranking_footnote_explains_the_too_few_zone_and_satker_flags(
    world: World, client_for
) -> None:
    body = client_for(world.kpk_analyst).get("/pbj/kpk-uji/").content.decode()
    assert "kurang dari 5 tender dalam tahun itu tidak diberi zona" in body
    assert "100%" in body and "100%%" not in body  # a literal percent sign, translated
    assert "dihitung atas semua tahun satker" in body


# --- Percentages as the tables show them --------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "digits", "shown"),
    [
        (0.125, 0, "13%"),
        (0.9996, 0, "99,96%"),
        (0.9996, 1, "99,96%"),
        (0.004, 0, "0,4%"),
        (0.0000001, 0, "<0,01%"),
        (0.99999999, 0, ">99,99%"),
        (1.0, 0, "100%"),
        (0.0, 0, "0%"),
        (1.205, 1, "120,5%"),
    ],
)
def test_a_share_is_never_shown_as_none_or_all_unless_it_is(
    share: float, digits: int, shown: str
) -> None:
    with translation.override("id"):
        assert pct(share, digits) == shown


def test_satker_points_round_as_the_share_is_shown() -> None:
    policy = Policy()
    with translation.override("en"):
        assert pct(0.125) == "13%"
    assert policy.buyer_score(0.125, []) == 13  # not 12 (round half to even)
    assert policy.buyer_score(0.125, [{"code": "ID07"}]) == 23
    assert percent_points(0.285) == 28 and percent_points(0.995) == 100


def test_a_satker_without_rupiah_values_says_its_share_is_counted_in_tenders(
    world: World, client_for
) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    risk = own.risks.get()
    BuyerRisk.objects.filter(pk=risk.pk).update(value_total=0, value_at_risk=0)
    client = client_for(world.kpk_analyst)
    body = client.get(f"/pbj/kpk-uji/satker/{own.pk}/").content.decode()
    assert "porsinya dihitung dari jumlah tender" in body
    assert "nilai melalui tender berisiko" not in body
    tender = own.tenders.first()
    page = client.get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()
    assert "nilai rupiahnya tidak diketahui" in page


def test_a_satker_with_no_scored_year_says_so(world: World, client_for) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    own.risks.all().delete()
    body = client_for(world.kpk_analyst).get(f"/pbj/kpk-uji/satker/{own.pk}/").content.decode()
    assert "belum punya tender berskor" in body


# --- Plurals ------------------------------------------------------------------------------------


def test_chart_tooltip_says_one_tender_not_one_tenders() -> None:
    months = [Month(m, 1 if m == 3 else 2, 0, 0.0, 0.0) for m in range(1, 13)]
    with translation.override("en"):
        svg = str(monthly_svg(months))
    assert "Mar: 1 tender, 0 at risk" in svg and "Jan: 2 tenders, 0 at risk" in svg


# --- Exports: numbers a spreadsheet reads as numbers ------------------------------------------


def test_exports_write_whole_amounts_as_plain_integers(world: World, client_for) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    TenderRisk.objects.filter(buyer__buyer_id=OWN).update(pagu=1_500_000_000.0, hps=1234.5)
    client = client_for(world.kpk_analyst)
    query = f"buyer={Buyer.objects.get(buyer_id=OWN).pk}"
    raw = b"".join(client.get(f"/pbj/kpk-uji/tenders/export.csv?{query}").streaming_content)
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    pagu, hps, value = header.index("Pagu"), header.index("HPS"), header.index("Nilai")
    assert {r[pagu] for r in rows} == {"1500000000"} and {r[hps] for r in rows} == {"1234.5"}
    assert all(r[value].isdigit() for r in rows)  # no ".0", no thousands separators
    sheet = load_workbook(
        io.BytesIO(client.get(f"/pbj/kpk-uji/tenders/export.xlsx?{query}").content)
    )
    cells = list(sheet.active.iter_rows(min_row=2, values_only=True))
    assert {c[pagu] for c in cells} == {1_500_000_000} and all(
        isinstance(c[pagu], int) for c in cells
    )


# --- Importing: ZIPs on the command line, files named .gz that are not gzip ---------------------


def _spse_zip(path: Path, folders: dict[str, Path]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for directory, source in folders.items():
            for file in sorted(source.iterdir()):
                zf.write(file, f"{directory}/{file.name}" if directory else file.name)
    return path


@needs_data(BANDUNG)
def test_the_command_imports_a_zip_of_spse_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _spse_zip(tmp_path / "bandung.zip", {"": BANDUNG})
    store = tmp_path / "s.duckdb"
    argv = ["import", str(archive), "--store", str(store), "--no-progress", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    [report] = json.loads(captured.out)
    assert report["status"] == "imported" and report["imported"] > 3000
    assert report["path"] == str(archive) and "cegah-zip" not in captured.err
    assert main(argv) == 0 and "unchanged" in capsys.readouterr().err


def test_the_command_names_a_zip_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    assert main(["import", str(broken), "--store", str(tmp_path / "s.duckdb")]) == 1
    err = capsys.readouterr().err
    assert f"error: {broken}: Berkas bukan ZIP yang sah. / The file is not a valid ZIP." in err
    assert "Traceback" not in err


def test_a_file_named_gz_that_is_not_gzip_is_named_and_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = write_releases(tmp_path / "rilis.jsonl.gz", [release(1, "B")])
    store = tmp_path / "s.duckdb"
    assert main(["import", str(fake), "--store", str(store), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"error: {fake}: {MSG_NOT_GZIP}" in err
    assert "line is not valid JSON" not in err
    folder = tmp_path / "spse"
    folder.mkdir()
    (folder / "47_1013_SPSE-TenderPengumuman.jsonl.gz").write_text("{}\n")
    assert main(["import", str(folder), "--store", str(store), "--no-progress"]) == 1
    assert "47_1013_SPSE-TenderPengumuman.jsonl.gz: bernama .gz tetapi bukan" in (
        capsys.readouterr().err
    )


def test_an_upload_named_gz_that_is_not_gzip_is_refused_at_once(world: World, client_for) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.kpk_analyst)
    upload = SimpleUploadedFile("rilis.jsonl.gz", b'{"ocid": "x"}\n')
    page = client.post("/pbj/kpk-uji/imports/", {"file": upload})
    assert page.status_code == 200 and not ImportJob.objects.exists()
    assert "rilis.jsonl.gz bernama .gz tetapi tidak dikompresi gzip" in page.content.decode()


def test_import_problems_are_shown_in_the_readers_language(world: World, client_for) -> None:
    job = ImportJob.objects.create(
        organisation=world.kpk,
        created_by=world.kpk_analyst,
        kind=ImportJob.Kind.OCDS,
        original_name="a.jsonl",
        path="/nonexistent",
        status=ImportJob.Status.DONE,
        result={
            "status": "imported",
            "records": 2,
            "imported": 1,
            "refused": 1,
            "issue_count": 1,
            "issues": [{"file": "a.jsonl", "line": 2, "field": "", "message": MSG_JSON}],
        },
    )
    client = client_for(world.kpk_analyst)
    body = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "baris bukan JSON yang sah" in body and "line is not valid JSON" not in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(f"/pbj/kpk-uji/imports/{job.pk}/").content.decode()
    assert "line is not valid JSON" in english and "baris bukan JSON" not in english
    with translation.override("en"):
        assert in_language("a / b / c") == "a / b / c"


def test_offers_become_cards_on_a_phone_with_each_value_labelled(world: World, client_for) -> None:
    tender = TenderRisk.objects.filter(buyer__buyer_id=OWN).exclude(bids=[]).first()
    body = client_for(world.kpk_analyst).get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()
    offers = body[body.index("<h2>Penawaran</h2>") :]
    assert '<table class="pbj-cards">' in offers[:200]
    assert 'data-label="Status"' in offers and 'data-label="Dari HPS"' in offers


# --- The ranking's filters --------------------------------------------------------------------


def test_a_ranking_year_no_longer_scored_keeps_the_other_filters(world: World, client_for) -> None:
    client = client_for(world.kpk_analyst)
    page = client.get("/pbj/kpk-uji/?year=1999&zone=high&q=OWN")
    assert page.status_code == 200
    rows = list(page.context["page"])
    assert rows and {r.zone for r in rows} == {"high"}
    assert {r.buyer.buyer_id for r in rows} == {OWN}
    assert "1999 bukan salah satu" in page.content.decode()  # the error is shown
    every = client.get("/pbj/kpk-uji/?level=institution").context["institutions"]
    zone = every[-1].zone
    institutions = client.get(f"/pbj/kpk-uji/?year=²&level=institution&zone={zone}")
    assert institutions.context["level"] == "institution"
    shown = institutions.context["institutions"]
    assert shown and {r.zone for r in shown} == {zone} and len(shown) < len(every)


def test_trends_without_a_scored_year_show_nothing_rather_than_yearless_tenders(
    world: World, client_for, personas: Personas
) -> None:
    from cegah.procurement.access import scope_of
    from cegah.procurement.queries import monthly

    TenderRisk.objects.filter(buyer__buyer_id=OWN).update(year=None, month=None)
    assert monthly(scope_of(personas.org), None, 20).total.tenders == 0


def test_one_point_and_one_tender_are_singular_in_english(world: World, client_for) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    BuyerRisk.objects.filter(buyer=own).update(share_at_risk=0.01, tenders=1, at_risk=0)
    client = client_for(world.kpk_analyst)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get(f"/pbj/kpk-uji/satker/{own.pk}/").content.decode()
    assert "1% of the value went through tenders at risk: +1 point." in body
    tender = own.tenders.first()
    page = client.get(f"/pbj/kpk-uji/tenders/{tender.pk}/").content.decode()
    assert "0 of 1 tender at risk," in page


def test_the_ranking_says_when_a_satker_share_is_counted_in_tenders(
    world: World, client_for
) -> None:
    own = Buyer.objects.get(buyer_id=OWN)
    risk = own.risks.get()
    client = client_for(world.kpk_analyst)
    url = f"/pbj/kpk-uji/?level=satker&year={risk.year}"
    assert "tidak ada nilai rupiah" not in client.get(url).content.decode()
    BuyerRisk.objects.filter(pk=risk.pk).update(value_total=0, value_at_risk=0)
    assert "dari jumlah tender (tidak ada nilai rupiah)" in client.get(url).content.decode()
