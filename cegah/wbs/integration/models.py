"""Cross-organisation duplicate detection and federation: only derived values and metadata.

Nothing here holds report content. A ``Fingerprint`` is the keyed output of
``cegah.wbs.dedup.fingerprint`` (hashes only); ``Band`` holds its LSH rows; ``Candidate`` and
``DuplicateGroup`` hold the handlers' decisions; ``ExternalCase`` is the plaintext metadata a
federated partner pushes about a case in its own WBS (the same kind of metadata the hub keeps in
plaintext for its own reports).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cegah.wbs.models import AmountBucket, Category, Status


class FederationPartner(models.Model):
    """An organisation that runs its own WBS and talks to the hub with signed requests."""

    organisation = models.OneToOneField(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="federation_partner"
    )
    # Raw 32-byte Ed25519 public key; the partner keeps the private key.
    public_key = models.BinaryField(max_length=32)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"federation partner {self.organisation_id}"


class FederationNonce(models.Model):
    """A nonce already seen from a partner; kept until its timestamp can no longer be accepted."""

    partner = models.ForeignKey(FederationPartner, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "nonce"], name="uniq_federation_nonce")
        ]

    def __str__(self) -> str:
        return f"nonce of {self.partner_id}"


class ExternalCase(models.Model):
    """Metadata of a case handled in a partner's own WBS (no content ever reaches the hub)."""

    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="external_cases"
    )
    external_id = models.CharField(_("case id"), max_length=100)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    region = models.ForeignKey(
        "orgs.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("received"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    amount_bucket = models.CharField(
        _("estimated loss"), max_length=10, choices=AmountBucket.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_id"], name="uniq_external_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.external_id}"


class DuplicateGroup(models.Model):
    """Cases confirmed to be one incident. The lead organisation handles it; the others follow
    and see the lead case's status as the group's status."""

    # Null once the lead case is deleted (retention shreds reports); the oldest member then
    # stands in as lead until a member's handler takes the lead.
    lead = models.ForeignKey(
        "Fingerprint",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead case"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"duplicate group {self.pk}"


class Fingerprint(models.Model):
    """The keyed fingerprint of one case: a hub report or a partner's external case."""

    report = models.OneToOneField(
        "wbs.Report",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="dedup_fingerprint",
    )
    external_case = models.OneToOneField(
        ExternalCase,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fingerprint",
    )
    # Whose case this is (denormalised from the report or external case for listing and access).
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    data = models.BinaryField()
    key_id = models.CharField(max_length=16)
    # SHA-256 of ``data``: a re-push of the same fingerprint changes nothing.
    digest = models.CharField(max_length=64)
    group = models.ForeignKey(
        DuplicateGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report__isnull=False, external_case__isnull=True)
                | models.Q(report__isnull=True, external_case__isnull=False),
                name="fingerprint_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"fingerprint {self.pk}"


class Band(models.Model):
    """One LSH row of a fingerprint (``cegah.wbs.dedup.band_rows``).

    The index on (band, band_hash, fingerprint) serves the candidate query from the index alone.
    """

    fingerprint = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="bands")
    band = models.SmallIntegerField()
    band_hash = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["band", "band_hash", "fingerprint"], name="wbs_int_band_lookup")
        ]

    def __str__(self) -> str:
        return f"band {self.band} of {self.fingerprint_id}"


class Candidate(models.Model):
    """A possible duplicate pair (a < b by fingerprint id) and the handlers' decision."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    a = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    # Entity kinds both name and agree on ("village", "rt"): kinds only, never values.
    agree = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="uniq_candidate_pair"),
            models.CheckConstraint(
                condition=models.Q(a__lt=models.F("b")), name="candidate_a_lt_b"
            ),
        ]

    def __str__(self) -> str:
        return f"candidate {self.a_id}-{self.b_id}"

    def other(self, fingerprint_id: int) -> int:
        """Return the id of the pair's other fingerprint."""
        return self.b_id if self.a_id == fingerprint_id else self.a_id
