"""Demo data for monitoring: Lampung's 16 regional governments with MCP 2024 assessments (partly
verified), recommendations in every state (one overdue), a year and more of TEPRA realisation,
and strategic projects. Idempotent: each part checks whether it is already there."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.utils import timezone

from cegah.accounts.models import User
from cegah.core import audit
from cegah.monitoring import services
from cegah.monitoring.framework_io import install_shipped_frameworks
from cegah.monitoring.models import (
    Answer,
    Assessment,
    Evidence,
    Framework,
    Meeting,
    Period,
    ProgressUpdate,
    Realisation,
    Recommendation,
    StrategicProject,
    SubIndicator,
)
from cegah.monitoring.tepra import DEFAULT_TARGETS, target_at
from cegah.orgs.models import Organisation, Region

DEMO_CITY = "pemkot-bandar-lampung"
# Verified totals for Q4 2024, so that the province shows every zone.
TARGET_TOTALS = [81, 77, 72, 68, 64, 59, 55, 51, 47, 43, 38, 33, 28, 22, 66, 74]
OPDS = (
    "Dinas Pekerjaan Umum dan Penataan Ruang",
    "Dinas Kesehatan",
    "Dinas Pendidikan dan Kebudayaan",
    "Badan Pengelolaan Keuangan dan Aset Daerah",
    "Dinas Perhubungan",
)
ACTIVITIES = (
    ("2.01", "Belanja modal dan pembangunan fisik", Decimal(8_000_000_000)),
    ("2.02", "Pelayanan dan operasional", Decimal(2_500_000_000)),
)
# A tiny valid PDF, so the demo minutes can be downloaded without generating one.
MINUTES_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _unit(seed: str) -> float:
    """A stable pseudo-random number in [0, 1) from ``seed`` (the demo must be reproducible)."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _regional_governments() -> list[Organisation]:
    province = Organisation.objects.get(slug="pemprov-lampung")
    regencies = list(
        Organisation.objects.filter(parent=province, kind=Organisation.Kind.REGENCY).order_by(
            "slug"
        )
    )
    return [province, *regencies]


def _coefficients(framework: Framework) -> dict[int, Decimal]:
    """Each sub-indicator's share of the total: a value of 100 there adds this many points."""
    coeffs: dict[int, Decimal] = {}
    areas = list(framework.areas.prefetch_related("indicators__subs"))
    area_total = sum((a.weight for a in areas), Decimal(0))
    for area in areas:
        inds = list(area.indicators.all())
        ind_total = sum((i.weight for i in inds), Decimal(0))
        for ind in inds:
            subs = list(ind.subs.all())
            sub_total = sum((s.weight for s in subs), Decimal(0))
            for sub in subs:
                coeffs[sub.pk] = (
                    area.weight / area_total * ind.weight / ind_total * sub.weight / sub_total * 100
                )
    return coeffs


def _load_coverage() -> None:
    kpk = Organisation.objects.get(slug="kpk")
    lampung = Region.objects.get(code="18")
    services.grant_coverage(supervisor=kpk, region=lampung, actor=None)
    services.grant_coverage(
        supervisor=Organisation.objects.get(slug="kemendagri"), nationwide=True, actor=None
    )
    services.grant_coverage(
        supervisor=Organisation.objects.get(slug="inspektorat-lampung"), region=lampung, actor=None
    )


