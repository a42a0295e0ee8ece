"""Load OCDS compiled releases into DuckDB working tables, and the state shared by indicators.

Working tables, in the run's own in-memory database (not temporary tables, which only their
connection would see: indicators run on two connections at once, see ``database.side_by_side``
and ``Run.on``):

``proc``
    One row per usable release: a JSON object whose ``ocid`` is set, whose tender is not
    cancelled and whose ``procurementMethodDetails`` is not excluded (Cardinal skips the others
    before any indicator runs). Its ``rowid`` (``rid`` elsewhere) is the release's position among
    them, in file order.
``bid``
    One row per ``bids/details`` entry, ``idx`` its 1-based position, ``tids`` the ids of its
    tenderers (NULL entries kept, so that ``len(tids)`` is the number of tenderers), plus the
    process facts indicators filter on and two facts about the bid itself: ``won`` (its single
    tenderer is the process's single active supplier) and ``late`` (R030).
``award``
    One row per ``awards`` entry, with supplier ids and item classification ids.
``bid_tenderer``, ``award_supplier``
    One row per tenderer of a bid, per supplier of an award.
``flag``
    The results: (group, identifier, indicator code, value, rid); OCID rows have no identifier.
``mapping``
    ``--map`` output: (map name, rid, organisation id).

Text fields are read as VARCHAR, so a JSON number where a string is expected (an ``id`` of ``7``)
is read as its text; Cardinal ignores such values. Values of the wrong JSON type for a number or an
object are read as NULL (``ignore_errors``), which is how Cardinal treats them. Lines that are not
JSON objects are skipped, like Cardinal.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .database import duckdb, first_row, side_by_side, sql_string
from .settings import CARDINAL_CODES, INDONESIAN_CODES, Settings

_ID = "STRUCT(id VARCHAR)"

# Only the fields the Cardinal indicators read: DuckDB then materialises nothing else.
CARDINAL_COLUMNS: dict[str, str] = {
    "ocid": "VARCHAR",
    "buyer": _ID,
    "tender": (
        "STRUCT(status VARCHAR, procurementMethod VARCHAR, procurementMethodDetails VARCHAR,"
        " numberOfTenderers VARCHAR, procuringEntity STRUCT(id VARCHAR),"
        " tenderPeriod STRUCT(startDate VARCHAR, endDate VARCHAR))"
    ),
    "bids": (
        "STRUCT(details STRUCT(status VARCHAR, date VARCHAR, tenderers STRUCT(id VARCHAR)[],"
        " value STRUCT(amount DOUBLE, currency VARCHAR))[])"
    ),
    "awards": (
        "STRUCT(status VARCHAR, suppliers STRUCT(id VARCHAR)[],"
        " items STRUCT(classification STRUCT(id VARCHAR))[])[]"
    ),
}

# RFC 3339 date-time, as chrono's parse_from_rfc3339 accepts it. DuckDB's own cast is laxer (it
# takes dates without a time and times without an offset, the latter in the session zone).
RFC3339 = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"

# The groups of results, as in Cardinal's output.
GROUPS = ("OCID", "Buyer", "ProcuringEntity", "Tenderer")

SUBMITTED = "status IS NOT NULL AND status NOT IN ('invited', 'withdrawn')"


def input_path(path: str | Path) -> str:
    """Return the path DuckDB should read ("-" is standard input)."""
    return "/dev/stdin" if str(path) == "-" else str(path)


def read_json_sql(paths: str | Path | Sequence[str | Path], columns: Mapping[str, str]) -> str:
    """Return a ``read_json`` call reading ``columns`` from JSON lines files, in order."""
    spec = "{" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in columns.items()) + "}"
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = "[" + ", ".join(sql_string(input_path(p)) for p in paths) + "]"
    return (
        f"read_json({files}, columns = {spec},"
        " format = 'newline_delimited', ignore_errors = true,"
        " maximum_object_size = 33554432)"
    )


BOM = b"\xef\xbb\xbf"


@contextlib.contextmanager
def _without_bom(path: str | Path) -> Iterator[list[str | Path]]:
    """Yield the files to read for ``path``: itself, unless it starts with a UTF-8 byte order mark.

    DuckDB takes a line starting with the mark for invalid JSON, and skipped the file's first
    release without a word (Windows tools write the mark). The first line is then also written,
    without the mark, to a temporary file read before ``path``, whose first line DuckDB still
    skips: nothing else is copied. (Standard input cannot be looked at ahead.)
    """
    if str(path) == "-":
        yield [path]
        return
    with open(path, "rb") as f:
        if f.read(len(BOM)) != BOM:
            yield [path]
            return
        first = f.readline()
    with tempfile.TemporaryDirectory(prefix="cegah-bom-") as tmp:
        head = Path(tmp) / "first-line.jsonl"
        head.write_bytes(first)
        yield [head, path]


def load(con: duckdb.DuckDBPyConnection, path: str | Path, settings: Settings) -> int:
    """Create the working tables from a JSON lines file; return the number of usable releases.

    Raises FileNotFoundError, or duckdb.Error if the file cannot be read at all.
    """
    if str(path) != "-" and not Path(path).is_file():
        raise FileNotFoundError(path)
    with _without_bom(path) as files:
        source = f"""
            SELECT ocid, buyer.id AS buyer_id, tender.procuringEntity.id AS pe_id,
                   tender.status AS t_status,
                   tender.procurementMethod AS pm, tender.procurementMethodDetails AS pmd,
                   tender.numberOfTenderers AS ntend, tender.tenderPeriod.startDate AS tp_start,
                   tender.tenderPeriod.endDate AS tp_end, bids.details AS details, awards
            FROM {read_json_sql(files, CARDINAL_COLUMNS)}
        """
        return _load(con, source, settings)


# The store's normalised tables, shaped like the releases read from a file (see ``store``). Only
# submitted bids are bids in OCDS; registrants without an offer are left out. Timestamps become
# RFC 3339 text in UTC.
# Bids and awards keep their order through their ``position``, the first field of each struct,
# by which ``list_sort`` sorts: an ordered aggregate (``list(… ORDER BY position)``) cannot spill
# to disk, and ran out of memory on a store of 2,000,000 processes.
_STORE_SOURCE = """
    WITH b AS (
        SELECT ocid, list_sort(list({
            'position': position,
            'status': status,
            'date': strftime(date AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),
            'tenderers': [{'id': t} FOR t IN tenderer_ids],
            'value': {'amount': amount, 'currency': currency}
        })) AS details
        FROM store.bid WHERE submitted GROUP BY ocid
    ),
    i AS (
        SELECT ocid, award_position, list({'classification': {'id': classification_id}}) AS items
        FROM store.item GROUP BY ocid, award_position
    ),
    a AS (
        SELECT a.ocid, list_sort(list({
            'position': a.position,
            'status': a.status,
            'suppliers': [{'id': s} FOR s IN a.supplier_ids],
            'items': i.items
        })) AS awards
        FROM store.award AS a
        LEFT JOIN i ON i.ocid = a.ocid AND i.award_position = a.position
        GROUP BY a.ocid
    )
    SELECT p.ocid, p.buyer_id, p.procuring_entity_id AS pe_id, p.status AS t_status,
           p.method AS pm, p.method_details AS pmd,
           CAST(p.number_of_tenderers AS VARCHAR) AS ntend,
           strftime(p.tender_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS tp_start,
           strftime(p.tender_end AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS tp_end,
           b.details, a.awards
    FROM store.process AS p LEFT JOIN b USING (ocid) LEFT JOIN a USING (ocid)
    ORDER BY p.file_id, p.line, p.ocid
"""


def load_store(con: duckdb.DuckDBPyConnection, store: str | Path, settings: Settings) -> int:
    """Create the working tables from a procurement store (``store.Store``'s DuckDB file).

    Processes come in import order (file, line). Returns the number of usable processes; raises
    FileNotFoundError.
    """
    if not Path(store).is_file():
        raise FileNotFoundError(store)
    con.execute(f"ATTACH {sql_string(store)} AS store (READ_ONLY)")
    return _load(con, _STORE_SOURCE, settings)


def _load(con: duckdb.DuckDBPyConnection, source: str, settings: Settings) -> int:
    """Create the working tables from ``source``, a query with the columns of ``load``'s."""
    con.execute(
        f"CREATE MACRO rfc3339_us(s) AS CASE WHEN regexp_full_match(s, '{RFC3339}')"
        " THEN epoch_us(try_cast(upper(s) AS TIMESTAMPTZ)) END"
    )
    include = sorted(settings.price_comparison_procurement_methods)
    if include:
        price_ok = "(pmd IS NOT NULL AND list_contains($include, pmd))"
    else:
        price_ok = "(pmd IS NULL OR NOT list_contains($exclude, pmd))"
    # Everything per process is computed in the one pass over the file, where DuckDB parallelises
    # it with the JSON parsing. Award facts: awards are "all final" when none is pending (or has
    # another non-final status); awards without a status are ignored, as in Cardinal. Most
    # processes have at most one award, read straight from the row; the list comprehensions (much
    # slower) only run for the others, as CASE evaluates a branch only for its own rows.
    con.execute(
        f"""
        CREATE TABLE proc AS
        WITH src AS (
            SELECT *, len(awards) AS n_awards FROM ({source})
            WHERE ocid IS NOT NULL AND (t_status IS NULL OR t_status <> 'cancelled')
        )
        SELECT ocid, buyer_id, pe_id, pm, pmd, ntend,
               rfc3339_us(tp_start) AS tp_start_us, tp_end, rfc3339_us(tp_end) AS tp_end_us,
               awards IS NOT NULL AS has_awards,
               CASE WHEN n_awards = 1 THEN coalesce(awards[1].status = 'active', false)
                    WHEN n_awards > 1 THEN list_contains([a.status FOR a IN awards], 'active')
                    ELSE false END AS any_active,
               awards IS NOT NULL AND details IS NOT NULL AND CASE
                   WHEN n_awards = 1 THEN awards[1].status IS NULL
                        OR awards[1].status IN ('active', 'cancelled', 'unsuccessful')
                   WHEN n_awards > 1 THEN len([a FOR a IN awards IF a.status NOT IN
                        ('active', 'cancelled', 'unsuccessful')]) = 0
                   ELSE true END AS all_final,
               CASE WHEN n_awards = 1 THEN
                        CASE WHEN awards[1].status = 'active' AND len(awards[1].suppliers) = 1
                             THEN awards[1].suppliers[1].id END
                    WHEN n_awards > 1 THEN
                        CASE WHEN len([a FOR a IN awards IF a.status = 'active']) = 1
                             AND len([a FOR a IN awards IF a.status = 'active'][1].suppliers) = 1
                             THEN [a FOR a IN awards IF a.status = 'active'][1].suppliers[1].id
                        END
               END AS supplier,
               {price_ok} AS price_ok,
               details, awards
        FROM src
        WHERE pmd IS NULL OR NOT list_contains($excluded, pmd)
        """,
        {
            "excluded": sorted(settings.exclude_procurement_method_details),
            **({"include": include} if include else {}),
            **(
                {}
                if include
                else {"exclude": sorted(settings.no_price_comparison_procurement_methods)}
            ),
        },
    )
    # Only proc's row order matters (it is the file order); the other tables carry rid and idx,
    # and building them without preserving order lets DuckDB use less memory and more threads.
    con.execute("SET preserve_insertion_order = false")
    # Select-list unnest (a lateral join is ~20x slower in DuckDB); generate_subscripts gives each
    # entry's position, which Cardinal's tie-breaks depend on. The process facts the indicators
    # filter on are copied onto each bid, which spares them a join. Only facts are kept, not the
    # text they come from (the bid date, the supplier id): the bid table is the largest, and at
    # millions of releases every byte per bid is spilled to disk and read back.
    #   won   the bid's single tenderer is the process's single active supplier (``supplier``);
    #   late  R030: a valid bid dated after the end of the tender period, compared as instants
    #         (RFC 3339 only) or, with ``compare = text``, as Cardinal compares them.
    if "R030" not in settings.enabled:
        late = "false"
    elif settings.r030.compare == "text":
        late = "tp_end IS NOT NULL AND has_awards AND b.date IS NOT NULL AND b.date > tp_end"
    else:
        # As ``rfc3339_us(b.date) > tp_end_us``, but the pattern is only matched for the few
        # bids whose date, cast, is after the end: most bids are on time.
        late = f"""CASE WHEN epoch_us(try_cast(upper(b.date) AS TIMESTAMPTZ)) > tp_end_us
                   THEN regexp_full_match(b.date, '{RFC3339}') END"""
    bids = f"""
        CREATE TABLE bid AS
        SELECT rid, idx, b.status AS status,
               b.value.amount AS amount, b.value.currency AS currency,
               [t.id FOR t IN b.tenderers] AS tids,
               price_ok, all_final, any_active, supplier IS NOT NULL AS has_supplier,
               coalesce(len(b.tenderers) = 1 AND b.tenderers[1].id = supplier, false) AS won,
               CASE WHEN b.status = 'valid' THEN coalesce({late}, false) ELSE false END AS late
        FROM (SELECT rowid AS rid, price_ok, all_final, any_active, supplier,
                     tp_end, tp_end_us, has_awards,
                     unnest(details) AS b, generate_subscripts(details, 1) AS idx
              FROM proc)
    """
    awards = """
        CREATE TABLE award AS
        SELECT rid, idx, a.status AS status, [s.id FOR s IN a.suppliers] AS suppliers,
               [it.classification.id FOR it IN a.items] AS items
        FROM (SELECT rowid AS rid, unnest(awards) AS a, generate_subscripts(awards, 1) AS idx
              FROM proc)
    """
    # One row per (bid, tenderer) and per (award, supplier); ids may be NULL.
    bid_tenderers = (
        "CREATE TABLE bid_tenderer AS SELECT rid, idx, status, unnest(tids) AS id FROM bid"
    )
    award_suppliers = (
        "CREATE TABLE award_supplier AS SELECT rid, idx, status, unnest(suppliers) AS id FROM award"
    )
    # Lines whose ocid appears again further down: where Cardinal keeps one value per ocid, the
    # last line wins. Grouping by a hash of the ocid is cheaper than by its text; only the (rare)
    # lines whose hash repeats are then grouped by text.
    superseded = """CREATE TABLE superseded AS
        WITH h AS (SELECT hash(ocid) AS h FROM proc GROUP BY 1 HAVING count(*) > 1)
        SELECT unnest(list_sort(list(rowid))[:-2]) AS rid
        FROM proc WHERE hash(ocid) IN (SELECT h FROM h) GROUP BY ocid HAVING count(*) > 1"""

    def run(*statements: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
        def task(on: duckdb.DuckDBPyConnection) -> None:
            for sql in statements:
                on.execute(sql)

        return task

    # The bids and the awards are unnested at once, on two connections.
    side_by_side(con, [run(bids, bid_tenderers), run(awards, award_suppliers, superseded)])
    # Then the nested lists are dropped, and with them the process facts that were only copied
    # onto the bids: that frees the memory (or the spilled pages) they hold before the
    # indicators run, which matters for files larger than the memory limit.
    dropped = ("details", "awards", "tp_end", "has_awards", "any_active", "price_ok", "supplier")
    for column in dropped:
        con.execute(f"ALTER TABLE proc DROP COLUMN {column}")
    # Results. For the OCID group, ``id`` is NULL and ``ord`` (the rid) points at the process: its
    # ocid is only looked up for the output.
    # The group and the code as ENUMs: stored as small integers, where text would cost a string
    # append (and its statistics) per result; declared in sorted order, so they sort as text.
    groups = ", ".join(sql_string(group) for group in sorted(GROUPS))
    codes = ", ".join(sql_string(code) for code in sorted(CARDINAL_CODES + INDONESIAN_CODES))
    con.execute(
        f"CREATE TABLE flag (grp ENUM({groups}), id VARCHAR, code ENUM({codes}), value DOUBLE,"
        " ord BIGINT)"
    )
    con.execute("CREATE TABLE mapping (name VARCHAR, rid BIGINT, id VARCHAR)")
    row = first_row(con, "SELECT count(*) FROM proc")
    return int(row[0]) if row else 0


@dataclass
class Run:
    """The state of one indicators run: connection, settings, Meta and options."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    map: bool = False
    meta: dict[str, dict[str, float]] = field(default_factory=dict)

    def on(self, con: duckdb.DuckDBPyConnection) -> Run:
        """Return this Run on another connection to its database (see ``side_by_side``).

        The two share Meta and, if already chosen, the currency; they write to ``flag`` and
        ``mapping`` at once and to separate tables otherwise.
        """
        other = Run(con=con, settings=self.settings, map=self.map, meta=self.meta)
        if "currency" in self.__dict__:
            other.__dict__["currency"] = self.__dict__["currency"]
        return other

    def set_meta(self, code: str, key: str, value: float) -> None:
        """Record a quartile or fence for the Meta output (rounded on output)."""
        self.meta.setdefault(code, {})[key] = value

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Run a statement for its side effects."""
        self.con.execute(sql, params)

    def flag(
        self, select_sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> None:
        """Insert organisation results: ``select_sql`` yields (group, id, code, value, rid)."""
        self.con.execute(f"INSERT INTO flag {select_sql}", params)

    def flag_process(
        self, code: str, select_sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> None:
        """Insert OCID results for ``code``: ``select_sql`` yields (rid, value) rows."""
        self.con.execute(
            f"INSERT INTO flag SELECT 'OCID', NULL, '{code}', v, rid FROM ({select_sql}) AS t(rid, v)",
            params,
        )

    def add_map(
        self, select_sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> None:
        """Insert ``--map`` rows if mapping was asked for: (name, rid, organisation id)."""
        if self.map:
            self.con.execute(f"INSERT INTO mapping {select_sql}", params)

    def sorted_values(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[float]:
        """Return the single-column result of ``sql`` as an ascending list of floats."""
        row = first_row(self.con, f"SELECT list(v ORDER BY v) FROM ({sql}) AS t(v)", params)
        return [float(v) for v in (row[0] if row and row[0] else [])]

    @cached_property
    def currency(self) -> str | None:
        """Return the currency in which bid prices are compared.

        The ``currency`` setting, or else the first currency seen by a price comparison, in file
        order. (Cardinal takes the first seen per worker thread, so its choice can vary between
        runs on mixed-currency data; ours is the single-threaded one.)
        """
        if self.settings.currency:
            return self.settings.currency
        # Imported here: the indicator modules import this one.
        from .indicators import bidratio, r036

        parts = []
        if {"R024", "R058"} & self.settings.enabled:
            parts.append(f"SELECT rid, 0 AS src, idx, currency FROM ({bidratio.CANDIDATES})")
        if "R036" in self.settings.enabled:
            parts.append(f"SELECT rid, 1 AS src, idx, currency FROM ({r036.CANDIDATES})")
        if not parts:
            return None
        union = " UNION ALL ".join(parts)
        # The first candidate is nearly always near the top of the file: look there first.
        for bound in (10_000, None):
            where = "" if bound is None else f"WHERE rid < {bound}"
            row = first_row(
                self.con,
                f"SELECT currency FROM ({union}) {where} ORDER BY rid, src, idx LIMIT 1",
            )
            if row is not None:
                return str(row[0])
        return None
