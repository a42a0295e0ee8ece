"""What the web reads about procurement risk: small tables written back from the DuckDB store.

The store (``var/procurement.duckdb``) holds every process, bid and award; the scoring service
(``services.score_store``) computes the flags there and writes one ``TenderRisk`` row per process
and one ``BuyerRisk`` row per buyer and fiscal year, so that pages, exports and the API never open
DuckDB (whose file a running import locks). Money is stored as float rupiah: exact for integers up
to 9 × 10^15, far above any Indonesian contract, and fast to bulk-write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cegah.orgs.models import Organisation, Region


class Zone(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")
    FEW = "few", _("Too few tenders")


class Buyer(models.Model):
    """A buyer as the data names it (SPSE satker ``ID-SATKER-…``, OCDS ``buyer/id``).

    Doubles as the mapping to Cegah's organisations: ``organisation`` is set when the buyer is
    known to be one of them (or one of their units); unmapped buyers are still scored and shown
    to analysts who see everything.
    """

    buyer_id = models.CharField(_("buyer id"), max_length=200, unique=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="procurement_buyers",
        verbose_name=_("organisation"),
    )
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("region")
    )

    class Meta:
        ordering = ["name", "buyer_id"]
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")

    def __str__(self) -> str:
        return self.name or self.buyer_id


class ScoringRun(models.Model):
    """One scoring of the whole store: the policy used and the indicators' parameters (Meta),
    which the pages quote as thresholds. The newest row is the one the data belongs to."""

    computed_at = models.DateTimeField(auto_now_add=True)
    policy = models.JSONField(default=dict)
    meta = models.JSONField(default=dict)
    tenders = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    # The highest TenderRisk id ever given out: a tender new to a scoring gets an id above it,
    # so that the id of a tender no longer in the data is never given to another one.
    tender_id_high = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M} ({self.tenders} tenders)"


class TenderRisk(models.Model):
    """One contracting process with its facts, its score and the flags that fired.

    Its id stays the same for its ocid from one scoring to the next (``services.score_store``):
    tender pages are linked from memos and messages, and must not move when data is added.
    """

    ocid = models.CharField(max_length=200, unique=True)
    # None when the data names no buyer (no buyer id, identifier or buyer party): such processes
    # are scored but belong to no satker (grouping them would make one fake satker of them all).
    buyer = models.ForeignKey(
        Buyer, null=True, blank=True, on_delete=models.CASCADE, related_name="tenders"
    )
    # Copied from the buyer's mapping (kept in step by services.map_buyer), so list pages filter
    # 200,000 rows on one indexed column.
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=500, blank=True)
    tender_id = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=40, blank=True)
    method_details = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=40, blank=True)
    procuring_entity = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True)  # fiscal year
    # Calendar month of the announcement (else the first date known), and its calendar year
    # against the fiscal year: -1 for next year's package announced in December, 0 within it.
    month = models.PositiveSmallIntegerField(null=True)
    month_year_offset = models.SmallIntegerField(default=0)
    announced_at = models.DateTimeField(null=True)
    tender_start = models.DateTimeField(null=True)
    tender_end = models.DateTimeField(null=True)
    award_date = models.DateTimeField(null=True)
    signed_at = models.DateTimeField(null=True)
    pagu = models.FloatField(null=True)
    hps = models.FloatField(null=True)
    award_value = models.FloatField(null=True)
    contract_value = models.FloatField(null=True)
    # Contract, else award, else HPS, else pagu: what "value at risk" adds up (in rupiah only).
    value = models.FloatField(null=True)
    # ISO 4217 code of the amounts (the tender's, else the contract's or award's); empty when the
    # data gives none, taken to be rupiah. Amounts in another currency are shown with their code
    # and never added into rupiah totals.
    currency = models.CharField(max_length=3, blank=True)
    n_registrants = models.PositiveIntegerField(null=True)
    n_bidders = models.PositiveIntegerField(null=True)
    winner = models.CharField(max_length=300, blank=True)
    score = models.PositiveSmallIntegerField(default=0)
    n_flags = models.PositiveSmallIntegerField(default=0)
    # [{"code": "ID01", "value": 39.0, "points": 25}, …], strongest first.
    flags = models.JSONField(default=list)
    # Offers: [{"tenderer": id, "name": …, "amount": …, "corrected": …, "negotiated": …,
    # "status": …, "winner": bool}, …] (at most services.MAX_BIDS).
    bids = models.JSONField(default=list)
    codes = models.CharField(max_length=300, blank=True)  # " ID01 R018 " for flag filters

    class Meta:
        ordering = ["-score", "-value", "id"]
        indexes = [
            models.Index(fields=["organisation", "year", "score"]),
            models.Index(fields=["buyer", "year", "score"]),
            models.Index(fields=["year", "score"]),
            models.Index(fields=["year", "month"]),
        ]

    def __str__(self) -> str:
        return self.title or self.ocid

    @property
    def method_label(self) -> str:
        """Return the OCDS procurement method (a code such as "open") in the reader's language."""
        return str(METHOD_LABELS.get(self.method, self.method))

    @property
    def category_label(self) -> str:
        """Return the OCDS main procurement category (a code such as "works") in the reader's
        language; a value outside the codelist is shown as published."""
        return str(CATEGORY_LABELS.get(self.category, self.category))

    @property
    def in_rupiah(self) -> bool:
        """Return whether the amounts are rupiah (or of no stated currency, taken as rupiah)."""
        return self.currency in ("", "IDR")

    @property
    def offer_period_days(self) -> int | None:
        """Return the offer period in whole days, rounded towards zero as R003 counts it."""
        if self.tender_start is None or self.tender_end is None:
            return None
        return int((self.tender_end - self.tender_start).total_seconds() // 86400)


# OCDS's procurementMethod codelist.
METHOD_LABELS = {
    "open": _("open"),
    "selective": _("selective"),
    "limited": _("limited"),
    "direct": _("direct"),
}

# OCDS's procurementCategory codelist (tender/mainProcurementCategory).
CATEGORY_LABELS = {
    "goods": pgettext_lazy("procurement category", "goods"),
    "works": pgettext_lazy("procurement category", "works"),
    "services": pgettext_lazy("procurement category", "services"),
}

# OCDS's bidStatus codelist, as the tender page shows offers.
BID_STATUS_LABELS = {
    "invited": pgettext_lazy("bid status", "invited"),
    "pending": pgettext_lazy("bid status", "pending"),
    "valid": pgettext_lazy("bid status", "valid"),
    "disqualified": pgettext_lazy("bid status", "disqualified"),
    "withdrawn": pgettext_lazy("bid status", "withdrawn"),
}


class BuyerRisk(models.Model):
    """A buyer's risk in one fiscal year: counts, value at risk, score and zone."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="risks")
    year = models.PositiveSmallIntegerField()
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    region_code = models.CharField(max_length=13, blank=True)
    tenders = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    at_risk = models.PositiveIntegerField(default=0)
    # Rupiah only; tenders valued in another currency are counted in other_currency_tenders.
    value_total = models.FloatField(default=0)
    value_at_risk = models.FloatField(default=0)
    other_currency_tenders = models.PositiveIntegerField(default=0)
    share_at_risk = models.FloatField(default=0)
    mean_score = models.FloatField(default=0)
    score = models.PositiveSmallIntegerField(default=0)
    zone = models.CharField(max_length=10, choices=Zone.choices, default=Zone.LOW)
    # False below the policy's minimum_tenders: the zone is then "few" and the buyer is listed
    # after the ranked ones (one tender at risk would otherwise make a satker 100% "high").
    ranked = models.BooleanField(default=True)
    # Buyer-level indicators (ID06, ID07, ID08, ID10, R038) as in TenderRisk.flags.
    flags = models.JSONField(default=list)

    class Meta:
        ordering = ["-ranked", "-score", "-value_at_risk", "id"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "year"], name="procurement_buyerrisk_unique")
        ]
        indexes = [
            models.Index(fields=["year", "score"]),
            models.Index(fields=["organisation", "year"]),
            models.Index(fields=["region_code", "year"]),
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.year}"


class ImportJob(models.Model):
    """An upload imported in the background; the progress page polls this row."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        SCORING = "scoring", _("Scoring")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        OCDS = "ocds", _("OCDS (JSON lines or package)")
        SPSE = "spse", _("SPSE ISB exports (ZIP)")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="procurement_imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    original_name = models.CharField(max_length=255)
    path = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    # ImportReport summary: status, records, imported, refused, first issues.
    result = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        """Return the import's progress, 0–100 (scoring counts as the last step)."""
        if self.status == self.Status.DONE:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_done / self.bytes_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def status_label(self) -> str:
        """Return the status as the import list shows it: a finished job says what it
        imported, so that a file of which nothing was imported does not read as a success."""
        if self.status != self.Status.DONE:
            return str(self.get_status_display())
        result = self.result or {}
        if result.get("status") == "unchanged":
            return str(_("Done: imported before, nothing changed"))
        if not result.get("imported"):
            return str(_("Done: nothing imported"))
        if result.get("refused"):
            return str(
                _("Done: %(imported)s of %(records)s imported")
                % {"imported": result["imported"], "records": result.get("records", "?")}
            )
        return str(self.get_status_display())


class TenderExport(models.Model):
    """An XLSX of a filtered tender list, built in the background (too large to build while the
    analyst's request waits) and kept for its requester to download for a day."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Preparing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="procurement_exports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    # The tender list's filters, as its query string (without the page number).
    query = models.CharField(max_length=1000, blank=True)
    # The language of the column headings and sheet name (the requester's, when asked).
    language = models.CharField(max_length=10, default="id")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "finished_at"])]

    def __str__(self) -> str:
        return f"tenders {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def is_finished(self) -> bool:
        return self.status not in (self.Status.PENDING, self.Status.RUNNING)
