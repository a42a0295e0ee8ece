"""Access helpers for duplicate candidates and groups (404 for missing and foreign alike).

A handler acts on a pair only through *their own* report of it: the report is fetched with
``access_report`` and ``Cap.REPORTS_HANDLE`` in its organisation, and the pair must involve it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404

from cegah.accounts.permissions import Cap
from cegah.wbs.access import access_report
from cegah.wbs.integration.models import Candidate, DuplicateGroup, Fingerprint
from cegah.wbs.integration.services import fingerprint_of_report, group_lead

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User


def access_own_fingerprint(
    user: User | AnonymousUser, slug: str, report_id: UUID, cap: Cap = Cap.REPORTS_HANDLE
) -> Fingerprint:
    """Return the fingerprint of report ``report_id`` of ``slug`` if the user holds ``cap`` there."""
    report = access_report(user, slug, report_id, cap)
    fp = fingerprint_of_report(report)
    if fp is None:
        raise Http404
    return fp


def access_candidate(
    user: User | AnonymousUser, slug: str, report_id: UUID, candidate_id: int
) -> tuple[Candidate, Fingerprint]:
    """Return a candidate pair involving the user's report, and that report's fingerprint."""
    fp = access_own_fingerprint(user, slug, report_id)
    candidate = Candidate.objects.filter(pk=candidate_id).filter(a=fp).first() or (
        Candidate.objects.filter(pk=candidate_id, b=fp).first()
    )
    if candidate is None:
        raise Http404
    return candidate, fp


def access_group_as_lead(
    user: User | AnonymousUser, slug: str, report_id: UUID
) -> tuple[DuplicateGroup, Fingerprint]:
    """Return the group led by the user's report, and that report's fingerprint."""
    fp = access_own_fingerprint(user, slug, report_id)
    if fp.group is None:
        raise Http404
    lead = group_lead(fp.group)
    if lead is None or lead.fingerprint_id != fp.pk:
        raise Http404
    return fp.group, fp
