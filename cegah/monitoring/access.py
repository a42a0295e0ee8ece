"""Access helpers for monitoring: the only way views and the API fetch monitoring objects.

Two kinds of access:
- **own**: a member of the regional government itself (``monitoring.view`` to read,
  ``monitoring.edit`` to fill in its self-assessment, TEPRA and progress on recommendations);
- **supervising**: a member of an organisation with a ``Coverage`` row over it (``monitoring.view``
  to read, ``monitoring.verify`` to verify and to issue recommendations). A supervisor never sees
  an assessment still in draft.

Every helper raises Http404 for both "missing" and "not yours".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from cegah.accounts.permissions import ROLE_CAPS, Cap, has_cap
from cegah.monitoring.models import (
    Assessment,
    Coverage,
    Evidence,
    Meeting,
    Period,
    ProgressUpdate,
    Recommendation,
    StrategicProject,
    SubIndicator,
    TepraImport,
)
from cegah.orgs.models import Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import ApiToken, User

    AnyUser = User | AnonymousUser

REGIONAL_KINDS = (Organisation.Kind.PROVINCE, Organisation.Kind.REGENCY)


def orgs_with_cap(user: AnyUser, cap: Cap) -> list[Organisation]:
    """Return the active organisations in which ``user`` holds ``cap`` (one query)."""
    if not user.is_authenticated:
        return []
    roles_by_org: dict[int, set[str]] = {}
    orgs: dict[int, Organisation] = {}
    for membership in user.memberships.select_related("organisation__region"):  # type: ignore[union-attr]
        if membership.organisation.is_active:
            roles_by_org.setdefault(membership.organisation_id, set()).add(membership.role)
            orgs[membership.organisation_id] = membership.organisation
    return [
        orgs[pk]
        for pk, roles in roles_by_org.items()
        if any(cap in ROLE_CAPS.get(role, frozenset()) for role in roles)
    ]


def supervising_orgs(user: AnyUser, cap: Cap) -> list[Organisation]:
    """Return the user's organisations holding ``cap`` that cover any regional government."""
    mine = orgs_with_cap(user, cap)
    with_rows = set(
        Coverage.objects.filter(supervisor__in=mine).values_list("supervisor_id", flat=True)
    )
    return [o for o in mine if o.pk in with_rows]


def coverage_filter(organisation: Organisation) -> Q:
    """Return a Coverage filter matching the rows that cover ``organisation``."""
    q = Q(nationwide=True) | Q(organisation=organisation)
    if organisation.region_id:
        q |= Q(region_id=organisation.region_id)
        if "." in organisation.region_id:
            q |= Q(region_id=organisation.region_id.split(".")[0])
    return q


def covered_organisations(supervisors: list[Organisation]) -> QuerySet[Organisation]:
    """Return the active regional governments covered by any of ``supervisors``."""
    base = Organisation.objects.filter(kind__in=REGIONAL_KINDS, is_active=True).select_related(
        "region"
    )
    rows = list(
        Coverage.objects.filter(supervisor__in=supervisors).values_list(
            "nationwide", "region_id", "organisation_id"
        )
    )
    if not rows:
        return base.none()
    if any(nationwide for nationwide, _r, _o in rows):
        return base
    regions = [r for _n, r, _o in rows if r]
    org_ids = [o for _n, _r, o in rows if o]
    return base.filter(
        Q(pk__in=org_ids) | Q(region_id__in=regions) | Q(region__parent_id__in=regions)
    )


def supervisors_of(user: AnyUser, organisation: Organisation, cap: Cap) -> list[Organisation]:
    """Return the user's organisations that hold ``cap`` and cover ``organisation``."""
    mine = orgs_with_cap(user, cap)
    if not mine:
        return []
    covering = set(
        Coverage.objects.filter(coverage_filter(organisation), supervisor__in=mine).values_list(
            "supervisor_id", flat=True
        )
    )
    return [org for org in mine if org.pk in covering]


@dataclass(frozen=True)
class Monitored:
    """A regional government as the current user may see it."""

    org: Organisation
    is_own: bool
    can_edit: bool
    can_verify: bool
    supervisors: tuple[Organisation, ...]  # the user's organisations that cover it

    @property
    def is_supervisor(self) -> bool:
        return bool(self.supervisors)


def access_monitored(user: AnyUser, slug: str, *, edit: bool = False) -> Monitored:
    """Return the regional government ``slug`` as the user may see it, else raise Http404.

    With ``edit`` the user must be able to edit its own monitoring data.
    """
    org = (
        Organisation.objects.select_related("region", "parent")
        .filter(slug=slug, is_active=True, kind__in=REGIONAL_KINDS)
        .first()
    )
    if org is None or not user.is_authenticated:
        raise Http404
    is_own = has_cap(user, org, Cap.MONITORING_VIEW)
    can_edit = has_cap(user, org, Cap.MONITORING_EDIT)
    supervising = tuple(supervisors_of(user, org, Cap.MONITORING_VIEW))
    verifying = bool(supervisors_of(user, org, Cap.MONITORING_VERIFY)) if supervising else False
    if not (is_own or supervising) or (edit and not can_edit):
        raise Http404
    return Monitored(org, is_own, can_edit, verifying, supervising)


