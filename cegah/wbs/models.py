"""Whistleblowing: reports, their keys, messages, attachments, events and per-organisation policy.

The encryption boundary: every ``*_ct`` field is AES-GCM ciphertext under the report's own data key
(see ``cegah/wbs/crypto.py``). Everything else is the plaintext metadata that routing, deadlines and
statistics need: organisation, category, region, channel, status, dates, amount bucket.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """The 7 groups of corruption (UU 31/1999 jo 20/2001), plus other / maladministration."""

    STATE_LOSS = "kerugian_negara", _("State financial loss")
    BRIBERY = "suap", _("Bribery")
    EMBEZZLEMENT = "penggelapan", _("Embezzlement in office")
    EXTORTION = "pemerasan", _("Extortion")
    FRAUD = "kecurangan", _("Fraud")
    PROCUREMENT_CONFLICT = "benturan_pbj", _("Conflict of interest in procurement")
    GRATUITY = "gratifikasi", _("Gratuities")
    OTHER = "lainnya", _("Other / maladministration")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("Partner app")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("In person")


class Status(models.TextChoices):
    """KPK's stages of complaint handling."""

    RECEIVED = "received", _("Received")
    VERIFICATION = "verification", _("Verification")
    ASSESSMENT = "assessment", _("Assessment (telaah)")
    FOLLOW_UP = "follow_up", _("Follow-up / investigation")
    REFERRED = "referred", _("Referred")
    ARCHIVED = "archived", _("Archived")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    ENFORCEMENT = "enforcement", _("Enforcement action")
    ADMINISTRATIVE = "administrative", _("Administrative sanction or correction")
    REFERRED = "referred", _("Handled by another agency")
    NOT_CORRUPTION = "not_corruption", _("Not corruption")
    INSUFFICIENT = "insufficient", _("Insufficient information")
    UNFOUNDED = "unfounded", _("Not proven")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class AmountBucket(models.TextChoices):
    """The estimated loss, bucketed: statistics and the KPK threshold need no more than this."""

    UNKNOWN = "", _("Unknown")
    UNDER_10M = "lt10jt", _("Under Rp10 million")
    UNDER_100M = "lt100jt", _("Rp10–100 million")
    UNDER_1B = "lt1m", _("Rp100 million – 1 billion")
    UNDER_10B = "lt10m", _("Rp1–10 billion")
    OVER_10B = "ge10m", _("Rp10 billion or more")


class Report(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "orgs.Organisation",
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("organisation"),
    )
    # Deterministic Argon2id of the receipt (see crypto.receipt_lookup): lets the receipt find its
    # report without storing the receipt, at Argon2id's cost per guess.
    receipt_lookup = models.CharField(max_length=64, unique=True)
    # Salt for the reporter's key derived from the receipt (per report).
    receipt_salt = models.BinaryField(max_length=16)
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB
    )
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    region = models.ForeignKey(
        "orgs.Region",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("region"),
    )
    reported_organisation = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_about",
        verbose_name=_("reported institution"),
    )
    amount_bucket = models.CharField(
        _("estimated loss"), max_length=10, choices=AmountBucket.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_reports",
        verbose_name=_("assignee"),
    )
    has_identity = models.BooleanField(_("identity given"), default=False)
    # Codes only ("loss_ge_1b", "official"): why the report may be KPK's to handle.
    kpk_hints = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    due_examine = models.DateField(_("examination due"), null=True, blank=True)
    due_answer = models.DateField(_("answer due"), null=True, blank=True)
    due_ack = models.DateField(_("acknowledgement due"), null=True, blank=True)
    due_feedback = models.DateField(_("feedback due"), null=True, blank=True)
    examined_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Ciphertext: the answers (5W+1H, extra fields), reported parties, identity and contact.
    content_ct = models.BinaryField()
    # Ciphertext: the handler's redacted narrative for sharing, if any.
    redacted_ct = models.BinaryField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["organisation", "status", "-received_at"]),
            models.Index(fields=["organisation", "-received_at"]),
            models.Index(fields=["organisation", "assignee", "status"]),
            models.Index(fields=["organisation", "category"]),
            models.Index(fields=["organisation", "due_answer"]),
            models.Index(fields=["status", "closed_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """A short public reference for staff ("WBS-1A2B3C4D"); reveals nothing."""
        return "WBS-" + self.public_id.hex[:8].upper()

    @property
    def is_open(self) -> bool:
        return self.status not in {Status.CLOSED, Status.ARCHIVED}


class ReportKey(models.Model):
    """The report's data key, wrapped for one reader: an organisation, or the reporter."""

    class Holder(models.TextChoices):
        ORGANISATION = "org", _("Organisation")
        REPORTER = "reporter", _("Reporter")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="keys")
    holder = models.CharField(max_length=10, choices=Holder.choices)
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.CASCADE
    )
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "organisation"], name="uniq_report_key_org"),
            models.UniqueConstraint(
                fields=["report"],
                condition=models.Q(holder="reporter"),
                name="uniq_report_key_reporter",
            ),
        ]

    def __str__(self) -> str:
        return f"key of {self.report_id} for {self.holder}"


class Message(models.Model):
    """A message on a report: between reporter and handler, an internal note, or a system notice."""

    class Kind(models.TextChoices):
        REPORTER = "reporter", _("From the reporter")
        HANDLER = "handler", _("To the reporter")
        QUESTION = "question", _("Question to the reporter")
        NOTE = "note", _("Internal note")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The organisation handling the report when the message was written. An internal note stays
    # with it: the institution a report is referred to must not read the referrer's notes.
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    body_ct = models.BinaryField()
    read_by_reporter = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.report_id}"

    @property
    def visible_to_reporter(self) -> bool:
        return self.kind != self.Kind.NOTE

    def visible_to(self, organisation_id: int) -> bool:
        """Whether a member of the organisation may read it: all but other institutions' notes."""
        return self.kind != self.Kind.NOTE or self.organisation_id == organisation_id


