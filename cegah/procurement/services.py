"""Procurement services: score the DuckDB store into Django tables, map buyers to organisations,
and import uploads in the background.

Scoring reads the store (``settings.VAR_DIR / "procurement.duckdb"``) once, computes every
indicator there (``engine.compute_store``), and replaces ``TenderRisk`` and ``BuyerRisk`` in one
transaction: pages never see a half-written scoring.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from cegah.core import audit
from cegah.core.apart import apart
from cegah.core.bulk import insert_rows
from cegah.core.spreadsheet import from_csv
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.orgs.models import Organisation
from cegah.procurement import exports
from cegah.procurement.engine import compute_store, load_settings
from cegah.procurement.engine.settings import Settings
from cegah.procurement.models import (
    Buyer,
    BuyerRisk,
    ImportJob,
    ScoringRun,
    TenderExport,
    TenderRisk,
)
from cegah.procurement.scoring import Policy

if TYPE_CHECKING:
    import duckdb
    from django.db.models import QuerySet

    from cegah.accounts.models import User
    from cegah.procurement.access import Scope
    from cegah.procurement.engine.store import ImportReport, Progress, Store

logger = logging.getLogger("cegah.procurement")

DATA_DIR = Path(__file__).resolve().parent / "data"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_BIDS = 60  # offers kept per tender for the detail page
ISSUES_SHOWN = 50  # issues of an upload listed on its progress page; the rest are counted
BATCH = 2000


def store_path() -> Path:
    """Return the path of the procurement store (created on first import).

    ``settings.PROCUREMENT_STORE`` (``CEGAH_PROCUREMENT_STORE``, by default
    ``VAR_DIR/procurement.duckdb``: the same file as ``cegah procurement import``'s). Under pytest
    a per-process temporary file unless a test sets it, so that no test (e.g. the core demo test)
    writes the developer's store or collides with the DuckDB lock of a parallel test run.
    """
    configured = getattr(settings, "PROCUREMENT_STORE", None)
    if configured:
        return Path(configured)
    if getattr(settings, "TESTING", False):
        return Path(tempfile.gettempdir()) / f"cegah-test-{os.getpid()}" / "procurement.duckdb"
    return Path(settings.VAR_DIR) / "procurement.duckdb"


def upload_dir() -> Path:
    return Path(settings.VAR_DIR) / "procurement-uploads"


def indicator_settings() -> Settings:
    """Return the indicator settings used for scoring (``data/indicators.ini``)."""
    return load_settings(DATA_DIR / "indicators.ini")


def current_run() -> ScoringRun | None:
    return ScoringRun.objects.first()


# --- Scoring ------------------------------------------------------------------------------------

_WIB = "AT TIME ZONE 'Asia/Jakarta'"

# Only constants are interpolated (the zone clause and MAX_BIDS).
# Lists are built with plain ``list`` and sorted afterwards (flags by code, bids by position, the
# first field of their struct; winners' names alphabetically): ordered and DISTINCT aggregates
# cannot spill to disk, and ran out of memory on a store of 2,000,000 processes.
_TENDER_SQL = f"""
WITH f AS (
    SELECT fl.ord AS rid, list_sort(list({{'code': fl.code, 'value': fl.value,
        'facts': CASE WHEN fl.code = 'ID09' AND g.rid IS NOT NULL THEN {{
            'supplier': coalesce(o.name, g.supplier), 'ceiling': g.ceiling, 'total': g.total
        }} END
    }})) AS flags
    FROM flag AS fl
    LEFT JOIN id09_group AS g ON g.rid = fl.ord AND fl.code = 'ID09'
    LEFT JOIN store.organisation AS o ON o.id = g.supplier
    WHERE fl.grp = 'OCID' GROUP BY fl.ord
),
winners AS (
    SELECT s.ocid, list_distinct(list(s.id)) AS ids,
           array_to_string(list_sort(list_distinct(list(coalesce(o.name, s.id)))), '; ')
               AS names
    FROM (SELECT ocid, unnest(supplier_ids) AS id FROM store.award WHERE status = 'active') AS s
    LEFT JOIN store.organisation AS o ON o.id = s.id
    GROUP BY s.ocid
),
b AS (
    SELECT b.ocid, [x.bid FOR x IN list_sort(list({{'position': b.position, 'bid': {{
        'tenderer': b.tenderer_ids[1], 'name': o.name, 'amount': b.amount,
        'corrected': b.amount_corrected, 'negotiated': b.amount_negotiated, 'status': b.status,
        'currency': b.currency,
        'date': strftime(b.date AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),
        'winner': coalesce(b.winner, list_has_any(b.tenderer_ids, w.ids), false)
    }}}}))][:{MAX_BIDS}] AS bids
    FROM store.bid AS b
    LEFT JOIN store.organisation AS o ON o.id = b.tenderer_ids[1]
    LEFT JOIN winners AS w ON w.ocid = b.ocid
    WHERE b.submitted GROUP BY b.ocid
)
SELECT p.rid, ti.id, p.ocid, p.source, p.buyer_id, p.buyer_name, p.title, p.tender_id, p.method,
       p.method_details, p.category, p.procuring_entity_name,
       coalesce(p.fiscal_year, year(coalesce(p.announced_at, p.tender_start, p.signed) {_WIB}))
           AS year,
       month(coalesce(p.announced_at, p.tender_start, p.award_date, p.signed) {_WIB}) AS month,
       year(coalesce(p.announced_at, p.tender_start, p.award_date, p.signed) {_WIB})
           - coalesce(p.fiscal_year,
                      year(coalesce(p.announced_at, p.tender_start, p.signed) {_WIB}))
           AS month_year_offset,
       epoch_us(p.announced_at), epoch_us(p.tender_start), epoch_us(p.tender_end),
       epoch_us(p.award_date), epoch_us(p.signed),
       p.pagu, p.hps, p.award_value, p.contract_value, p.any_value, p.value_currency,
       p.n_registrants, p.n_bidders, w.names, f.flags, b.bids
FROM idp AS p
JOIN tender_id AS ti ON ti.ocid = p.ocid
LEFT JOIN f ON f.rid = p.rid
LEFT JOIN winners AS w ON w.ocid = p.ocid
LEFT JOIN b ON b.ocid = p.ocid
ORDER BY p.rid
"""  # noqa: S608

_COLUMNS = [
    "id",
    "ocid",
    "source",
    "buyer_id",
    "buyer_name",
    "title",
    "tender_id",
    "method",
    "method_details",
    "category",
    "procuring_entity",
    "year",
    "month",
    "month_year_offset",
    "announced_at",
    "tender_start",
    "tender_end",
    "award_date",
    "signed_at",
    "pagu",
    "hps",
    "award_value",
    "contract_value",
    "value",
    "currency",
    "n_registrants",
    "n_bidders",
    "winner",
    "flags",
    "bids",
]


_BUYER_FLAGS_SQL = """
SELECT fl.id, fl.code, fl.value, coalesce(o.name, t.supplier), t.awards, t.total
FROM flag AS fl
LEFT JOIN id08_top AS t ON t.buyer_id = fl.id AND fl.code = 'ID08'
LEFT JOIN store.organisation AS o ON o.id = t.supplier
WHERE fl.grp = 'Buyer' ORDER BY fl.id, fl.code
"""

# The tables in which ID08 and ID09 leave the facts their explanations quote; empty when those
# indicators did not run (a settings file without them).
_DETAIL_TABLES = (
    "CREATE TABLE IF NOT EXISTS id08_top (buyer_id VARCHAR, supplier VARCHAR, awards BIGINT,"
    " total HUGEINT, rid BIGINT)",
    "CREATE TABLE IF NOT EXISTS id09_group (rid BIGINT, supplier VARCHAR, ceiling DOUBLE,"
    " purchases BIGINT, total DOUBLE)",
)


def _ensure_detail_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _DETAIL_TABLES:
        con.execute(statement)


@dataclass
class _BuyerYear:
    tenders: int = 0
    flagged: int = 0
    at_risk: int = 0
    # Rupiah only: values in other currencies are counted apart, never added in.
    value_total: float = 0.0
    value_at_risk: float = 0.0
    other_currency: int = 0
    score_sum: int = 0


@dataclass
class ScoreResult:
    run: ScoringRun
    tenders: int
    buyers: int
    zones: dict[str, int] = field(default_factory=dict)


def _instant(epoch_us: int | None) -> dt.datetime | None:
    """Return an aware UTC datetime from DuckDB's epoch microseconds (DuckDB would need pytz to
    hand out TIMESTAMPTZ values itself)."""
    if epoch_us is None:
        return None
    return _EPOCH + dt.timedelta(microseconds=int(epoch_us))


def explained_thresholds(indicators: Settings | None = None) -> dict[str, dict[str, float]]:
    """Return the thresholds that the explanations quote but Cardinal's Meta lacks (R003's days,
    by method details), kept with each run beside Meta; ``indicators`` defaults to the scoring
    settings."""
    r003 = (indicators or indicator_settings()).r003
    return {"R003": {"threshold": r003.threshold, **r003.procurement_method_details}}


def _clean_number(value: Any) -> float | None:
    return None if value is None else float(value)


def score_store(
    store: Path | None = None, *, policy: Policy | None = None, indicators: Settings | None = None
) -> ScoreResult:
    """Score every process of the store and replace the web's risk tables; return the summary.

    Tenders are streamed from DuckDB to the database in batches (200,000 processes never sit in
    Python at once). Raises FileNotFoundError if there is no store, duckdb.Error if it cannot be
    read (e.g. an import in another process holds its lock).
    """
    store = store or store_path()
    if not store.exists():
        raise FileNotFoundError(store)
    policy = policy or Policy()
    indicators = indicators or indicator_settings()
    started = time.monotonic()
    with (
        compute_store(store, indicators, indonesian=True) as result,
        transaction.atomic(),
    ):
        # Buyers are mapped while this runs (their page, a mapping file): the mapping would update
        # tender rows this transaction has deleted, and the rows written here would keep the old
        # mapping. Locking the buyers makes a mapping wait for the new rows (PostgreSQL; SQLite
        # writes one transaction at a time anyway).
        list(Buyer.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        con = result.con
        # Processes without a buyer id belong to no buyer (never one fake buyer for them all).
        names = {
            str(i): str(n or "")
            for i, n in con.execute(
                "SELECT buyer_id, arg_max(buyer_name, rid) FROM idp"
                " WHERE buyer_id IS NOT NULL AND buyer_id <> '' GROUP BY buyer_id"
            ).fetchall()
        }
        _ensure_detail_tables(con)
        buyer_flags: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for buyer_id, code, value, supplier, awards, total in con.execute(
            _BUYER_FLAGS_SQL
        ).fetchall():
            flag = {
                "code": code,
                "value": _clean_number(value),
                "points": policy.buyer_points.get(code, 0),
            }
            if supplier is not None:  # ID08: the repeat winner, named in its explanation
                flag["facts"] = {"supplier": supplier, "awards": awards, "total": total}
            buyer_flags[buyer_id].append(flag)
        buyers = _upsert_buyers(names)
        high = _assign_tender_ids(con)
        TenderRisk.objects.all().delete()
        BuyerRisk.objects.all().delete()
        # The one buyer without an id that earlier scorings made of every buyer-less process.
        Buyer.objects.filter(buyer_id="").delete()
        years: dict[tuple[int, int], _BuyerYear] = defaultdict(_BuyerYear)
        tender_count = 0
        for rows in _tender_rows(con):
            batch = []
            for raw in rows:
                t = dict(zip(_COLUMNS, raw, strict=True))
                batch.append(_tender(t, buyers.get(t["buyer_id"] or ""), policy, years))
            # Not bulk_create: it compiled SQL value by value, most of the scoring time.
            tender_count += insert_rows(TenderRisk, batch, batch_size=BATCH, with_id=True)
        _reset_tender_ids()

        by_pk = {b.pk: b for b in buyers.values()}
        risks = []
        zones: dict[str, int] = defaultdict(int)
        for (buyer_pk, year), acc in years.items():
            buyer = by_pk[buyer_pk]
            flags = sorted(
                buyer_flags.get(buyer.buyer_id, []), key=lambda f: (-f["points"], f["code"])
            )
            if acc.value_total:
                share = acc.value_at_risk / acc.value_total
            else:
                share = acc.at_risk / acc.tenders if acc.tenders else 0.0
            score = policy.buyer_score(share, flags)
            zone = policy.zone(score, acc.tenders)
            zones[zone] += 1
            risks.append(
                BuyerRisk(
                    buyer=buyer,
                    year=year,
                    organisation_id=buyer.organisation_id,
                    region_code=buyer.region_id or "",
                    tenders=acc.tenders,
                    flagged=acc.flagged,
                    at_risk=acc.at_risk,
                    value_total=acc.value_total,
                    value_at_risk=acc.value_at_risk,
                    other_currency_tenders=acc.other_currency,
                    share_at_risk=share,
                    mean_score=acc.score_sum / acc.tenders if acc.tenders else 0.0,
                    score=score,
                    zone=zone,
                    ranked=zone != "few",
                    flags=flags,
                )
            )
        BuyerRisk.objects.bulk_create(risks, batch_size=BATCH)
        run = ScoringRun.objects.create(
            policy=policy.to_dict(),
            meta={**result.meta_json(), **explained_thresholds(indicators)},
            tenders=tender_count,
            buyers=len(by_pk),
            seconds=round(time.monotonic() - started, 2),
            tender_id_high=high,
        )
    return ScoreResult(run=run, tenders=tender_count, buyers=len(risks), zones=dict(zones))


def _assign_tender_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Create ``tender_id`` (ocid, id) in DuckDB: each process keeps the id its ocid has in
    ``TenderRisk`` now, and a process new to this scoring gets one above every id given out
    before (``ScoringRun.tender_id_high``), so that links to a tender page keep working after a
    rescoring and never lead to another tender. Returns the new highest id.

    The ids go to DuckDB through a CSV file, a batch at a time: Python never holds them all.
    """
    import csv

    previous = ScoringRun.objects.order_by("-tender_id_high").values_list(
        "tender_id_high", flat=True
    )
    highest = max(
        previous.first() or 0,
        TenderRisk.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    )
    with tempfile.TemporaryDirectory(prefix="cegah-ids-") as tmp:
        path = Path(tmp) / "ids.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            known = TenderRisk.objects.order_by().values_list("ocid", "id")
            for pair in known.iterator(chunk_size=10 * BATCH):
                writer.writerow(pair)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE known_id AS SELECT * FROM read_csv(?,"
            " columns = {'ocid': 'VARCHAR', 'id': 'BIGINT'}, header = false, delim = ',',"
            " quote = '\"', escape = '\"', auto_detect = false)",
            [str(path)],
        )
    # row_number() without an order: any order will do, and an unordered window needs no sort.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE tender_id AS
        SELECT ocid, id FROM known_id SEMI JOIN idp USING (ocid)
        UNION ALL
        SELECT ocid, $high + row_number() OVER () FROM (
            SELECT ocid FROM idp ANTI JOIN known_id USING (ocid)
        )
        """,
        {"high": highest},
    )
    con.execute("DROP TABLE known_id")
    top = con.execute("SELECT max(id) FROM tender_id").fetchone()
    return max(highest, int(top[0]) if top and top[0] is not None else 0)


def _reset_tender_ids() -> None:
    """Move TenderRisk's id sequence past the ids written (PostgreSQL does not when ids are
    given; SQLite's AUTOINCREMENT does)."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), [TenderRisk])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _tender_rows(con: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the rows of ``_TENDER_SQL`` (without ``rid``) in process order, a slice at a time.

    DuckDB holds a query's whole result in memory, where it cannot spill: at 2,000,000 processes
    that ran out of memory. The rows go to a table first (which can spill), and are read back by
    ranges of ``rid``, the order the table is stored in, so each read touches only its part.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE tender_rows AS {_TENDER_SQL}")
    try:
        bounds = con.execute("SELECT min(rid), max(rid) FROM tender_rows").fetchone()
        if bounds is None or bounds[0] is None:
            return
        step = 10 * BATCH
        for start in range(int(bounds[0]), int(bounds[1]) + 1, step):
            rows = con.execute(
                "SELECT * EXCLUDE (rid) FROM tender_rows WHERE rid >= ? AND rid < ? ORDER BY rid",
                [start, start + step],
            ).fetchall()
            for i in range(0, len(rows), BATCH):
                yield rows[i : i + BATCH]
    finally:
        con.execute("DROP TABLE IF EXISTS tender_rows")


