"""Import LKPP ISB exports from SPSE (and e-Katalog) into the procurement store.

A folder holds one JSON lines file per ISB dataset, named ``<n>_<dataset>_<name>.jsonl`` (see
``../shared/data/ocds/README.md``). They are joined on the package code (``kd_tender``,
``kd_nontender``, e-Katalog ``kd_paket``) into the same normalised model as OCDS (``store``), with
the identifiers the OCDS mapping uses, so that both routes give the same processes:

* ocid ``ocds-idspse-<kd_lpse>-t<kd_tender>`` (tender), ``-n<kd_nontender>`` (non-tender),
  ``ocds-idspse-ekatalog-<kd_paket>`` (e-purchasing);
* buyer ``ID-SATKER-<kd_satker_str>``, procuring entity ``ID-LPSE-<kd_lpse>``, supplier
  ``ID-SIKAP-<kd_penyedia>``.

Registrants and bidders: every ``PesertaTender`` row is a registrant (``bid.submitted`` false);
one with ``nilai_penawaran`` made an offer (``submitted`` true). SPSE exports no evaluation result
for losing offers, so they are ``pending``; the winner (``pemenang``) is ``valid``.

Times without a zone are WIB (+07:00), as SPSE shows them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store import (
    MSG_OBJECT,
    MSG_REQUIRED,
    PROCESS_TABLES,
    TABLES,
    Checker,
    ImportReport,
    Issue,
    Progress,
    Rows,
    Store,
    base_name,
    file_sha256,
    iter_json_lines,
)

WIB = dt.timezone(dt.timedelta(hours=7))
MSG_BOTH = (
    "tidak dibaca: {plain} ada juga di folder ini, tanpa kompresi / not read: {plain} is in this"
    " folder too, uncompressed"
)
MSG_INCOMPLETE = (
    "tidak diimpor: baris {line} {file} tidak dapat dipakai dan mungkin milik paket ini; versi"
    " yang sudah tersimpan tetap dipakai / not imported: line {line} of {file} could not be used"
    " and may belong to this package; a version stored before is kept"
)
MSG_NO_EXPORTS = (
    "tidak ada berkas ekspor ISB yang dikenali di folder ini (nama seperti"
    " 47_1013_SPSE-TenderPengumuman.jsonl) / no known ISB export file in this folder (names like"
    " 47_1013_SPSE-TenderPengumuman.jsonl)"
)

# ISB dataset name (the file name after "<n>_<dataset>_") -> our key.
DATASETS = {
    "SPSE-TenderPengumuman": "tender",
    "SPSE-TenderSelesai": "tender_done",
    "SPSE-TenderSelesaiNilai": "tender_values",
    "SPSE-PesertaTender": "participants",
    "SPSE-JadwalTahapanTender": "schedule",
    "SPSE-TenderEkontrak-2Kontrak": "tender_contracts",
    "SPSE-TenderEkontrak-1SPPBJ": "tender_sppbj",
    "SPSE-NonTenderPengumuman": "nontender",
    "SPSE-NonTenderSelesai": "nontender_done",
    "SPSE-NonTenderEkontrak-2Kontrak": "nontender_contracts",
    "Ecat-PaketEPurchasingV6": "epurchasing",
}

# SPSE method (mtd_pemilihan) -> OCDS procurementMethod (GUIDE §3.4).
METHODS = {
    "Tender": "open",
    "Tender Cepat": "open",
    "Seleksi": "open",
    "Penunjukan Langsung": "limited",
    "Pengadaan Langsung": "direct",
    "E-Purchasing": "direct",
}
STATUSES = {"Selesai": "complete", "Gagal/Batal": "cancelled", "Berlangsung": "active"}

# The schedule stage that ends the submission of offers (the end of the tender period) and the
# one that ends the award decision.
STAGE_SUBMISSION = "Upload Dokumen Penawaran"
STAGE_AWARD = "Penetapan pemenang"


def category(jenis: str | None) -> tuple[str | None, list[str]]:
    """Return (mainProcurementCategory, additionalProcurementCategories) for jenis_pengadaan."""
    if not jenis:
        return None, []
    if jenis.startswith("Pengadaan Barang"):
        return "goods", []
    if jenis.startswith("Pekerjaan Konstruksi"):
        return "works", []
    if jenis.startswith("Jasa Konsultansi"):
        return "services", ["consultingServices"]
    return "services", []


def dataset_of(path: Path) -> str | None:
    """Return our key for an ISB export file name (``.jsonl``, or ``.jsonl.gz``), or None if it
    is not one we read."""
    name = base_name(path)
    if not name.lower().endswith(".jsonl"):
        return None
    parts = name[: -len(".jsonl")].split("_", 2)
    return DATASETS.get(parts[2]) if len(parts) == 3 else None


@dataclass
class Record:
    """One line of an export, with its origin for issue reports."""

    path: str
    line: int
    data: dict[str, Any]


def join_code(lpse: str | None, code: str) -> str:
    """Return the join key of a package: its code within its LPSE. Package codes are numbered
    by each LPSE, so two LPSE's exports in one folder could share one; the LPSE code keeps their
    records apart (the ocid carries it too)."""
    return f"{lpse or ''}/{code}"


# The announcements, read in file order; each is one process.
MAIN_DATASETS = ("tender", "nontender", "epurchasing")
# The datasets joined to tender and to non-tender announcements, in the order their records
# without a usable key are reported.
TENDER_JOINS = (
    "tender_values",
    "tender_done",
    "participants",
    "schedule",
    "tender_contracts",
    "tender_sppbj",
)
NONTENDER_JOINS = ("nontender_done", "nontender_contracts")
# Records written to, and issues read from, the scratch file at a time.
BATCH = 5000
# The field each joined dataset is joined on (the announcements are read in file order instead).
JOIN_KEYS = {
    **dict.fromkeys(TENDER_JOINS, "kd_tender"),
    **dict.fromkeys(NONTENDER_JOINS, "kd_nontender"),
}


@dataclass
class Folder:
    """The records of a folder of exports and the issues found reading them.

    Records are kept out of memory, in a SQLite file (``database``): a folder of many LPSE or
    years would otherwise be held whole, at about five times its size (a 442 MB folder took
    2.3 GiB). Each record is stored once, as ``marshal`` bytes of its parsed JSON, with its
    join key; ``records`` reads a dataset back in file order, ``lookup`` one key's records.
    """

    database: sqlite3.Connection
    files: list[str] = field(default_factory=list)
    lines: int = 0
    # Lines of joined datasets that could not be used (see ``lose``).
    lost_lines: int = 0
    # Issues found reading the files, on their way to the ``issue`` table (a file of junk lines
    # has one per line: they are not all held in memory either).
    _issues: list[Issue] = field(default_factory=list)

    def report(self, issue: Issue) -> None:
        """Keep an issue found while reading the files."""
        self._issues.append(issue)
        if len(self._issues) >= BATCH:
            self._flush_issues()

    def _flush_issues(self) -> None:
        self.database.executemany(
            "INSERT INTO issue (path, line, field, message) VALUES (?, ?, ?, ?)",
            [(i.path, i.line, i.field, i.message) for i in self._issues],
        )
        self._issues.clear()

    def issue_batches(self) -> Iterator[list[Issue]]:
        """Yield the issues found while reading the files, in order, a batch at a time."""
        self._flush_issues()
        cursor = self.database.execute("SELECT path, line, field, message FROM issue ORDER BY seq")
        while rows := cursor.fetchmany(BATCH):
            yield [Issue(*row) for row in rows]

    def records(self, dataset: str) -> Iterator[Record]:
        """Yield the records of ``dataset`` in file order."""
        yield from self._read(
            "SELECT file, line, data FROM record WHERE dataset = ? ORDER BY seq", (dataset,)
        )

    def unkeyed(self, dataset: str) -> Iterator[Record]:
        """Yield the records of a joined dataset without a usable join key, in file order."""
        yield from self._read(
            "SELECT file, line, data FROM record WHERE dataset = ? AND code IS NULL ORDER BY seq",
            (dataset,),
        )

    def count(self, datasets: tuple[str, ...]) -> int:
        """Return how many records ``datasets`` hold."""
        marks = ", ".join("?" * len(datasets))
        row = self.database.execute(
            f"SELECT count(*) FROM record WHERE dataset IN ({marks})",
            datasets,
        ).fetchone()
        return int(row[0]) if row else 0

    def lookup(self, dataset: str, code: str, lpse: str | None) -> list[Record]:
        """Return the records of ``dataset`` joined on package ``code`` of LPSE ``lpse``, in file
        order; records without an LPSE code join on the package code alone."""
        sql = "SELECT file, line, data FROM record WHERE dataset = ? AND code = ? ORDER BY seq"
        found = list(self._read(sql, (dataset, join_code(lpse, code))))
        if not found and lpse:
            found = list(self._read(sql, (dataset, join_code(None, code))))
        return found

    def lose(self, dataset: str, code: str | None, file: int, line: int) -> None:
        """Note a line of a joined dataset that cannot be used (not JSON, not an object, no
        join key), with the package it belongs to if that could be read (``code``)."""
        self.database.execute(
            "INSERT INTO lost (dataset, code, file, line) VALUES (?, ?, ?, ?)",
            (dataset, code, file, line),
        )
        self.lost_lines += 1

    def lost(
        self, datasets: tuple[str, ...], code: str, lpse: str | None
    ) -> tuple[str, int] | None:
        """Return (file, line) of the first unusable line of ``datasets`` that belongs, or may
        belong, to package ``code`` of LPSE ``lpse``; None if there is none.

        A line whose package could not be read may belong to any package: the package cannot
        be known to be complete.
        """
        if not self.lost_lines or not datasets:
            return None
        marks = ", ".join("?" * len(datasets))
        row = self.database.execute(
            f"SELECT file, line FROM lost WHERE dataset IN ({marks})"
            " AND (code IS NULL OR code = ? OR code = ?) ORDER BY seq LIMIT 1",
            (*datasets, join_code(lpse, code), join_code(None, code)),
        ).fetchone()
        return (self.files[row[0]], int(row[1])) if row else None

    def _read(self, sql: str, params: tuple[str, ...]) -> Iterator[Record]:
        # A cursor of its own: lookups run while a dataset is being read.
        for file, line, data in self.database.execute(sql, params):
            # Bytes this import wrote itself, into a directory only its user can open.
            yield Record(self.files[file], line, marshal.loads(data))  # noqa: S302


def _field_pattern(name: str) -> re.Pattern[bytes]:
    # A complete value only: a line cut off in the middle of a number must not name another
    # package ("kd_tender":1004 of 10040319000).
    return re.compile(rb'"%s"\s*:\s*(?:"([^"\\]*)"|(-?\d+))\s*[,}]' % name.encode())


_SALVAGE = {name: _field_pattern(name) for name in {*JOIN_KEYS.values(), "kd_lpse"}}


def salvage_code(raw: bytes, join: str) -> str | None:
    """Return the join key (as ``join_code``) of a line that is not valid JSON, if its package
    code (and LPSE) can still be read in it, as in a line cut short; else None."""
    found = _SALVAGE[join].search(raw)
    if not found:
        return None
    lpse = _SALVAGE["kd_lpse"].search(raw)
    code = (found.group(1) or found.group(2)).decode("utf-8", "replace")
    return join_code((lpse.group(1) or lpse.group(2)).decode() if lpse else None, code)


def read_folder(
    folder: Path, progress: Progress | None, database: Path
) -> tuple[Folder, list[Path]]:
    """Read every known export file of ``folder`` into a new SQLite file ``database``; return
    the records and the files read.

    Where a file is there both plain and gzip-compressed (``gunzip -k`` keeps both), only the
    plain one is read, and the other is reported: reading both would count every record twice.
    """
    found = sorted(p for p in folder.iterdir() if p.is_file() and dataset_of(p))
    plain = {p.name for p in found if p.name == base_name(p)}
    files = [p for p in found if p.name == base_name(p) or base_name(p) not in plain]
    con = sqlite3.connect(database)
    # A scratch file, deleted after the import: nothing to keep safe from a crash.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute(
        "CREATE TABLE record (seq INTEGER PRIMARY KEY, dataset TEXT NOT NULL, code TEXT,"
        " file INTEGER NOT NULL, line INTEGER NOT NULL, data BLOB NOT NULL)"
    )
    con.execute(
        "CREATE TABLE issue (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, line INTEGER NOT NULL,"
        " field TEXT NOT NULL, message TEXT NOT NULL)"
    )
    con.execute(
        "CREATE TABLE lost (seq INTEGER PRIMARY KEY, dataset TEXT NOT NULL, code TEXT,"
        " file INTEGER NOT NULL, line INTEGER NOT NULL)"
    )
    con.execute("CREATE INDEX lost_code ON lost (code, dataset)")
    out = Folder(database=con, files=[str(p) for p in files])
    for path in found:
        if path not in files:
            out.report(Issue(str(path), 0, "", MSG_BOTH.format(plain=base_name(path))))
    total = sum(p.stat().st_size for p in files)
    before = 0  # bytes of the files already read
    batch: list[tuple[str, str | None, int, int, bytes]] = []
    insert = "INSERT INTO record (dataset, code, file, line, data) VALUES (?, ?, ?, ?, ?)"
    for index, path in enumerate(files):
        key = dataset_of(path)
        assert key is not None
        join = JOIN_KEYS.get(key)
        for number, done, error, data in iter_json_lines(path):
            out.lines += 1
            if error or not isinstance(data, dict):
                out.report(Issue(str(path), number, "", error or MSG_OBJECT))
                if join:
                    # Its package is incomplete without it (and, if unknown, any package).
                    raw = data if error and isinstance(data, bytes) else b""
                    out.lose(key, salvage_code(raw, join), index, number)
                continue
            # A key that is missing or not text is reported when its dataset is joined.
            code = Checker(WIB).text(data, join, join) if join else None
            if code is not None:
                code = join_code(Checker(WIB).text(data, "kd_lpse", "kd_lpse"), code)
            elif join:
                out.lose(key, None, index, number)
            batch.append((key, code, index, number, marshal.dumps(data)))
            if len(batch) >= BATCH:
                con.executemany(insert, batch)
                batch.clear()
            if progress and out.lines % 2000 == 0:
                progress(before + done, total)
        before += path.stat().st_size
    con.executemany(insert, batch)
    con.execute("CREATE INDEX record_join ON record (dataset, code, seq)")
    con.commit()
    if progress:
        progress(total, total)
    return out, files


class Mapper:
    """Builds normalised rows from joined SPSE records, collecting issues per source line."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues

    def check(self, record: Record) -> Checker:
        return Checker(WIB)

    def flush(self, record: Record, check: Checker, ocid: str | None = None) -> bool:
        """Record the checker's issues against ``record``; return whether it was clean."""
        for field_name, message in check.issues:
            self.issues.append(Issue(record.path, record.line, field_name, message, ocid))
        for field_name, message in check.notices:
            self.issues.append(Issue(record.path, record.line, field_name, message, ocid, True))
        return not check.issues

    def incomplete(
        self,
        folder: Folder,
        joins: tuple[str, ...],
        record: Record,
        code: str,
        lpse: str | None,
        ocid: str,
    ) -> bool:
        """Return whether the package of announcement ``record`` may miss a line of a joined
        file (one that could not be used), reporting it by ocid if so.

        Such a package is not imported: a participant lost to a corrupt line would otherwise
        replace a complete package imported before with one registrant fewer, silently.
        """
        lost = folder.lost(joins, code, lpse)
        if lost is None:
            return False
        message = MSG_INCOMPLETE.format(file=Path(lost[0]).name, line=lost[1])
        self.issues.append(Issue(record.path, record.line, "", message, ocid))
        return True

    def key(self, record: Record, name: str) -> str | None:
        """Return a required code field as text, or report it missing."""
        check = Checker(WIB)
        value = check.text(record.data, name, name)
        if value is None and not check.issues:
            check.fail(name, MSG_REQUIRED)
        self.flush(record, check)
        return value


