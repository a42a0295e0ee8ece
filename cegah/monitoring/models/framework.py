"""The MCP framework as data: a version per year, areas → indicators → sub-indicators, periods."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Framework(models.Model):
    """One year's version of the areas of intervention, with its zone cut-offs."""

    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # KPK does not publish the weights; shipped frameworks carry placeholders and say so.
    weights_are_placeholders = models.BooleanField(_("weights are placeholders"), default=True)
    # Zone cut-offs on the 0–100 total: red below the first, yellow below the second, blue below
    # the third, green from the third up.
    zone_red_below = models.DecimalField(
        _("red below"), max_digits=5, decimal_places=2, default=Decimal(25), validators=PERCENT
    )
    zone_yellow_below = models.DecimalField(
        _("yellow below"), max_digits=5, decimal_places=2, default=Decimal(50), validators=PERCENT
    )
    zone_blue_below = models.DecimalField(
        _("blue below"), max_digits=5, decimal_places=2, default=Decimal(75), validators=PERCENT
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-version"]
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        constraints = [
            models.UniqueConstraint(fields=["year", "version"], name="uniq_framework_year_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year} v{self.version})"

    @property
    def cutoffs(self) -> tuple[Decimal, Decimal, Decimal]:
        return (self.zone_red_below, self.zone_yellow_below, self.zone_blue_below)


class Area(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=Decimal(0))
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="uniq_area_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Indicator(models.Model):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=300)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=Decimal(0))
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [models.UniqueConstraint(fields=["area", "code"], name="uniq_indicator_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SubIndicator(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="subs")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=300)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=Decimal(0))
    description = models.TextField(_("description"), blank=True)
    required_evidence = models.TextField(_("required evidence"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("sub-indicator")
        verbose_name_plural = _("sub-indicators")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "code"], name="uniq_subindicator_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def full_code(self) -> str:
        """ "1.2.3": area, indicator and own code (loads the indicator and area if not joined)."""
        return f"{self.indicator.area.code}.{self.indicator.code}.{self.code}"


class Period(models.Model):
    """A reporting quarter of a framework, with its deadlines."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="periods")
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    submission_deadline = models.DateField(_("submission deadline"))
    verification_deadline = models.DateField(_("verification deadline"))

    class Meta:
        ordering = ["framework__year", "quarter"]
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        constraints = [
            models.UniqueConstraint(fields=["framework", "quarter"], name="uniq_period_quarter")
        ]

    def __str__(self) -> str:
        return f"{self.framework.year} Q{self.quarter}"

    @property
    def label(self) -> str:
        return f"{self.framework.year} Q{self.quarter}"
