"""Demo data for the whistleblowing module: report keys for the organisations that accept
reports, key pairs for the demo members, and a handful of reports in different stages."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from cegah.accounts.models import User
from cegah.core.demo import DEMO_USERS, demo_password
from cegah.orgs.models import Organisation
from cegah.wbs import keys, services
from cegah.wbs.deadlines import deadlines_for
from cegah.wbs.models import Event, Message, OrgKey, Policy, Referral, Report, Status

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
        "days_ago": 3,
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
        "days_ago": 24,
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
        # Never answered, and older than 30 working days: the overdue filter shows it.
        "days_ago": 62,
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
        "days_ago": 95,
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
        backdate_report(report, timezone.now() - timedelta(days=item["days_ago"]))
        if index == 0:
            notes.append(
                f"Demo reporter receipt (open it at /lapor/pantau/): {keys.format_receipt(submitted.receipt)}"
            )
    return notes


def backdate_report(report: Report, received_at: datetime) -> None:
    """Move a demo report, just created and handled, back to ``received_at``, consistently.

    Its events and messages keep their order, spread between ``received_at`` and an hour ago;
    the times it was acknowledged, examined, answered, referred and closed follow them; the
    deadlines are recomputed from the new dates under the organisation's policy (working days,
    public holidays), from the referral for a referred report, as the services compute them.
    """
    now = timezone.now()
    report = Report.objects.get(pk=report.pk)
    events = list(Event.objects.filter(report=report).order_by("created_at", "id"))
    messages = list(Message.objects.filter(report=report).order_by("created_at", "id"))
    span = max(now - timedelta(hours=1) - received_at, timedelta(0))
    moments = [received_at + span * (i / max(len(events) - 1, 1)) for i in range(len(events))]
    kinds = {
        "message_question": Message.Kind.QUESTION,
        "message_handler": Message.Kind.HANDLER,
        "message_note": Message.Kind.NOTE,
        "reporter_message": Message.Kind.REPORTER,
    }
    first: dict[str, datetime] = {}
    for event, moment in zip(events, moments, strict=True):
        event.created_at = moment
        kind = kinds.get(event.kind)
        if kind is not None:
            message = next((m for m in messages if m.kind == kind), None)
            if message is not None:
                messages.remove(message)
                message.created_at = moment
                message.save(update_fields=["created_at"])
        key = event.kind
        if event.kind == "status_changed":
            key = f"status:{event.data.get('to')}"
        first.setdefault(key, moment)
    Event.objects.bulk_update(events, ["created_at"])
    referrals = list(Referral.objects.filter(report=report).order_by("created_at", "id"))
    referred_events = [e for e in events if e.kind == "referred"]
    for referral, event in zip(referrals, referred_events, strict=False):
        referral.created_at = event.created_at
        referral.save(update_fields=["created_at"])
    handled = [e.created_at for e in events if e.kind == "status_changed" or e.kind in kinds]
    examined = [
        e.created_at
        for e in events
        if e.kind == "status_changed"
        and e.data.get("to") in EXAMINED
        and (not referred_events or e.created_at > referred_events[-1].created_at)
    ]
    answered = [e.created_at for e in events if e.kind in {"message_question", "message_handler"}]
    report.received_at = received_at
    report.acknowledged_at = (min(handled) if handled else None) if report.acknowledged_at else None
    report.examined_at = (min(examined) if examined else None) if report.examined_at else None
    report.answered_at = (min(answered) if answered else None) if report.answered_at else None
    report.closed_at = first.get("status:closed") if report.closed_at else None
    start = referrals[-1].created_at if referrals else received_at
    due = deadlines_for(services.policy_for(report.organisation).profile, timezone.localdate(start))
    report.due_examine, report.due_answer, report.due_ack, report.due_feedback = (
        due.examine,
        due.answer,
        due.ack,
        due.feedback,
    )
    report.save(
        update_fields=[
            "received_at",
            "acknowledged_at",
            "examined_at",
            "answered_at",
            "closed_at",
            "due_examine",
            "due_answer",
            "due_ack",
            "due_feedback",
        ]
    )


# The stages after which a report counts as examined (as services.transition_report records it).
EXAMINED = {
    Status.ASSESSMENT,
    Status.FOLLOW_UP,
    Status.REFERRED,
    Status.ARCHIVED,
    Status.CLOSED,
}


def _demo_org_private(org: Organisation, user: User, password: str) -> bytes:
    from cegah.core.crypto import unwrap
    from cegah.wbs.models import KeyShare

    private = keys.unlock_user_key(user, password)
    share = KeyShare.objects.select_related("org_key").get(org_key__organisation=org, user=user)
    return unwrap(private, bytes(share.wrapped), keys.org_share_info(share.org_key, user.pk))