class Joined:
    """The records of one joined dataset, by join key (see ``Folder.lookup``)."""

    def __init__(self, folder: Folder, dataset: str) -> None:
        self.folder = folder
        self.dataset = dataset

    def get(self, code: str, lpse: str | None) -> list[Record]:
        """Return the records joined on package ``code`` of LPSE ``lpse`` (none: [])."""
        return self.folder.lookup(self.dataset, code, lpse)


def _org(rows: Rows, org_id: str | None, name: str | None, role: str) -> None:
    if org_id:
        rows["organisation"].append({"id": org_id, "name": name, "roles": [role]})


def _process_row(
    check: Checker, data: dict[str, Any], *, method_details: str | None, tender_id: str
) -> dict[str, Any]:
    main, additional = category(check.text(data, "jenis_pengadaan", "jenis_pengadaan"))
    satker = check.text(data, "kd_satker_str", "kd_satker_str")
    lpse = check.text(data, "kd_lpse", "kd_lpse")
    status = check.text(data, "status_tender", "status_tender") or check.text(
        data, "status_nontender", "status_nontender"
    )
    return {
        "source": "spse",
        "tender_id": tender_id,
        "plan_id": check.text(data, "kd_rup", "kd_rup"),
        "title": check.text(data, "nama_paket", "nama_paket"),
        "description": None,
        "status": STATUSES.get(status or "", status),
        "buyer_id": f"ID-SATKER-{satker}" if satker else None,
        "buyer_name": check.text(data, "nama_satker", "nama_satker"),
        "procuring_entity_id": f"ID-LPSE-{lpse}" if lpse else None,
        "procuring_entity_name": check.text(data, "nama_lpse", "nama_lpse"),
        "method": METHODS.get(method_details or ""),
        "method_details": method_details,
        "category": main,
        "additional_categories": additional,
        "award_criteria": check.text(data, "mtd_evaluasi", "mtd_evaluasi"),
        "pagu": check.number(data, "pagu", "pagu"),
        "hps": check.number(data, "hps", "hps"),
        "currency": "IDR",
        "fiscal_year": check.integer(data, "tahun_anggaran", "tahun_anggaran"),
    }


