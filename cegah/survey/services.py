"""Survey services: every write of the survey app goes through these functions.

Which loci a coordinator manages: an edition belongs to the coordinating organisation (an
Inspektorat, or KPK). Its loci may be any active institution in the coordinator's province
(the organisation's region, or its parent's, at province level); a coordinator whose
organisation has no region (KPK, a ministry's Itjen) may add any institution. Units are the
locus organisation and its own units (descendants of kind unit, not other institutions).
"""

from __future__ import annotations

import logging
import secrets as pysecrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.orgs.models import Organisation
from cegah.survey import frames, runtime, sampling, sealing
from cegah.survey.models import (
    GROUP_SHORT,
    MAX_REMINDERS,
    Draft,
    Edition,
    FrameImport,
    Invitation,
    Locus,
    PendingResponse,
    Questionnaire,
    Respondent,
    Response,
    Sample,
)
from cegah.survey.scoring import default_questionnaire_path, load_edition
from cegah.survey.scoring.constants import GROUPS

if TYPE_CHECKING:
    from cegah.accounts.models import User

logger = logging.getLogger("cegah.survey")

LOCUS_KINDS = (
    Organisation.Kind.KL,
    Organisation.Kind.PROVINCE,
    Organisation.Kind.REGENCY,
    Organisation.Kind.BUMN,
    Organisation.Kind.BUMD,
)
BURST_WINDOW = timedelta(minutes=10)
BURST_MIN = 5
# Responses wait in a pool and move to the Response table in shuffled batches of at least this
# many (or at the end of the day), so neither row order nor transaction ids tie a response to
# the invitation whose completion was recorded in the same transaction.
MIX_BATCH = 10
# A pooled response moves after this long even if its device is still submitting (a device
# that never pauses for the burst window is flagged anyway).
POOL_HOLD_MAX = timedelta(days=1)
INVITE_PURPOSE = "survey.invitation"


# --- editions and design -----------------------------------------------------------------------
def _province_code(org: Organisation) -> str | None:
    for node in (org, *org.ancestors()):
        if node.region_id:
            return str(node.region_id)[:2]
    return None


def locus_candidates(edition: Edition) -> Any:
    """Return the organisations this edition's coordinator may add as loci (not yet added)."""
    qs = Organisation.objects.filter(is_active=True, kind__in=LOCUS_KINDS).exclude(
        survey_loci__edition=edition
    )
    province = _province_code(edition.organisation)
    if province is not None:
        qs = qs.filter(Q(region__code=province) | Q(region__code__startswith=f"{province}."))
    return qs.select_related("region").order_by("name")


def units_of(locus: Locus) -> list[Organisation]:
    """Return the locus organisation and its own units, breadth first.

    Its own units are the descendants of kind *unit* reached through units only: a province's
    tree also holds its regencies and cities and its BUMD, and those are institutions of their
    own (possibly loci of the same edition), with their own units. Another locus of the edition
    is never a unit.
    """
    org = locus.organisation
    other_loci = set(
        Locus.objects.filter(edition_id=locus.edition_id)
        .exclude(pk=locus.pk)
        .values_list("organisation_id", flat=True)
    )
    found = [org]
    frontier = [org.pk]
    while frontier and len(found) < 5000:
        children = [
            child
            for child in Organisation.objects.filter(
                parent_id__in=frontier, is_active=True, kind=Organisation.Kind.UNIT
            ).order_by("name")
            if child.pk not in other_loci
        ]
        found.extend(children)
        frontier = [c.pk for c in children]
    return found


def create_edition(
    organisation: Organisation, year: int, title: str, actor: User | None
) -> Edition:
    """Create an edition with the engine's thresholds and weights for ``year`` and the default
    questionnaires. Raises ValidationError if the organisation already has that year."""
    if Edition.objects.filter(organisation=organisation, year=year).exists():
        raise ValidationError(_("This organisation already has an edition for that year."))
    config = load_edition(year)
    with transaction.atomic():
        edition = Edition.objects.create(
            organisation=organisation,
            year=year,
            title=title or f"SPI {year}",
            category_scheme=config.scheme,
            category_bands=[
                {"category": b.category, "color": b.color, "min": b.min_score, "max": b.max_score}
                for b in config.bands
            ],
            group_weights=dict(config.group_weights),
            dimension_weights={g: dict(w) for g, w in config.dimension_weights.items()},
            corrections=dict(config.corrections),
            confidence_level=config.confidence_level,
        )
        for group in GROUPS:
            _store_questionnaire(edition, group, default_questionnaire_path(group), default=True)
        audit.record(
            "survey.edition.created",
            actor=actor,
            organisation=organisation,
            obj=edition,
            details={"year": year},
        )
    return edition


def _store_questionnaire(
    edition: Edition, group: str, path: Any, *, default: bool
) -> Questionnaire:
    content = path.read_bytes()
    return _save_questionnaire(edition, group, path.name, content, default=default)


def _save_questionnaire(
    edition: Edition, group: str, filename: str, content: bytes, *, default: bool
) -> Questionnaire:
    import hashlib

    parsed = runtime.parse_upload(content, group, filename)
    row, _created = Questionnaire.objects.update_or_create(
        edition=edition,
        group=group,
        defaults={
            "filename": filename[:200],
            "xlsx": content,
            "sha256": hashlib.sha256(content).hexdigest(),
            "title": parsed.title[:300],
            "version": parsed.version[:40],
            "is_default": default,
        },
    )
    return row


