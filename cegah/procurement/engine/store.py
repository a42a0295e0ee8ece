"""The procurement analytics store: a DuckDB file with one normalised model for every source.

Tables (all keyed by ``ocid``; SPSE data gets ``ocds-<prefix>-<kode>`` ocids, see ``spse``):

``process``
    A contracting process (a tender or non-tender package; OCDS lots are in ``lot``): buyer (satker)
    and procuring entity, method and method details, category, pagu (``planning/budget``), HPS
    (``tender/value``), dates, ``n_registrants`` (registered participants) and ``n_bidders``
    (distinct tenderers who submitted an offer), the file and line it came from.
``bid``
    A participant: one row per registrant or bid; ``submitted`` says whether an offer was made.
    Offer, corrected and negotiated values (SPSE), status, winner flag.
``award``, ``contract``, ``item``, ``lot``
    As in OCDS, with supplier ids as a list.
``organisation``
    Every buyer, procuring entity and supplier seen, with its latest name and roles.
``import_file``, ``import_issue``
    What was imported (with the file's SHA-256) and what was refused, by file, line and field.

Re-importing a file with the same SHA-256 changes nothing. Importing a process (ocid) again from
another file replaces its rows. Every import is one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .database import DatabaseOptions, close, connect, first_row, sql_string

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` in bytes of the input file."""

# Column name -> DuckDB type, per table; the order is the insert order.
TABLES: dict[str, dict[str, str]] = {
    "process": {
        "ocid": "VARCHAR",
        "source": "VARCHAR",
        "file_id": "BIGINT",
        "line": "BIGINT",
        "tender_id": "VARCHAR",
        "plan_id": "VARCHAR",
        "title": "VARCHAR",
        "description": "VARCHAR",
        "status": "VARCHAR",
        "buyer_id": "VARCHAR",
        "buyer_name": "VARCHAR",
        "procuring_entity_id": "VARCHAR",
        "procuring_entity_name": "VARCHAR",
        "method": "VARCHAR",
        "method_details": "VARCHAR",
        "category": "VARCHAR",
        "additional_categories": "VARCHAR[]",
        "award_criteria": "VARCHAR",
        "pagu": "DOUBLE",
        "hps": "DOUBLE",
        "currency": "VARCHAR",
        "announced_at": "TIMESTAMPTZ",
        "tender_start": "TIMESTAMPTZ",
        "tender_end": "TIMESTAMPTZ",
        "award_start": "TIMESTAMPTZ",
        "award_end": "TIMESTAMPTZ",
        "number_of_tenderers": "BIGINT",
        "n_registrants": "BIGINT",
        "n_bidders": "BIGINT",
        "fiscal_year": "INTEGER",
        "released_at": "TIMESTAMPTZ",
    },
    "lot": {
        "ocid": "VARCHAR",
        "lot_id": "VARCHAR",
        "title": "VARCHAR",
        "status": "VARCHAR",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
    },
    "bid": {
        "ocid": "VARCHAR",
        "position": "INTEGER",
        "bid_id": "VARCHAR",
        "status": "VARCHAR",
        "submitted": "BOOLEAN",
        "date": "TIMESTAMPTZ",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
        "amount_corrected": "DOUBLE",
        "amount_negotiated": "DOUBLE",
        "tenderer_ids": "VARCHAR[]",
        "winner": "BOOLEAN",
    },
    "award": {
        "ocid": "VARCHAR",
        "position": "INTEGER",
        "award_id": "VARCHAR",
        "status": "VARCHAR",
        "date": "TIMESTAMPTZ",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
        "supplier_ids": "VARCHAR[]",
    },
    "contract": {
        "ocid": "VARCHAR",
        "position": "INTEGER",
        "contract_id": "VARCHAR",
        "award_id": "VARCHAR",
        "status": "VARCHAR",
        "date_signed": "TIMESTAMPTZ",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
    },
    "item": {
        "ocid": "VARCHAR",
        "award_position": "INTEGER",
        "scheme": "VARCHAR",
        "classification_id": "VARCHAR",
        "description": "VARCHAR",
        "quantity": "DOUBLE",
    },
    "organisation": {
        "id": "VARCHAR",
        "name": "VARCHAR",
        "roles": "VARCHAR[]",
    },
}
PROCESS_TABLES = ("process", "lot", "bid", "award", "contract", "item")