def map_tenders(mapper: Mapper, folder: Folder) -> Iterator[tuple[int, Rows | None]]:
    """Yield (line, rows) per tender announcement, joined with results, participants, etc."""
    values = Joined(folder, "tender_values")
    done = Joined(folder, "tender_done")
    participants = Joined(folder, "participants")
    schedule = Joined(folder, "schedule")
    contracts = Joined(folder, "tender_contracts")
    sppbj = Joined(folder, "tender_sppbj")
    for record in folder.records("tender"):
        code = mapper.key(record, "kd_tender")
        if code is None:
            yield record.line, None
            continue
        check = mapper.check(record)
        data = record.data
        lpse = check.text(data, "kd_lpse", "kd_lpse")
        ocid = f"ocds-idspse-{lpse}-t{code}"
        if mapper.incomplete(folder, TENDER_JOINS, record, code, lpse, ocid):
            yield record.line, None
            continue
        rows: Rows = {name: [] for name in TABLES}
        method = check.text(data, "mtd_pemilihan", "mtd_pemilihan")
        process = _process_row(check, data, method_details=method, tender_id=code)
        announced = check.date(data, "tgl_pengumuman_tender", "tgl_pengumuman_tender")
        clean = mapper.flush(record, check, ocid)

        stages: dict[str, tuple[str | None, str | None]] = {}
        for stage in schedule.get(code, lpse):
            c = mapper.check(stage)
            name = c.text(stage.data, "nama_tahapan", "nama_tahapan")
            span = (
                c.date(stage.data, "tgl_awal", "tgl_awal"),
                c.date(stage.data, "tgl_akhir", "tgl_akhir"),
            )
            clean &= mapper.flush(stage, c, ocid)
            if name:
                stages[name] = span
        submission_end = stages.get(STAGE_SUBMISSION, (None, None))[1]
        award_end = stages.get(STAGE_AWARD, (None, None))[1]
        process.update(
            announced_at=announced,
            tender_start=announced,
            tender_end=submission_end,
            award_start=submission_end,
            award_end=award_end,
        )

        bidders: set[str] = set()
        winner_id = None
        for i, row in enumerate(participants.get(code, lpse)):
            c = mapper.check(row)
            supplier = c.text(row.data, "kd_penyedia", "kd_penyedia")
            offer = c.number(row.data, "nilai_penawaran", "nilai_penawaran")
            winner = row.data.get("pemenang") == 1
            clean &= mapper.flush(row, c, ocid)
            tenderer = f"ID-SIKAP-{supplier}" if supplier else None
            submitted = offer is not None
            if submitted and tenderer:
                bidders.add(tenderer)
            if winner:
                winner_id = tenderer
            rows["bid"].append(
                {
                    "position": i + 1,
                    "bid_id": str(row.data.get("kd_peserta") or "") or None,
                    "status": ("valid" if winner else "pending") if submitted else "registered",
                    "submitted": submitted,
                    "date": None,
                    "amount": offer,
                    "currency": "IDR" if submitted else None,
                    "amount_corrected": c.number(row.data, "nilai_terkoreksi", "nilai_terkoreksi"),
                    "amount_negotiated": None,
                    "tenderer_ids": [tenderer] if tenderer else [],
                    "winner": winner,
                }
            )
            _org(rows, tenderer, c.text(row.data, "nama_penyedia", "nama_penyedia"), "tenderer")
        process["n_registrants"] = len(rows["bid"]) or None
        process["n_bidders"] = len(bidders) if rows["bid"] else None
        process["number_of_tenderers"] = process["n_bidders"]

        for result in values.get(code, lpse)[:1]:
            c = mapper.check(result)
            supplier = c.text(result.data, "kd_penyedia", "kd_penyedia")
            supplier_id = f"ID-SIKAP-{supplier}" if supplier else winner_id
            negotiated = c.number(result.data, "nilai_negosiasi", "nilai_negosiasi")
            for bid in rows["bid"]:
                if bid["winner"]:
                    bid["amount_negotiated"] = negotiated
            award_date = c.date(result.data, "tgl_penetapan_pemenang", "tgl_penetapan_pemenang")
            rows["award"].append(
                {
                    "position": 1,
                    "award_id": f"{code}-award",
                    "status": "active",
                    "date": award_date,
                    # The latest value known: contract, negotiated, corrected, offered.
                    "amount": _first(
                        c.number(result.data, "nilai_kontrak", "nilai_kontrak"),
                        negotiated,
                        c.number(result.data, "nilai_terkoreksi", "nilai_terkoreksi"),
                        c.number(result.data, "nilai_penawaran", "nilai_penawaran"),
                    ),
                    "currency": "IDR",
                    "supplier_ids": [supplier_id] if supplier_id else [],
                }
            )
            _org(
                rows, supplier_id, c.text(result.data, "nama_penyedia", "nama_penyedia"), "supplier"
            )
            clean &= mapper.flush(result, c, ocid)
        if not values.get(code, lpse):
            for result in done.get(code, lpse)[:1]:
                c = mapper.check(result)
                award_date = c.date(result.data, "tgl_penetapan_pemenang", "tgl_penetapan_pemenang")
                clean &= mapper.flush(result, c, ocid)
                if winner_id:
                    rows["award"].append(
                        {
                            "position": 1,
                            "award_id": f"{code}-award",
                            "status": "active",
                            "date": award_date,
                            "amount": None,
                            "currency": None,
                            "supplier_ids": [winner_id],
                        }
                    )
        for i, contract in enumerate(contracts.get(code, lpse)):
            c = mapper.check(contract)
            rows["contract"].append(
                {
                    "position": i + 1,
                    "contract_id": c.text(contract.data, "no_kontrak", "no_kontrak"),
                    "award_id": f"{code}-award",
                    "status": c.text(contract.data, "status_kontrak", "status_kontrak"),
                    "date_signed": c.date(contract.data, "tgl_kontrak", "tgl_kontrak"),
                    "amount": c.number(contract.data, "nilai_kontrak", "nilai_kontrak"),
                    "currency": "IDR",
                }
            )
            clean &= mapper.flush(contract, c, ocid)
        if not contracts.get(code, lpse):
            for letter in sppbj.get(code, lpse)[:1]:
                # An award letter (SPPBJ) without a contract yet: the agreed price, unsigned.
                c = mapper.check(letter)
                rows["contract"].append(
                    {
                        "position": 1,
                        "contract_id": c.text(letter.data, "no_sppbj", "no_sppbj"),
                        "award_id": f"{code}-award",
                        "status": "pending",
                        "date_signed": None,
                        "amount": c.number(letter.data, "harga_final", "harga_final"),
                        "currency": "IDR",
                    }
                )
                clean &= mapper.flush(letter, c, ocid)
        _finish(rows, ocid, process, record)
        yield record.line, rows if clean else None


