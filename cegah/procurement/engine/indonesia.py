"""Indonesian red flags (codes ID01–ID13), computed on the procurement store.

They need what OCDS compiled releases rarely carry and the store has for both import routes:
registrants as well as bidders, HPS and pagu, winning, corrected and negotiated offers, contract
values and dates. Each is documented in ``docs/procurement-indicators.md`` (definition, data,
threshold, source). Results go into the same ``flag`` table and JSON groups as Cardinal's
(``OCID``, ``Buyer``); parameters used go into Meta.

Settings: a section per code, e.g. ``[ID02] share = 0.9``; ``[ID05.procurement_method_details]``
and ``[ID09.ceilings]`` are tables. Without any ID section every indicator runs with its defaults;
with some, only those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .core import Run
from .settings import INDONESIAN_CODES, SettingsError, parse_pipe_separated

# Pengadaan Langsung ceilings by category, as (category, valid from, amount in rupiah).
# Perpres 16/2018 as amended by Perpres 12/2021 (in force 2 February 2021): goods, works and other
# services up to Rp200 juta, consultancy up to Rp100 juta. Perpres 46/2025 raises works to
# Rp400 juta (GUIDE §3.4 has one source; the date is its promulgation, to be confirmed).
DEFAULT_CEILINGS: tuple[tuple[str, dt.date, float], ...] = (
    ("goods", dt.date(2021, 2, 2), 200_000_000),
    ("works", dt.date(2021, 2, 2), 200_000_000),
    ("services", dt.date(2021, 2, 2), 200_000_000),
    ("consulting", dt.date(2021, 2, 2), 100_000_000),
    ("works", dt.date(2025, 4, 30), 400_000_000),
)

# Minimum tender periods (calendar days, announcement to offer deadline) per method. GUIDE §3.4:
# Indonesian tenders legally run 5–9 days; Tender Cepat is shorter. Set your own in
# [ID05.procurement_method_details].
DEFAULT_PERIODS = {"Tender": 5, "Seleksi": 5, "Tender Cepat": 3}

# ICW opentender.net scales (GUIDE §3.4).
ICW_DAYS = ((25, 1), (35, 2), (45, 3), (70, 4))  # days <= bound -> score; beyond: 5
ICW_BELOW_HPS = ((1, 5), (2, 4), (3, 3), (4, 2), (8, 1), (12, 2), (16, 3), (20, 4))  # % < bound


@dataclass(frozen=True)
class Options:
    """Parsed settings of one Indonesian indicator."""

    values: Mapping[str, str]
    tables: Mapping[str, Mapping[str, str]]

    def number(self, key: str, default: float) -> float:
        raw = self.values.get(key)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{key} = {raw!r}: bukan angka / not a number") from None

    def names(self, key: str, default: str) -> list[str]:
        return sorted(parse_pipe_separated(self.values.get(key, default)))


def _date_sql(column: str) -> str:
    return f"({column} AT TIME ZONE 'Asia/Jakarta')::DATE"


def _sum(expr: str, where: str | None = None) -> str:
    """Return a SQL sum of DOUBLE ``expr`` that adds in a fixed order, so that it is the same
    from run to run. DuckDB's parallel sum adds in whatever order its threads meet the rows,
    which moved the last digits of ID07 between runs. (Not ``sum(x ORDER BY x)``: an ordered
    aggregate cannot spill to disk, a plain ``list`` can.)"""
    where_clause = f" FILTER (WHERE {where})" if where else ""
    return f"list_sum(list_sort(list({expr}){where_clause}))"


def prepare(run: Run) -> None:
    """Create ``idp``: one row per usable store process with values and dates, joined to proc."""
    run.execute(
        f"""
        CREATE TEMP TABLE idp AS
        WITH c AS (
            SELECT ocid, {_sum("amount")} AS contract_value, min(date_signed) AS signed,
                   min(currency) AS contract_currency
            FROM store.contract GROUP BY ocid
        ),
        a AS (
            SELECT ocid, {_sum("amount")} AS award_value, min(date) AS award_date,
                   min(currency) AS award_currency
            FROM store.award WHERE status = 'active' GROUP BY ocid
        )
        SELECT p.rowid AS rid, s.*, c.contract_value, c.signed, a.award_value, a.award_date,
               coalesce(c.contract_value, a.award_value) AS final_value,
               coalesce(c.contract_value, a.award_value, s.hps, s.pagu) AS any_value,
               coalesce(s.currency, c.contract_currency, a.award_currency) AS value_currency,
               CASE WHEN list_contains(s.additional_categories, 'consultingServices')
                    THEN 'consulting' ELSE s.category END AS ceiling_category
        FROM store.process AS s JOIN proc AS p ON p.ocid = s.ocid
        LEFT JOIN c ON c.ocid = s.ocid LEFT JOIN a ON a.ocid = s.ocid
        WHERE p.rowid NOT IN (SELECT rid FROM superseded)
        """
    )


def id01(run: Run, o: Options) -> None:
    """Single offer despite many registrants: value = registrants."""
    minimum = o.number("minimum_registrants", 3)
    run.set_meta("ID01", "minimum_registrants", minimum)
    run.flag_process(
        "ID01",
        "SELECT rid, n_registrants FROM idp WHERE n_bidders = 1 AND n_registrants >= $m",
        {"m": minimum},
    )


def id02(run: Run, o: Options) -> None:
    """Winning offer or contract at or above a share of HPS: value = highest ratio."""
    share = o.number("share", 0.95)
    run.set_meta("ID02", "share", share)
    run.flag_process(
        "ID02",
        """
        WITH w AS (
            SELECT ocid, max(coalesce(amount_negotiated, amount_corrected, amount)) AS offer
            FROM store.bid WHERE winner GROUP BY ocid
        )
        SELECT rid, greatest(w.offer, final_value) / hps FROM idp LEFT JOIN w USING (ocid)
        WHERE hps > 0 AND greatest(w.offer, final_value) / hps >= $share
        """,
        {"share": share},
    )


def id03(run: Run, o: Options) -> None:
    """ICW: days from announcement to winner, scored 1–5; flagged from ``minimum_score``."""
    minimum = o.number("minimum_score", 4)
    run.set_meta("ID03", "minimum_score", minimum)
    score = " ".join(f"WHEN d <= {bound} THEN {s}" for bound, s in ICW_DAYS)
    run.flag_process(
        "ID03",
        f"""
        SELECT rid, CASE {score} ELSE 5 END AS score FROM (
            SELECT rid, date_diff('day', {_date_sql("announced_at")}, {_date_sql("award_date")}) AS d
            FROM idp WHERE announced_at IS NOT NULL AND award_date IS NOT NULL
        ) WHERE d >= 0 AND score >= $m
        """,
        {"m": minimum},
    )


def id04(run: Run, o: Options) -> None:
    """ICW: contract value against HPS, a U-shaped score 1–5; flagged from ``minimum_score``."""
    minimum = o.number("minimum_score", 4)
    run.set_meta("ID04", "minimum_score", minimum)
    score = " ".join(f"WHEN below < {bound} THEN {s}" for bound, s in ICW_BELOW_HPS)
    run.flag_process(
        "ID04",
        f"""
        SELECT rid, CASE WHEN final_value > hps THEN 5 {score} ELSE 5 END AS score FROM (
            SELECT rid, final_value, hps, (hps - final_value) / hps * 100 AS below FROM idp
            WHERE hps > 0 AND final_value > 0
        ) WHERE score >= $m
        """,
        {"m": minimum},
    )


def id05(run: Run, o: Options) -> None:
    """Tender period shorter than the minimum for its method: value = whole days."""
    periods = dict(DEFAULT_PERIODS)
    table = o.tables.get("procurement_method_details")
    if table is not None:
        periods = {k: int(Options(table, {}).number(k, 0)) for k in table}
    for method, days in periods.items():
        run.set_meta("ID05", method, days)
    run.flag_process(
        "ID05",
        """
        SELECT rid, d FROM (
            SELECT rid, method_details,
                   (epoch_us(tender_end) - epoch_us(tender_start)) // 86400000000 AS d
            FROM idp WHERE tender_start IS NOT NULL AND tender_end IS NOT NULL
        ) WHERE d < map_extract_value($periods, method_details)
        """,
        {"periods": {"key": list(periods), "value": list(periods.values())}},
    )


def id06(run: Run, o: Options) -> None:
    """Fourth-quarter rush: processes announced in the fourth quarter of their own fiscal year
    (value = month); buyers whose share of value so announced reaches ``q4_share`` (value =
    share).

    A package of next year's budget announced in December (tendered early, so that work can
    start in January) is not a rush to spend this year's: only a process whose fiscal year is
    unknown or equals the announcement's year counts.
    """
    share = o.number("q4_share", 0.5)
    minimum = o.number("minimum_processes", 5)
    run.set_meta("ID06", "q4_share", share)
    run.set_meta("ID06", "minimum_processes", minimum)
    day = _date_sql("announced_at")
    month = f"month({day})"
    q4 = f"{month} >= 10 AND (fiscal_year IS NULL OR year({day}) = fiscal_year)"
    run.flag_process("ID06", f"SELECT rid, {month} FROM idp WHERE {q4}")
    run.flag(
        f"""
        SELECT 'Buyer', buyer_id, 'ID06', q4 / total, rid FROM (
            SELECT buyer_id, min(rid) AS rid, count(*) AS n, {_sum("any_value")} AS total,
                   coalesce({_sum("any_value", q4)}, 0) AS q4
            FROM idp WHERE buyer_id IS NOT NULL AND announced_at IS NOT NULL
            GROUP BY buyer_id
        ) WHERE n >= $m AND total > 0 AND q4 / total >= $share
        """,
        {"m": minimum, "share": share},
    )


def _awards_by_buyer() -> str:
    return """
        SELECT i.buyer_id, s.id AS supplier, i.rid,
               coalesce(a.amount / len(a.supplier_ids), 0) AS amount
        FROM store.award AS a JOIN idp AS i USING (ocid),
             unnest(a.supplier_ids) AS s(id)
        WHERE a.status = 'active' AND i.buyer_id IS NOT NULL AND s.id IS NOT NULL
    """


def id07(run: Run, o: Options) -> None:
    """Supplier concentration per buyer: Herfindahl–Hirschman index of awarded value."""
    threshold = o.number("threshold", 0.25)
    minimum = o.number("minimum_awards", 5)
    run.set_meta("ID07", "threshold", threshold)
    run.set_meta("ID07", "minimum_awards", minimum)
    run.flag(
        f"""
        WITH aw AS ({_awards_by_buyer()}),
        per AS (
            SELECT buyer_id, supplier, {_sum("amount")} AS amount, count(*) AS n, min(rid) AS rid
            FROM aw GROUP BY ALL
        ),
        tot AS (
            SELECT buyer_id, {_sum("amount")} AS amount, sum(n) AS n, min(rid) AS rid
            FROM per GROUP BY buyer_id
        ),
        hhi AS (
            SELECT buyer_id, {_sum("pow(per.amount / tot.amount, 2)")} AS hhi, min(tot.rid) AS rid
            FROM per JOIN tot USING (buyer_id)
            WHERE tot.amount > 0 AND tot.n >= $m
            GROUP BY buyer_id
        )
        SELECT 'Buyer', buyer_id, 'ID07', hhi, rid FROM hhi WHERE hhi >= $t
        """,
        {"m": minimum, "t": threshold},
    )


def id08(run: Run, o: Options) -> None:
    """Repeat winner: the share of a buyer's awards won by its most frequent supplier."""
    threshold = o.number("threshold", 0.5)
    minimum = o.number("minimum_awards", 5)
    run.set_meta("ID08", "threshold", threshold)
    run.set_meta("ID08", "minimum_awards", minimum)
    # Each flagged buyer's most frequent supplier (the first by id on a tie), with its awards
    # and the buyer's, kept in ``id08_top`` for the explanation to name them.
    run.execute(
        f"""
        CREATE TABLE id08_top AS
        WITH per AS (
            SELECT buyer_id, supplier, count(*) AS n, min(rid) AS rid
            FROM ({_awards_by_buyer()}) GROUP BY ALL
        ),
        tot AS (
            SELECT buyer_id, max(n) AS top, sum(n) AS total, min(rid) AS rid FROM per
            GROUP BY buyer_id HAVING sum(n) >= $m AND max(n) / sum(n) >= $t
        )
        SELECT tot.buyer_id, min(per.supplier) AS supplier, tot.top AS awards, tot.total,
               tot.rid
        FROM tot JOIN per ON per.buyer_id = tot.buyer_id AND per.n = tot.top
        GROUP BY ALL
        """,
        {"m": minimum, "t": threshold},
    )
    run.flag("SELECT 'Buyer', buyer_id, 'ID08', awards / total, rid FROM id08_top")