_SCHEMA = [
    *(
        f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(f'{c} {t}' for c, t in cols.items())})"
        for name, cols in TABLES.items()
    ),
    "CREATE SEQUENCE IF NOT EXISTS import_file_id",
    """CREATE TABLE IF NOT EXISTS import_file (
        file_id BIGINT, path VARCHAR, sha256 VARCHAR, size BIGINT, source VARCHAR,
        imported_at TIMESTAMPTZ, records BIGINT, imported BIGINT, refused BIGINT,
        issues BIGINT)""",
    # Stores made before the count of issues was kept (those imports show NULL).
    "ALTER TABLE import_file ADD COLUMN IF NOT EXISTS issues BIGINT",
    """CREATE TABLE IF NOT EXISTS import_issue (
        file_id BIGINT, path VARCHAR, line BIGINT, ocid VARCHAR, field VARCHAR, message VARCHAR,
        notice BOOLEAN)""",
    # Stores made before notices were told apart (their issues show NULL).
    "ALTER TABLE import_issue ADD COLUMN IF NOT EXISTS notice BOOLEAN",
]


@dataclass(frozen=True)
class Issue:
    """A problem with one record: where (file, line, field) and what (Indonesian / English).

    A ``notice`` is told but refuses nothing: the record was imported (e.g. without a buyer id,
    or with an empty string read as a missing amount); ``strict`` does not refuse for it.
    """

    path: str
    line: int
    field: str
    message: str
    ocid: str | None = None
    notice: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


# Issues kept per import: listed on the command line and the web, and stored in ``import_issue``.
# The rest are counted only: a file of millions of bad lines (a wrong file, or a small gzip of
# junk) must not hold millions of issues in memory.
MAX_LISTED_ISSUES = 10_000


@dataclass
class ImportReport:
    """What an import did. ``status``: imported, unchanged (same file again), refused (a bad
    record with ``strict``) or nothing (the file has records but none could be imported).

    ``records`` counts the contracting processes read (an OCDS file's lines, an SPSE folder's
    announcements), ``imported`` those imported, ``refused`` the rest. Issues are counted apart:
    one record can have several, and an SPSE folder's other files have lines of their own.
    ``issues`` lists the first ``MAX_LISTED_ISSUES`` issues found, ``issue_count`` counts them
    all; add them with ``add_issues``.
    """

    path: str
    sha256: str
    source: str
    status: str = "imported"
    records: int = 0
    imported: int = 0
    issues: list[Issue] = field(default_factory=list)
    issue_count: int = 0
    # Of ``issue_count``, the notices (see ``Issue``).
    notice_count: int = 0

    @property
    def problem_count(self) -> int:
        """Return the number of issues that are not notices."""
        return self.issue_count - self.notice_count

    @property
    def refused(self) -> int:
        """Return the number of records (processes) read but not imported."""
        return max(self.records - self.imported, 0)

    def add_issues(self, issues: Iterable[Issue]) -> None:
        """Count ``issues`` and list them while there is room."""
        for issue in issues:
            self.issue_count += 1
            self.notice_count += issue.notice
            if len(self.issues) < MAX_LISTED_ISSUES:
                self.issues.append(issue)