def map_nontenders(mapper: Mapper, folder: Folder) -> Iterator[tuple[int, Rows | None]]:
    """Yield (line, rows) per non-tender announcement (Pengadaan / Penunjukan Langsung)."""
    done = Joined(folder, "nontender_done")
    contracts = Joined(folder, "nontender_contracts")
    for record in folder.records("nontender"):
        code = mapper.key(record, "kd_nontender")
        if code is None:
            yield record.line, None
            continue
        check = mapper.check(record)
        data = record.data
        lpse = check.text(data, "kd_lpse", "kd_lpse")
        ocid = f"ocds-idspse-{lpse}-n{code}"
        if mapper.incomplete(folder, NONTENDER_JOINS, record, code, lpse, ocid):
            yield record.line, None
            continue
        rows: Rows = {name: [] for name in TABLES}
        method = check.text(data, "mtd_pemilihan", "mtd_pemilihan")
        process = _process_row(check, data, method_details=method, tender_id=code)
        announced = check.date(data, "tgl_pengumuman_nontender", "tgl_pengumuman_nontender")
        process.update(announced_at=announced, tender_start=announced)
        clean = mapper.flush(record, check, ocid)
        for result in done.get(code, lpse)[:1]:
            c = mapper.check(result)
            end = c.date(result.data, "tgl_selesai_nontender", "tgl_selesai_nontender")
            supplier = c.text(result.data, "kd_penyedia", "kd_penyedia")
            supplier_id = f"ID-SIKAP-{supplier}" if supplier else None
            name = c.text(result.data, "nama_penyedia", "nama_penyedia")
            corrected = c.number(result.data, "nilai_terkoreksi", "nilai_terkoreksi")
            negotiated = c.number(result.data, "nilai_negosiasi", "nilai_negosiasi")
            # Some results give only the corrected offer; a winner did make an offer.
            offer = c.number(result.data, "nilai_penawaran", "nilai_penawaran")
            offer = corrected if offer is None else offer
            process["tender_end"] = end
            if offer is not None and supplier_id:
                rows["bid"].append(
                    {
                        "position": 1,
                        "bid_id": f"{code}-bid",
                        "status": "valid",
                        "submitted": True,
                        "date": None,
                        "amount": offer,
                        "currency": "IDR",
                        "amount_corrected": corrected,
                        "amount_negotiated": negotiated,
                        "tenderer_ids": [supplier_id],
                        "winner": True,
                    }
                )
                _org(rows, supplier_id, name, "tenderer")
            if supplier_id:
                rows["award"].append(
                    {
                        "position": 1,
                        "award_id": f"{code}-award",
                        "status": "active",
                        "date": end,
                        "amount": _first(
                            c.number(result.data, "nilai_kontrak", "nilai_kontrak"),
                            negotiated,
                            offer,
                        ),
                        "currency": "IDR",
                        "supplier_ids": [supplier_id],
                    }
                )
                _org(rows, supplier_id, name, "supplier")
            clean &= mapper.flush(result, c, ocid)
        process["n_bidders"] = len(rows["bid"]) or None
        process["number_of_tenderers"] = process["n_bidders"]
        for i, contract in enumerate(contracts.get(code, lpse)):
            c = mapper.check(contract)
            rows["contract"].append(
                {
                    "position": i + 1,
                    "contract_id": c.text(contract.data, "no_kontrak", "no_kontrak"),
                    "award_id": f"{code}-award",
                    "status": c.text(contract.data, "status_kontrak", "status_kontrak"),
                    "date_signed": c.date(contract.data, "tgl_kontrak", "tgl_kontrak"),
                    "amount": c.number(contract.data, "nilai_kontrak", "nilai_kontrak"),
                    "currency": "IDR",
                }
            )
            clean &= mapper.flush(contract, c, ocid)
        _finish(rows, ocid, process, record)
        yield record.line, rows if clean else None


