"""Coordination meetings, the recommendations they leave, and progress on them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cegah.monitoring.models.files import minutes_upload_to, progress_upload_to


class Meeting(models.Model):
    """A coordination meeting convened by a supervising organisation, with its minutes."""

    convened_by = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="mcp_meetings"
    )
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("held on"))
    minutes = models.FileField(_("minutes"), upload_to=minutes_upload_to, blank=True)
    minutes_name = models.CharField(max_length=200, blank=True)
    minutes_type = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("coordination meeting")
        verbose_name_plural = _("coordination meetings")

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on:%Y-%m-%d})"


class Recommendation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class SourceKind(models.TextChoices):
        MEETING = "meeting", _("Coordination meeting")
        SURVEY = "survey", _("Integrity survey weak dimension")
        PROCUREMENT = "procurement", _("Procurement red flag")
        OTHER = "other", _("Other")

    institution = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="mcp_recommendations"
    )
    issued_by = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, related_name="mcp_recommendations_issued"
    )
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="recommendations"
    )
    area_name = models.CharField(_("area"), max_length=200, blank=True)
    title = models.CharField(_("recommendation"), max_length=300)
    description = models.TextField(_("details"), blank=True)
    responsible_unit = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible unit (OPD)"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    source_kind = models.CharField(
        _("source"), max_length=20, choices=SourceKind.choices, default=SourceKind.MEETING
    )
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    source_url = models.URLField(_("source link"), max_length=500, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.CANCELLED}

    def is_overdue(self, today: dt.date) -> bool:
        return not self.is_closed and self.due_date < today


class ProgressUpdate(models.Model):
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="updates"
    )
    note = models.TextField(_("progress note"))
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), validators=[MaxValueValidator(100)]
    )
    file = models.FileField(_("evidence file"), upload_to=progress_upload_to, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=100, blank=True)
    url = models.URLField(_("evidence link"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")

    def __str__(self) -> str:
        return f"{self.recommendation_id}: {self.progress}%"
