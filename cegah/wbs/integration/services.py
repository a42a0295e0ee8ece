"""Duplicate detection across organisations: storing fingerprints, finding candidates, and the
handlers' decisions (confirm, dismiss, lead of a group).

Only keyed fingerprints and metadata are read or written here; no function receives or returns
another organisation's report content. Audit details name entity kinds and ids, never values.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.wbs.dedup import THRESHOLD, band_rows, compare, fingerprint
from cegah.wbs.dedup import Fingerprint as EngineFingerprint
from cegah.wbs.dedup.lsh import ROW_CAP
from cegah.wbs.dedup.pipeline import CANDIDATE_LIMIT
from cegah.wbs.integration.fingerprints import dedup_key, intake_fields
from cegah.wbs.integration.models import Band, Candidate, DuplicateGroup, Fingerprint
from cegah.wbs.models import Category, Status

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation
    from cegah.wbs.integration.models import ExternalCase
    from cegah.wbs.models import Report
    from cegah.wbs.services import ReportInput

logger = logging.getLogger("cegah.wbs.integration")


# --- storing -----------------------------------------------------------------------------------


def on_intake(report: Report, data: ReportInput) -> None:
    """``INTAKE_HOOKS`` entry: fingerprint the plaintext in memory, store only derived values, and
    look for duplicates once the submission commits."""
    key = dedup_key()
    fp = fingerprint(intake_fields(data, report.reported_organisation), key)
    row, changed = store_fingerprint(fp, organisation=report.organisation, report=report)
    if changed:
        from cegah.wbs.integration.tasks import match_fingerprint

        enqueue_on_commit(match_fingerprint, row.pk)


def store_fingerprint(
    fp: EngineFingerprint,
    *,
    organisation: Organisation,
    report: Report | None = None,
    external_case: ExternalCase | None = None,
) -> tuple[Fingerprint, bool]:
    """Store (or replace) the fingerprint of a report or external case with its band rows.

    Returns the row and whether anything changed (an identical re-push changes nothing).
    """
    data = fp.to_bytes()
    digest = hashlib.sha256(data).hexdigest()
    subject: dict[str, Any] = {"report": report} if report is not None else {}
    if external_case is not None:
        subject = {"external_case": external_case}
    if not subject:
        raise ValueError("a fingerprint belongs to a report or an external case")
    with transaction.atomic():
        row = Fingerprint.objects.select_for_update().filter(**subject).first()
        if row is not None and row.digest == digest:
            return row, False
        if row is None:
            row = Fingerprint.objects.create(
                organisation=organisation, data=data, key_id=fp.key_id, digest=digest, **subject
            )
        else:
            row.data, row.key_id, row.digest = data, fp.key_id, digest
            row.save(update_fields=["data", "key_id", "digest"])
            row.bands.all().delete()
        Band.objects.bulk_create(
            [Band(fingerprint=row, band=b, band_hash=h) for b, h in band_rows(fp, dedup_key())]
        )
    return row, True


# --- matching ----------------------------------------------------------------------------------


def candidate_sql(
    rows: Sequence[tuple[int, int]],
    exclude: int,
    limit: int = CANDIDATE_LIMIT,
    table: str = "",
    row_cap: int = ROW_CAP,
) -> tuple[str, list[int]]:
    """Return the one indexed query for the fingerprints sharing band rows with ``rows``.

    Each arm is one equality probe of the (band, band_hash, fingerprint_id) index that reads at
    most ``row_cap`` entries, newest first, from the index alone (SQLite and PostgreSQL); the
    outer query counts shared rows per fingerprint and keeps the ``limit`` best. The cap bounds
    the work per query whatever the size of a bucket (``cegah.wbs.dedup.lsh.ROW_CAP``). The
    benchmark (``bench/dedup_query.py``) runs this same SQL.
    """
    table = table or Band._meta.db_table
    arm = (
        f"SELECT * FROM (SELECT fingerprint_id FROM {table} "  # noqa: S608 - table is ours
        "WHERE band = %s AND band_hash = %s ORDER BY fingerprint_id DESC LIMIT %s) AS p"
    )
    arms = " UNION ALL ".join(arm.replace("AS p", f"AS p{i}") for i in range(len(rows)))
    params: list[int] = [v for band, band_hash in rows for v in (band, band_hash, row_cap)]
    sql = (
        f"SELECT fingerprint_id, COUNT(*) AS hits FROM ({arms}) AS probes "  # noqa: S608
        "WHERE fingerprint_id <> %s "
        "GROUP BY fingerprint_id ORDER BY hits DESC, fingerprint_id DESC LIMIT %s"
    )
    return sql, [*params, exclude, limit]


def candidate_ids(fingerprint_id: int, rows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return ``(fingerprint_id, shared_rows)`` of up to ``CANDIDATE_LIMIT`` other fingerprints."""
    if not rows:
        return []
    sql, params = candidate_sql(rows, fingerprint_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def find_candidates(fingerprint_id: int) -> list[Candidate]:
    """Re-rank the blocking candidates of one fingerprint and store the pairs above THRESHOLD.

    Idempotent: a pair is stored once (a < b); a later run refreshes the score of an open pair
    and leaves decided pairs alone. Returns the pairs found in this run.
    """
    row = Fingerprint.objects.filter(pk=fingerprint_id).first()
    if row is None:
        return []
    rows = list(row.bands.values_list("band", "band_hash"))
    hits = candidate_ids(row.pk, rows)
    if not hits:
        return []
    mine = EngineFingerprint.from_bytes(bytes(row.data))
    others = Fingerprint.objects.filter(pk__in=[fid for fid, _n in hits], key_id=row.key_id).only(
        "pk", "data", "key_id", "organisation_id"
    )
    found = []
    for other in others:
        match = compare(mine, EngineFingerprint.from_bytes(bytes(other.data)))
        if match.score < THRESHOLD:
            continue
        a, b = sorted((row.pk, other.pk))
        with transaction.atomic():
            candidate, created = Candidate.objects.get_or_create(
                a_id=a, b_id=b, defaults={"score": match.score, "agree": list(match.agree)}
            )
            if not created and candidate.status == Candidate.State.OPEN:
                candidate.score, candidate.agree = match.score, list(match.agree)
                candidate.save(update_fields=["score", "agree"])
            if created:
                for org_id in {row.organisation_id, other.organisation_id}:
                    audit.record(
                        "wbs.duplicate.found",
                        organisation=_org(org_id),
                        obj=candidate,
                        details={"score": round(match.score, 3), "agree": list(match.agree)},
                    )
        found.append(candidate)
    return found


def _org(org_id: int) -> Organisation:
    from cegah.orgs.models import Organisation

    return Organisation.objects.get(pk=org_id)


# --- what handlers see -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSummary:
    """The metadata of one side of a pair that the other side may see."""

    fingerprint_id: int
    organisation: Organisation
    received_at: datetime
    category: str
    status: str
    report: Report | None

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label) if self.category in Category.values else ""

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label) if self.status in Status.values else self.status


