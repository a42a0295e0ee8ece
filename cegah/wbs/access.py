"""Access helpers for reports and attachments (404 for missing and foreign alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404

from cegah.accounts.permissions import Cap
from cegah.orgs.access import access_organisation
from cegah.wbs.models import Attachment, Report

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User


def access_report(
    user: User | AnonymousUser, slug: str, report_id: UUID, cap: Cap = Cap.REPORTS_READ
) -> Report:
    """Return report ``report_id`` of organisation ``slug`` if the user holds ``cap`` there."""
    org = access_organisation(user, slug, cap)
    report = (
        Report.objects.select_related("organisation", "region", "assignee", "reported_organisation")
        .filter(public_id=report_id, organisation=org)
        .first()
    )
    if report is None:
        raise Http404
    return report


def access_attachment(
    user: User | AnonymousUser, slug: str, report_id: UUID, attachment_id: UUID
) -> Attachment:
    report = access_report(user, slug, report_id)
    attachment = (
        Attachment.objects.select_related("report")
        .filter(public_id=attachment_id, report=report)
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment
