"""Access helpers for the survey (404 for missing and foreign alike).

A coordinator (``survey.coordinate``) of the organisation that runs an edition manages it; the
responses themselves are never reachable one by one except flagged ones in the integrity review,
and those show no unit when fewer than ``MIN_CELL`` responses share it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404

from cegah.accounts.permissions import Cap
from cegah.orgs.access import access_organisation
from cegah.survey.models import Edition, Locus, Respondent, Response

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User

MIN_CELL = 5


def access_edition(
    user: User | AnonymousUser, slug: str, year: int, cap: Cap = Cap.SURVEY_COORDINATE
) -> Edition:
    org = access_organisation(user, slug, cap)
    edition = (
        Edition.objects.select_related("organisation").filter(organisation=org, year=year).first()
    )
    if edition is None:
        raise Http404
    return edition


def access_locus(user: User | AnonymousUser, slug: str, year: int, locus: str) -> Locus:
    edition = access_edition(user, slug, year)
    found = (
        Locus.objects.select_related("organisation__region", "edition__organisation")
        .filter(edition=edition, organisation__slug=locus)
        .first()
    )
    if found is None:
        raise Http404
    return found


def access_registration(
    user: User | AnonymousUser, slug: str, year: int, locus: str, respondent_id: UUID
) -> Respondent:
    found_locus = access_locus(user, slug, year, locus)
    respondent = (
        Respondent.objects.select_related("locus__edition__organisation", "unit")
        .filter(locus=found_locus, public_id=respondent_id, source=Respondent.Source.SELF)
        .first()
    )
    if respondent is None:
        raise Http404
    return respondent


def access_flagged_response(
    user: User | AnonymousUser, slug: str, year: int, response_id: UUID
) -> Response:
    edition = access_edition(user, slug, year)
    response = (
        Response.objects.select_related("locus__organisation", "edition__organisation")
        .filter(edition=edition, pk=response_id)
        .exclude(flags=[])
        .first()
    )
    if response is None:
        raise Http404
    return response
