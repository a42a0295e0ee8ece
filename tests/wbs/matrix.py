"""Access-matrix fillers for the whistleblowing routes."""

from __future__ import annotations

from cegah.wbs import keys, services
from cegah.wbs.models import OrgKey, Report
from tests.conftest import CANARY, Personas
from tests.wbs.images import small_png

SELF_ROUTES = {"wbs:oversight", "wbs:oversight_map"}

PUBLIC_ROUTES = {
    "wbs:choose",
    "wbs:report",
    "wbs:receipt_download",
    "wbs:followup_login",
    "wbs:followup",
    "wbs:followup_logout",
    "api:organisations",
    "api:submit",
    "api:open_session",
    "api:session_report",
    "api:session_message",
    "api:session_attachment",
}


def _report(personas: Personas) -> Report:
    report = Report.objects.filter(organisation=personas.org).first()
    if report is not None:
        return report
    if not OrgKey.objects.filter(organisation=personas.org).exists():
        keys.set_up_org_key(personas.org, None)
    data = services.ReportInput(
        category="suap", description=f"Suap di loket perizinan {CANARY} terjadi setiap hari."
    )
    png = small_png()
    return services.submit_report(
        personas.org, data, [services.IncomingFile(f"{CANARY}.png", png)]
    ).report


FILLERS = {
    "report_id": lambda p: _report(p).public_id,
    "attachment_id": lambda p: _report(p).attachments.first().public_id,  # type: ignore[union-attr]
    "fmt": lambda p: "csv",
}
