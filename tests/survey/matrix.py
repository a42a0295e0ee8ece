"""Access-matrix fillers for the survey routes."""

from __future__ import annotations

from cegah.survey.models import Edition, Respondent, Response
from tests.conftest import CANARY, Personas

PUBLIC_ROUTES = {
    "survey:respond",
    "survey:respond_start",
    "survey:respond_page",
    "survey:respond_optout",
    "survey:register",
}
SELF_ROUTES = {"survey:home"}


def _world(personas: Personas):  # type: ignore[no-untyped-def]
    from tests.survey.web import make_world

    edition = Edition.objects.filter(organisation=personas.org).first()
    if edition is None:
        return make_world(personas)
    return edition


def _edition(personas: Personas) -> Edition:
    world = _world(personas)
    return world if isinstance(world, Edition) else world.edition


def _response(personas: Personas) -> Response:
    edition = _edition(personas)
    found = Response.objects.filter(edition=edition).first()
    if found is not None:
        return found
    locus = edition.loci.get()
    return Response.objects.create(
        edition=edition,
        locus=locus,
        unit=locus.organisation,
        group="internal",
        answers={"komentar": CANARY},
        submitted_on="2026-01-01",
        flags=["speeder"],
        review="flagged",
    )


def _registration(personas: Personas) -> Respondent:
    from cegah.survey import services

    locus = _edition(personas).loci.get()
    found = Respondent.objects.filter(locus=locus, source="self").first()
    if found is not None:
        return found
    made = services.register_self(
        locus, locus.organisation, f"Warga {CANARY}", "+6281299990000", ""
    )
    assert made is not None
    return made


FILLERS = {
    "year": lambda p: _edition(p).year,
    "locus": lambda p: _edition(p).loci.get().organisation.slug,
    "response_id": lambda p: _response(p).pk,
    "respondent_id": lambda p: _registration(p).public_id,
    # Public routes get unknown codes: they must answer 404 and show nothing.
    "token": lambda p: "tidak-ada-token",
    "code": lambda p: "tidak-ada-kode",
}