class RecordError(ValueError):
    """Raised by a mapper for a record that cannot be imported; carries the issues."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in issues))
        self.issues = issues


# Messages: Indonesian first, then English, as shown to analysts.
MSG_JSON = "baris bukan JSON yang sah / line is not valid JSON"
MSG_OBJECT = "baris bukan objek JSON / line is not a JSON object"
MSG_REQUIRED = "wajib diisi / required"
MSG_TEXT = "harus berupa teks / must be a string"
MSG_NUMBER = "harus berupa angka / must be a number"
MSG_EMPTY = "kosong, dibaca sebagai tidak ada / empty, read as missing"
MSG_NEGATIVE = "tidak boleh negatif / must not be negative"
MSG_DATE = "bukan tanggal-waktu yang sah (RFC 3339) / not a valid date-time (RFC 3339)"
MSG_ARRAY = "harus berupa daftar / must be an array"
MSG_OBJECT_FIELD = "harus berupa objek / must be an object"
MSG_DUPLICATE = "ocid sudah muncul di baris {line} / ocid already on line {line}"
MSG_NO_BUYER = (
    "tanpa id pembeli (buyer/id, identifier, atau pihak berperan buyer); diimpor tanpa satker"
    " / no buyer id (buyer/id, identifier, or a party with the buyer role); imported without a"
    " satker"
)
MSG_GZIP = "berkas gzip rusak atau terpotong di sini / the gzip file is corrupt or truncated here"
MSG_NOT_GZIP = (
    "bernama .gz tetapi bukan berkas gzip; kompres dengan gzip atau hapus .gz dari namanya"
    " / named .gz but not gzip-compressed; compress it with gzip or take .gz off its name"
)
MSG_LONG_LINE = "baris lebih dari {mib} MiB / line longer than {mib} MiB"
MSG_PACKAGE_SIZE = (
    "paket JSON lebih dari {mib} MiB, terlalu besar untuk dibaca utuh; ubah menjadi JSON lines"
    " / JSON package larger than {mib} MiB, too large to read whole; convert it to JSON lines"
)

# The longest line read (as the engine's ``maximum_object_size``), and the largest package read
# whole: a line or package beyond these is reported, not read into memory (a small gzip file can
# expand to gigabytes).
MAX_LINE = 32 * 1024**2
MAX_PACKAGE = 1024**3
GZIP_MAGIC = b"\x1f\x8b"
# Rows per JSON file when loading rows into DuckDB (see ``Store._load_rows``).
_ROWS_PER_FILE = 10_000
# Raised by gzip for a corrupt or truncated stream (BadGzipFile is an OSError).
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


class Checker:
    """Typed field access that collects issues instead of raising on the first one."""

    def __init__(self, default_tz: dt.tzinfo) -> None:
        self.issues: list[tuple[str, str]] = []
        # Told, but the record is imported (see ``Issue.notice``).
        self.notices: list[tuple[str, str]] = []
        self.default_tz = default_tz

    def fail(self, path: str, message: str) -> None:
        self.issues.append((path, message))

    def notice(self, path: str, message: str) -> None:
        self.notices.append((path, message))

    def obj(self, parent: Mapping[str, Any] | None, key: str, path: str) -> Mapping[str, Any]:
        value = parent.get(key) if parent else None
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, MSG_OBJECT_FIELD)
            return {}
        return value

    def array(self, parent: Mapping[str, Any] | None, key: str, path: str) -> list[Any]:
        value = parent.get(key) if parent else None
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, MSG_ARRAY)
            return []
        return value

    def text(self, parent: Mapping[str, Any] | None, key: str, path: str) -> str | None:
        value = parent.get(key) if parent else None
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(path, MSG_TEXT)
            return None
        # Identifiers are often published as numbers; OCDS says strings, and so do we.
        return str(value)

    def number(self, parent: Mapping[str, Any] | None, key: str, path: str) -> float | None:
        value = parent.get(key) if parent else None
        if value is None:
            return None
        if isinstance(value, str) and not value.strip():
            # Some publishers write "" for an amount they do not know (Moldova): missing, told.
            self.notice(path, MSG_EMPTY)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, MSG_NUMBER)
            return None
        if value < 0:
            self.fail(path, MSG_NEGATIVE)
            return None
        return float(value)

    def integer(self, parent: Mapping[str, Any] | None, key: str, path: str) -> int | None:
        number = self.number(parent, key, path)
        return None if number is None else int(number)

    def date(self, parent: Mapping[str, Any] | None, key: str, path: str) -> str | None:
        value = parent.get(key) if parent else None
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(path, MSG_DATE)
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(path, MSG_DATE)
            return None
        if parsed.tzinfo is None:
            # Many Indonesian exports omit the zone; their times are local (WIB by default).
            parsed = parsed.replace(tzinfo=self.default_tz)
        return parsed.isoformat()


Rows = dict[str, list[dict[str, Any]]]


def reference_id(check: Checker, ref: Any, path: str) -> str | None:
    """Return the id of an OCDS organisation (a reference or a party): its ``id``, else its
    ``identifier`` as ``scheme-id`` (as publishers build party ids, e.g. ``UA-EDR-20201870``),
    else None. OCDS 1.0 publishers often give only the identifier."""
    if not isinstance(ref, dict):
        return None
    found = check.text(ref, "id", f"{path}/id")
    if found:
        return found
    identifier = check.obj(ref, "identifier", f"{path}/identifier")
    code = check.text(identifier, "id", f"{path}/identifier/id")
    if not code:
        return None
    scheme = check.text(identifier, "scheme", f"{path}/identifier/scheme")
    return f"{scheme}-{code}" if scheme else code


def map_ocds_release(release: Mapping[str, Any], check: Checker) -> Rows:
    """Map one OCDS compiled release to rows of the normalised model.

    Raises RecordError (with every issue found) if the release cannot be imported.
    """
    ocid = release.get("ocid")
    if not isinstance(ocid, str) or not ocid:
        check.fail("ocid", MSG_REQUIRED if ocid in (None, "") else MSG_TEXT)
    tender = check.obj(release, "tender", "tender")
    buyer = check.obj(release, "buyer", "buyer")
    entity = check.obj(tender, "procuringEntity", "tender/procuringEntity")
    planning = check.obj(release, "planning", "planning")
    budget = check.obj(planning, "budget", "planning/budget")
    budget_amount = check.obj(budget, "amount", "planning/budget/amount")
    value = check.obj(tender, "value", "tender/value")
    period = check.obj(tender, "tenderPeriod", "tender/tenderPeriod")
    award_period = check.obj(tender, "awardPeriod", "tender/awardPeriod")
    bids = check.obj(release, "bids", "bids")
    rows: Rows = {name: [] for name in TABLES}

    def named(org_id: str | None, ref: Any, role: str) -> None:
        # Organisation references carry a name too: publishers without ``parties`` (OCDS 1.0)
        # name their buyers and suppliers only there. Parties, added last, name them last.
        if org_id and isinstance(ref, dict):
            name = ref.get("name")
            rows["organisation"].append(
                {"id": org_id, "name": name if isinstance(name, str) else None, "roles": [role]}
            )

    requests = None
    for i, stat in enumerate(check.array(bids, "statistics", "bids/statistics")):
        if isinstance(stat, dict) and stat.get("measure") == "requests":
            requests = check.integer(stat, "value", f"bids/statistics/{i}/value")

    bidders: set[str] = set()
    for i, bid in enumerate(check.array(bids, "details", "bids/details")):
        path = f"bids/details/{i}"
        if not isinstance(bid, dict):
            check.fail(path, MSG_OBJECT_FIELD)
            continue
        status = check.text(bid, "status", f"{path}/status")
        bid_value = check.obj(bid, "value", f"{path}/value")
        tenderers = []
        for j, t in enumerate(check.array(bid, "tenderers", f"{path}/tenderers")):
            tenderer = reference_id(check, t, f"{path}/tenderers/{j}")
            tenderers.append(tenderer)
            named(tenderer, t, "tenderer")
        submitted = status not in ("invited", "withdrawn")
        if submitted:
            bidders.update(t for t in tenderers if t)
        rows["bid"].append(
            {
                "position": i + 1,
                "bid_id": check.text(bid, "id", f"{path}/id"),
                "status": status,
                "submitted": submitted,
                "date": check.date(bid, "date", f"{path}/date"),
                "amount": check.number(bid_value, "amount", f"{path}/value/amount"),
                "currency": check.text(bid_value, "currency", f"{path}/value/currency"),
                "tenderer_ids": tenderers,
            }
        )

    for i, award in enumerate(check.array(release, "awards", "awards")):
        path = f"awards/{i}"
        if not isinstance(award, dict):
            check.fail(path, MSG_OBJECT_FIELD)
            continue
        award_value = check.obj(award, "value", f"{path}/value")
        suppliers = []
        for j, s in enumerate(check.array(award, "suppliers", f"{path}/suppliers")):
            supplier = reference_id(check, s, f"{path}/suppliers/{j}")
            suppliers.append(supplier)
            named(supplier, s, "supplier")
        rows["award"].append(
            {
                "position": i + 1,
                "award_id": check.text(award, "id", f"{path}/id"),
                "status": check.text(award, "status", f"{path}/status"),
                "date": check.date(award, "date", f"{path}/date"),
                "amount": check.number(award_value, "amount", f"{path}/value/amount"),
                "currency": check.text(award_value, "currency", f"{path}/value/currency"),
                "supplier_ids": suppliers,
            }
        )
        for j, item in enumerate(check.array(award, "items", f"{path}/items")):
            if not isinstance(item, dict):
                check.fail(f"{path}/items/{j}", MSG_OBJECT_FIELD)
                continue
            cls = check.obj(item, "classification", f"{path}/items/{j}/classification")
            rows["item"].append(
                {
                    "award_position": i + 1,
                    "scheme": check.text(cls, "scheme", f"{path}/items/{j}/classification/scheme"),
                    "classification_id": check.text(
                        cls, "id", f"{path}/items/{j}/classification/id"
                    ),
                    "description": check.text(item, "description", f"{path}/items/{j}/description"),
                    "quantity": check.number(item, "quantity", f"{path}/items/{j}/quantity"),
                }
            )

    for i, contract in enumerate(check.array(release, "contracts", "contracts")):
        path = f"contracts/{i}"
        if not isinstance(contract, dict):
            check.fail(path, MSG_OBJECT_FIELD)
            continue
        contract_value = check.obj(contract, "value", f"{path}/value")
        rows["contract"].append(
            {
                "position": i + 1,
                "contract_id": check.text(contract, "id", f"{path}/id"),
                "award_id": check.text(contract, "awardID", f"{path}/awardID"),
                "status": check.text(contract, "status", f"{path}/status"),
                "date_signed": check.date(contract, "dateSigned", f"{path}/dateSigned"),
                "amount": check.number(contract_value, "amount", f"{path}/value/amount"),
                "currency": check.text(contract_value, "currency", f"{path}/value/currency"),
            }
        )

    for i, lot in enumerate(check.array(tender, "lots", "tender/lots")):
        if not isinstance(lot, dict):
            check.fail(f"tender/lots/{i}", MSG_OBJECT_FIELD)
            continue
        lot_value = check.obj(lot, "value", f"tender/lots/{i}/value")
        rows["lot"].append(
            {
                "lot_id": check.text(lot, "id", f"tender/lots/{i}/id"),
                "title": check.text(lot, "title", f"tender/lots/{i}/title"),
                "status": check.text(lot, "status", f"tender/lots/{i}/status"),
                "amount": check.number(lot_value, "amount", f"tender/lots/{i}/value/amount"),
                "currency": check.text(lot_value, "currency", f"tender/lots/{i}/value/currency"),
            }
        )

    buyer_id = reference_id(check, buyer, "buyer")
    buyer_name = check.text(buyer, "name", "buyer/name")
    named(buyer_id, buyer, "buyer")
    entity_id = reference_id(check, entity, "tender/procuringEntity")
    named(entity_id, entity, "procuringEntity")
    for i, party in enumerate(check.array(release, "parties", "parties")):
        if not isinstance(party, dict):
            check.fail(f"parties/{i}", MSG_OBJECT_FIELD)
            continue
        party_id = reference_id(check, party, f"parties/{i}")
        roles = [r for r in check.array(party, "roles", f"parties/{i}/roles") if isinstance(r, str)]
        party_name = check.text(party, "name", f"parties/{i}/name")
        if party_id:
            rows["organisation"].append({"id": party_id, "name": party_name, "roles": roles})
            if buyer_id is None and "buyer" in roles:
                # No buyer reference: the party with the buyer role is the buyer (OCDS 1.1).
                buyer_id, buyer_name = party_id, party_name
    if buyer_id is None:
        # Kept apart from every other buyer: never grouped into one satker with no id.
        check.notice("buyer/id", MSG_NO_BUYER)

    tender_start = check.date(period, "startDate", "tender/tenderPeriod/startDate")
    released = check.date(release, "date", "date")
    year_source = tender_start or released
    additional = check.array(
        tender, "additionalProcurementCategories", "tender/additionalProcurementCategories"
    )
    number_of_tenderers = check.integer(tender, "numberOfTenderers", "tender/numberOfTenderers")
    rows["process"].append(
        {
            "source": "ocds",
            "tender_id": check.text(tender, "id", "tender/id"),
            "plan_id": check.text(budget, "id", "planning/budget/id"),
            "title": check.text(tender, "title", "tender/title"),
            "description": check.text(tender, "description", "tender/description"),
            "status": check.text(tender, "status", "tender/status"),
            "buyer_id": buyer_id,
            "buyer_name": buyer_name,
            "procuring_entity_id": entity_id,
            "procuring_entity_name": check.text(entity, "name", "tender/procuringEntity/name"),
            "method": check.text(tender, "procurementMethod", "tender/procurementMethod"),
            "method_details": check.text(
                tender, "procurementMethodDetails", "tender/procurementMethodDetails"
            ),
            "category": check.text(
                tender, "mainProcurementCategory", "tender/mainProcurementCategory"
            ),
            "additional_categories": [c for c in additional if isinstance(c, str)],
            "award_criteria": check.text(tender, "awardCriteria", "tender/awardCriteria"),
            "pagu": check.number(budget_amount, "amount", "planning/budget/amount/amount"),
            "hps": check.number(value, "amount", "tender/value/amount"),
            "currency": check.text(value, "currency", "tender/value/currency")
            or check.text(budget_amount, "currency", "planning/budget/amount/currency"),
            "announced_at": check.date(tender, "datePublished", "tender/datePublished")
            or tender_start,
            "tender_start": tender_start,
            "tender_end": check.date(period, "endDate", "tender/tenderPeriod/endDate"),
            "award_start": check.date(award_period, "startDate", "tender/awardPeriod/startDate"),
            "award_end": check.date(award_period, "endDate", "tender/awardPeriod/endDate"),
            "number_of_tenderers": number_of_tenderers,
            "n_registrants": requests,
            # Bidders are counted from the bids when there are any (see R018).
            "n_bidders": len(bidders) if bidders else number_of_tenderers,
            "fiscal_year": int(year_source[:4]) if year_source else None,
            "released_at": released,
        }
    )
    if check.issues:
        raise RecordError(check.issues)
    for name in PROCESS_TABLES:
        for row in rows[name]:
            row["ocid"] = ocid
    return rows


def base_name(path: Path) -> str:
    """Return the file name without a ``.gz`` suffix (``a.jsonl.gz`` → ``a.jsonl``)."""
    name = path.name
    return name[:-3] if name.lower().endswith(".gz") else name


class NotGzipError(OSError):
    """Raised for a file whose name ends in ``.gz`` but whose content is not gzip: read as it
    is, a renamed or mislabelled file would only give one "not valid JSON" line after another.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(MSG_NOT_GZIP)
        self.filename = str(path)
        self.bilingual = MSG_NOT_GZIP