def summary_of(fp: Fingerprint) -> CaseSummary:
    """Return the shareable metadata of a fingerprint's case (no content)."""
    if fp.report is not None:
        r = fp.report
        # The report's current organisation: a referral may have moved the handling.
        return CaseSummary(fp.pk, r.organisation, r.received_at, r.category, r.status, r)
    case = fp.external_case
    assert case is not None
    return CaseSummary(fp.pk, fp.organisation, case.received_at, case.category, case.status, None)


SUBJECT_RELATED = ("organisation", "report__organisation", "external_case")


def _related(prefix: str) -> list[str]:
    return [f"{prefix}__{name}" for name in SUBJECT_RELATED]


def fingerprint_of_report(report: Report) -> Fingerprint | None:
    return (
        Fingerprint.objects.select_related("group", *SUBJECT_RELATED).filter(report=report).first()
    )


def open_candidates(fp: Fingerprint) -> list[tuple[Candidate, CaseSummary]]:
    """Return the open candidates of ``fp`` with the other side's summary, best first."""
    candidates = (
        Candidate.objects.filter(Q(a=fp) | Q(b=fp), status=Candidate.State.OPEN)
        .select_related(*_related("a"), *_related("b"))
        .order_by("-score", "pk")
    )
    return [(c, summary_of(c.b if c.a_id == fp.pk else c.a)) for c in candidates]


def group_members(group: DuplicateGroup) -> list[CaseSummary]:
    """Return the summaries of a group's cases, the lead first, then by date received.

    Without a lead (its case was deleted), the oldest case comes first and stands in as lead.
    """
    members = [summary_of(m) for m in group.members.select_related(*SUBJECT_RELATED)]
    members.sort(key=lambda s: (s.fingerprint_id != group.lead_id, s.received_at))
    return members


def group_lead(group: DuplicateGroup) -> CaseSummary | None:
    """Return the lead case (or its stand-in); its status is the group's shared status."""
    members = group_members(group)
    return members[0] if members else None


def candidates_for_organisation(
    organisation: Organisation, *, include_confirmed: bool = False
) -> list[tuple[Candidate, int]]:
    """Return the open (and confirmed, if asked) candidates involving ``organisation``'s cases,
    each with the id of the organisation's side."""
    mine = Fingerprint.objects.filter(organisation=organisation)
    states = [Candidate.State.OPEN]
    if include_confirmed:
        states.append(Candidate.State.CONFIRMED)
    candidates = (
        Candidate.objects.filter(Q(a__in=mine) | Q(b__in=mine), status__in=states)
        .select_related(*_related("a"), *_related("b"), "a__group", "b__group")
        .order_by("-score", "pk")
    )
    out = []
    for c in candidates:
        side = c.a_id if c.a.organisation_id == organisation.pk else c.b_id
        out.append((c, side))
    return out


# --- decisions ---------------------------------------------------------------------------------