def _tender(
    t: dict[str, Any],
    buyer: Buyer | None,
    policy: Policy,
    years: dict[tuple[int, int], _BuyerYear],
) -> dict[str, Any]:
    """Return one TenderRisk row (by field attname) from a row of _TENDER_SQL, and add it to
    its buyer-year totals (a process without a buyer counts in none)."""
    flags = policy.tender_flags(
        [
            {"code": f["code"], "value": _clean_number(f["value"])}
            | ({"facts": _clean_facts(f["facts"])} if f.get("facts") else {})
            for f in (t["flags"] or [])
        ]
    )
    score = min(100, sum(f["points"] for f in flags))
    value = _clean_number(t["value"])
    # A value without a currency is taken to be rupiah (SPSE's always are).
    currency = (t["currency"] or "").strip().upper()[:3]
    rupiah = value if currency in ("", RUPIAH) else None
    if t["year"] is not None and buyer is not None:
        acc = years[(buyer.pk, int(t["year"]))]
        acc.tenders += 1
        acc.flagged += 1 if flags else 0
        acc.value_total += rupiah or 0
        acc.other_currency += 1 if value is not None and rupiah is None else 0
        acc.score_sum += score
        if score >= policy.at_risk:
            acc.at_risk += 1
            acc.value_at_risk += rupiah or 0
    return {
        "id": t["id"],
        "ocid": t["ocid"],
        "buyer_id": buyer.pk if buyer else None,
        "organisation_id": buyer.organisation_id if buyer else None,
        "source": t["source"] or "",
        "title": (t["title"] or "")[:500],
        "tender_id": (t["tender_id"] or "")[:100],
        "method": (t["method"] or "")[:40],
        "method_details": (t["method_details"] or "")[:100],
        "category": (t["category"] or "")[:40],
        "procuring_entity": (t["procuring_entity"] or "")[:300],
        "year": t["year"],
        "month": t["month"],
        "month_year_offset": t["month_year_offset"] or 0,
        "announced_at": _instant(t["announced_at"]),
        "tender_start": _instant(t["tender_start"]),
        "tender_end": _instant(t["tender_end"]),
        "award_date": _instant(t["award_date"]),
        "signed_at": _instant(t["signed_at"]),
        "pagu": _clean_number(t["pagu"]),
        "hps": _clean_number(t["hps"]),
        "award_value": _clean_number(t["award_value"]),
        "contract_value": _clean_number(t["contract_value"]),
        "value": value,
        "currency": currency,
        "n_registrants": t["n_registrants"],
        "n_bidders": t["n_bidders"],
        "winner": (t["winner"] or "")[:300],
        "score": score,
        "n_flags": len(flags),
        "flags": flags,
        "bids": [_clean_bid(b) for b in (t["bids"] or [])],
        "codes": " " + " ".join(f["code"] for f in flags) + " " if flags else "",
    }


