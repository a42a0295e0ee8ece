"""The duplicates panel on a handler's case page (``cegah.wbs.hooks.CASE_PANELS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cegah.accounts.permissions import Cap, has_cap
from cegah.wbs.integration import services
from cegah.wbs.models import Status

if TYPE_CHECKING:
    from cegah.wbs.models import Report

# Entity kinds as handlers read them (the engine names kinds, never values).
KIND_LABELS = {
    "rt": _("RT"),
    "rw": _("RW"),
    "village": _("village"),
    "district": _("district"),
    "street": _("street"),
    "school": _("school"),
    "amount": _("amount"),
    "amount_bucket": _("amount range"),
    "number": _("number"),
    "person": _("reported person"),
    "institution": _("institution"),
    "region": _("region"),
    "tender": _("tender code"),
}


def duplicates_panel(request: HttpRequest, report: Report) -> tuple[str, dict[str, Any]] | None:
    """Return the panel for ``report`` if it has open candidates or is in a group, else None."""
    fp = services.fingerprint_of_report(report)
    if fp is None:
        return None
    candidates = [
        {
            "candidate": candidate,
            "other": other,
            "agree": [str(KIND_LABELS.get(k, k)) for k in candidate.agree],
            # A pair inside one organisation may be opened by its own handlers.
            "same_org": other.organisation.pk == report.organisation_id,
        }
        for candidate, other in services.open_candidates(fp)
    ]
    group = None
    if fp.group is not None:
        members = services.group_members(fp.group)
        lead = members[0]
        group = {
            "group": fp.group,
            "lead": lead,
            "is_lead": lead.fingerprint_id == fp.pk,
            "status_label": lead.status_label,
            "members": members,
            "others": [m for m in members if m.fingerprint_id != fp.pk],
        }
    if not candidates and group is None:
        return None
    return "wbs_integration/_duplicates.html", {
        "report": report,
        "candidates": candidates,
        "group": group,
        "can_handle": has_cap(request.user, report.organisation, Cap.REPORTS_HANDLE),
        "closed_statuses": (Status.CLOSED, Status.ARCHIVED),
    }