def upload_questionnaire(
    edition: Edition, group: str, filename: str, content: bytes, actor: User | None
) -> Questionnaire:
    """Validate an XLSForm with the engine and make it the group's questionnaire.

    Raises QuestionnaireError (problems by sheet, row, column) and ValidationError once
    responses exist for the group (changing the items would mix two questionnaires).
    """
    if Response.objects.filter(edition=edition, group=group).exists():
        raise ValidationError(_("Responses exist for this group; the questionnaire is fixed."))
    with transaction.atomic():
        row = _save_questionnaire(edition, group, filename, content, default=False)
        audit.record(
            "survey.questionnaire.uploaded",
            actor=actor,
            organisation=edition.organisation,
            obj=row,
            details={"group": group, "sha256": row.sha256},
        )
    return row


def use_default_questionnaire(edition: Edition, group: str, actor: User | None) -> Questionnaire:
    if Response.objects.filter(edition=edition, group=group).exists():
        raise ValidationError(_("Responses exist for this group; the questionnaire is fixed."))
    with transaction.atomic():
        row = _store_questionnaire(edition, group, default_questionnaire_path(group), default=True)
        audit.record(
            "survey.questionnaire.defaulted",
            actor=actor,
            organisation=edition.organisation,
            obj=row,
            details={"group": group},
        )
    return row


AUDITED_VALUES = {"status", "group_weights", "dimension_weights", "corrections"}


def update_settings(edition: Edition, fields: dict[str, Any], actor: User | None) -> Edition:
    """Save edition knobs (weights, corrections, sampling, reminders, status) and audit them."""
    allowed = {
        "title",
        "status",
        "group_weights",
        "dimension_weights",
        "corrections",
        "margin_of_error",
        "confidence_level",
        "census_below",
        "max_reminders",
        "reminder_gap_days",
        "lagging_below",
        "recommendations",
    }
    changed = [k for k in fields if k in allowed and getattr(edition, k) != fields[k]]
    if not changed:
        return edition
    with transaction.atomic():
        for key in changed:
            setattr(edition, key, fields[key])
        edition.save(update_fields=changed)
        # The values that change an index or stop fieldwork are kept in the trail, so a
        # published index can be traced to the weights and corrections it was computed with.
        values = {k: fields[k] for k in changed if k in AUDITED_VALUES}
        audit.record(
            "survey.edition.updated",
            actor=actor,
            organisation=edition.organisation,
            obj=edition,
            details={"fields": changed, "values": values},
        )
    return edition


def add_locus(
    edition: Edition,
    organisation: Organisation,
    institution_type: str,
    size: str,
    actor: User | None,
) -> Locus:
    """Add an institution as a locus. Raises ValidationError if the coordinator may not."""
    if not locus_candidates(edition).filter(pk=organisation.pk).exists():
        raise ValidationError(_("This institution cannot be added to this edition."))
    with transaction.atomic():
        locus = Locus.objects.create(
            edition=edition,
            organisation=organisation,
            institution_type=institution_type,
            size=size,
            registration_code=pysecrets.token_urlsafe(12),
        )
        audit.record(
            "survey.locus.added",
            actor=actor,
            organisation=edition.organisation,
            obj=locus,
            details={"institution": organisation.slug},
        )
    return locus


def default_institution_type(org: Organisation) -> str:
    if org.kind == Organisation.Kind.PROVINCE:
        return Locus.InstitutionType.PROVINSI
    if org.kind == Organisation.Kind.REGENCY:
        kota = org.region is not None and org.region.type == "kota"
        return Locus.InstitutionType.KOTA if kota else Locus.InstitutionType.KABUPATEN
    if org.kind in {Organisation.Kind.BUMN, Organisation.Kind.BUMD}:
        return Locus.InstitutionType.BUMN
    if org.kind == Organisation.Kind.KL:
        return Locus.InstitutionType.KEMENTERIAN
    return Locus.InstitutionType.LEMBAGA


# --- frames --------------------------------------------------------------------------------------
def _unit_lookup(locus: Locus) -> dict[str, Organisation]:
    lookup: dict[str, Organisation] = {}
    for unit in units_of(locus):
        lookup[unit.slug.lower()] = unit
        lookup[unit.name.strip().lower()] = unit
    lookup[""] = locus.organisation
    return lookup


def _dedup_key(row: frames.FrameRow) -> str:
    # The same phone, else the same email, else the same name in the same unit and group.
    if row.phone:
        return sealing.keyed_hash("dedup", f"p:{row.phone}")
    if row.email:
        return sealing.keyed_hash("dedup", f"e:{row.email}")
    return sealing.keyed_hash("dedup", f"n:{row.name.lower()}:{row.unit.lower()}:{row.group}")


def _new_respondent(
    locus: Locus, unit: Organisation, group: str, contact: dict[str, str], **kw: Any
) -> Respondent:
    respondent = Respondent(locus=locus, unit=unit, group=group, **kw)
    respondent.contact_sealed = sealing.seal_contact(respondent.public_id, contact)
    respondent.phone_hash = sealing.keyed_hash("phone", contact.get("phone", ""))
    respondent.email_hash = sealing.keyed_hash("email", contact.get("email", ""))
    return respondent