RUPIAH = "IDR"


def _clean_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """Return a flag's facts with JSON-friendly numbers (DuckDB gives Decimals for sums)."""
    return {
        key: float(value)
        if isinstance(value, (int, float)) or hasattr(value, "as_tuple")
        else value
        for key, value in facts.items()
    }


def _clean_bid(bid: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (_clean_number(value) if key in ("amount", "corrected", "negotiated") else value)
        for key, value in bid.items()
    }


def _upsert_buyers(names: dict[str, str]) -> dict[str, Buyer]:
    """Create buyers not seen before and refresh names; mappings are kept. Returns id → Buyer."""
    existing = {b.buyer_id: b for b in Buyer.objects.all()}
    new = [Buyer(buyer_id=i, name=n[:300]) for i, n in names.items() if i not in existing]
    Buyer.objects.bulk_create(new, batch_size=BATCH)
    changed = []
    for buyer_id, name in names.items():
        buyer = existing.get(buyer_id)
        if buyer is not None and name and buyer.name != name[:300]:
            buyer.name = name[:300]
            changed.append(buyer)
    Buyer.objects.bulk_update(changed, ["name"], batch_size=BATCH)
    return {b.buyer_id: b for b in Buyer.objects.filter(buyer_id__in=list(names))}


# --- Buyer mapping ------------------------------------------------------------------------------


