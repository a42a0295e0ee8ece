"""Turn the ``flag`` and ``mapping`` tables into Cardinal's JSON output, streamed."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .database import close, duckdb, first_row, sql_string
from .settings import CARDINAL_CODES
from .stats import round4

# Cardinal's order of groups in its output (OCID and Tenderer are filled while folding, Buyer and
# ProcuringEntity at the end).
GROUPS = ("OCID", "Tenderer", "Buyer", "ProcuringEntity")
MAPS = (
    "ocid_buyer_r038",
    "ocid_procuringentity_r038",
    "ocid_tenderer",
    "ocid_tenderer_r024",
    "ocid_tenderer_r028",
    "ocid_tenderer_r030",
    "ocid_tenderer_r035",
    "ocid_tenderer_r058",
)
# Maps from an ocid to one organisation; the others map to a list of tenderers.
SCALAR_MAPS = ("ocid_buyer_r038", "ocid_procuringentity_r038")
BATCH = 10_000

_NUMBER = "CASE WHEN isfinite(value) THEN to_json(value)::VARCHAR ELSE 'null' END"

# One JSON member per process, in file order, when every ocid is on one line only (the usual
# case, and the fast path: grouping by row number, not by ocid text).
_OCID_MEMBERS = f"""
SELECT f.ord, to_json(p.ocid)::VARCHAR || ':{{' || f.members || '}}' AS member
FROM (
    SELECT ord, array_to_string(list_sort(list('"' || code || '":' || {_NUMBER})), ',') AS members
    FROM flag WHERE grp = 'OCID' GROUP BY ord
) AS f JOIN proc AS p ON p.rowid = f.ord
"""
_OCID_SQL = f"SELECT member FROM ({_OCID_MEMBERS}) ORDER BY ord"
# The same members, formatted beforehand by ``prepare_ocid_members``.
_PREPARED_OCID_SQL = "SELECT member FROM ocid_member ORDER BY ord"


def prepare_ocid_members(con: duckdb.DuckDBPyConnection) -> None:
    """Format the OCID group's members ahead of ``write_json``, into ``ocid_member``.

    For a run to do while its last indicators (those without OCID results) are still computed,
    once every OCID result is in; nothing is prepared when an ocid is on several lines.
    """
    if first_row(con, "SELECT 1 FROM superseded LIMIT 1") is None:
        con.execute(f"CREATE TABLE ocid_member AS {_OCID_MEMBERS}")


# One JSON member per identifier. A process that appears on several lines keeps, for each
# indicator, the value of its last line, as in Cardinal; members come in order of first appearance.
_GROUP_SQL = f"""
WITH f AS (
    SELECT coalesce(flag.id, p.ocid) AS id, code, arg_max(value, ord) AS value, min(ord) AS o
    FROM flag LEFT JOIN proc AS p ON flag.id IS NULL AND p.rowid = flag.ord
    WHERE grp = ? GROUP BY 1, code
)
SELECT to_json(id)::VARCHAR || ':{{' || string_agg(
           to_json(code)::VARCHAR || ':' || {_NUMBER}, ',' ORDER BY code) || '}}'
FROM f GROUP BY id ORDER BY min(o), id
"""

_MAP_SQL = """
SELECT to_json(p.ocid)::VARCHAR || ':' || CASE WHEN ? THEN to_json(arg_max(m.id, m.rid))::VARCHAR
       ELSE to_json(list(DISTINCT m.id ORDER BY m.id))::VARCHAR END