PROBLEMS_KEPT = 1000  # problems stored with a refused import (all are counted)


def import_frame(locus: Locus, filename: str, content: bytes, actor: User | None) -> FrameImport:
    """Import a population list into ``locus``, all or nothing; return the import's record.

    A list with any problem (unreadable, a header without the columns, more than
    ``frames.MAX_ROWS`` rows, a row with a bad cell or a unit that is not the locus') is
    refused whole: nothing is added and the record (``refused``) lists the problems by row and
    column. Otherwise every row is added; duplicates (same phone, else email, else name, unit
    and group) are merged with the first one in the locus, so importing the same list again
    adds nothing.
    """
    lookup = _unit_lookup(locus)
    parsed = frames.parse_frame(filename, content, units=lookup)
    problems = sorted(parsed.problems, key=lambda p: (p["row"] or 0, len(p["column"]), p["column"]))
    new: list[Respondent] = []
    merged = 0
    with transaction.atomic():
        # One import of a locus at a time: two uploads of the same list (a double click) would
        # both find none of its people and the second would fail on the unique key.
        Locus.objects.select_for_update().filter(pk=locus.pk).first()
        if not problems:
            existing = set(
                Respondent.objects.filter(locus=locus).values_list("dedup_key", flat=True)
            )
            for row in parsed.rows:
                key = _dedup_key(row)
                if key in existing:
                    merged += 1
                    continue
                existing.add(key)
                contact = {"name": row.name, "phone": row.phone, "email": row.email}
                unit = lookup[row.unit.strip().lower()]
                new.append(_new_respondent(locus, unit, row.group, contact, dedup_key=key))
            Respondent.objects.bulk_create(new, batch_size=1000)
        record = FrameImport.objects.create(
            locus=locus,
            filename=filename[:200],
            refused=bool(problems),
            encoding=parsed.encoding,
            rows=parsed.total,
            added=len(new),
            merged=merged,
            rejected=parsed.rows_with_problems,
            problems=problems[:PROBLEMS_KEPT],
            problem_count=len(problems),
            created_by=actor,
        )
        audit.record(
            "survey.frame.refused" if problems else "survey.frame.imported",
            actor=actor,
            organisation=locus.edition.organisation,
            obj=record,
            details={
                "locus": locus.organisation.slug,
                "added": len(new),
                "merged": merged,
                "problems": len(problems),
            },
        )
    return record


def set_registration_open(locus: Locus, is_open: bool, actor: User | None) -> None:
    """Open or close QR self-registration of ``locus``; audited.

    Raises ValidationError when opening it in a closed edition (closing the edition closes
    registration, and it does not open again).
    """
    if is_open and locus.edition.status == Edition.Status.CLOSED:
        raise ValidationError(_("The edition is closed: registration cannot be opened."))
    with transaction.atomic():
        changed = Locus.objects.filter(pk=locus.pk).exclude(registration_open=is_open)
        if not changed.update(registration_open=is_open):
            return
        locus.registration_open = is_open
        audit.record(
            "survey.registration.opened" if is_open else "survey.registration.closed",
            actor=actor,
            organisation=locus.edition.organisation,
            obj=locus,
            details={"locus": locus.organisation.slug},
        )


def register_self(
    locus: Locus, unit: Organisation, name: str, phone: str, email: str
) -> Respondent | None:
    """Record an external user who registered by QR at a counter, kept apart for screening.

    Returns None (and stores nothing new) if the same phone or email is already in the locus.
    """
    row = frames.FrameRow(0, name, unit.slug, "external", phone, email)
    key = _dedup_key(row)
    if Respondent.objects.filter(locus=locus, dedup_key=key).exists():
        return None
    contact = {"name": name, "phone": phone, "email": email}
    respondent = _new_respondent(
        locus,
        unit,
        "external",
        contact,
        dedup_key=key,
        source=Respondent.Source.SELF,
        screening=Respondent.Screening.PENDING,
    )
    respondent.save(force_insert=True)
    return respondent


def screen_registration(respondent: Respondent, accept: bool, actor: User | None) -> None:
    """Accept (invite outside the random sample) or reject a self-registration."""
    with transaction.atomic():
        respondent.screening = (
            Respondent.Screening.ACCEPTED if accept else Respondent.Screening.REJECTED
        )
        respondent.save(update_fields=["screening"])
        if accept:
            _make_invitations([respondent])
        audit.record(
            "survey.registration.screened",
            actor=actor,
            organisation=respondent.locus.edition.organisation,
            obj=respondent,
            details={"accepted": accept},
        )


# --- sampling ------------------------------------------------------------------------------------
def _make_invitations(respondents: Iterable[Respondent]) -> int:
    rows = []
    for r in respondents:
        nonce = sealing.new_nonce()
        rows.append(
            Invitation(
                respondent=r,
                locus_id=r.locus_id,
                unit_id=r.unit_id,
                group=r.group,
                nonce=nonce,
                token_hash=sealing.token_hash(sealing.token_for(nonce)),
            )
        )
    Invitation.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def added_since_draw(sample: Sample) -> int:
    """Return how many people were added to the locus' list after ``sample`` was drawn: they
    are in no stratum of it and are never invited unless the sample is drawn again."""
    return Respondent.objects.filter(
        locus_id=sample.locus_id, source=Respondent.Source.FRAME, created_at__gt=sample.drawn_at
    ).count()