# How long a mapping waits for a rescoring that holds the buyers (see ``score_store``) before it
# is refused: a rescoring takes half a minute at 200,000 tenders and minutes at national scale,
# longer than a request should hang (a reverse proxy gives up after a minute).
MAPPING_LOCK_WAIT = dt.timedelta(seconds=5)


class MappingBusy(Exception):
    """A rescoring holds the buyers; the mapping changed nothing."""


@contextmanager
def _buyers_locked(pks: list[int]) -> Iterator[None]:
    """Run the block in a transaction holding ``pks``' buyer rows, waiting at most
    ``MAPPING_LOCK_WAIT`` for them (PostgreSQL; SQLite writes one transaction at a time).

    Raises MappingBusy, with everything rolled back, if a rescoring holds them longer.
    """
    from django.db import OperationalError, connection

    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                wait = int(MAPPING_LOCK_WAIT.total_seconds() * 1000)
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {wait}")
            list(
                Buyer.objects.select_for_update()
                .filter(pk__in=pks)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            yield
    except OperationalError as exc:
        # 55P03: lock_not_available, what lock_timeout raises.
        if getattr(exc.__cause__, "sqlstate", None) == "55P03":
            raise MappingBusy from exc
        raise


def map_buyer(
    buyer: Buyer,
    organisation: Organisation | None,
    *,
    actor: User | None,
    acting_organisation: Organisation | None = None,
) -> Buyer:
    """Map a buyer to an organisation (None: unmap); its tenders and yearly risks follow.

    Raises MappingBusy if a rescoring holds the buyers for longer than ``MAPPING_LOCK_WAIT``.
    """
    with _buyers_locked([buyer.pk]):
        previous = buyer.organisation
        buyer.organisation = organisation
        buyer.region = organisation.region if organisation else None
        buyer.save(update_fields=["organisation", "region"])
        TenderRisk.objects.filter(buyer=buyer).update(organisation=organisation)
        BuyerRisk.objects.filter(buyer=buyer).update(
            organisation=organisation, region_code=buyer.region_id or ""
        )
        audit.record(
            "procurement.buyer.mapped",
            actor=actor,
            organisation=acting_organisation or organisation,
            obj=buyer,
            details={
                "buyer": buyer.buyer_id,
                "from": previous.slug if previous else None,
                "to": organisation.slug if organisation else None,
            },
        )
    return buyer


MAPPING_MAX_BYTES = 20 * 1024 * 1024
MAPPING_COLUMNS = ("buyer_id", "name", "organisation")


@dataclass
class MappingResult:
    """What a mapping file did: buyers mapped or unmapped, left as they were, and the problems
    found (line, column, message), of which any means nothing was changed."""

    mapped: int = 0
    unmapped: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def buyers_csv_rows() -> Iterator[list[str]]:
    """Yield the mapping file of every buyer: a header, then id, name and organisation (short
    name, empty when unmapped) per buyer, for analysts to fill in and upload again."""
    yield list(MAPPING_COLUMNS)
    buyers = Buyer.objects.order_by("name", "buyer_id").values_list(
        "buyer_id", "name", "organisation__slug"
    )
    for buyer_id, name, slug in buyers.iterator(chunk_size=BATCH):
        yield [buyer_id, name, slug or ""]


def map_buyers_from_csv(
    data: bytes,
    *,
    file_name: str,
    actor: User | None,
    acting_organisation: Organisation | None,
) -> MappingResult:
    """Map buyers to organisations from a CSV file (``buyer_id`` and ``organisation`` columns;
    an empty organisation unmaps). Buyers not in the file keep their mapping.

    All or nothing: any problem (unknown buyer or organisation, a buyer twice, bad encoding)
    changes nothing and is reported with its line and column. Otherwise one transaction maps
    every buyer, its tenders and its yearly risks, with one audit entry for the file. Raises
    MappingBusy if a rescoring holds the buyers for longer than ``MAPPING_LOCK_WAIT``.
    """
    import csv
    import hashlib
    import io

    from django.utils.translation import gettext as _

    result = MappingResult()
    if len(data) > MAPPING_MAX_BYTES:
        result.errors.append((0, "", _("The file is larger than 20 MB.")))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "", _("The file is not UTF-8 text (save it as CSV UTF-8).")))
        return result
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    wanted: dict[str, tuple[int, str]] = {}
    try:
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c in ("buyer_id", "organisation") if c not in header]
        if missing:
            result.errors.append(
                (
                    1,
                    ", ".join(missing),
                    _("The header row needs the columns buyer_id and organisation."),
                )
            )
            return result
        for row in reader:
            line = reader.line_num
            # As written by buyers.csv, which guards text a spreadsheet would run.
            buyer_id = from_csv((row.get("buyer_id") or "").strip())
            slug = from_csv((row.get("organisation") or "").strip())
            if not buyer_id:
                if slug:
                    result.errors.append((line, "buyer_id", _("Required.")))
                continue
            if buyer_id in wanted:
                first = wanted[buyer_id][0]
                result.errors.append(
                    (line, "buyer_id", _("Also on line %(line)s.") % {"line": first})
                )
                continue
            wanted[buyer_id] = (line, slug)
    except csv.Error as exc:
        # An unclosed quote (the rest of the file read as one field), a NUL byte, …
        result.errors.append((reader.line_num, "", _("Not valid CSV: %(error)s") % {"error": exc}))
        return result
    buyers = {b.buyer_id: b for b in Buyer.objects.filter(buyer_id__in=list(wanted))}
    organisations = {
        o.slug: o
        for o in Organisation.objects.filter(
            slug__in={slug for _line, slug in wanted.values() if slug}, is_active=True
        ).select_related("region")
    }
    changes: list[tuple[Buyer, Organisation | None]] = []
    for buyer_id, (line, slug) in wanted.items():
        buyer = buyers.get(buyer_id)
        target = organisations.get(slug) if slug else None
        if buyer is None:
            result.errors.append((line, "buyer_id", _("No buyer has this id.")))
        if slug and target is None:
            result.errors.append((line, "organisation", _("No organisation has that short name.")))
        if buyer is None or (slug and target is None):
            continue
        if buyer.organisation_id == (target.pk if target else None):
            result.unchanged += 1
        else:
            changes.append((buyer, target))
    result.errors.sort()
    if result.errors or not changes:
        return result
    by_target: dict[int | None, list[Buyer]] = defaultdict(list)
    for buyer, target in changes:
        buyer.organisation = target
        buyer.region = target.region if target else None
        by_target[target.pk if target else None].append(buyer)
        if target is None:
            result.unmapped += 1
        else:
            result.mapped += 1
    with _buyers_locked([b.pk for b, _t in changes]):
        Buyer.objects.bulk_update([b for b, _t in changes], ["organisation", "region"], BATCH)
        for target_pk, group in by_target.items():
            for start in range(0, len(group), BATCH):
                chunk = group[start : start + BATCH]
                region = chunk[0].region_id or ""
                TenderRisk.objects.filter(buyer__in=chunk).update(organisation_id=target_pk)
                BuyerRisk.objects.filter(buyer__in=chunk).update(
                    organisation_id=target_pk, region_code=region
                )
        audit.record(
            "procurement.buyers.mapped",
            actor=actor,
            organisation=acting_organisation,
            details={
                "file": file_name[:200],
                "sha256": hashlib.sha256(data).hexdigest(),
                "mapped": result.mapped,
                "unmapped": result.unmapped,
                "unchanged": result.unchanged,
            },
        )
    return result


