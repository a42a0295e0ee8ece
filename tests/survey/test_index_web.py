"""The index from stored responses equals the batch command's, reports come out, and the
integrity review excludes confirmed responses."""

from __future__ import annotations

import csv
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cegah.survey import indexing, runtime, services
from cegah.survey.models import Draft, Questionnaire, Response
from cegah.survey.scoring.cli import main as score_cli
from tests.survey.web import World, invited

pytestmark = pytest.mark.django_db


def _fill(world: World, group: str, n: int, seed: int, same: dict[str, str] | None = None) -> None:
    rng = random.Random(seed)
    q = runtime.load_stored(Questionnaire.objects.get(edition=world.edition, group=group))
    for inv, token in invited(world, n, group):
        if inv.completed:
            continue
        answers: dict[str, str] = {}
        for question in q.questions:
            if question.choices and runtime.is_relevant(question, answers):
                names = [c.name for c in question.choices]
                answers[question.name] = (same or {}).get(question.name) or rng.choice(names)
        services.start(inv, token)
        services.save_page(Draft.objects.get(invitation=inv), token, answers, 99)
        services.submit(inv, token, "")
    services.flush_responses(world.edition.pk, force=True)


def test_web_index_equals_the_batch_command(world: World, tmp_path) -> None:
    _fill(world, "internal", 12, 1)
    run = indexing.compute(world.edition, world.coordinator)
    web = run.results["institutions"][world.institution.slug]
    # The same responses through `cegah survey score`.
    q = runtime.load_stored(Questionnaire.objects.get(edition=world.edition, group="internal"))
    names = [x.name for x in q.questions]
    path = tmp_path / "r.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["institution", "group", *names])
        for r in Response.objects.all():
            writer.writerow(
                [world.institution.slug, r.group, *[r.answers.get(n, "") for n in names]]
            )
    form = tmp_path / "internal.xlsx"
    form.write_bytes(bytes(Questionnaire.objects.get(edition=world.edition, group="internal").xlsx))
    out = io.StringIO()
    assert (
        score_cli(
            ["--questionnaire", f"internal={form}", "--responses", str(path), "--edition", "2026"],
            out,
            io.StringIO(),
        )
        == 0
    )
    last = out.getvalue().strip().splitlines()[-1].split(",")
    assert last[0] == world.institution.slug
    assert float(last[3]) == web["index"] and last[4] == web["category"]
    assert web["weakest"] and web["weakest"][0]["recommendations"]