def draw_sample(locus: Locus, actor: User | None, seed: int | None = None) -> Sample:
    """Draw the stratified sample (unit × group) and create one invitation per sampled person.

    Reproducible: the seed is recorded, and the same frame and seed give the same people.
    Raises ValidationError once invitations have been sent (the sample is then fixed).
    """
    edition = locus.edition
    if Invitation.objects.filter(locus=locus, sends__gt=0).exists():
        raise ValidationError(_("Invitations have been sent; the sample can no longer change."))
    seed = seed if seed is not None else pysecrets.randbits(62)
    frame = Respondent.objects.filter(locus=locus, source=Respondent.Source.FRAME)
    members: dict[tuple[int, str], list[int]] = {}
    for pk, unit_id, group in frame.values_list("pk", "unit_id", "group"):
        members.setdefault((unit_id, group), []).append(pk)
    strata = sampling.allocate(
        {k: len(v) for k, v in members.items()},
        edition.margin_of_error,
        edition.confidence_level,
        edition.census_below,
    )
    chosen = sampling.draw(members, strata, seed)
    with transaction.atomic():
        Invitation.objects.filter(locus=locus, respondent__source=Respondent.Source.FRAME).delete()
        frame.update(sampled=False)
        Respondent.objects.filter(pk__in=chosen).update(sampled=True)
        _make_invitations(Respondent.objects.filter(pk__in=chosen))
        sample = Sample.objects.create(
            locus=locus,
            seed=seed,
            margin_of_error=edition.margin_of_error,
            confidence_level=edition.confidence_level,
            census_below=edition.census_below,
            strata=[s.as_json() for s in strata],
            size=len(chosen),
            drawn_by=actor,
        )
        audit.record(
            "survey.sample.drawn",
            actor=actor,
            organisation=edition.organisation,
            obj=sample,
            details={"locus": locus.organisation.slug, "seed": seed, "size": len(chosen)},
        )
    return sample


# --- invitations ---------------------------------------------------------------------------------
def link_for(invitation: Invitation) -> str:
    token = sealing.token_for(invitation.nonce)
    return settings.SITE_URL.rstrip("/") + reverse("survey:respond", args=[token])


def _message(invitation: Invitation, contact: dict[str, str], reminder: bool) -> Any:
    from cegah.channels.outbox import Bulk
    from cegah.channels.providers.base import Template

    recipients: list[tuple[str, str]] = []
    if contact.get("phone"):
        recipients += [("whatsapp", contact["phone"]), ("sms", contact["phone"])]
    if contact.get("email"):
        recipients.append(("email", contact["email"]))
    link = link_for(invitation)
    institution = invitation.locus.organisation.name
    name = contact.get("name") or ""
    values = {"name": name, "institution": institution, "link": link}
    # Respondents get Indonesian, whatever the coordinator's language. Replies come back only
    # by WhatsApp and SMS (the inbound STOP handler): nobody reads replies to an email, so the
    # text that can go by email points to the opt-out button of the landing page instead.
    by_phone, by_email = bool(contact.get("phone")), bool(contact.get("email"))
    with translation.override("id"):
        if reminder and by_phone and not by_email:
            text = _(
                "Reminder: %(name)s, your answer to the Integrity Assessment Survey (SPI) of "
                "%(institution)s is still awaited. It takes 10 minutes and is anonymous: %(link)s "
                "Reply STOP to receive no more reminders."
            )
        elif reminder and by_phone:
            text = _(
                "Reminder: %(name)s, your answer to the Integrity Assessment Survey (SPI) of "
                "%(institution)s is still awaited. It takes 10 minutes and is anonymous: %(link)s "
                "To receive no more reminders, reply STOP by WhatsApp or SMS, or open the link "
                "and press “Send me no more reminders”."
            )
        elif reminder:
            text = _(
                "Reminder: %(name)s, your answer to the Integrity Assessment Survey (SPI) of "
                "%(institution)s is still awaited. It takes 10 minutes and is anonymous: %(link)s "
                "To receive no more reminders, open the link and press “Send me no more "
                "reminders”."
            )
        elif by_phone and not by_email:
            text = _(
                "Dear %(name)s, you are invited to the Integrity Assessment Survey (SPI) of "
                "%(institution)s. Your answers are anonymous and take about 10 minutes: %(link)s "
                "Reply STOP to receive no reminders."
            )
        elif by_phone:
            text = _(
                "Dear %(name)s, you are invited to the Integrity Assessment Survey (SPI) of "
                "%(institution)s. Your answers are anonymous and take about 10 minutes: %(link)s "
                "To receive no reminders, reply STOP by WhatsApp or SMS, or open the link and "
                "press “Send me no more reminders”."
            )
        else:
            text = _(
                "Dear %(name)s, you are invited to the Integrity Assessment Survey (SPI) of "
                "%(institution)s. Your answers are anonymous and take about 10 minutes: %(link)s "
                "To receive no reminders, open the link and press “Send me no more reminders”."
            )
        text = text % values
        subject = _("Integrity Assessment Survey (SPI) %(year)s") % {
            "year": invitation.locus.edition.year
        }
    key = f"survey:inv:{invitation.pk}:{invitation.sends}"
    template = Template(
        "spi_pengingat" if reminder else "spi_undangan", "id", (name, institution, link)
    )
    return Bulk(recipients, key, text, template, subject)