FROM mapping AS m JOIN proc AS p ON p.rowid = m.rid
WHERE m.name = ? GROUP BY p.ocid ORDER BY min(m.rid), p.ocid
"""


@dataclass
class IndicatorResult:
    """The outcome of an indicators run, backed by its DuckDB connection.

    Close it (or use it as a context manager) to free the connection.
    """

    con: duckdb.DuckDBPyConnection
    meta: dict[str, dict[str, float]]
    releases: int
    map: bool = False
    codes: tuple[str, ...] = field(default_factory=tuple)
    # Whether the run formatted the OCID group ahead (``prepare_ocid_members``) and added no
    # results after.
    prepared: bool = False

    def __enter__(self) -> IndicatorResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection."""
        close(self.con)

    def _batches(self, sql: str, params: list[Any]) -> Iterator[str]:
        """Yield the members returned by ``sql``, comma-joined, in batches (one write each).

        Pieces after the first start with their comma: written one after the other, they make
        the list. The iterator must be exhausted before the connection's next query.
        """
        cursor = self.con.execute(sql, params)
        sep = ""
        while rows := cursor.fetchmany(BATCH):
            yield sep + ",".join(member for (member,) in rows)
            sep = ","

    def _ocids_unique(self) -> bool:
        """Return whether no ocid appears on more than one line (``superseded`` is empty)."""
        return first_row(self.con, "SELECT 1 FROM superseded LIMIT 1") is None

    def _copied(self, sql: str) -> Iterator[str]:
        """Yield the members returned by ``sql``, comma-joined, in pieces of about 1 MiB.

        For the OCID group, with a member per process: DuckDB writes the members to a temporary
        file (in parallel, and without a Python string per member), which is then read back.
        JSON strings hold no raw control characters, so nothing needs quoting.
        """
        with tempfile.TemporaryDirectory(prefix="cegah-output-") as tmp:
            path = Path(tmp) / "members.txt"
            self.con.execute(
                f"COPY ({sql}) TO {sql_string(path)}"
                " (FORMAT csv, HEADER false, QUOTE '', NEW_LINE ',')"
            )
            with path.open(encoding="utf-8", newline="") as members:
                held = ""
                while piece := members.read(1 << 20):
                    if held:
                        yield held
                    held = piece
                if held:
                    yield held[:-1]  # every member is followed by a comma

    def meta_json(self) -> dict[str, dict[str, float | None]]:
        """Return Meta: quartiles and fences per indicator, rounded to 4 decimals.

        Cardinal's indicators come in Cardinal's order whichever finished first (they run side
        by side), then the others in the order they were recorded.
        """
        order = {code: i for i, code in enumerate(CARDINAL_CODES)}
        codes = sorted(self.meta, key=lambda code: order.get(code, len(order)))
        return {
            code: {key: round4(value) for key, value in self.meta[code].items()} for code in codes
        }

    def write_json(self, out: TextIO, *, meta: bool = True) -> None:
        """Write Cardinal's output object (one line) to ``out``, streaming group by group."""
        out.write("{")
        sep = ""
        unique = self._ocids_unique()
        for group in GROUPS:
            if group == "OCID" and unique:
                members = self._copied(_PREPARED_OCID_SQL if self.prepared else _OCID_SQL)
            else:
                members = self._batches(_GROUP_SQL, [group])
            first = next(members, None)
            if first is None:
                continue  # Cardinal omits empty groups
            out.write(f'{sep}"{group}":{{{first}')
            for piece in members:
                out.write(piece)
            out.write("}")
            sep = ","
        if meta:
            out.write(f'{sep}"Meta":')
            json.dump(self.meta_json(), out, separators=(",", ":"), allow_nan=False)
            sep = ","
        if self.map:
            out.write(f'{sep}"Maps":{{')
            for i, name in enumerate(MAPS):
                out.write(f'{"," if i else ""}"{name}":{{')
                out.write("".join(self._batches(_MAP_SQL, [name in SCALAR_MAPS, name])))
                out.write("}")
            out.write("}")
        out.write("}\n")

    def to_dict(self, *, meta: bool = True) -> dict[str, Any]:
        """Return the output as parsed JSON (for tests and small files)."""
        buffer = io.StringIO()
        self.write_json(buffer, meta=meta)
        result: dict[str, Any] = json.loads(buffer.getvalue())
        return result

    def counts(self) -> dict[str, int]:
        """Return the number of identifiers with results per group."""
        rows = self.con.execute(
            """SELECT grp, count(DISTINCT coalesce(flag.id, p.ocid)) FROM flag
            LEFT JOIN proc AS p ON flag.id IS NULL AND p.rowid = flag.ord GROUP BY grp"""
        ).fetchall()
        found = dict(rows)
        return {group: int(found[group]) for group in GROUPS if group in found}

    def flags(self) -> list[tuple[str, str, str, float]]:
        """Return every result as (group, id, code, value), sorted (for small files)."""
        rows = self.con.execute(
            """SELECT grp, coalesce(flag.id, p.ocid) AS id, code, arg_max(value, ord) FROM flag
            LEFT JOIN proc AS p ON flag.id IS NULL AND p.rowid = flag.ord
            GROUP BY grp, 2, code ORDER BY grp, 2, code"""
        ).fetchall()
        return [(str(g), str(i), str(c), float(v)) for g, i, c, v in rows]