# --- Imports ------------------------------------------------------------------------------------

# OCDS files may come gzip-compressed, as they are often published (and as they are better sent
# over a slow connection); the store tells compressed files by their first bytes.
ALLOWED_SUFFIXES = {
    ".jsonl": ImportJob.Kind.OCDS,
    ".json": ImportJob.Kind.OCDS,
    ".jsonl.gz": ImportJob.Kind.OCDS,
    ".json.gz": ImportJob.Kind.OCDS,
    ".zip": ImportJob.Kind.SPSE,
}


class UploadRejected(ValueError):
    """Raised for an upload that cannot be imported (the message is shown to the user)."""


def start_import(organisation: Organisation, upload: UploadedFile, *, actor: User) -> ImportJob:
    """Save an uploaded OCDS file or SPSE ZIP and queue its import; return the job.

    Raises UploadRejected for a file type we do not import.
    """
    from django.utils.translation import gettext as _

    name = Path(upload.name or "upload").name
    suffix = "".join(Path(name.lower()).suffixes[-2:])
    if suffix not in ALLOWED_SUFFIXES:
        suffix = Path(name).suffix.lower()
    kind = ALLOWED_SUFFIXES.get(suffix)
    if kind is None:
        raise UploadRejected(
            _(
                "Upload a .jsonl or .json OCDS file (gzip-compressed too: .jsonl.gz, .json.gz),"
                " or a .zip of SPSE exports."
            )
        )
    if suffix.endswith(".gz"):
        from cegah.procurement.engine.store import GZIP_MAGIC

        upload.seek(0)
        head = upload.read(2)
        upload.seek(0)
        if head != GZIP_MAGIC:
            raise UploadRejected(
                _(
                    "%(name)s is named .gz but is not gzip-compressed: compress it with gzip, or"
                    " upload it without .gz at the end of its name."
                )
                % {"name": name}
            )
    target = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    with transaction.atomic():
        job = ImportJob.objects.create(
            organisation=organisation,
            created_by=actor,
            kind=kind,
            original_name=name[:255],
            path=str(target),
            size=target.stat().st_size,
            bytes_total=target.stat().st_size,
        )
        audit.record(
            "procurement.import.started",
            actor=actor,
            organisation=organisation,
            obj=job,
            details={"file": job.original_name, "size": job.size, "kind": kind},
        )
        from cegah.procurement.tasks import import_upload

        enqueue_on_commit(import_upload, job.pk)
    return job