SENDING = (Edition.Status.DESIGN, Edition.Status.FIELDWORK)  # a closed edition sends nothing


def _claim(
    invitations: list[Invitation], now: datetime, statuses: Iterable[str] = SENDING
) -> list[Invitation]:
    """Claim the next send of each invitation; return those claimed by this call.

    One conditional UPDATE per batch and send number: it moves ``sends`` on only where it still
    has the value read, and stamps ``last_sent_at`` with a value unique to this call, by which
    the rows won are read back. A concurrent claimer stamps its own value, so each row is won
    once; should two stamps ever collide, the outbox's idempotency key (invitation and send
    number) still queues the message once. Only invitations of an edition in one of
    ``statuses`` are claimed, so a close committed meanwhile stops the send.
    """
    won: list[Invitation] = []
    by_sends: dict[int, list[Invitation]] = {}
    for inv in invitations:
        by_sends.setdefault(inv.sends, []).append(inv)
    for sends, group in by_sends.items():
        for start in range(0, len(group), 500):
            chunk = {inv.pk: inv for inv in group[start : start + 500]}
            stamp = now + timedelta(microseconds=pysecrets.randbelow(999_999))
            Invitation.objects.filter(
                pk__in=chunk,
                sends=sends,
                completed=False,
                opted_out=False,
                locus__edition__status__in=list(statuses),
            ).update(sends=F("sends") + 1, last_sent_at=stamp, delivery=Invitation.Delivery.QUEUED)
            mine = Invitation.objects.filter(
                pk__in=chunk, sends=sends + 1, last_sent_at=stamp
            ).values_list("pk", flat=True)
            won.extend(chunk[pk] for pk in mine)
    return won


def _dispatch(invitations: list[Invitation], reminder: bool, now: datetime | None = None) -> int:
    """Claim each invitation's next send, then queue the messages through the outbox."""
    from cegah.channels.outbox import queue_many

    statuses = (Edition.Status.FIELDWORK,) if reminder else SENDING
    by_org: dict[int, list[Any]] = {}
    for inv in _claim(invitations, now or timezone.now(), statuses):
        contact = sealing.unseal_contact(inv.respondent.public_id, inv.respondent.contact_sealed)
        if not (contact.get("phone") or contact.get("email")):
            continue
        # The key names the send number being claimed (0 = the invitation, 1.. = reminders).
        by_org.setdefault(inv.locus.organisation_id, []).append(_message(inv, contact, reminder))
    total = 0
    for org_id, messages in by_org.items():
        org = Organisation.objects.get(pk=org_id)
        for start in range(0, len(messages), 2000):
            total += queue_many(
                organisation=org, purpose=INVITE_PURPOSE, messages=messages[start : start + 2000]
            )
    return total


def send_invitations(locus: Locus, actor: User | None) -> int:
    """Queue the first invitation of every sampled (or accepted) person not yet invited.

    Raises ValidationError if the edition is closed."""
    if Edition.objects.filter(pk=locus.edition_id, status=Edition.Status.CLOSED).exists():
        raise ValidationError(_("The edition is closed: no invitations or reminders are sent."))
    pending = list(
        Invitation.objects.filter(locus=locus, sends=0, opted_out=False, completed=False)
        .select_related("respondent", "locus__organisation", "locus__edition")
        .order_by("pk")
    )
    with transaction.atomic():
        queued = _dispatch(pending, reminder=False)
        if locus.edition.status == Edition.Status.DESIGN:
            Edition.objects.filter(pk=locus.edition_id).update(status=Edition.Status.FIELDWORK)
        audit.record(
            "survey.invitations.sent",
            actor=actor,
            organisation=locus.edition.organisation,
            obj=locus,
            details={"locus": locus.organisation.slug, "queued": queued},
        )
    return queued


def send_due_reminders(now: datetime | None = None, limit: int = 20000) -> int:
    """Queue a reminder for every invitation that is not completed or opted out, has had fewer
    than 1 + max_reminders sends and whose last send is at least the edition's gap ago."""
    now = now or timezone.now()
    total = 0
    for edition in Edition.objects.filter(status=Edition.Status.FIELDWORK):
        # The settings form keeps these in range; a value stored otherwise (an old row, a
        # script) must not remind every hour or without end.
        cutoff = now - timedelta(days=max(1, edition.reminder_gap_days))
        due = list(
            Invitation.objects.filter(
                locus__edition=edition,
                completed=False,
                opted_out=False,
                sends__gte=1,
                sends__lte=min(edition.max_reminders, MAX_REMINDERS),
                last_sent_at__lte=cutoff,
            )
            .select_related("respondent", "locus__organisation", "locus__edition")
            .order_by("pk")[:limit]
        )
        if due:
            with transaction.atomic():
                total += _dispatch(due, reminder=True, now=now)
    return total


def invitation_for_message_key(key: str) -> int | None:
    parts = key.split(":")
    if len(parts) == 4 and parts[0] == "survey" and parts[1] == "inv" and parts[2].isdigit():
        return int(parts[2])
    return None