def test_index_page_and_pdf_report(world: World, client_for) -> None:
    _fill(world, "internal", 6, 2)
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    assert client.post(base + "index/").status_code == 302
    page = client.get(base + "index/")
    assert page.status_code == 200 and b"Pemkab Contoh" in page.content
    # "Change" is the difference from the last edition, not the verb of a button ("Ganti").
    assert ">Perubahan</th>" in page.content.decode()
    pdf = client.get(base + f"l/{world.institution.slug}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_confirmed_flags_are_left_out_of_the_index(world: World, client_for) -> None:
    coached = {"masa_kerja": "1_5", "terlibat_pbj": "tidak"}
    q = runtime.load_stored(Questionnaire.objects.get(edition=world.edition, group="internal"))
    for item in q.scored_items:
        coached[item.name] = "4"
    _fill(world, "internal", 8, 3, same=coached)
    assert indexing.refresh_flags(world.edition) == 8
    assert all({"straightliner", "identical"} <= set(r.flags) for r in Response.objects.all())
    assert indexing.coaching_scores(world.edition)[world.institution.slug] > 50
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    page = client.get(base + "integrity/")
    assert page.status_code == 200
    assert b"Dinas Contoh" in page.content  # 8 responses in the unit: enough to name it
    target = Response.objects.first()
    assert target is not None
    client.post(base + f"integrity/{target.pk}/", {"decision": "confirmed"})
    run = indexing.compute(world.edition)
    assert run.excluded == 1 and run.results["institutions"][world.institution.slug]["n"] == 7


def test_small_units_are_not_named_in_the_review(world: World, client_for) -> None:
    _fill(world, "internal", 2, 4, same={"masa_kerja": "1_5"})
    Response.objects.update(flags=["speeder"], review="flagged")
    page = client_for(world.coordinator).get(
        f"/spi/o/{world.edition.organisation.slug}/2026/integrity/"
    )
    assert b"Dinas Contoh" not in page.content


def test_xlsform_errors_are_shown_by_sheet_row_and_column(
    world: World, client_for, tmp_path
) -> None:
    from tests.survey.conftest import write_form

    bad = write_form(
        tmp_path / "bad.xlsx",
        [
            ("select_one s4", "a1", "Soal", "", "korupsi", "no"),
            ("select_one s4", "a2", "Soal 2", "", "sdm", "maybe"),
        ],
    )
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/questionnaires/"
    upload = SimpleUploadedFile("bad.xlsx", bad.read_bytes())
    page = client.post(url, {"group": "internal", "file": upload})
    assert page.status_code == 200
    text = page.content.decode()
    assert "korupsi" in text and "<td>2</td>" in text and "<td>E (dimension)</td>" in text
    good = SimpleUploadedFile(
        "ok.xlsx",
        write_form(
            tmp_path / "ok.xlsx", [("select_one s4", "a1", "Soal", "", "sdm", "no")]
        ).read_bytes(),
    )
    assert client.post(url, {"group": "expert", "file": good}).status_code == 302
    assert Questionnaire.objects.get(edition=world.edition, group="expert").filename == "ok.xlsx"
    assert client.post(url, {"default": "expert"}).status_code == 302
    assert Questionnaire.objects.get(edition=world.edition, group="expert").is_default


def test_recommendations_are_editable(world: World, client_for) -> None:
    client = client_for(world.coordinator)
    url = f"/spi/o/{world.edition.organisation.slug}/2026/recommendations/"
    assert client.get(url).status_code == 200
    client.post(url, {"sdm": "Terapkan sistem merit | Apply a merit system"})
    recs = indexing.recommendations(type(world.edition).objects.get(pk=world.edition.pk))
    assert recs["sdm"][0].text_en == "Apply a merit system"


def test_self_registration_is_kept_apart_and_screened(world: World, client_for) -> None:
    from django.test import Client

    from cegah.survey.models import Invitation, Locus, Respondent

    code = world.locus.registration_code
    closed = Client().get(f"/spi/daftar/{code}/").content.decode()
    assert "Pendaftaran sudah ditutup" in closed and 'name="phone"' not in closed
    Locus.objects.filter(pk=world.locus.pk).update(registration_open=True)
    data = {
        "unit": world.unit.pk,
        "name": "Warga",
        "phone": "0812 9999 0000",
        "email": "",
        "served_recently": "on",
        "consent": "on",
    }
    assert Client().post(f"/spi/daftar/{code}/", data).status_code == 201
    person = Respondent.objects.get(source="self")
    assert person.screening == "pending" and not Invitation.objects.exists()
    client = client_for(world.coordinator)
    base = (
        f"/spi/o/{world.edition.organisation.slug}/2026/l/{world.institution.slug}/registrations/"
    )
    page = client.get(base)
    assert page.status_code == 200 and b"<svg" in page.content and b"Warga" in page.content
    client.post(base + f"{person.public_id}/", {"accept": "1"})
    assert Invitation.objects.get().respondent == person


def test_groups_with_too_few_responses_are_withheld(world: World) -> None:
    _fill(world, "internal", 4, 5)
    run = indexing.compute(world.edition)
    assert world.institution.slug not in run.results["institutions"]
    assert run.results["withheld"] == [
        {"slug": world.institution.slug, "name": world.institution.name, "group": "internal"}
    ]


def test_the_index_page_says_which_institutions_are_not_in_it_and_why(
    world: World, client_for
) -> None:
    """Answers wait in the mixing pool until there are enough to shuffle: right after they
    were submitted, "Compute now" cannot show the institution, and the page says so."""
    for inv, token in invited(world, 4):
        services.start(inv, token)
        services.save_page(Draft.objects.get(invitation=inv), token, {"masa_kerja": "1_5"}, 99)
        assert services.submit(inv, token, "")
    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    client.post(base + "index/")
    text = client.get(base + "index/").content.decode()
    assert "Pemkab Contoh" in text and "kolam pengacakan" in text
    assert '<td class="num">4</td>' in text  # the four answers waiting
    report = client.get(base + f"l/{world.institution.slug}/report.pdf", follow=True)
    said = report.content.decode()
    assert "Hitung indeks terlebih dahulu" not in said
    assert "tidak ada dalam perhitungan indeks terakhir" in said


def test_scores_are_formatted_alike_and_a_zero_is_a_score(world: World, client_for) -> None:
    from cegah.survey.models import IndexRun

    IndexRun.objects.create(
        edition=world.edition,
        results={
            "institutions": {
                world.institution.slug: {
                    "name": world.institution.name,
                    "n": 12,
                    "index": 43.2,
                    "weighted": 43.2,
                    "correction": 0,
                    "category": "rentan",
                    "ci": [40.126, 46.5],
                    "groups": {
                        "internal": {"n": 6, "score": 72.0},
                        "expert": {"n": 6, "score": 0.0},
                    },
                    "weakest": [],
                    "suspicion": 0,
                }
            },
            "withheld": [],
        },
    )
    page = client_for(world.coordinator).get(
        f"/spi/o/{world.edition.organisation.slug}/2026/index/"
    )
    cells = page.content.decode().split(world.institution.name, 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">72,00</td>' in cells and '<td class="num">0,00</td>' in cells
    assert '<td class="num">—</td>' in cells  # no external answers: no score
    assert "40,13–46,50" in cells  # two decimals, as in the PDF


def test_choices_labels_and_exports_are_translated(world: World, client_for) -> None:
    from django.test import Client
    from openpyxl import load_workbook

    from cegah.survey.models import Invitation, Locus

    client = client_for(world.coordinator)
    base = f"/spi/o/{world.edition.organisation.slug}/2026/"
    settings = client.get(base + "settings/").content.decode()
    assert "Margin kesalahan" in settings and "3-class" not in settings
    assert "3 kategori" in settings
    assert "Select an option" not in client.get(base).content.decode()
    Locus.objects.filter(pk=world.locus.pk).update(registration_open=True)
    register = Client().get(f"/spi/daftar/{world.locus.registration_code}/").content.decode()
    assert "Select an option" not in register and "Pilih unit" in register
    assert 'class="field check"' in register  # the consent boxes: large tap targets
    invited(world, 2)
    Invitation.objects.update(sends=1)
    Invitation.objects.filter(pk=Invitation.objects.first().pk).update(completed=True)  # type: ignore[union-attr]
    workbook = load_workbook(io.BytesIO(client.get(base + "export.xlsx").content))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    row = list(sheet[2])
    assert row[header.index("Kelompok")].value == "Internal"
    ratio = row[header.index("Selesai / target")]
    assert ratio.value == 0.5 and ratio.number_format == "0%"
