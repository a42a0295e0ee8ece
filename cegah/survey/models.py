"""SPI editions, loci, questionnaires, frames, samples, invitations and anonymous responses.

The anonymity boundary:
- ``Respondent`` (the frame) holds contact data only as AES-GCM ciphertext (``contact_sealed``)
  plus keyed hashes for de-duplication and the inbound opt-out.
- ``Invitation`` holds a hash of the respondent's link token and the plain counters that the
  response-rate dashboard and the reminders need (opened, started, completed, reminders sent).
- ``Response`` holds the answers. It has no key to the frame or the invitation, no token, a random
  UUID primary key drawn when it leaves the mixing pool (so neither the pool row, written with
  the invitation's completion, nor the insertion order can be recovered from it) and only the
  date of submission. What links an answer to a person is therefore not stored anywhere.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cegah.survey.scoring.constants import GROUPS


class Group(models.TextChoices):
    INTERNAL = "internal", _("Internal (employees, ≥ 1 year of service)")
    EXTERNAL = "external", _("External (service users of the last 12 months)")
    EXPERT = "expert", _("Experts")


assert tuple(Group.values) == tuple(GROUPS)

# Short names of the groups, for table columns, exports and emails.
GROUP_SHORT = (
    ("internal", _("Internal")),
    ("external", _("External")),
    ("expert", _("Experts")),
)

# Reminders per invitation at most, whatever an edition says (a reminder is a message to a
# person who has not answered; more than this is harassment, not a survey).
MAX_REMINDERS = 10


class Edition(models.Model):
    """One SPI edition (a year) run by a coordinating organisation (an Inspektorat or KPK)."""

    class Status(models.TextChoices):
        DESIGN = "design", _("Design")
        FIELDWORK = "fieldwork", _("Fieldwork")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="survey_editions"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DESIGN)
    # Copied from the engine's data when the edition is created, so a later change of the shipped
    # thresholds never re-categorises a published edition.
    category_scheme = models.CharField(max_length=20)
    category_bands = models.JSONField(default=list)
    group_weights = models.JSONField(default=dict)
    dimension_weights = models.JSONField(default=dict, blank=True)
    corrections = models.JSONField(default=dict, blank=True)
    recommendations = models.JSONField(default=dict, blank=True)
    margin_of_error = models.FloatField(
        _("margin of error"),
        default=0.05,
        validators=[MinValueValidator(0.005), MaxValueValidator(0.10)],
        help_text=_("0.05 is 5%; KPK aims at 5% and never above 10%."),
    )
    confidence_level = models.FloatField(
        _("confidence level"),
        default=0.95,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
    )
    census_below = models.PositiveIntegerField(
        _("census for units up to"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Units and groups with at most this many people are surveyed in full."),
    )
    max_reminders = models.PositiveSmallIntegerField(
        _("reminders at most"),
        default=3,
        validators=[MaxValueValidator(MAX_REMINDERS)],
    )
    reminder_gap_days = models.PositiveSmallIntegerField(
        _("days between reminders"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    lagging_below = models.FloatField(
        _("lagging below"),
        default=0.5,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text=_(
            "A unit whose completed share of its target is below this is highlighted "
            "(0.5 = half of its target)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="survey_edition_year")
        ]

    def __str__(self) -> str:
        return self.title


class Questionnaire(models.Model):
    """The XLSForm of one respondent group in one edition; the file is kept verbatim."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="questionnaires")
    group = models.CharField(max_length=10, choices=Group.choices)
    filename = models.CharField(max_length=200)
    xlsx = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    version = models.CharField(max_length=40, blank=True)
    is_default = models.BooleanField(default=False)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "group"], name="survey_questionnaire_group")
        ]

    def __str__(self) -> str:
        return f"{self.edition} · {self.group}"


class Locus(models.Model):
    """An institution surveyed in an edition; its units are the organisation's own units
    (``services.units_of``)."""

    class InstitutionType(models.TextChoices):
        KEMENTERIAN = "kementerian", _("Ministry")
        LEMBAGA = "lembaga", _("Agency")
        PROVINSI = "provinsi", _("Province")
        KABUPATEN = "kabupaten", _("Regency")
        KOTA = "kota", _("City")
        BUMN = "bumn", _("State-owned enterprise")

    class Size(models.TextChoices):
        BESAR = "besar", _("Large")
        SEDANG = "sedang", _("Medium")
        KECIL = "kecil", _("Small")

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="loci")
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="survey_loci"
    )
    institution_type = models.CharField(max_length=12, choices=InstitutionType.choices)
    size = models.CharField(max_length=8, choices=Size.choices, blank=True)
    # The QR code at a service counter opens /spi/daftar/<code>/; random, not guessable.
    registration_code = models.CharField(max_length=32, unique=True)
    registration_open = models.BooleanField(default=False)
    last_alert_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "organisation"], name="survey_locus_org")
        ]

    def __str__(self) -> str:
        return str(self.organisation)

    @property
    def registration_accepting(self) -> bool:
        """Whether the QR page takes registrations: opened by the coordinator, and the edition
        not closed (closing the edition closes registration whatever the switch says)."""
        return self.registration_open and self.edition.status != Edition.Status.CLOSED


