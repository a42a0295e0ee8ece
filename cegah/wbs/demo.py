"""Demo data for the whistleblowing module: report keys for the organisations that accept
reports, key pairs for the demo members, and a handful of reports in different stages."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from django.utils import timezone

from cegah.accounts.models import User
from cegah.core.demo import DEMO_USERS, demo_password
from cegah.orgs.models import Organisation
from cegah.wbs import keys, services
from cegah.wbs.models import Message, OrgKey, Policy, Report, Status

DEMO_REPORTS: tuple[dict[str, Any], ...] = (
    {
        "category": "pemerasan",
        "description": "Petugas pelayanan KTP di kantor kecamatan meminta uang Rp150.000 per berkas agar e-KTP "
        "selesai cepat. Warga yang tidak membayar diminta kembali minggu depan berulang kali.",
        "where": "Kantor Kecamatan Kedaton",
        "region_code": "18.71",
        "when": "Sejak Agustus 2026",
        "how": "Uang diminta langsung di loket, tanpa kuitansi.",
        "amount": 15_000_000,
        "reported": [
            {
                "name": "Petugas loket (nama belum diketahui)",
                "position": "Staf pelayanan",
                "institution": "Kecamatan Kedaton",
            }
        ],
        "status": Status.RECEIVED,
        "photo": True,
    },
    {
        "category": "benturan_pbj",
        "description": "Paket rehabilitasi jalan provinsi dimenangkan perusahaan milik adik Kepala Dinas PUPR. "
        "Penawaran pemenang hanya 0,5% di bawah HPS dan peserta lain digugurkan karena alasan administratif.",
        "where": "Dinas PUPR Provinsi Lampung",
        "region_code": "18",
        "when": "Tender Juni 2026",
        "how": "Pengaturan spesifikasi dan pengguguran peserta lain.",
        "amount": 2_400_000_000,
        "reported": [
            {
                "name": "Ir. S.",
                "position": "Kepala Dinas",
                "institution": "Dinas PUPR Provinsi Lampung",
            }
        ],
        "status": Status.ASSESSMENT,
        "refer_to": "kpk",
        "question": "Apakah Anda memiliki nomor paket tender atau kode RUP-nya?",
        "answer": "Kode RUP-nya 45112233, pengumuman di LPSE tanggal 3 Juni 2026.",
    },
    {
        "category": "kerugian_negara",
        "description": "Dana desa untuk pembangunan embung tahun 2025 dilaporkan selesai, tetapi di lapangan "
        "embung tidak pernah dibangun. Laporan pertanggungjawaban memakai foto dari desa lain.",
        "where": "Desa Sukamaju",
        "region_code": "18.01",
        "when": "Tahun anggaran 2025",
        "amount": 380_000_000,
        "reported": [
            {
                "name": "Kepala Desa Sukamaju",
                "position": "Kades",
                "institution": "Pemerintah Desa Sukamaju",
            }
        ],
        "status": Status.FOLLOW_UP,
    },
    {
        "category": "gratifikasi",
        "description": "Pejabat BPKAD menerima parsel dan voucher belanja dari rekanan menjelang akhir tahun "
        "anggaran, setelah pembayaran termin dipercepat.",
        "where": "BPKAD Provinsi Lampung",
        "region_code": "18",
        "when": "Desember 2025",
        "reported": [
            {
                "name": "",
                "position": "Kepala Bidang Perbendaharaan",
                "institution": "BPKAD Provinsi Lampung",
            }
        ],
        "status": Status.CLOSED,
        "outcome": "administrative",
    },
)

# A 1x1 PNG, enough to show a photo attachment in the demo.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def load_demo() -> list[str]:
    notes: list[str] = []
    password = demo_password()
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        keys.unlock_user_key(user, password)
    for org in Organisation.objects.filter(accepts_reports=True, is_active=True):
        if not OrgKey.objects.filter(organisation=org).exists():
            recovery = keys.set_up_org_key(org, None)
            if org.slug in {"inspektorat-lampung", "kpk"}:
                notes.append(
                    f"Recovery key of {org.slug} (shown once, keep it offline): {recovery}"
                )
    inspektorat = Organisation.objects.get(slug="inspektorat-lampung")
    # The demo WhatsApp/SMS line answers for Inspektorat Provinsi Lampung.
    if not Policy.objects.filter(receives_channel_reports=True).exists():
        services.policy_for(inspektorat)
        Policy.objects.filter(organisation=inspektorat).update(receives_channel_reports=True)
    if Report.objects.filter(organisation=inspektorat).exists():
        return notes
    handler = User.objects.get(username="penangan")
    org_private = _demo_org_private(inspektorat, handler, password)
    for index, item in enumerate(DEMO_REPORTS):
        data = services.ReportInput(
            category=item["category"],
            description=item["description"],
            reported=[services.ReportedParty(**p) for p in item["reported"]],
            region_code=item.get("region_code", ""),
            where=item.get("where", ""),
            when=item.get("when", ""),
            how=item.get("how", ""),
            amount=item.get("amount"),
        )
        files = [services.IncomingFile("foto-loket.png", _PNG)] if item.get("photo") else []
        submitted = services.submit_report(inspektorat, data, files, channel="web")
        report = submitted.report
        Report.objects.filter(pk=report.pk).update(
            received_at=timezone.now() - timedelta(days=3 + 9 * index)
        )
        report.refresh_from_db()
        data_key = keys.report_data_key(report, org_private)
        assert data_key is not None
        path = {
            Status.RECEIVED: [],
            Status.ASSESSMENT: [Status.VERIFICATION, Status.ASSESSMENT],
            Status.FOLLOW_UP: [Status.VERIFICATION, Status.ASSESSMENT, Status.FOLLOW_UP],
            Status.CLOSED: [
                Status.VERIFICATION,
                Status.ASSESSMENT,
                Status.FOLLOW_UP,
                Status.CLOSED,
            ],
        }[item["status"]]
        if path:
            services.assign_report(report, handler, handler)
        for step in path:
            report = services.transition_report(
                report,
                step,
                handler,
                outcome=item.get("outcome", "") if step == Status.CLOSED else "",
            )
        if item.get("question"):
            services.post_message(
                report, data_key, Message.Kind.QUESTION, item["question"], handler
            )
            services.reporter_reply(report, data_key, item["answer"])
        if item.get("refer_to"):
            from cegah.wbs.referral import refer_report

            refer_report(report, Organisation.objects.get(slug=item["refer_to"]), data_key, handler)
        if index == 0:
            notes.append(
                f"Demo reporter receipt (open it at /lapor/pantau/): {keys.format_receipt(submitted.receipt)}"
            )
    return notes


def _demo_org_private(org: Organisation, user: User, password: str) -> bytes:
    from cegah.core.crypto import unwrap
    from cegah.wbs.models import KeyShare

    private = keys.unlock_user_key(user, password)
    share = KeyShare.objects.select_related("org_key").get(org_key__organisation=org, user=user)
    return unwrap(private, bytes(share.wrapped), keys.org_share_info(share.org_key, user.pk))