def run_import(job_id: int) -> None:
    """Import a queued upload into the store, then rescore. Idempotent: a job is claimed with a
    conditional update, so a duplicate task does nothing; the store skips a file seen before.

    Raises duckdb.Error when the store is locked by another process (the task retries).
    """
    import duckdb

    from cegah.procurement.engine.store import Store

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), error=""
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or done >= total:
            last[0] = now
            ImportJob.objects.filter(pk=job_id).update(bytes_done=done, bytes_total=total)

    workdir: Path | None = None
    try:
        with Store(store_path()) as store:
            if job.kind == ImportJob.Kind.SPSE:
                workdir = Path(tempfile.mkdtemp(prefix="cegah-spse-"))
                folders = _unzip(Path(job.path), workdir)
                reports = _import_spse_folders(store, folders, progress)
            else:
                report = store.import_ocds(job.path, progress=progress)
                reports = [(job.original_name, report)]
        result = _import_result(reports)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.SCORING, result=result)
        if result["status"] == "imported" or current_run() is None:
            score_store()
    except duckdb.IOException:
        # Another process holds the store's lock: put the job back and let the task retry.
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.PENDING)
        raise
    except Exception as exc:
        from cegah.procurement.engine.store import NotGzipError

        if isinstance(exc, (UploadRejected, NotGzipError)):
            # The file's fault, told to the user on the job's page: no traceback to log.
            logger.warning("procurement import %s refused: %s", job_id, exc)
        else:
            logger.exception("procurement import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        _discard_upload(job)
        return
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), bytes_done=job.bytes_total
    )
    _discard_upload(job)
    audit.record(
        "procurement.import.finished",
        actor=job.created_by,
        organisation=job.organisation,
        obj=job,
        details={
            "file": job.original_name,
            "status": result["status"],
            "imported": result["imported"],
        },
    )


def give_up_import(job_id: int, error: BaseException) -> None:
    """Mark a job that is still waiting as failed once its task stops retrying (the store stayed
    busy, or the task kept failing), so that its page does not wait for ever."""
    import duckdb

    if isinstance(error, duckdb.IOException):
        message = (
            "Basis data pengadaan terus dipakai proses lain; unggah berkas ini lagi nanti. / "
            "The procurement store stayed busy with another process; upload this file again later."
        )
    else:
        message = str(error)[:2000]
    failed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), error=message)
    job = ImportJob.objects.filter(pk=job_id).first()
    if failed and job is not None:
        _discard_upload(job)


# An import of 2,000,000 releases with its rescoring takes about a quarter of an hour: a job still
# running after this long lost its worker (stopped, killed for memory, redeployed).
STALLED_AFTER = dt.timedelta(hours=6)


def fail_stalled_imports(now: dt.datetime | None = None) -> int:
    """Mark failed, and delete the files of, the jobs still running ``STALLED_AFTER`` after they
    started: their worker stopped, and no retry will come. Returns how many."""
    now = now or timezone.now()
    stalled = list(
        ImportJob.objects.filter(
            status__in=[ImportJob.Status.RUNNING, ImportJob.Status.SCORING],
            started_at__lt=now - STALLED_AFTER,
        )
    )
    message = (
        "Impor terhenti: proses pekerjanya berhenti. Unggah berkas ini lagi. / "
        "The import stopped: its worker stopped. Upload this file again."
    )
    failed = 0
    for job in stalled:
        if ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportJob.Status.FAILED, finished_at=now, error=message
        ):
            failed += 1
            _discard_upload(job)
    if failed:
        logger.warning("procurement: %d import(s) stalled and marked failed", failed)
    return failed