class FrameImport(models.Model):
    """One uploaded population list: counts and problems (never the rows' contents).

    A list with any problem is ``refused`` whole (nothing added); ``rejected`` counts its rows
    with problems, ``problems`` lists the first ones by row and column and ``problem_count``
    says how many there were in all."""

    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="imports")
    filename = models.CharField(max_length=200)
    refused = models.BooleanField(default=False)
    encoding = models.CharField(max_length=20, blank=True)  # of a text file, as read
    rows = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)
    problem_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.added})"


class Respondent(models.Model):
    """A person in a locus' population list (or self-registered at a counter).

    Name, phone and email are sealed together in ``contact_sealed`` with ``public_id`` as the
    associated data; ``phone_hash``/``email_hash`` are keyed hashes used to merge duplicates and
    to find an opt-out sender, and reveal nothing without the installation's data secret.
    """

    class Source(models.TextChoices):
        FRAME = "frame", _("Population list")
        SELF = "self", _("Self-registered (QR)")

    class Screening(models.TextChoices):
        NOT_NEEDED = "", _("Not needed")
        PENDING = "pending", _("Waiting for screening")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="respondents")
    unit = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="survey_respondents"
    )
    group = models.CharField(max_length=10, choices=Group.choices)
    contact_sealed = models.BinaryField()
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    dedup_key = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FRAME)
    screening = models.CharField(max_length=10, choices=Screening.choices, blank=True)
    sampled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["locus", "dedup_key"], name="survey_respondent_dedup")
        ]
        indexes = [models.Index(fields=["locus", "unit", "group"])]

    def __str__(self) -> str:
        return str(self.public_id)  # never the name: it is sealed


class Sample(models.Model):
    """A drawn sample of a locus: the seed and design that reproduce it."""

    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="samples")
    seed = models.BigIntegerField()
    margin_of_error = models.FloatField()
    confidence_level = models.FloatField()
    census_below = models.PositiveIntegerField()
    strata = models.JSONField(default=list)
    size = models.PositiveIntegerField(default=0)
    drawn_at = models.DateTimeField(auto_now_add=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-drawn_at"]

    def __str__(self) -> str:
        return f"{self.locus} · {self.seed}"


class Invitation(models.Model):
    """One sampled respondent's invitation: the link token's hash and the response-rate marks.

    ``completed`` is a yes/no mark, never a time, and nothing points from here to the response.
    """

    class Delivery(models.TextChoices):
        PENDING = "", _("Not sent")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    respondent = models.OneToOneField(
        Respondent, on_delete=models.CASCADE, related_name="invitation"
    )
    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="invitations")
    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=10, choices=Group.choices)
    # The token is HMAC(secret, nonce): the database alone cannot rebuild a link.
    nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    sends = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    opened = models.BooleanField(default=False)
    started = models.BooleanField(default=False)
    completed = models.BooleanField(default=False)
    opted_out = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["locus", "unit", "group"])]

    def __str__(self) -> str:
        return f"invitation {self.pk}"

    @property
    def reminders_sent(self) -> int:
        return max(0, self.sends - 1)


class Draft(models.Model):
    """Answers in progress, sealed with a key derived from the link token (which is not stored),
    so neither staff nor a database dump can read an unfinished questionnaire. Deleted on submit."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="draft")
    answers_sealed = models.BinaryField()
    page = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"draft {self.pk}"


class Response(models.Model):
    """A submitted questionnaire. Deliberately no link to the frame, the invitation or the token,
    a random primary key, and the date (not the time) of submission."""

    class Review(models.TextChoices):
        NONE = "", _("Not flagged")
        FLAGGED = "flagged", _("Flagged, awaiting review")
        CONFIRMED = "confirmed", _("Confirmed: excluded from the index")
        CLEARED = "cleared", _("Cleared: counted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="responses")
    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="responses")
    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=10, choices=Group.choices)
    self_registered = models.BooleanField(default=False)
    answers = models.JSONField(default=dict)
    duration_s = models.PositiveIntegerField(null=True)
    submitted_on = models.DateField()
    flags = models.JSONField(default=list, blank=True)
    review = models.CharField(max_length=10, choices=Review.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["edition", "locus", "group"])]

    def __str__(self) -> str:
        return str(self.pk)


class PendingResponse(models.Model):
    """A submitted response waiting in the mixing pool (see services.flush_responses).

    It is written in the transaction that completes the invitation, so on PostgreSQL it shares
    that transaction's id: it is deleted when the pool moves, and the Response made from it gets
    a new random id. Only here, and only until then, are the device's keyed hash and the exact
    time of submission kept, for the burst check that runs when the pool moves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="+")
    locus = models.ForeignKey(Locus, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=10, choices=Group.choices)
    self_registered = models.BooleanField(default=False)
    answers = models.JSONField(default=dict)
    duration_s = models.PositiveIntegerField(null=True)
    submitted_on = models.DateField()
    # Keyed hash of the device cookie (or of the address without one), and the exact time.
    fingerprint = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(null=True)
    flags = models.JSONField(default=list, blank=True)
    review = models.CharField(max_length=10, choices=Response.Review.choices, blank=True)

    def __str__(self) -> str:
        return str(self.pk)


class IndexRun(models.Model):
    """A stored index computation of an edition (results as JSON, for pages and reports)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="index_runs")
    computed_at = models.DateTimeField(auto_now_add=True)
    results = models.JSONField(default=dict)
    responses = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"{self.edition} · {self.computed_at:%Y-%m-%d %H:%M}"

    def institution(self, slug: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.results.get("institutions", {}).get(slug)
        return found
