"""A regional government's self-assessment for one period, its answers and their evidence."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cegah.monitoring.models.files import evidence_upload_to
from cegah.monitoring.models.framework import PERCENT, Period, SubIndicator


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for verification")
        RETURNED = "returned", _("Returned for response")
        VERIFIED = "verified", _("Verified")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="mcp_assessments"
    )
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "period"], name="uniq_assessment")
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.organisation} {self.period}"

    @property
    def editable_by_institution(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.RETURNED}

    @property
    def open_for_verification(self) -> bool:
        return self.status == self.Status.SUBMITTED


class Answer(models.Model):
    """The self-reported value of one sub-indicator and, once verified, the verified value."""

    class Verdict(models.TextChoices):
        NONE = "", _("Not verified yet")
        ACCEPTED = "accepted", _("Accepted")
        ADJUSTED = "adjusted", _("Adjusted")
        REJECTED = "rejected", _("Rejected")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    sub_indicator = models.ForeignKey(SubIndicator, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(
        _("self-reported value"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    note = models.TextField(_("note"), blank=True)
    # A document that exists but cannot be shown yet (an APBD awaiting the governor's evaluation).
    pending_document = models.BooleanField(_("document pending"), default=False)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    verdict = models.CharField(
        _("verdict"), max_length=20, choices=Verdict.choices, default=Verdict.NONE, blank=True
    )
    # The last verified value stays in force while a response is being verified again.
    verified_value = models.DecimalField(
        _("verified value"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    verifier_note = models.TextField(_("verifier's note"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.TextField(_("response to the verifier"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "sub_indicator"], name="uniq_answer")
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.sub_indicator.code}"

    @staticmethod
    def awaiting_review() -> Q:
        """Answers a verifier still has to judge: a value without a verdict, or a verdict
        cleared by a change since (the last verified value, kept meanwhile, marks those)."""
        return Q(verdict="") & (Q(value__isnull=False) | Q(verified_value__isnull=False))

    @property
    def is_awaiting_review(self) -> bool:
        return not self.verdict and (self.value is not None or self.verified_value is not None)

    @property
    def gap(self) -> Decimal | None:
        """Self-reported minus verified value, or None when either is missing."""
        if self.value is None or self.verified_value is None:
            return None
        return self.value - self.verified_value


class Evidence(models.Model):
    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Link")

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=evidence_upload_to, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    url = models.URLField(_("link"), max_length=500, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.original_name or self.url