def _discard_upload(job: ImportJob) -> None:
    """Delete a finished job's uploaded file: its records are in the store now (which keeps the
    file's SHA-256), and uploads of hundreds of megabytes must not pile up under var/. A job put
    back for a retry keeps its file."""
    try:
        Path(job.path).unlink(missing_ok=True)
    except OSError:
        logger.warning("procurement import %s: could not delete %s", job.pk, job.path)


# What an SPSE ZIP may expand to. Its exports are joined through a scratch file on disk, not in
# memory (a 442 MB folder imports in about 400 MiB), so the limit is about disk and time: the
# extracted files and the scratch file take some twice this on disk, and 2 GiB (about 250
# kabupaten-years; Kab. Bandung 2025 is 8.4 MB) imports in two minutes or so. Bigger ZIPs are
# refused with a message to split them by LPSE and year; a zip bomb stops here too.
SPSE_ZIP_LIMIT = 2 * 1024**3


def _unzip(archive: Path, target: Path) -> list[tuple[str, Path]]:
    """Extract the ISB export files of a ZIP (see ``extract_spse_zip``), at most
    ``SPSE_ZIP_LIMIT`` bytes; raises UploadRejected."""
    from cegah.procurement.engine.spse import SpseZipError, extract_spse_zip

    try:
        return extract_spse_zip(archive, target, SPSE_ZIP_LIMIT)
    except SpseZipError as exc:
        raise UploadRejected(str(exc)) from exc