def _ceilings(o: Options) -> list[tuple[str, dt.date, float]]:
    table = o.tables.get("ceilings")
    if table is None:
        return list(DEFAULT_CEILINGS)
    out = []
    for key, raw in table.items():
        category, _, since = key.partition("@")
        try:
            out.append((category, dt.date.fromisoformat(since), float(raw)))
        except ValueError:
            raise SettingsError(
                f"[ID09.ceilings] {key} = {raw}: pakai / use category@YYYY-MM-DD = rupiah"
            ) from None
    return out


def id09(run: Run, o: Options) -> None:
    """Suspected split purchases: the same buyer and supplier, direct purchases each just under
    the Pengadaan Langsung ceiling in force, within ``window_days`` of one another, together
    above it. Value = the number of such purchases around the process."""
    band = o.number("band", 0.8)
    window = int(o.number("window_days", 30))
    methods = o.names("procurement_method_details", "Pengadaan Langsung")
    run.set_meta("ID09", "band", band)
    run.set_meta("ID09", "window_days", window)
    run.execute("CREATE TEMP TABLE id09_ceiling (category VARCHAR, since DATE, amount DOUBLE)")
    run.con.executemany(
        "INSERT INTO id09_ceiling VALUES (?, ?, ?)", [list(c) for c in _ceilings(o)]
    )
    # The group of each flagged purchase (its supplier, the ceiling in force, the group's total
    # value), kept in ``id09_group`` for the explanation to quote them.
    run.execute(
        f"""
        CREATE TABLE id09_group AS
        WITH buy AS (
            SELECT i.rid, i.buyer_id, w.supplier, i.any_value AS value, i.day, c.amount AS ceiling
            FROM (
                SELECT *, {_date_sql("coalesce(signed, award_date, announced_at)")} AS day
                FROM idp WHERE list_contains($methods, method_details)
                    AND coalesce(value_currency, 'IDR') = 'IDR'  -- the ceilings are in rupiah
            ) AS i
            JOIN (
                SELECT ocid, any_value(supplier_ids[1]) AS supplier FROM store.award
                WHERE status = 'active' AND len(supplier_ids) = 1 GROUP BY ocid
            ) AS w USING (ocid)
            ASOF JOIN id09_ceiling AS c
                ON c.category = i.ceiling_category AND i.day >= c.since
            WHERE i.buyer_id IS NOT NULL AND i.day IS NOT NULL
        ),
        near AS (SELECT * FROM buy WHERE value >= $band * ceiling AND value <= ceiling)
        SELECT a.rid, any_value(a.supplier) AS supplier, a.ceiling, 1 + count(*) AS purchases,
               a.value + sum(b.value) AS total
        FROM near AS a JOIN near AS b
            ON a.buyer_id = b.buyer_id AND a.supplier = b.supplier AND a.rid <> b.rid
           AND abs(date_diff('day', a.day, b.day)) <= $window
        GROUP BY a.rid, a.value, a.ceiling
        HAVING a.value + max(b.value) > a.ceiling
        """,
        {"methods": methods, "band": band, "window": window},
    )
    run.flag_process("ID09", "SELECT rid, purchases FROM id09_group")


