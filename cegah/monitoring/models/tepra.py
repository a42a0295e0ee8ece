"""TEPRA: monthly budget realisation per OPD × activity, quarterly targets, strategic projects."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cegah.monitoring.models.framework import PERCENT

MONTH = [MinValueValidator(1), MaxValueValidator(12)]
NON_NEGATIVE = [MinValueValidator(Decimal(0))]


class TepraImport(models.Model):
    """One upload of a month's realisation, with the rows it refused and why."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="tepra_imports"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=MONTH)
    file_name = models.CharField(_("file name"), max_length=200)
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    # [{"row": 7, "column": "Pagu (Rp)", "letter": "D", "code": "not_a_number", "params": {…}}]:
    # rendered in the reader's language by ``tepra_files.issue_text``. Imports before codes hold
    # {"row", "column", "message"} with the message in the uploader's language.
    errors = models.JSONField(default=list, blank=True)
    # Notes that did not stop the import, same shape: columns the file has and Cegah does not read.
    warnings = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("TEPRA import")
        verbose_name_plural = _("TEPRA imports")

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.year}-{self.month:02d}"

    @property
    def refused(self) -> bool:
        """True when the file had problems and nothing of it was stored.

        Imports are all or nothing; older ones stored the good rows (``rows_imported`` > 0) and
        listed the rest.
        """
        return bool(self.errors) and self.rows_imported == 0


class Realisation(models.Model):
    """Cumulative realisation up to the end of a month for one OPD's activity.

    Money in rupiah; physical progress in percent. Re-importing a month replaces its rows.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="tepra_rows"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=MONTH)
    opd_name = models.CharField(_("OPD"), max_length=200)
    activity_code = models.CharField(_("activity code"), max_length=60, blank=True)
    # Programme → activity (kegiatan) → sub-activity (sub kegiatan): a file gives one or both.
    activity_name = models.CharField(_("activity"), max_length=300, blank=True)
    sub_activity_name = models.CharField(_("sub-activity"), max_length=300, blank=True)
    pagu = models.DecimalField(_("budget ceiling (pagu)"), max_digits=18, decimal_places=2)
    financial_target = models.DecimalField(_("financial target"), max_digits=18, decimal_places=2)
    financial_actual = models.DecimalField(_("financial actual"), max_digits=18, decimal_places=2)
    physical_target = models.DecimalField(
        _("physical target (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )
    physical_actual = models.DecimalField(
        _("physical actual (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )
    source = models.ForeignKey(
        TepraImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="rows"
    )

    class Meta:
        ordering = ["year", "month", "opd_name", "activity_code"]
        verbose_name = _("budget realisation")
        verbose_name_plural = _("budget realisation")
        indexes = [models.Index(fields=["organisation", "year", "month"])]

    def __str__(self) -> str:
        activity = self.sub_activity_name or self.activity_name
        return f"{self.opd_name} {activity} {self.year}-{self.month:02d}"


class QuarterTarget(models.Model):
    """Cumulative realisation targets at the end of each quarter; per institution or default.

    Without rows the defaults in ``cegah.monitoring.tepra.DEFAULT_TARGETS`` apply.
    """

    organisation = models.ForeignKey(
        "orgs.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tepra_targets",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    financial_pct = models.DecimalField(
        _("financial target (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )
    physical_pct = models.DecimalField(
        _("physical target (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )

    class Meta:
        verbose_name = _("quarterly target")
        verbose_name_plural = _("quarterly targets")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter"], name="uniq_quarter_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} Q{self.quarter}"


class StrategicProject(models.Model):
    """A strategic procurement package followed in TEPRA."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned (RUP)")
        ANNOUNCED = "announced", _("Announced")
        TENDERING = "tendering", _("Tender in progress")
        CONTRACTED = "contracted", _("Contract signed")
        IN_PROGRESS = "in_progress", _("Work in progress")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Tender failed")

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="tepra_projects"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    opd_name = models.CharField(_("OPD"), max_length=200)
    package_name = models.CharField(_("package"), max_length=300)
    rup_code = models.CharField(_("RUP code"), max_length=40, blank=True)
    method = models.CharField(_("procurement method"), max_length=60, blank=True)
    pagu = models.DecimalField(
        _("budget ceiling (pagu)"),
        max_digits=18,
        decimal_places=2,
        default=Decimal(0),
        validators=NON_NEGATIVE,
    )
    status = models.CharField(
        _("procurement status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    physical_progress = models.DecimalField(
        _("physical progress (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PERCENT,
    )
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["opd_name", "package_name"]
        verbose_name = _("strategic project")
        verbose_name_plural = _("strategic projects")

    def __str__(self) -> str:
        return self.package_name