def _import_spse_folders(
    store: Store, folders: list[tuple[str, Path]], progress: Progress
) -> list[tuple[str, ImportReport]]:
    """Import each folder of an SPSE ZIP (see ``_unzip``); return (its directory, its report).

    Progress runs over all of them, by the size of their files.
    """
    from cegah.procurement.engine.spse import import_spse

    sizes = [sum(p.stat().st_size for p in folder.iterdir()) for _d, folder in folders]
    whole = max(sum(sizes), 1)
    reports = []
    for index, (directory, folder) in enumerate(folders):
        before = sum(sizes[:index])

        def overall(done: int, total: int, before: int = before, size: int = sizes[index]) -> None:
            progress(before + (size * done // total if total else 0), whole)

        reports.append((directory, import_spse(store, folder, progress=overall)))
    return reports


def _import_result(reports: list[tuple[str, ImportReport]]) -> dict[str, Any]:
    """Return what a job's page shows of its reports (one per file, or per folder of a ZIP).

    Each listed issue names its file: the ZIP's directory and the export's name for SPSE.
    """
    statuses = {report.status for _where, report in reports}
    status = next((s for s in ("imported", "unchanged", "refused") if s in statuses), "nothing")
    issues: list[dict[str, Any]] = []
    count = 0
    for where, report in reports:
        count += report.issue_count
        for issue in report.issues[: max(ISSUES_SHOWN - len(issues), 0)]:
            name = where
            if report.source == "spse" and issue.path != report.path:
                name = "/".join(part for part in (where, Path(issue.path).name) if part)
            issues.append(
                {
                    "file": name,
                    "line": issue.line,
                    "field": issue.field,
                    "message": issue.message,
                    "notice": issue.notice,
                }
            )
    return {
        "status": status,
        "records": sum(r.records for _w, r in reports),
        "imported": sum(r.imported for _w, r in reports),
        "refused": sum(r.refused for _w, r in reports),
        "issue_count": count,
        "issues": issues,
        "unlisted": count - len(issues),
    }


# --- Prepared exports --------------------------------------------------------------------------

# An XLSX of up to this many tenders is built while the request waits (about 2 s); a larger one
# is prepared in the background (``request_export``): 200,000 tenders take some 35 s, near a
# reverse proxy's timeout, with nothing on the analyst's screen meanwhile.
EXPORT_DIRECT_ROWS = 10_000
# How long a prepared file is kept for its requester to download.
EXPORT_KEEP = dt.timedelta(hours=24)
# An export still waiting or being prepared this long after it was asked for lost its worker: the
# largest takes about a minute, after the imports queued before it (a national one and its
# rescoring, a quarter of an hour).
EXPORT_STALLED_AFTER = dt.timedelta(hours=2)
# Exports one analyst may have waiting or being prepared at once (each takes a worker's CPU).
EXPORTS_AT_ONCE = 3


class ExportRefused(ValueError):
    """The analyst already has as many exports in preparation as allowed."""


def export_dir() -> Path:
    return Path(settings.VAR_DIR) / "procurement-exports"


def request_export(scope: Scope, query: str, *, actor: User) -> TenderExport:
    """Queue the XLSX of the tender list filtered by ``query`` (its query string); return the job.

    Asking again for the same filters while that export waits or is being prepared returns it
    (a double click, a reload). Raises ExportRefused beyond ``EXPORTS_AT_ONCE`` such exports.
    """
    from django.utils.translation import get_language
    from django.utils.translation import gettext as _

    from cegah.procurement.tasks import build_tender_export

    unfinished = TenderExport.objects.filter(
        created_by=actor, status__in=[TenderExport.Status.PENDING, TenderExport.Status.RUNNING]
    )
    same = unfinished.filter(organisation=scope.organisation, query=query).first()
    if same is not None:
        return same
    if unfinished.count() >= EXPORTS_AT_ONCE:
        raise ExportRefused(
            _(
                "You already have %(n)d exports being prepared. Download them, or wait until one"
                " is ready, before asking for another."
            )
            % {"n": EXPORTS_AT_ONCE}
        )
    tenders = _export_tenders(scope, query)
    if tenders is None:
        raise ExportRefused(
            _("The filters have a value that is not valid: correct them on the tender list.")
        )
    with transaction.atomic():
        job = TenderExport.objects.create(
            organisation=scope.organisation,
            created_by=actor,
            query=query,
            language=get_language() or settings.LANGUAGE_CODE,
            rows_total=min(tenders.count(), exports.MAX_ROWS),
        )
        audit.record(
            "procurement.export.requested",
            actor=actor,
            organisation=scope.organisation,
            obj=job,
            details={"rows": job.rows_total, "filters": query},
        )
        enqueue_on_commit(build_tender_export, job.pk)
    return job


def _export_tenders(scope: Scope, query: str) -> QuerySet[TenderRisk] | None:
    """Return the tenders of ``scope`` that the tender list shows for ``query``; None if a
    filter of ``query`` is not valid (an export then holds nothing, never more than asked)."""
    from django.http import QueryDict

    from cegah.procurement.forms import tender_filter
    from cegah.procurement.queries import filter_tenders

    form, data = tender_filter(scope, QueryDict(query))
    if form.errors:
        return None
    return filter_tenders(scope, data)


def build_export(job_id: int) -> None:
    """Build a queued export's XLSX under ``export_dir()``. Idempotent: the job is claimed with
    a conditional update, so a duplicate task does nothing.

    The requester's access is checked again: one who no longer analyses procurement in the
    organisation gets no file.
    """
    from django.http import Http404
    from django.utils import translation
    from django.utils.translation import gettext as _

    from cegah.procurement.access import access_scope

    claimed = TenderExport.objects.filter(pk=job_id, status=TenderExport.Status.PENDING).update(
        status=TenderExport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    job = TenderExport.objects.select_related("organisation", "created_by").get(pk=job_id)
    target = export_dir() / f"{uuid.uuid4().hex}.xlsx"
    part = target.with_suffix(".part")

    def progress(rows: int) -> None:
        # Not on this thread's connection, which holds the tenders' read until the last row.
        apart(lambda: TenderExport.objects.filter(pk=job_id).update(rows_done=rows))

    with translation.override(job.language):
        try:
            scope = access_scope(job.created_by, job.organisation.slug)
            target.parent.mkdir(parents=True, exist_ok=True)
            tenders = _export_tenders(scope, job.query)
            if tenders is None:
                raise ExportRefused(
                    _(
                        "The filters have a value that is not valid: correct them on the tender list."
                    )
                )
            with part.open("wb") as out:
                rows = exports.save_xlsx(tenders, out, progress)
            part.rename(target)
        except Http404:
            error = _("You no longer analyse procurement in this organisation.")
        except ExportRefused as exc:
            error = str(exc)
        except Exception:
            logger.exception("procurement export %s failed", job_id)
            error = _(
                "The file could not be prepared. Ask for it again; if it fails again, tell your"
                " administrator."
            )
        else:
            error = ""
        finally:
            part.unlink(missing_ok=True)
    if error:
        TenderExport.objects.filter(pk=job_id).update(
            status=TenderExport.Status.FAILED, finished_at=timezone.now(), error=error
        )
        return
    TenderExport.objects.filter(pk=job_id).update(
        status=TenderExport.Status.DONE,
        finished_at=timezone.now(),
        rows_done=rows,
        rows_total=rows,
        path=str(target),
        size=target.stat().st_size,
    )


def export_file(job: TenderExport) -> Path | None:
    """Return the file of a ready export, or None if it is gone (expired, deleted by hand)."""
    if job.status != TenderExport.Status.DONE or not job.path:
        return None
    path = Path(job.path)
    # Only a file of the export folder is ever served, whatever the row says.
    if path.parent.resolve() != export_dir().resolve() or not path.is_file():
        return None
    return path


def expire_exports(now: dt.datetime | None = None) -> int:
    """Delete the files of exports ready for longer than ``EXPORT_KEEP`` (status expired), mark
    failed the exports still unfinished ``EXPORT_STALLED_AFTER`` after they were asked for (their
    worker stopped), and
    delete the export folder's files that no export serves. Returns how many exports changed."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    changed = 0
    for job in TenderExport.objects.filter(
        status=TenderExport.Status.DONE, finished_at__lt=now - EXPORT_KEEP
    ):
        if TenderExport.objects.filter(pk=job.pk, status=TenderExport.Status.DONE).update(
            status=TenderExport.Status.EXPIRED, path="", size=0
        ):
            changed += 1
            try:
                Path(job.path).unlink(missing_ok=True)
            except OSError:
                logger.warning("procurement export %s: could not delete %s", job.pk, job.path)
    stalled = TenderExport.objects.filter(
        status__in=[TenderExport.Status.PENDING, TenderExport.Status.RUNNING],
        created_at__lt=now - EXPORT_STALLED_AFTER,
    )
    for job in stalled:
        with translation.override(job.language):
            error = _("The file could not be prepared: its worker stopped. Ask for it again.")
        changed += TenderExport.objects.filter(pk=job.pk, status=job.status).update(
            status=TenderExport.Status.FAILED, finished_at=now, error=error
        )
    # Files no job serves any more: a ``.part`` left by a worker stopped mid-way, or a file whose
    # row was deleted. Every served file is younger than EXPORT_KEEP (then expired, above).
    cutoff = (now - EXPORT_KEEP - dt.timedelta(hours=1)).timestamp()
    folder = export_dir()
    for path in folder.iterdir() if folder.is_dir() else ():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            logger.warning("procurement exports: could not delete %s", path)
    return changed
