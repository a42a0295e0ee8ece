"""Demo: one incident reported, each time in other words, to Inspektorat Provinsi Lampung (seen by
``penangan``/``supervisor``), to KPK (``kpk.pengaduan``) and to Inspektorat Kabupaten Lampung
Selatan, so that every handler sees the others as possible duplicates without seeing their text.

Idempotent: the demo reports carry the label ``DEMO_LABEL`` and are submitted only once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from cegah.orgs.models import Organisation
from cegah.wbs import services
from cegah.wbs.demo import backdate_report
from cegah.wbs.models import Report

DEMO_LABEL = "demo-duplikat"

DEMO_DUPLICATES: tuple[dict[str, Any], ...] = (
    {
        "org": "inspektorat-lampung",
        "channel": "web",
        "hours_ago": 50,
        "category": "kerugian_negara",
        "description": "Kepala Desa Sukamaju di Kecamatan Natar memotong Bantuan Langsung Tunai "
        "Dana Desa (BLT-DD) sebesar Rp300.000 dari setiap keluarga penerima manfaat. Pencairan "
        "dilakukan di balai desa pada bulan Oktober 2026 dan warga diminta menandatangani "
        "kuitansi penuh Rp900.000. Sekitar 120 keluarga di Dusun II dan Dusun III mengalami "
        "pemotongan ini.",
        "where": "Balai Desa Sukamaju, Kecamatan Natar",
        "when": "Oktober 2026",
        "how": "Uang dipotong langsung oleh bendahara desa atas perintah kades saat pencairan.",
        "amount": 36_000_000,
        "reported": [
            {
                "name": "",
                "position": "Kepala Desa",
                "institution": "Pemerintah Desa Sukamaju",
            }
        ],
    },
    {
        "org": "kpk",
        "channel": "whatsapp",
        "hours_ago": 26,
        "category": "pemerasan",
        "description": "Saat pembagian BLT dana desa bulan Oktober 2026 di balai Desa Sukamaju, "
        "Natar, setiap penerima hanya menerima Rp600.000 padahal haknya Rp900.000. Potongan "
        "Rp300.000 per keluarga diambil bendahara desa atas perintah kepala desa, dan warga "
        "tetap disuruh menandatangani kuitansi Rp900.000. Yang dipotong kurang lebih 120 KPM di "
        "Dusun II dan III.",
        "where": "Desa Sukamaju, Natar, Lampung Selatan",
        "amount": 36_000_000,
        "reported": [
            {"name": "", "position": "Kades", "institution": "Pemdes Sukamaju"},
        ],
    },
    {
        "org": "inspektorat-lampung-selatan",
        "channel": "phone",
        "hours_ago": 5,
        "category": "kerugian_negara",
        "description": "Warga Desa Sukamaju Kecamatan Natar melapor lewat telepon: BLT dana desa bulan "
        "Oktober 2026 dipotong Rp300.000 per keluarga. Kuitansi yang ditandatangani Rp900.000 "
        "tetapi uang yang diterima Rp600.000. Pemotongan dilakukan bendahara desa di balai desa "
        "atas perintah kepala desa, sekitar 120 keluarga penerima di Dusun II dan Dusun III.",
        "where": "Desa Sukamaju",
        "amount": 36_000_000,
        "reported": [
            {"name": "", "position": "Kepala Desa", "institution": "Pemerintah Desa Sukamaju"},
        ],
    },
)


def load_demo() -> list[str]:
    """Submit the demo incident to the three organisations (once) and match it at once."""
    from cegah.wbs.integration.services import find_candidates, fingerprint_of_report

    orgs = {
        o.slug: o for o in Organisation.objects.filter(slug__in=[d["org"] for d in DEMO_DUPLICATES])
    }
    if len(orgs) < len(DEMO_DUPLICATES):
        return []
    already = [
        r
        for r in Report.objects.filter(organisation__in=orgs.values()).only("labels")
        if DEMO_LABEL in (r.labels or [])
    ]
    if already:
        return []
    accepting = set(services.accepting_organisations().values_list("slug", flat=True))
    reports = []
    for item in DEMO_DUPLICATES:
        if item["org"] not in accepting:
            continue
        data = services.ReportInput(
            category=item["category"],
            description=item["description"],
            reported=[services.ReportedParty(**p) for p in item["reported"]],
            region_code="18.01",
            where=item.get("where", ""),
            when=item.get("when", ""),
            how=item.get("how", ""),
            amount=item["amount"],
        )
        report = services.submit_report(orgs[item["org"]], data, channel=item["channel"]).report
        # Received hours ago: its history and deadlines date from then, not from now.
        backdate_report(report, timezone.now() - timedelta(hours=item["hours_ago"]))
        Report.objects.filter(pk=report.pk).update(labels=[DEMO_LABEL])
        reports.append(report)
    # The worker would match them moments later; matching here makes `cegah demo` complete on
    # its own. The task that runs afterwards finds the same pairs and changes nothing.
    for report in reports:
        fp = fingerprint_of_report(report)
        if fp is not None:
            find_candidates(fp.pk)
    return (
        [
            "Possible duplicates: one incident reported to "
            + ", ".join(item["org"] for item in DEMO_DUPLICATES)
            + " (log in as penangan or kpk.pengaduan and open the newest report)."
        ]
        if reports
        else []
    )