def map_epurchasing(mapper: Mapper, folder: Folder) -> Iterator[tuple[int, Rows | None]]:
    """Yield (line, rows) per e-Katalog (v6) order."""
    for record in folder.records("epurchasing"):
        code = mapper.key(record, "kd_paket")
        if code is None:
            yield record.line, None
            continue
        check = mapper.check(record)
        data = record.data
        ocid = f"ocds-idspse-ekatalog-{code}"
        rows: Rows = {name: [] for name in TABLES}
        satker = check.text(data, "kd_satker_str", "kd_satker_str")
        supplier = check.text(data, "kd_penyedia_sikap", "kd_penyedia_sikap")
        supplier_id = f"ID-SIKAP-{supplier}" if supplier else None
        ordered = check.date(data, "tgl_order", "tgl_order")
        process = {
            "source": "spse",
            "tender_id": code,
            "plan_id": check.text(data, "kd_rup", "kd_rup"),
            "title": check.text(data, "rup_nama_pkt", "rup_nama_pkt"),
            "status": "active",
            "buyer_id": f"ID-SATKER-{satker}" if satker else None,
            "buyer_name": check.text(data, "nama_satker", "nama_satker"),
            "method": "direct",
            "method_details": "E-Purchasing",
            "currency": "IDR",
            "announced_at": ordered,
            "fiscal_year": check.integer(data, "tahun_anggaran", "tahun_anggaran"),
        }
        rows["award"].append(
            {
                "position": 1,
                "award_id": f"{code}-award",
                "status": "active",
                "date": ordered,
                "amount": check.number(data, "total_harga", "total_harga"),
                "currency": "IDR",
                "supplier_ids": [supplier_id] if supplier_id else [],
            }
        )
        _org(rows, supplier_id, None, "supplier")
        clean = mapper.flush(record, check, ocid)
        _finish(rows, ocid, process, record)
        yield record.line, rows if clean else None