def _load_assessments(framework: Framework) -> None:
    if Assessment.objects.filter(period__framework=framework).exists():
        return
    verifier = User.objects.filter(username="kpk.korsup").first()
    periods = list(Period.objects.filter(framework=framework).order_by("quarter"))
    subs = list(SubIndicator.objects.filter(indicator__area__framework=framework).order_by("pk"))
    coeffs = _coefficients(framework)
    now = timezone.now()
    for index, org in enumerate(_regional_governments()):
        target = Decimal(TARGET_TOTALS[index % len(TARGET_TOTALS)])
        is_city = org.slug == DEMO_CITY
        # Two sub-indicators of the city are rejected in Q4: resolving one lifts it to green.
        rejected = {subs[3].pk, subs[10].pk} if is_city else set()
        for period in periods:
            quarter_target = max(target - (4 - period.quarter) * Decimal(5), Decimal(5))
            if is_city and period.quarter == 4:
                quarter_target = Decimal("73.5")
            others = sum((coeffs[s.pk] for s in subs if s.pk not in rejected), Decimal(0))
            base = quarter_target / others * 100
            last = period.quarter == 4
            status = Assessment.Status.VERIFIED
            if last:
                status = Assessment.Status.RETURNED if is_city else Assessment.Status.SUBMITTED
            assessment = Assessment.objects.create(
                organisation=org,
                period=period,
                status=status,
                submitted_at=now,
                verified_at=now if status == Assessment.Status.VERIFIED else None,
            )
            answers = []
            for n, sub in enumerate(subs):
                jitter = Decimal(round(_unit(f"{org.slug}{period.pk}{sub.pk}") * 20 - 10))
                if is_city and last:
                    jitter = Decimal(0)  # exact, so that one resolved rejection crosses into green
                verified = min(max(base + jitter, Decimal(0)), Decimal(100)).quantize(
                    Decimal("0.01")
                )
                # Self-reports run higher than verified values on about 40 % of sub-indicators.
                inflated = _unit(f"gap{org.slug}{sub.pk}") < 0.4
                excess = Decimal(8 + round(_unit(f"x{org.slug}{period.pk}{sub.pk}") * 14))
                reported = min(verified + (excess if inflated else 0), Decimal(100))
                verdict = Answer.Verdict.ADJUSTED if inflated else Answer.Verdict.ACCEPTED
                # In Q4 the verifiers have not finished half of the submitted assessments.
                unverified = last and not is_city and index % 2 == 1 and n % 4 == 3
                if sub.pk in rejected:
                    verdict, verified, reported = Answer.Verdict.REJECTED, Decimal(0), Decimal(80)
                answers.append(
                    Answer(
                        assessment=assessment,
                        sub_indicator=sub,
                        value=reported,
                        note="",
                        reported_at=now,
                        pending_document=last and n == 5,
                        verdict="" if unverified else verdict,
                        verified_value=None if unverified else verified,
                        verifier_note=""
                        if unverified or verdict == Answer.Verdict.ACCEPTED
                        else (
                            "Dokumen yang diunggah belum ditandatangani; unggah versi final."
                            if verdict == Answer.Verdict.REJECTED
                            else "Bukti hanya mendukung sebagian nilai yang dilaporkan."
                        ),
                        verified_at=None if unverified else now,
                        verified_by=None if unverified else verifier,
                    )
                )
            Answer.objects.bulk_create(answers)
            Evidence.objects.bulk_create(
                Evidence(
                    answer=a,
                    kind=Evidence.Kind.LINK,
                    url=f"https://jdih.example.go.id/{org.slug}/{period.quarter}/{a.sub_indicator.code}",
                    description="Dokumen pendukung (JDIH)",
                )
                for a in Answer.objects.filter(assessment=assessment).select_related(
                    "sub_indicator"
                )
                if not a.pending_document
            )
        audit.record(
            "monitoring.demo.assessments_loaded",
            organisation=org,
            details={"framework": framework.year, "periods": len(periods)},
        )


def _load_recommendations() -> None:
    if Recommendation.objects.exists():
        return
    kpk = Organisation.objects.get(slug="kpk")
    korsup = User.objects.filter(username="kpk.korsup").first()
    today = timezone.localdate()
    meeting = Meeting(
        convened_by=kpk,
        title="Rapat Koordinasi Pencegahan Korupsi Provinsi Lampung",
        held_on=today - dt.timedelta(days=60),
        minutes_name="notulen-rakor-lampung.pdf",
        minutes_type="application/pdf",
        created_by=korsup,
    )
    from django.core.files.base import ContentFile

    meeting.minutes.save("notulen.pdf", ContentFile(MINUTES_PDF), save=False)
    meeting.save()
    audit.record(
        "monitoring.meeting.created", organisation=kpk, obj=meeting, details={"demo": True}
    )
    city = Organisation.objects.get(slug=DEMO_CITY)
    dinkes = Organisation.objects.filter(slug="dinkes-bandar-lampung").first()
    specs = [
        # (org slug, title, area, days until due, status, progress, source kind, ref)
        (
            DEMO_CITY,
            "Tetapkan SOP penanganan benturan kepentingan dalam pengadaan",
            "Pengadaan Barang dan Jasa",
            -20,
            "open",
            0,
            "meeting",
            "",
        ),
        (
            DEMO_CITY,
            "Terapkan sistem merit dalam pengisian jabatan pimpinan tinggi",
            "Manajemen ASN",
            45,
            "in_progress",
            40,
            "meeting",
            "",
        ),
        (
            DEMO_CITY,
            "Perkuat pengendalian gratifikasi di puskesmas",
            "Pengawasan APIP",
            5,
            "in_progress",
            60,
            "survey",
            "SPI 2024: integritas dalam pelaksanaan tugas",
        ),
        (
            DEMO_CITY,
            "Publikasikan dokumen APBD di situs resmi",
            "Penganggaran",
            -90,
            "done",
            100,
            "meeting",
            "",
        ),
        (
            "pemkab-lampung-selatan",
            "Tinjau paket pengadaan dengan penawar tunggal",
            "Pengadaan Barang dan Jasa",
            30,
            "open",
            0,
            "procurement",
            "R018 penawar tunggal",
        ),
        (
            "pemkab-lampung-tengah",
            "Sertifikasi tanah pemerintah daerah yang belum bersertifikat",
            "Pengelolaan Barang Milik Daerah",
            60,
            "in_progress",
            25,
            "meeting",
            "",
        ),
        (
            "pemkab-pesawaran",
            "Pasang perekam transaksi usaha pada wajib pajak restoran",
            "Optimalisasi Pajak Daerah",
            90,
            "cancelled",
            0,
            "meeting",
            "",
        ),
        (
            "pemprov-lampung",
            "Integrasikan pokok pikiran DPRD dalam aplikasi perencanaan",
            "Perencanaan",
            20,
            "open",
            0,
            "meeting",
            "",
        ),
    ]
    for slug, title, area, days, status, progress, kind, ref in specs:
        org = Organisation.objects.filter(slug=slug).first()
        if org is None:
            continue
        rec = services.create_recommendation(
            institution=org,
            issued_by=kpk,
            actor=korsup,
            title=title,
            area_name=area,
            due_date=today + dt.timedelta(days=days),
            responsible_unit=dinkes if org == city and "puskesmas" in title else None,
            meeting=meeting if kind == "meeting" else None,
            source_kind=kind,
            source_ref=ref,
            source_url="https://spi.kpk.go.id/" if kind == "survey" else "",
        )
        if progress and status != "done":
            ProgressUpdate.objects.create(
                recommendation=rec,
                note="Draf peraturan kepala daerah sedang dibahas bagian hukum.",
                progress=progress,
                url="https://jdih.example.go.id/draf",
            )
        Recommendation.objects.filter(pk=rec.pk).update(
            status=status,
            progress=progress,
            completed_at=timezone.now() if status == "done" else None,
        )