def _locked_candidate(candidate: Candidate, side: Fingerprint) -> Candidate:
    locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if side.pk not in {locked.a_id, locked.b_id}:
        raise ValidationError(_("This pair does not involve your case."))
    return locked


def confirm_candidate(
    candidate: Candidate, side: Fingerprint, actor: User | None
) -> DuplicateGroup:
    """Confirm that the pair is one incident; return the group both cases are now in.

    ``side`` is the actor's own case. If neither case is grouped, a group led by the actor's
    organisation is formed; a case joins the other's group; two groups merge into the actor's.
    A dismissed pair may still be confirmed (a second look). Raises ValidationError if the pair
    does not involve ``side``.
    """
    with transaction.atomic():
        locked = _locked_candidate(candidate, side)
        ids = {locked.a_id, locked.b_id}
        fps = {f.pk: f for f in Fingerprint.objects.select_for_update().filter(pk__in=ids)}
        mine, theirs = fps[side.pk], fps[locked.other(side.pk)]
        group: DuplicateGroup
        mine_group, theirs_group = mine.group_id, theirs.group_id
        if mine_group is None and theirs_group is None:
            group = DuplicateGroup.objects.create(lead=mine, created_by=actor)
            Fingerprint.objects.filter(pk__in=ids).update(group=group)
        elif mine_group is None:
            assert theirs_group is not None
            group = DuplicateGroup.objects.get(pk=theirs_group)
            Fingerprint.objects.filter(pk=mine.pk).update(group=group)
        else:
            group = DuplicateGroup.objects.get(pk=mine_group)
            if theirs_group is None:
                Fingerprint.objects.filter(pk=theirs.pk).update(group=group)
            elif theirs_group != mine_group:
                # Two groups merge into the confirmer's, whose lead stays the lead.
                Fingerprint.objects.filter(group_id=theirs_group).update(group=group)
                DuplicateGroup.objects.filter(pk=theirs_group).delete()
        locked.status = Candidate.State.CONFIRMED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.decided_by_organisation_id = mine.organisation_id
        locked.save(update_fields=["status", "decided_at", "decided_by", "decided_by_organisation"])
        for org_id in {mine.organisation_id, theirs.organisation_id}:
            audit.record(
                "wbs.duplicate.confirmed",
                actor=actor,
                organisation=_org(org_id),
                obj=locked,
                details={"group": group.pk, "by_organisation": mine.organisation_id},
            )
    return group


def dismiss_candidate(candidate: Candidate, side: Fingerprint, actor: User | None) -> Candidate:
    """Mark the pair as not a duplicate. Raises ValidationError if it was already confirmed."""
    with transaction.atomic():
        locked = _locked_candidate(candidate, side)
        if locked.status == Candidate.State.CONFIRMED:
            raise ValidationError(_("This pair is already confirmed as a duplicate."))
        locked.status = Candidate.State.DISMISSED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.decided_by_organisation_id = side.organisation_id
        locked.save(update_fields=["status", "decided_at", "decided_by", "decided_by_organisation"])
        other = Fingerprint.objects.only("organisation_id").get(pk=locked.other(side.pk))
        for org_id in {side.organisation_id, other.organisation_id}:
            audit.record(
                "wbs.duplicate.dismissed",
                actor=actor,
                organisation=_org(org_id),
                obj=locked,
                details={"by_organisation": side.organisation_id},
            )
    return locked


def decide_candidate(
    candidate: Candidate, side: Fingerprint, decision: str, actor: User | None
) -> None:
    """Confirm or dismiss (``decision`` is "confirm" or "dismiss"); raises ValidationError."""
    if decision == "confirm":
        confirm_candidate(candidate, side, actor)
    elif decision == "dismiss":
        dismiss_candidate(candidate, side, actor)
    else:
        raise ValidationError(_("Choose confirm or dismiss."))


def set_group_lead(
    group: DuplicateGroup, current_lead: Fingerprint, new_lead_id: int, actor: User
) -> None:
    """Hand the lead of ``group`` to another member case.

    Only the current lead may do this: ``current_lead`` is the actor's own case, fetched through
    an access helper. Raises ValidationError if it is not the lead or the new lead is no member.
    """
    with transaction.atomic():
        locked = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
        stand_in = group_lead(locked)
        acting_lead = locked.lead_id or (stand_in.fingerprint_id if stand_in else None)
        if acting_lead != current_lead.pk:
            raise ValidationError(_("Only the lead organisation can hand over the lead."))
        new_lead = Fingerprint.objects.filter(pk=new_lead_id, group=locked).first()
        if new_lead is None:
            raise ValidationError(_("Choose a case of this group."))
        if new_lead.pk == locked.lead_id:
            return
        previous = locked.lead_id
        locked.lead = new_lead
        locked.save(update_fields=["lead"])
        for org_id in {current_lead.organisation_id, new_lead.organisation_id}:
            audit.record(
                "wbs.duplicate_group.lead_changed",
                actor=actor,
                organisation=_org(org_id),
                obj=locked,
                details={"from": previous, "to": new_lead.pk},
            )
