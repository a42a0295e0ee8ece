"""Regions (Kemendagri codes) and the tree of organisations."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A province or kabupaten/kota, keyed by its Kemendagri code ("18", "18.71")."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        REGENCY = 2, _("Regency/city")

    code = models.CharField(
        _("Kemendagri code"),
        max_length=13,
        primary_key=True,
        validators=[RegexValidator(r"^\d{2}(\.\d{2})?$", _("Use a code such as 18 or 18.71."))],
    )
    name = models.CharField(_("name"), max_length=150)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    # "provinsi", "kabupaten" or "kota", as the source names them.
    type = models.CharField(_("type"), max_length=20)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def province_code(self) -> str:
        return self.code[:2]


class Organisation(models.Model):
    """An institution: KPK, a ministry, a regional government, one of its units, a BUMN/BUMD…"""

    class Kind(models.TextChoices):
        KPK = "kpk", _("KPK")
        KL = "kl", _("Ministry or agency (K/L)")
        PROVINCE = "province", _("Provincial government")
        REGENCY = "regency", _("Regency/city government")
        UNIT = "unit", _("Unit (OPD, Puskesmas, school …)")
        BUMN = "bumn", _("BUMN")
        BUMD = "bumd", _("BUMD")
        VILLAGE = "village", _("Village")
        LAW_ENFORCEMENT = "aph", _("Law enforcement (police, prosecutors)")

    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Free text under "unit": dinas, badan, inspektorat, puskesmas, sekolah, rsud, kecamatan …
    unit_type = models.CharField(_("unit type"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("region"),
    )
    accepts_reports = models.BooleanField(_("accepts reports"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["kind", "region"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_regional_government(self) -> bool:
        return self.kind in {self.Kind.PROVINCE, self.Kind.REGENCY}

    def ancestors(self) -> list[Organisation]:
        """Return the chain of parents, nearest first (one query per level; trees are shallow)."""
        chain: list[Organisation] = []
        node = self.parent
        while node is not None and len(chain) < 20:
            chain.append(node)
            node = node.parent
        return chain