def id10(run: Run, o: Options) -> None:
    """Non-competitive methods per buyer: their share of the buyer's value."""
    threshold = o.number("threshold", 0.5)
    minimum = o.number("minimum_processes", 5)
    methods = o.names("procurement_method_details", "Penunjukan Langsung|Pengadaan Langsung")
    run.set_meta("ID10", "threshold", threshold)
    run.set_meta("ID10", "minimum_processes", minimum)
    run.flag(
        f"""
        SELECT 'Buyer', buyer_id, 'ID10', part / total, rid FROM (
            SELECT buyer_id, min(rid) AS rid, count(*) AS n, {_sum("any_value")} AS total,
                   coalesce(
                       {_sum("any_value", "list_contains($methods, method_details)")}, 0
                   ) AS part
            FROM idp WHERE buyer_id IS NOT NULL GROUP BY buyer_id
        ) WHERE n >= $m AND total > 0 AND part / total >= $t
        """,
        {"methods": methods, "m": minimum, "t": threshold},
    )


def id11(run: Run, o: Options) -> None:
    """The winner's offer is not the lowest: value = (winner - lowest other) / lowest other.

    Offers compare at their corrected value when known. Only price-based awards count (award
    criteria in ``price_criteria``, or unknown). The other offers count only when known to
    have passed evaluation: ``valid``, or given a corrected value (SPSE corrects the prices of
    the offers it evaluates). SPSE publishes no outcome for losing offers, which stay
    ``pending``: one without a corrected value most likely failed evaluation before its price
    was looked at, and a winner dearer than it is no sign of anything.
    """
    criteria = o.names(
        "price_criteria",
        "priceOnly|Harga Terendah Sistem Gugur|Harga Terendah Ambang Batas|Biaya Terendah",
    )
    run.flag_process(
        "ID11",
        """
        WITH winners AS (
            SELECT ocid, unnest(supplier_ids) AS id FROM store.award WHERE status = 'active'
        ),
        offers AS (
            SELECT b.ocid, coalesce(b.amount_corrected, b.amount) AS amount,
                   coalesce(b.winner, list_has_any(b.tenderer_ids, w.ids), false) AS won,
                   b.status = 'valid' OR b.amount_corrected IS NOT NULL AS passed
            FROM store.bid AS b
            LEFT JOIN (SELECT ocid, list(id) AS ids FROM winners GROUP BY ocid) AS w USING (ocid)
            WHERE b.submitted AND coalesce(b.status, '') <> 'disqualified'
              AND coalesce(b.amount_corrected, b.amount) > 0
        ),
        cmp AS (
            SELECT ocid, min(amount) FILTER (WHERE won) AS winner,
                   min(amount) FILTER (WHERE NOT won AND passed) AS lowest
            FROM offers GROUP BY ocid
        )
        SELECT i.rid, (cmp.winner - cmp.lowest) / cmp.lowest FROM cmp JOIN idp AS i USING (ocid)
        WHERE cmp.winner > cmp.lowest
          AND (i.award_criteria IS NULL OR list_contains($criteria, i.award_criteria))
        """,
        {"criteria": criteria},
    )