def record_delivery(idempotency_key: str, status: str) -> None:
    """Mirror an outbox status onto the invitation (delivery only moves forward)."""
    pk = invitation_for_message_key(idempotency_key)
    if pk is None:
        return
    order = ["", "queued", "sent", "delivered", "read"]
    if status == "failed":
        Invitation.objects.filter(pk=pk).exclude(delivery__in=["delivered", "read"]).update(
            delivery=Invitation.Delivery.FAILED
        )
        return
    if status not in order:
        return
    lower = [*order[: order.index(status)], "failed"]
    Invitation.objects.filter(pk=pk, delivery__in=lower).update(delivery=status)


STOP_WORDS = {"stop", "berhenti", "unsubscribe", "stop spi", "berhenti spi"}


def opt_out_address(address: str) -> int:
    """Opt every open invitation of this phone number out of reminders; return how many."""
    from lokal import parse_phone

    info = parse_phone(address if address.startswith(("+", "0")) else f"+{address}")
    if not info.valid or not info.e164:
        return 0
    phone_hash = sealing.keyed_hash("phone", info.e164)
    return Invitation.objects.filter(
        respondent__phone_hash=phone_hash, completed=False, opted_out=False
    ).update(opted_out=True)


# --- respondents -------------------------------------------------------------------------------
@dataclass
class Session:
    invitation: Invitation
    token: str


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    return (
        Invitation.objects.select_related("locus__organisation", "locus__edition", "unit")
        .filter(token_hash=sealing.token_hash(token))
        .first()
    )


def mark_opened(invitation: Invitation) -> None:
    """Count the link as opened (a GET; chat-app previews may count too, nothing is consumed)."""
    if not invitation.opened:
        Invitation.objects.filter(pk=invitation.pk, opened=False).update(opened=True)


def questionnaire_for(invitation: Invitation) -> Any:
    row = Questionnaire.objects.get(edition_id=invitation.locus.edition_id, group=invitation.group)
    return runtime.load_stored(row)


def _in_fieldwork(edition_id: int) -> bool:
    """Whether the edition takes answers now (read fresh: it may have closed meanwhile)."""
    return Edition.objects.filter(pk=edition_id, status=Edition.Status.FIELDWORK).exists()


def is_open(invitation: Invitation) -> bool:
    """Whether the invitation's edition is in fieldwork (answers and reminders allowed)."""
    return invitation.locus.edition.status == Edition.Status.FIELDWORK


def start(invitation: Invitation, token: str) -> Draft:
    """Start (or resume) answering: a POST. Raises ValidationError if the survey is not open."""
    if invitation.completed:
        raise ValidationError(_("This questionnaire has already been submitted."))
    if invitation.locus.edition.status != Edition.Status.FIELDWORK:
        raise ValidationError(_("This survey is not open."))
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(started=True, opened=True)
        draft, _created = Draft.objects.get_or_create(
            invitation=invitation,
            defaults={
                "answers_sealed": sealing.seal_draft(token, {}),
                "started_at": timezone.now(),
            },
        )
    return draft


def draft_answers(draft: Draft, token: str) -> dict[str, Any]:
    return sealing.unseal_draft(token, draft.answers_sealed)


def save_page(draft: Draft, token: str, answers: dict[str, Any], page: int) -> bool:
    """Save the answers so far and the page reached; return False if the draft is gone (a
    submit from another tab or a second tap won the race and consumed it)."""
    draft.answers_sealed = sealing.seal_draft(token, answers)
    draft.page = page
    # An UPDATE that may match nothing, not save(): the draft read at the start of the request
    # can have been deleted by a concurrent submit since.
    return bool(
        Draft.objects.filter(pk=draft.pk).update(
            answers_sealed=draft.answers_sealed, page=draft.page
        )
    )


def submit(invitation: Invitation, token: str, fingerprint: str) -> bool:
    """Submit the draft: consume the invitation atomically and store the answers unlinked.

    Returns False if the invitation was already completed (a second POST, another tab). The
    conditional UPDATE is the one place a token is consumed, so two racing POSTs store one
    response. Raises ValidationError once the edition is no longer in fieldwork (closed): the
    same UPDATE checks the status, so a close that commits first wins.
    """
    draft = Draft.objects.filter(invitation=invitation).first()
    if draft is None:
        return False
    if not _in_fieldwork(invitation.locus.edition_id):
        raise ValidationError(_("This survey is not open."))
    questionnaire = questionnaire_for(invitation)
    answers = runtime.prune(questionnaire, draft_answers(draft, token))
    now = timezone.now()
    duration = int((now - draft.started_at).total_seconds())
    with transaction.atomic():
        consumed = Invitation.objects.filter(
            pk=invitation.pk, completed=False, locus__edition__status=Edition.Status.FIELDWORK
        ).update(completed=True)
        if not consumed:
            if not _in_fieldwork(invitation.locus.edition_id):
                raise ValidationError(_("This survey is not open."))
            return False
        draft.delete()
        PendingResponse.objects.create(
            edition_id=invitation.locus.edition_id,
            locus_id=invitation.locus_id,
            unit_id=invitation.unit_id,
            group=invitation.group,
            self_registered=invitation.respondent.source == Respondent.Source.SELF,
            answers=answers,
            # Rounded to 10 s: enough for the speeder rule, too coarse to match a log line.
            duration_s=max(0, round(duration / 10) * 10),
            submitted_on=timezone.localdate(now),
            # For the burst check when the pool moves; deleted with the pool row.
            fingerprint=fingerprint[:64],
            submitted_at=now if fingerprint else None,
        )
        enqueue_on_commit(_flush_task(), invitation.locus.edition_id)
    return True