def _load_tepra() -> None:
    if Realisation.objects.exists():
        return
    today = timezone.localdate()
    spans = [(today.year - 1, 12), (today.year, max(today.month - 1, 1))]
    rows = []
    for org in _regional_governments():
        for opd_index, opd in enumerate(OPDS):
            # Some OPDs run well behind the curve, so the lights and alerts have something to say.
            lag = Decimal(str(round(0.72 + 0.33 * _unit(f"lag{org.slug}{opd}"), 2)))
            if opd_index == 0 and org.slug in {DEMO_CITY, "pemkab-way-kanan"}:
                lag = Decimal("0.55")
            for year, last_month in spans:
                for month in range(1, last_month + 1):
                    # The plan follows the quarterly targets; the lag decides how far behind it runs.
                    share = target_at(DEFAULT_TARGETS, month)[0] / 100
                    for code, activity, pagu in ACTIVITIES:
                        target = (pagu * share).quantize(Decimal(1))
                        actual = min((target * lag).quantize(Decimal(1)), pagu)
                        phys_target = (share * 100).quantize(Decimal("0.01"))
                        phys_actual = min(
                            phys_target * (lag + Decimal("0.08")), Decimal(100)
                        ).quantize(Decimal("0.01"))
                        rows.append(
                            Realisation(
                                organisation=org,
                                year=year,
                                month=month,
                                opd_name=opd,
                                activity_code=f"{opd_index + 1}.{code}",
                                activity_name=activity,
                                pagu=pagu,
                                financial_target=target,
                                financial_actual=actual,
                                physical_target=phys_target,
                                physical_actual=phys_actual,
                            )
                        )
        audit.record(
            "monitoring.demo.tepra_loaded",
            organisation=org,
            details={"years": [y for y, _m in spans]},
        )
    Realisation.objects.bulk_create(rows, batch_size=1000)
    projects = []
    statuses = list(StrategicProject.Status.values)
    for index, org in enumerate(_regional_governments()):
        for n, (name, opd) in enumerate(
            (
                ("Pembangunan jalan lingkar kota", OPDS[0]),
                ("Pembangunan gedung rawat inap RSUD", OPDS[1]),
                ("Rehabilitasi ruang kelas sekolah dasar", OPDS[2]),
            )
        ):
            projects.append(
                StrategicProject(
                    organisation=org,
                    year=today.year,
                    opd_name=opd,
                    package_name=name,
                    rup_code=f"{40_000_000 + index * 10 + n}",
                    method="Tender",
                    pagu=Decimal(12_000_000_000 - n * 3_000_000_000),
                    status=statuses[(index + n) % len(statuses)],
                    physical_progress=Decimal((index * 7 + n * 23) % 100),
                )
            )
    StrategicProject.objects.bulk_create(projects)


def load_monitoring_demo() -> None:
    frameworks = install_shipped_frameworks()
    _load_coverage()
    framework_2024 = next(f for f in frameworks if f.year == 2024)
    _load_assessments(framework_2024)
    _load_recommendations()
    _load_tepra()