def _first(*values: float | None) -> float | None:
    """Return the first value that is not None."""
    return next((v for v in values if v is not None), None)


def _finish(rows: Rows, ocid: str, process: dict[str, Any], record: Record) -> None:
    process["ocid"] = ocid
    process["line"] = record.line
    if process.get("buyer_id"):
        _org(rows, process["buyer_id"], process.get("buyer_name"), "buyer")
    if process.get("procuring_entity_id"):
        _org(
            rows,
            process["procuring_entity_id"],
            process.get("procuring_entity_name"),
            "procuringEntity",
        )
    rows["process"].append(process)
    for name in PROCESS_TABLES:
        for row in rows[name]:
            row["ocid"] = ocid


def folder_sha256(files: list[Path]) -> str:
    """Return one SHA-256 for a set of files (names and contents)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()


def import_spse(
    store: Store,
    folder: str | Path,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a folder of SPSE ISB exports into ``store``.

    A process with a bad record (in any of its files) is reported and skipped; with ``strict``
    any bad record refuses the folder. Re-importing unchanged files changes nothing. Raises
    OSError if the folder cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(folder)
    # Progress in two parts: reading the files (by bytes), then joining and storing the
    # announcements (by count), which takes about twice as long.
    size = [0]

    def reading(done: int, total: int) -> None:
        size[0] = total
        if progress:
            progress(done, 3 * total)

    with tempfile.TemporaryDirectory(prefix="cegah-spse-") as scratch:
        data, files = read_folder(folder, reading, Path(scratch) / "folder.sqlite")
        try:
            return _import_records(
                store, folder, data, files, strict, progress, size[0] if progress else 0
            )
        finally:
            data.database.close()


def _import_records(
    store: Store,
    folder: Path,
    data: Folder,
    files: list[Path],
    strict: bool,
    progress: Progress | None,
    size: int,
) -> ImportReport:
    if not files:
        report = ImportReport(path=str(folder), sha256="", source="spse", status="nothing")
        report.add_issues([Issue(str(folder), 0, "", MSG_NO_EXPORTS)])
        return report
    sha256 = folder_sha256(files)
    mapper = Mapper([])
    announcements = data.count(MAIN_DATASETS)

    def records() -> Iterator[tuple[int, int, Rows | None, list[Issue]]]:
        # Issues not tied to a process come as line 0, a batch at a time: those of reading the
        # files, then, before each kind of announcement is joined, its joined records that
        # have no usable key.
        for batch in data.issue_batches():
            yield 0, 0, None, batch
        mapped_so_far = 0
        for mapped, joined in (
            (map_tenders, TENDER_JOINS),
            (map_nontenders, NONTENDER_JOINS),
            (map_epurchasing, ()),
        ):
            for dataset in joined:
                for record in data.unkeyed(dataset):
                    mapper.key(record, JOIN_KEYS[dataset])
                    if len(mapper.issues) >= BATCH:
                        issues, mapper.issues = mapper.issues, []
                        yield 0, 0, None, issues
            for line, rows in mapped(mapper, data):
                issues, mapper.issues = mapper.issues, []
                yield line, 0, rows, issues
                mapped_so_far += 1
                if progress and mapped_so_far % 1000 == 0:
                    share = 2 * size * mapped_so_far // max(announcements, 1)
                    progress(size + share, 3 * size)
        if mapper.issues:
            yield 0, 0, None, mapper.issues

    report = store._import(
        folder, "spse", records(), strict=strict, progress=None, batch_size=5000, sha256=sha256
    )
    if progress:
        progress(3 * size, 3 * size)
    return report


# What an SPSE ZIP may expand to on the command line (the web has its own setting, see
# ``services.SPSE_ZIP_LIMIT``): a zip bomb stops here.
SPSE_ZIP_LIMIT = 2 * 1024**3


class SpseZipError(ValueError):
    """Raised for a ZIP of SPSE exports that cannot be imported (the message is bilingual)."""


def extract_spse_zip(archive: Path, target: Path, limit: int) -> list[tuple[str, Path]]:
    """Extract the ISB export files of a ZIP into ``target``, refusing more than ``limit``
    bytes (zip bombs); return the folders to import: (the ZIP's directory, where its files are
    now), in the ZIP's order. Raises SpseZipError.

    A ZIP may hold several LPSE or years, a directory each, with the same file names: each
    directory is its own folder (its files are joined to each other only).
    """
    import shutil
    import zipfile
    from pathlib import PurePosixPath

    total = 0
    folders: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                member = PurePosixPath(info.filename)
                if info.is_dir() or dataset_of(Path(member.name)) is None:
                    continue
                total += info.file_size
                if total > limit:
                    raise SpseZipError(
                        f"ZIP berisi lebih dari {limit >> 20} MiB; pisahkan per LPSE dan"
                        f" tahun. / The ZIP holds more than {limit >> 20} MiB; split it"
                        " by LPSE and year."
                    )
                directory = str(member.parent)
                if directory not in folders:
                    folders[directory] = target / f"{len(folders):04d}"
                    folders[directory].mkdir()
                path = folders[directory] / member.name
                if path.exists():
                    raise SpseZipError(
                        f"ZIP memuat {info.filename} dua kali. / The ZIP holds {info.filename}"
                        " twice."
                    )
                with zf.open(info) as src, path.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as exc:
        raise SpseZipError("Berkas bukan ZIP yang sah. / The file is not a valid ZIP.") from exc
    # No export file at all: the import of the empty folder says which names it expects.
    return [("" if d == "." else d, f) for d, f in folders.items()] or [("", target)]