class Attachment(models.Model):
    """An evidence file. Name and bytes are ciphertext; the file on disk has a random name."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    name_ct = models.BinaryField()
    size = models.PositiveIntegerField()
    from_reporter = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def storage_path(self) -> str:
        return f"wbs/{self.report.public_id.hex}/{self.public_id.hex}.bin"


class Event(models.Model):
    """One step in the report's timeline. ``data`` is plaintext metadata only, never content."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    visible_to_reporter = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.report_id}"


class ReporterSession(models.Model):
    """A reporter's short-lived session opened with the receipt.

    Only a hash of the token is stored; the data key is kept sealed under a key derived from the
    token, so a database dump of live sessions opens nothing. Each request of the reporter moves
    ``expires_at`` on (WBS_SESSION_MINUTES of inactivity end it), never beyond a cap counted from
    ``started_at``.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    sealed_key = models.BinaryField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"session for {self.report_id}"


class SubmissionClaim(models.Model):
    """A report form's one-time token, claimed when the report it carried was filed.

    A reload of the receipt page or a double tap posts the same form again: its token is found
    here and nothing is filed twice. Only a keyed hash of the token is kept, until the token
    itself expires, and nothing links it to the report.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return "submission claim"


class Policy(models.Model):
    """An organisation's handling policy: deadlines, retention and its report form."""

    class Profile(models.TextChoices):
        PP43 = "pp43", _("PP 43/2018: examine within 30 days, answer within 30 working days")
        EU = (
            "eu",
            _(
                "PP 43/2018 plus EU Directive 2019/1937: acknowledge in 7 days, feedback in 3 months"
            ),
        )
        LAPOR = (
            "lapor",
            _("LAPOR!-SP4N: verify in 3 working days, respond in 5, resolve in 60 days"),
        )

    organisation = models.OneToOneField(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="wbs_policy"
    )
    profile = models.CharField(
        _("deadline profile"), max_length=10, choices=Profile.choices, default=Profile.PP43
    )
    remind_days_before = models.PositiveSmallIntegerField(
        _("remind this many days before a deadline"), default=3
    )
    retention_days = models.PositiveIntegerField(
        _("keep closed reports for (days)"),
        default=5 * 365,
        help_text=_("Then they are deleted with their keys."),
    )
    # The report form's adjustments: {"fields": {name: {"required": bool, "help_id": …, "help_en": …}},
    # "extra": [{"name", "label_id", "label_en", "type": "text|textarea|date|number", "required", "help_id", "help_en"}]}
    form = models.JSONField(default=dict, blank=True)
    receives_channel_reports = models.BooleanField(
        _("receives reports from the WhatsApp and SMS line"),
        default=False,
        help_text=_("One organisation answers the shared WhatsApp/SMS number; KPK if none is set."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"policy of {self.organisation_id}"


class OrgKey(models.Model):
    """An organisation's X25519 key pair for reading reports.

    The private key is stored only wrapped: once for each member allowed to read reports (to that
    member's own key, see MemberKey) and once under the recovery key printed at set-up.
    """

    organisation = models.OneToOneField(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="wbs_key"
    )
    public_key = models.BinaryField(max_length=32)
    recovery_wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"key of {self.organisation_id}"


class UserKey(models.Model):
    """A staff user's own X25519 key pair; the private key is sealed under a key from their password."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wbs_key"
    )
    public_key = models.BinaryField(max_length=32)
    private_sealed = models.BinaryField()
    salt = models.BinaryField(max_length=16)
    params = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key of user {self.user_id}"


class KeyShare(models.Model):
    """The organisation's private key wrapped to one member's UserKey."""

    org_key = models.ForeignKey(OrgKey, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wbs_shares"
    )
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org_key", "user"], name="uniq_key_share")]

    def __str__(self) -> str:
        return f"share of {self.org_key_id} for {self.user_id}"


class DeadlineNotice(models.Model):
    """A reminder or escalation already sent, so the periodic job never sends it twice."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    deadline = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    due = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "deadline", "kind", "due"], name="uniq_deadline_notice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.deadline} of {self.report_id}"


class ReferralRoute(models.Model):
    """An admin-set forwarding rule: ``source`` may refer reports to ``target``.

    Built-in rules need no row (any organisation → KPK when the report looks like KPK's; KPK → an
    Inspektorat or law enforcement); rows add routes and say whether the sender keeps the content.
    """

    source = models.ForeignKey(
        "orgs.Organisation",
        on_delete=models.CASCADE,
        related_name="referral_routes_out",
        verbose_name=_("from"),
    )
    target = models.ForeignKey(
        "orgs.Organisation",
        on_delete=models.CASCADE,
        related_name="referral_routes_in",
        verbose_name=_("to"),
    )
    sender_keeps_content = models.BooleanField(
        _("the sender keeps reading the content"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="uniq_referral_route")
        ]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class Referral(models.Model):
    """A report handed from one organisation to another. The ciphertext stays where it is; the
    receiver gets the data key wrapped for it, the sender keeps the status (and the content only
    if the route allows)."""

    class Reason(models.TextChoices):
        KPK_JURISDICTION = "kpk", _("Within KPK's jurisdiction")
        REGIONAL = "regional", _("For the regional Inspektorat (APIP)")
        LAW_ENFORCEMENT = "aph", _("For law enforcement")
        OTHER_AGENCY = "other", _("Another agency is competent")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="referrals")
    from_org = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="referrals_out"
    )
    to_org = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="referrals_in"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    sender_keeps_content = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["from_org", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_org_id} → {self.to_org_id}"