def access_period(period_id: int) -> Period:
    """Return an active framework's period (frameworks are shared reference data)."""
    period = (
        Period.objects.select_related("framework")
        .filter(pk=period_id, framework__is_active=True)
        .first()
    )
    if period is None:
        raise Http404
    return period


def access_assessment(
    user: AnyUser, slug: str, period_id: int, *, edit: bool = False
) -> tuple[Monitored, Period, Assessment | None]:
    """Return the institution, the period and its assessment (None if not started).

    A supervisor who is not a member gets None for a draft: drafts are the institution's own.
    """
    monitored = access_monitored(user, slug, edit=edit)
    period = access_period(period_id)
    assessment = Assessment.objects.filter(organisation=monitored.org, period=period).first()
    if (
        assessment is not None
        and assessment.status == Assessment.Status.DRAFT
        and not monitored.is_own
    ):
        assessment = None
    return monitored, period, assessment


def access_sub_indicator(period: Period, sub_id: int) -> SubIndicator:
    sub = (
        SubIndicator.objects.select_related("indicator__area")
        .filter(pk=sub_id, indicator__area__framework_id=period.framework_id)
        .first()
    )
    if sub is None:
        raise Http404
    return sub


def access_evidence(user: AnyUser, evidence_id: int, *, edit: bool = False) -> Evidence:
    """Return evidence the user may open (or, with ``edit``, remove), else raise Http404."""
    evidence = (
        Evidence.objects.select_related(
            "answer__assessment__organisation", "answer__assessment__period"
        )
        .filter(pk=evidence_id)
        .first()
    )
    if evidence is None:
        raise Http404
    assessment = evidence.answer.assessment
    monitored = access_monitored(user, assessment.organisation.slug, edit=edit)
    if assessment.status == Assessment.Status.DRAFT and not monitored.is_own:
        raise Http404
    return evidence


def _recommendation_readers(user: AnyUser, rec: Recommendation) -> bool:
    if has_cap(user, rec.institution, Cap.MONITORING_VIEW):
        return True
    if has_cap(user, rec.issued_by, Cap.MONITORING_VIEW):
        return True
    return bool(supervisors_of(user, rec.institution, Cap.MONITORING_VIEW))


def access_recommendation(user: AnyUser, recommendation_id: int) -> Recommendation:
    """Return a recommendation the user's institution received, issued or supervises."""
    rec = (
        Recommendation.objects.select_related(
            "institution__region", "issued_by", "meeting", "responsible_unit"
        )
        .filter(pk=recommendation_id)
        .first()
    )
    if rec is None or not user.is_authenticated or not _recommendation_readers(user, rec):
        raise Http404
    return rec


def can_manage_recommendation(user: AnyUser, rec: Recommendation) -> bool:
    """True for verifiers of the issuing organisation (they close, cancel or reopen it)."""
    return has_cap(user, rec.issued_by, Cap.MONITORING_VERIFY)


def can_report_progress(user: AnyUser, rec: Recommendation) -> bool:
    return has_cap(user, rec.institution, Cap.MONITORING_EDIT)


def access_progress_update(user: AnyUser, update_id: int) -> ProgressUpdate:
    update = ProgressUpdate.objects.filter(pk=update_id).first()
    if update is None:
        raise Http404
    access_recommendation(user, update.recommendation_id)
    return update


def access_meeting(user: AnyUser, meeting_id: int) -> Meeting:
    """Return a meeting convened by the user's organisation, or one with a recommendation the user
    may read (``access_recommendation``: its institution, its issuer, or a supervisor covering
    the institution), so that the minutes linked from that recommendation open."""
    meeting = Meeting.objects.select_related("convened_by").filter(pk=meeting_id).first()
    if meeting is None or not user.is_authenticated:
        raise Http404
    if has_cap(user, meeting.convened_by, Cap.MONITORING_VIEW):
        return meeting
    for rec in meeting.recommendations.select_related("institution__region", "issued_by"):
        if _recommendation_readers(user, rec):
            return meeting
    raise Http404


def access_project(user: AnyUser, project_id: int, *, edit: bool = False) -> StrategicProject:
    project = StrategicProject.objects.select_related("organisation").filter(pk=project_id).first()
    if project is None:
        raise Http404
    access_monitored(user, project.organisation.slug, edit=edit)
    return project


def access_tepra_import(user: AnyUser, import_id: int) -> TepraImport:
    row = TepraImport.objects.select_related("organisation").filter(pk=import_id).first()
    if row is None:
        raise Http404
    access_monitored(user, row.organisation.slug)
    return row


# --- Machine clients -------------------------------------------------------------------------


def token_visible_organisations(token: ApiToken) -> QuerySet[Organisation]:
    """The token's own organisation (if a regional government) and those it covers."""
    own = Organisation.objects.filter(
        pk=token.organisation_id, kind__in=REGIONAL_KINDS, is_active=True
    )
    covered = covered_organisations([token.organisation])
    return (
        Organisation.objects.filter(Q(pk__in=own) | Q(pk__in=covered.values("pk")))
        .select_related("region")
        .order_by("name")
    )


def access_token_monitored(token: ApiToken, slug: str) -> Organisation:
    """Return regional government ``slug`` if the token's organisation is it or covers it."""
    org = token_visible_organisations(token).filter(slug=slug).first()
    if org is None:
        raise Http404
    return org