def check_gzip(path: Path) -> None:
    """Raise NotGzipError if ``path`` is named ``.gz`` and is not gzip-compressed."""
    if path.name.lower().endswith(".gz"):
        with path.open("rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                raise NotGzipError(path)


@contextlib.contextmanager
def open_data(path: Path) -> Iterator[tuple[Any, Any]]:
    """Open a data file, gzip-compressed or not (told by its first bytes). A file named
    ``.gz`` must be gzip: raises NotGzipError otherwise.

    Yields (reader, raw): ``reader`` gives the content, ``raw.tell()`` how far into the file on
    disk reading has come (for progress bars, which count the file's own size).
    """
    check_gzip(path)
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if compressed:
            with gzip.GzipFile(fileobj=raw) as reader:
                yield reader, raw
        else:
            yield raw, raw


def iter_json_lines(path: Path) -> Iterator[tuple[int, int, str | None, Any]]:
    """Yield (line, bytes of the file read so far, error message or None, value) per line.

    Blank lines are skipped. A line that is not JSON comes with its raw bytes as the value (an
    SPSE import looks in it for the package it belonged to). A line longer than ``MAX_LINE`` is
    reported and skipped without being held in memory; a corrupt or truncated gzip file is
    reported at the line where it breaks, and reading stops there.
    """
    with open_data(path) as (reader, raw):
        number = 0
        while True:
            try:
                line = reader.readline(MAX_LINE + 1)
                # More than MAX_LINE bytes before the newline: skip to the end of the line.
                too_long = len(line) > MAX_LINE and not line.endswith(b"\n")
                while too_long and line and not line.endswith(b"\n"):
                    line = reader.readline(MAX_LINE)
            except _GZIP_ERRORS:
                yield number + 1, raw.tell(), MSG_GZIP, None
                return
            if not line and not too_long:
                return
            number += 1
            if too_long:
                yield number, raw.tell(), MSG_LONG_LINE.format(mib=MAX_LINE >> 20), None
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                yield number, raw.tell(), MSG_JSON, line
                continue
            yield number, raw.tell(), None, value


def iter_ocds_records(path: Path) -> Iterator[tuple[int, int, str | None, Any]]:
    """Yield (line, bytes read so far, error message or None, value) for an OCDS file.

    JSON lines: one value per non-blank line. A ``.json`` file (release or record package, or an
    array of releases) is read whole: releases are expected to be compiled releases, records'
    ``compiledRelease`` is used. Either may be gzip-compressed (``.jsonl.gz``, ``.json.gz``).
    """
    if not base_name(path).lower().endswith(".json"):
        yield from iter_json_lines(path)
        return
    with open_data(path) as (reader, raw):
        try:
            text = reader.read(MAX_PACKAGE + 1)
        except _GZIP_ERRORS:
            yield 1, raw.tell(), MSG_GZIP, None
            return
        done = raw.tell()
    if len(text) > MAX_PACKAGE:
        yield 1, done, MSG_PACKAGE_SIZE.format(mib=MAX_PACKAGE >> 20), None
        return
    try:
        document = json.loads(text)
    except ValueError:
        yield 1, done, MSG_JSON, None
        return
    del text
    if isinstance(document, dict) and "records" in document:
        releases = [
            r.get("compiledRelease") if isinstance(r, dict) else r for r in document["records"]
        ]
    elif isinstance(document, dict) and "releases" in document:
        releases = document["releases"]
    elif isinstance(document, list):
        releases = document
    else:
        releases = [document]
    for i, release in enumerate(releases):
        yield i + 1, done, None, release


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (read in chunks)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Store:
    """A procurement store in a DuckDB file; use as a context manager."""

    def __init__(self, path: str | Path, *, memory_limit: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(DatabaseOptions(database=self.path, memory_limit=memory_limit))
        for statement in _SCHEMA:
            self.con.execute(statement)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection (checkpointing the file)."""
        close(self.con)

    def count(self, table: str) -> int:
        """Return the number of rows of a table."""
        if table not in TABLES and table not in ("import_file", "import_issue"):
            raise ValueError(table)
        row = first_row(self.con, f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0

    def import_ocds(
        self,
        path: str | Path,
        *,
        strict: bool = False,
        progress: Progress | None = None,
        default_timezone: dt.tzinfo = dt.timezone(dt.timedelta(hours=7)),
        batch_size: int = 5000,
    ) -> ImportReport:
        """Import OCDS compiled releases (JSON lines, or a package as JSON).

        Bad records are reported (file, line, field) and skipped; with ``strict`` any bad record
        refuses the whole file. Returns the ImportReport; raises OSError if the file cannot be
        read.
        """
        path = Path(path)
        check_gzip(path)  # before anything is written

        def records() -> Iterator[tuple[int, int, Rows | None, list[Issue]]]:
            seen: dict[str, int] = {}
            for line, done, error, value in iter_ocds_records(path):
                if error:
                    yield line, done, None, [Issue(str(path), line, "", error)]
                    continue
                if not isinstance(value, dict):
                    yield line, done, None, [Issue(str(path), line, "", MSG_OBJECT)]
                    continue
                ocid = value.get("ocid") if isinstance(value.get("ocid"), str) else None
                check = Checker(default_timezone)
                try:
                    rows = map_ocds_release(value, check)
                except RecordError as exc:
                    issues = [Issue(str(path), line, f, m, ocid) for f, m in exc.issues]
                    yield line, done, None, issues
                    continue
                assert ocid is not None
                if ocid in seen:
                    message = MSG_DUPLICATE.format(line=seen[ocid])
                    yield line, done, None, [Issue(str(path), line, "ocid", message, ocid)]
                    continue
                seen[ocid] = line
                for row in rows["process"]:
                    row["line"] = line
                notices = [Issue(str(path), line, f, m, ocid, True) for f, m in check.notices]
                yield line, done, rows, notices

        return self._import(
            path, "ocds", records(), strict=strict, progress=progress, batch_size=batch_size
        )

    def _import(
        self,
        path: Path,
        source: str,
        records: Iterable[tuple[int, int, Rows | None, list[Issue]]],
        *,
        strict: bool,
        progress: Progress | None,
        batch_size: int,
        sha256: str | None = None,
    ) -> ImportReport:
        """Write mapped records in batches inside one transaction; see import_ocds."""
        total = path.stat().st_size if path.exists() else 0
        sha256 = sha256 or file_sha256(path)
        report = ImportReport(path=str(path), sha256=sha256, source=source)
        found = first_row(
            self.con,
            "SELECT file_id FROM import_file WHERE sha256 = ? AND source = ?",
            [sha256, source],
        )
        if found:
            report.status = "unchanged"
            if progress:
                progress(total, total)
            return report

        row = first_row(self.con, "SELECT nextval('import_file_id')")
        file_id = int(row[0]) if row else 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            batch: Rows = {name: [] for name in TABLES}
            pending = 0
            for line, done, rows, issues in records:
                if line:  # line 0 carries issues not tied to one record
                    report.records += 1
                report.add_issues(issues)
                if rows is not None:
                    for name, table_rows in rows.items():
                        if name == "process":
                            for r in table_rows:
                                r["file_id"] = file_id
                        batch[name].extend(table_rows)
                    pending += 1
                    report.imported += 1
                if pending >= batch_size:
                    self._write(batch)
                    batch = {name: [] for name in TABLES}
                    pending = 0
                if progress and report.records % 1000 == 0:
                    progress(done, total)
            if strict and report.problem_count:
                self.con.execute("ROLLBACK")
                report.status = "refused"
                report.imported = 0
                return report
            if report.records and not report.imported:
                # Not recorded as imported: once the file (or the reader) is fixed, importing it
                # again must not answer "unchanged".
                self.con.execute("ROLLBACK")
                report.status = "nothing"
                return report
            self._write(batch)
            self.con.execute(
                "INSERT INTO import_file (file_id, path, sha256, size, source, imported_at, records,"
                " imported, refused, issues) VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?)",
                [
                    file_id,
                    str(path),
                    sha256,
                    total,
                    source,
                    report.records,
                    report.imported,
                    report.refused,
                    report.issue_count,
                ],
            )
            if report.issues:
                self._write_issues(file_id, report.issues)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        if progress:
            progress(total, total)
        return report

    def _write(self, batch: Rows) -> None:
        """Replace the batch's processes (by ocid) and upsert its organisations."""
        ocids = [r["ocid"] for r in batch["process"]]
        if not ocids:
            return
        with tempfile.TemporaryDirectory(prefix="cegah-import-") as tmp:
            self.con.execute("CREATE OR REPLACE TEMP TABLE batch_ocid (ocid VARCHAR)")
            self._load_rows(
                Path(tmp), "batch_ocid", {"ocid": "VARCHAR"}, [{"ocid": o} for o in ocids]
            )
            for name in PROCESS_TABLES:
                self.con.execute(f"DELETE FROM {name} WHERE ocid IN (SELECT ocid FROM batch_ocid)")
                if batch[name]:
                    self._load_rows(Path(tmp), name, TABLES[name], batch[name])
            if batch["organisation"]:
                # The last name given wins, in the order the records were read (``seq``): an
                # export that names a supplier by code only (e-Katalog's kd_penyedia_sikap) or a
                # party without a name keeps the name known. Roles accumulate.
                orgs = [{**row, "seq": seq} for seq, row in enumerate(batch["organisation"])]
                self._load_rows(
                    Path(tmp),
                    "batch_org",
                    {**TABLES["organisation"], "seq": "BIGINT"},
                    orgs,
                    temp=True,
                )
                self.con.execute(
                    """
                    CREATE OR REPLACE TEMP TABLE merged_org AS
                    SELECT id,
                           coalesce(arg_max(b.name, b.seq) FILTER (WHERE b.name IS NOT NULL),
                                    any_value(o.name)) AS name,
                           list_sort(list_distinct(flatten(list(b.roles)) || any_value(coalesce(o.roles, [])))) AS roles
                    FROM batch_org AS b LEFT JOIN organisation AS o USING (id) GROUP BY id
                    """
                )
                self.con.execute("DELETE FROM organisation WHERE id IN (SELECT id FROM merged_org)")
                self.con.execute("INSERT INTO organisation SELECT id, name, roles FROM merged_org")
                self.con.execute("DROP TABLE batch_org")

    def _load_rows(
        self,
        tmp: Path,
        table: str,
        columns: Mapping[str, str],
        rows: list[dict[str, Any]],
        *,
        temp: bool = False,
    ) -> None:
        """Append rows to ``table`` through JSON files (DuckDB's fastest way in).

        Each file is an array of up to ``_ROWS_PER_FILE`` rows encoded in one ``json.dumps``
        call: per row, ``json.dumps`` sets up its encoder again, which cost more than the encoding
        (the whole import went 15-20% faster).
        """
        files: list[Path] = []
        for start in range(0, max(len(rows), 1), _ROWS_PER_FILE):
            file = tmp / f"{table}-{len(files)}.json"
            chunk = rows[start : start + _ROWS_PER_FILE]
            file.write_text(json.dumps(chunk, ensure_ascii=False), encoding="utf-8")
            files.append(file)
        spec = (
            "{" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in columns.items()) + "}"
        )
        paths = "[" + ", ".join(sql_string(f) for f in files) + "]"
        select = (
            f"SELECT {', '.join(columns)} FROM read_json({paths}, columns = {spec},"
            " format = 'array')"
        )
        if temp:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
        else:
            self.con.execute(f"INSERT INTO {table} BY NAME {select}")
        for file in files:
            os.unlink(file)

    def _write_issues(self, file_id: int, issues: list[Issue]) -> None:
        with tempfile.TemporaryDirectory(prefix="cegah-import-") as tmp:
            self._load_rows(
                Path(tmp),
                "import_issue",
                {
                    "file_id": "BIGINT",
                    "path": "VARCHAR",
                    "line": "BIGINT",
                    "ocid": "VARCHAR",
                    "field": "VARCHAR",
                    "message": "VARCHAR",
                    "notice": "BOOLEAN",
                },
                [
                    {
                        "file_id": file_id,
                        "path": i.path,
                        "line": i.line,
                        "ocid": i.ocid,
                        "field": i.field,
                        "message": i.message,
                        "notice": i.notice,
                    }
                    for i in issues
                ],
            )
