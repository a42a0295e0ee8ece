"""Demo data: SPI 2026 run by Inspektorat Provinsi Lampung for the provincial government, Kota
Bandar Lampung and Kabupaten Lampung Selatan.

Population lists are imported through the real import, samples drawn with fixed seeds, and the
simulated respondents answer through the same start/submit services as the web pages, at
realistic rates (some units lag, one unit shows a coached pattern). Lampung Selatan is left with
its sample drawn and its invitations not yet sent, so a coordinator can send them and watch them
reach the fake outbox. Idempotent: nothing is added if the edition exists.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from cegah.orgs.models import Organisation
from cegah.survey import indexing, runtime, sealing, services
from cegah.survey.models import Draft, Edition, Invitation, Locus

YEAR = 2026
FIRST = [
    "Agus",
    "Budi",
    "Citra",
    "Dewi",
    "Eko",
    "Fitri",
    "Gita",
    "Hadi",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nur",
    "Putu",
    "Rahmat",
    "Sari",
    "Taufik",
    "Wahyu",
    "Yuni",
    "Andi",
    "Bayu",
    "Dimas",
    "Ratna",
    "Siti",
    "Rudi",
    "Yoga",
    "Intan",
    "Fajar",
    "Nanda",
]
LAST = [
    "Saputra",
    "Wijaya",
    "Lestari",
    "Pratama",
    "Hidayat",
    "Nugroho",
    "Susanto",
    "Kurniawan",
    "Wulandari",
    "Setiawan",
    "Rahmawati",
    "Siregar",
    "Harahap",
    "Gunawan",
    "Permana",
    "Utami",
    "Santoso",
    "Halim",
    "Syahputra",
    "Anggraini",
]

# (locus slug, institution type, size, {unit slug: (internal, external)}, experts, lagging units)
PLAN: tuple[tuple[str, str, str, dict[str, tuple[int, int]], int, set[str]], ...] = (
    (
        "pemprov-lampung",
        "provinsi",
        "besar",
        {
            "pemprov-lampung": (30, 0),
            "disdikbud-lampung": (80, 40),
            "dinkes-lampung": (60, 35),
            "pupr-lampung": (45, 25),
            "bpkad-lampung": (30, 0),
            "dpmptsp-lampung": (25, 50),
        },
        20,
        {"pupr-lampung"},
    ),
    (
        "pemkot-bandar-lampung",
        "kota",
        "sedang",
        {
            "pemkot-bandar-lampung": (40, 0),
            "dinkes-bandar-lampung": (60, 40),
            "puskesmas-kedaton": (25, 45),
        },
        15,
        {"puskesmas-kedaton"},
    ),
    (
        "pemkab-lampung-selatan",
        "kabupaten",
        "sedang",
        {"pemkab-lampung-selatan": (80, 40)},
        10,
        set(),
    ),
)
# The integrity level each institution's simulated answers centre on (0..1, 1 = no risk).
LEVEL = {"pemprov-lampung": 0.72, "pemkot-bandar-lampung": 0.64, "pemkab-lampung-selatan": 0.7}
COACHED_UNIT = "dinkes-bandar-lampung"


def _csv(
    rng: random.Random, plan: dict[str, tuple[int, int]], experts: int, base: int
) -> tuple[bytes, bytes]:
    """Return a list with the problems a real first list has, and the corrected list."""
    lines = ["name,unit,group,phone,email"]
    n = base
    for unit, (internal, external) in plan.items():
        for group, count in (("internal", internal), ("external", external)):
            for _i in range(count):
                n += 1
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                phone = f"0812{n:08d}" if n % 9 else ""
                email = f"responden{n}@contoh.id" if n % 3 == 0 or not phone else ""
                lines.append(f"{name},{unit},{group},{phone},{email}")
    locus_slug = next(iter(plan))
    for _i in range(experts):
        n += 1
        lines.append(f"Eksper {n},{locus_slug},expert,0813{n:08d},")
    # A duplicate, merged on import.
    lines.append(lines[1])
    # Problems a real first list has, a bad number and an unknown group: the list is refused
    # with the problems by row and column, and imported once corrected.
    problems = [
        f"Nomor Salah,{locus_slug},internal,12345,",
        f"Kelompok Salah,{locus_slug},pegawai honorer,081399999999,",
    ]
    return "\n".join(lines + problems).encode(), "\n".join(lines).encode()


def _answer(
    rng: random.Random, questionnaire: object, level: float, coached: bool
) -> dict[str, str]:
    answers: dict[str, str] = {}
    for q in questionnaire.questions:  # type: ignore[attr-defined]
        if not runtime.is_relevant(q, answers):
            continue
        kind = runtime.base_type(q)
        names = [c.name for c in q.choices]
        if kind != "select_one" or not names:
            continue
        if q.dimension:
            k = len(names)
            if coached:
                good = k
            else:
                good = 1 + round(max(0.0, min(1.0, rng.gauss(level, 0.18))) * (k - 1))
            answers[q.name] = str(k + 1 - good if q.reverse else good)
        else:
            answers[q.name] = names[0] if coached else rng.choice(names)
    return answers


def _simulate(locus: Locus, rng: random.Random, lagging: set[str]) -> None:
    now = timezone.now()
    invitations = list(
        Invitation.objects.filter(locus=locus).select_related(
            "locus__edition", "locus__organisation", "unit", "respondent"
        )
    )
    # Sent through the outbox in real use; here marked as sent and delivered directly, so the
    # demo does not put hundreds of fake messages in the outbox.
    Invitation.objects.filter(locus=locus).update(
        sends=1, delivery=Invitation.Delivery.DELIVERED, last_sent_at=now - timedelta(days=6)
    )
    questionnaires = indexing.questionnaires(locus.edition)
    for inv in invitations:
        slow = inv.unit.slug in lagging
        if rng.random() < (0.45 if slow else 0.92):
            Invitation.objects.filter(pk=inv.pk).update(opened=True)
        else:
            continue
        if rng.random() > (0.4 if slow else 0.85):
            continue
        token = sealing.token_for(inv.nonce)
        services.start(inv, token)
        if rng.random() < 0.08:
            continue  # started, never finished
        coached = inv.unit.slug == COACHED_UNIT and inv.group == "internal" and rng.random() < 0.5
        answers = _answer(rng, questionnaires[inv.group], LEVEL[locus.organisation.slug], coached)
        draft = Draft.objects.get(invitation=inv)
        services.save_page(draft, token, answers, 99)
        minutes = 1.5 if coached else max(3.0, rng.gauss(11, 3))
        Draft.objects.filter(pk=draft.pk).update(started_at=now - timedelta(minutes=minutes))
        # Only the coached answers share a device; the others need no burst trace.
        device = sealing.keyed_hash("device", "coach-device") if coached else ""
        services.submit(inv, token, device)


def load_demo() -> list[str]:
    owner = Organisation.objects.filter(slug="inspektorat-lampung").first()
    if owner is None or Edition.objects.filter(organisation=owner, year=YEAR).exists():
        return []
    edition = services.create_edition(owner, YEAR, f"SPI {YEAR} Provinsi Lampung", None)
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.FIELDWORK)
    edition.refresh_from_db()
    rng = random.Random(7)  # noqa: S311 - demo data
    for number, (slug, kind, size, plan, experts, lagging) in enumerate(PLAN):
        org = Organisation.objects.filter(slug=slug).first()
        if org is None:
            continue
        plan = {u: c for u, c in plan.items() if Organisation.objects.filter(slug=u).exists()}
        locus = services.add_locus(edition, org, kind, size, None)
        first, corrected = _csv(rng, plan, experts, number * 10000)
        services.import_frame(locus, f"daftar-{slug}.csv", first, None)
        services.import_frame(locus, f"daftar-{slug}-perbaikan.csv", corrected, None)
        services.draw_sample(locus, None, seed=20260000 + number)
        if slug == "pemkab-lampung-selatan":
            Locus.objects.filter(pk=locus.pk).update(registration_open=True)
            continue
        _simulate(locus, rng, lagging)
    services.flush_responses(edition.pk, force=True)
    indexing.refresh_flags(edition)
    indexing.compute(edition, None)
    return [f"SPI {YEAR}: /spi/o/inspektorat-lampung/{YEAR}/ (koordinator.spi)"]
