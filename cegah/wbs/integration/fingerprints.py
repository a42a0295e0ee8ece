"""The hub's de-duplication key and the one place intake answers become engine input.

Both the intake hook and ``cegah wbs duplicates`` go through ``cegah.wbs.dedup`` with the key
returned here, so the evaluation command measures exactly what production stores.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.conf import settings

from cegah.core.crypto import derived_secret
from cegah.wbs.dedup import DedupKey, ReportFields
from cegah.wbs.dedup.entities import tender_codes_in_text

if TYPE_CHECKING:
    from cegah.orgs.models import Organisation
    from cegah.wbs.services import ReportInput

KEY_PURPOSE = "wbs-dedup"


@functools.lru_cache(maxsize=4)
def _key_for(root: str) -> DedupKey:
    return DedupKey(derived_secret(root.encode(), KEY_PURPOSE))


def dedup_key() -> DedupKey:
    """Return the hub's de-duplication key, derived from ``settings.DATA_SECRET``."""
    return _key_for(str(settings.DATA_SECRET))


def report_text(data: ReportInput) -> str:
    """Return the narrative the fingerprint is computed from: what, where, when, how."""
    parts = [data.description, data.where, data.when, data.how]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def intake_fields(data: ReportInput, reported_organisation: Organisation | None) -> ReportFields:
    """Return the engine's input for a submitted report (plaintext, in memory only)."""
    text = report_text(data)
    persons = []
    institutions = []
    for party in data.reported:
        # A position stands in for a person only when no name is given ("Kepala Desa Sukamaju").
        if party.name.strip():
            persons.append(party.name)
        elif party.position.strip():
            persons.append(f"{party.position} {party.institution}".strip())
        if party.institution.strip():
            institutions.append(party.institution)
    if reported_organisation is not None:
        institutions.append(reported_organisation.name)
    if data.reported_institution_text.strip():
        institutions.append(data.reported_institution_text)
    return ReportFields(
        text=text,
        reported_persons=tuple(persons),
        reported_institutions=tuple(institutions),
        region=data.region_code or None,
        tender_codes=tuple(tender_codes_in_text(text)),
        amount=data.amount,
    )