def id12(run: Run, o: Options) -> None:
    """ICW: short title (fewer than ``minimum_length`` characters): value = length."""
    minimum = o.number("minimum_length", 20)
    run.set_meta("ID12", "minimum_length", minimum)
    run.flag_process(
        "ID12",
        "SELECT rid, length(trim(title)) FROM idp WHERE length(trim(coalesce(title, ''))) < $m",
        {"m": minimum},
    )


def id13(run: Run, o: Options) -> None:
    """ICW: short description (published but fewer than ``minimum_length`` characters)."""
    minimum = o.number("minimum_length", 60)
    run.set_meta("ID13", "minimum_length", minimum)
    run.flag_process(
        "ID13",
        """SELECT rid, length(trim(description)) FROM idp
        WHERE description IS NOT NULL AND length(trim(description)) < $m""",
        {"m": minimum},
    )


INDICATORS: dict[str, Callable[[Run, Options], None]] = {
    "ID01": id01,
    "ID02": id02,
    "ID03": id03,
    "ID04": id04,
    "ID05": id05,
    "ID06": id06,
    "ID07": id07,
    "ID08": id08,
    "ID09": id09,
    "ID10": id10,
    "ID11": id11,
    "ID12": id12,
    "ID13": id13,
}
assert tuple(INDICATORS) == INDONESIAN_CODES


def run_indonesian(run: Run) -> None:
    """Run the Indonesian indicators; the store must be attached as ``store``."""
    extra = run.settings.extra
    chosen = {name.split(".", 1)[0] for name in extra} or set(INDICATORS)
    prepare(run)
    for code, indicator in INDICATORS.items():
        if code in chosen:
            tables = {
                name.split(".", 1)[1]: values
                for name, values in extra.items()
                if name.startswith(f"{code}.")
            }
            indicator(run, Options(extra.get(code, {}), tables))
