"""Which supervising organisation may follow and verify which regional governments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Coverage(models.Model):
    """A supervising organisation (KPK, an Inspektorat, Kemendagri) covers regional governments.

    One row covers either every regional government in a region (a province code covers the
    provincial government and all its kabupaten/kota; a kab/kota code covers that one), or one
    organisation, or — with ``nationwide`` — all of them. Members with ``monitoring.verify`` in the
    supervising organisation verify what it covers; every member may read its scores.
    """

    supervisor = models.ForeignKey(
        "orgs.Organisation",
        on_delete=models.CASCADE,
        related_name="mcp_coverage",
        verbose_name=_("supervising organisation"),
    )
    nationwide = models.BooleanField(_("nationwide"), default=False)
    region = models.ForeignKey(
        "orgs.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nationwide=True, region__isnull=True, organisation__isnull=True)
                | models.Q(nationwide=False, region__isnull=False, organisation__isnull=True)
                | models.Q(nationwide=False, region__isnull=True, organisation__isnull=False),
                name="coverage_one_scope",
            ),
        ]

    def __str__(self) -> str:
        scope = "nationwide" if self.nationwide else (self.region_id or str(self.organisation_id))
        return f"{self.supervisor_id} → {scope}"