def _flush_task() -> Any:
    from cegah.survey.tasks import flush_responses

    return flush_responses


def _bursts(pool: list[PendingResponse], now: datetime) -> tuple[set[Any], set[Any]]:
    """Return (ids in a burst, ids whose burst check is final) of the pooled responses.

    The engine's rule (``flag_bursts``): ≥ BURST_MIN submissions of one device within
    BURST_WINDOW. Any such run lies within one stretch of a device's submissions whose gaps are
    at most the window; once the device has been quiet for longer than the window, no later
    submission can join that stretch, so the check of its responses is final and they may
    leave the pool. Until then they wait, so nothing outside the pool ever needs to remember a
    device or a time.
    """
    import polars as pl

    from cegah.survey.scoring.flags import flag_bursts

    timed = [(p, p.submitted_at) for p in pool if p.fingerprint and p.submitted_at]
    untimed = {p.pk for p in pool if not (p.fingerprint and p.submitted_at)}
    if not timed:
        return set(), untimed
    flagged = flag_bursts(
        pl.DataFrame(
            {
                "fingerprint": [p.fingerprint for p, _at in timed],
                "submitted_at": [at.timestamp() for _p, at in timed],
            }
        ),
        window_s=BURST_WINDOW.total_seconds(),
        min_count=BURST_MIN,
    ).to_list()
    bursts = {p.pk for (p, _at), hit in zip(timed, flagged, strict=True) if hit}
    last: dict[str, datetime] = {}
    for p, at in timed:
        last[p.fingerprint] = max(at, last.get(p.fingerprint, at))
    final = untimed | {
        p.pk
        for p, at in timed
        if now - last[p.fingerprint] > BURST_WINDOW or now - at > POOL_HOLD_MAX
    }
    return bursts, final


def flush_responses(edition_id: int, force: bool = False, now: datetime | None = None) -> int:
    """Move pooled responses into Response in shuffled order; return how many moved.

    A pooled response may move once its burst check is final (see ``_bursts``); those move
    when there are MIX_BATCH or more of them in the edition, or when one is from an earlier
    day, or when ``force`` is given (demo, end of fieldwork: everything moves). Each Response
    gets a new random id, the ``burst`` flag if it was in a burst, and nothing else of the
    pool row's device hash or time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pool = list(PendingResponse.objects.select_for_update().filter(edition_id=edition_id))
        if not pool:
            return 0
        bursts, final = _bursts(pool, now)
        moving = pool if force else [p for p in pool if p.pk in final]
        stale = any(p.submitted_on < timezone.localdate(now) for p in moving)
        if not moving or (not force and not stale and len(moving) < MIX_BATCH):
            return 0
        rng = pysecrets.SystemRandom()
        rng.shuffle(moving)
        responses = []
        for p in moving:
            flags = [*p.flags, "burst"] if p.pk in bursts and "burst" not in p.flags else p.flags
            review = p.review or (Response.Review.FLAGGED if flags else Response.Review.NONE)
            responses.append(
                Response(
                    id=uuid.uuid4(),  # never the pool row's id
                    edition_id=p.edition_id,
                    locus_id=p.locus_id,
                    unit_id=p.unit_id,
                    group=p.group,
                    self_registered=p.self_registered,
                    answers=p.answers,
                    duration_s=p.duration_s,
                    submitted_on=p.submitted_on,
                    flags=flags,
                    review=review,
                )
            )
        Response.objects.bulk_create(responses)
        PendingResponse.objects.filter(pk__in=[p.pk for p in moving]).delete()
    return len(moving)


def opt_out(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(opted_out=True)


# --- monitoring ----------------------------------------------------------------------------------
@dataclass
class RateRow:
    locus: Locus
    unit: Organisation | None
    group: str
    frame: int
    target: int
    invited: int
    opened: int
    started: int
    completed: int
    opted_out: int

    @property
    def rate(self) -> float:
        return self.completed / self.invited if self.invited else 0.0

    @property
    def progress(self) -> float:
        return self.completed / self.target if self.target else 0.0

    @property
    def progress_pct(self) -> int:
        return min(100, round(100 * self.progress))

    def lagging(self, threshold: float) -> bool:
        return self.invited > 0 and self.progress < threshold


def response_rates(edition: Edition, locus: Locus | None = None) -> list[RateRow]:
    """Return invited/opened/started/completed against target per locus, unit and group."""
    loci = {loc.pk: loc for loc in edition.loci.select_related("organisation")}
    inv = Invitation.objects.filter(locus__edition=edition)
    if locus is not None:
        inv = inv.filter(locus=locus)
    counts = inv.values("locus_id", "unit_id", "group").annotate(
        invited=Count("pk", filter=Q(sends__gt=0)),
        opened=Count("pk", filter=Q(opened=True)),
        started=Count("pk", filter=Q(started=True)),
        completed=Count("pk", filter=Q(completed=True)),
        opted=Count("pk", filter=Q(opted_out=True)),
    )
    targets: dict[tuple[int, int, str], int] = {}
    samples = Sample.objects.filter(locus__edition=edition).order_by("locus_id", "-drawn_at")
    seen: set[int] = set()
    for sample in samples:
        if sample.locus_id in seen:
            continue
        seen.add(sample.locus_id)
        for s in sample.strata:
            # The target is the number of completed responses the margin of error needs.
            targets[(sample.locus_id, s["unit_id"], s["group"])] = int(s["sample"])
    frame = {
        (r["locus_id"], r["unit_id"], r["group"]): r["n"]
        for r in Respondent.objects.filter(locus__edition=edition)
        .values("locus_id", "unit_id", "group")
        .annotate(n=Count("pk"))
    }
    units = {
        o.pk: o
        for o in Organisation.objects.filter(
            pk__in={c["unit_id"] for c in counts} | {k[1] for k in targets}
        )
    }
    rows = []
    keys = {(c["locus_id"], c["unit_id"], c["group"]): c for c in counts}
    for key in sorted(set(keys) | set(targets), key=lambda k: (k[0], units[k[1]].name, k[2])):
        if locus is not None and key[0] != locus.pk:
            continue
        c: dict[str, Any] = dict(keys.get(key, {}))
        rows.append(
            RateRow(
                locus=loci[key[0]],
                unit=units.get(key[1]),
                group=key[2],
                frame=frame.get(key, 0),
                target=targets.get(key, 0),
                invited=c.get("invited", 0),
                opened=c.get("opened", 0),
                started=c.get("started", 0),
                completed=c.get("completed", 0),
                opted_out=c.get("opted", 0),
            )
        )
    return rows


def rollup(rows: list[RateRow]) -> list[RateRow]:
    """Sum unit rows to one row per locus (unit None, group '')."""
    out: dict[int, RateRow] = {}
    for r in rows:
        agg = out.setdefault(r.locus.pk, RateRow(r.locus, None, "", 0, 0, 0, 0, 0, 0, 0))
        agg.frame += r.frame
        agg.target += r.target
        agg.invited += r.invited
        agg.opened += r.opened
        agg.started += r.started
        agg.completed += r.completed
        agg.opted_out += r.opted_out
    return list(out.values())


ALERT_LINES = 200  # lagging units listed in a daily alert (the worst; the rest are counted)


def send_lagging_alerts(edition: Edition, actor: User | None = None, force: bool = False) -> int:
    """Email the coordinating organisation's coordinators the lagging units (counts only, no
    personal data); at most once a day per locus unless ``force``. Returns emails sent."""
    from django.core.mail import send_mail

    from cegah.accounts.models import Membership
    from cegah.accounts.permissions import Role

    if edition.status == Edition.Status.CLOSED:
        return 0  # a closed edition has no fieldwork left to chase
    today = timezone.localdate()
    rows = [r for r in response_rates(edition) if r.lagging(edition.lagging_below)]
    if not rows:
        return 0
    loci = {r.locus.pk for r in rows}
    if not force:
        due = set(
            Locus.objects.filter(pk__in=loci)
            .filter(Q(last_alert_on__isnull=True) | Q(last_alert_on__lt=today))
            .values_list("pk", flat=True)
        )
        rows = [r for r in rows if r.locus.pk in due]
        loci = due
    if not rows:
        return 0
    emails = sorted(
        set(
            Membership.objects.filter(
                organisation=edition.organisation, role=Role.SURVEY_COORDINATOR
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not emails:
        return 0
    # Worst first, and only so many: a national edition can have thousands of lagging units.
    listed = sorted(rows, key=lambda r: (r.progress, r.locus.organisation.name))[:ALERT_LINES]
    with translation.override("id"):
        groups = dict(GROUP_SHORT)
        lines = [
            _("%(locus)s · %(unit)s · %(group)s: %(completed)s of %(target)s completed (%(pct)s%%)")
            % {
                "locus": r.locus.organisation.name,
                "unit": r.unit.name if r.unit else "",
                "group": groups.get(r.group, r.group),
                "completed": r.completed,
                "target": r.target,
                "pct": r.progress_pct,
            }
            for r in listed
        ]
        if len(rows) > len(listed):
            lines.append(
                _("… and %(n)s more: see the edition's page.") % {"n": len(rows) - len(listed)}
            )
        subject = _("SPI %(year)s: %(n)s units are lagging") % {
            "year": edition.year,
            "n": len(rows),
        }
        body = "\n".join(
            [
                _("These units are below the expected response rate:"),
                "",
                *lines,
                "",
                settings.SITE_URL.rstrip("/")
                + reverse("survey:edition", args=[edition.organisation.slug, edition.year]),
            ]
        )
    send_mail(subject, body, None, emails)
    Locus.objects.filter(pk__in=loci).update(last_alert_on=today)
    audit.record(
        "survey.alert.sent",
        actor=actor,
        organisation=edition.organisation,
        obj=edition,
        details={"units": len(rows), "recipients": len(emails)},
    )
    return len(emails)


# --- integrity review ---------------------------------------------------------------------------
def review_response(response: Response, decision: str, actor: User | None) -> None:
    """Confirm (exclude from the index) or clear (count) a flagged response."""
    if decision not in {Response.Review.CONFIRMED, Response.Review.CLEARED}:
        raise ValidationError(_("Unknown decision."))
    with transaction.atomic():
        response.review = decision
        response.save(update_fields=["review"])
        audit.record(
            f"survey.response.{decision}",
            actor=actor,
            organisation=response.edition.organisation,
            obj=response,
            details={"locus": response.locus.organisation.slug, "flags": response.flags},
        )
