"""The procurement store: OCDS and SPSE imports into one model, issues, idempotency."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cegah.procurement.engine import compute, compute_store, load_settings
from cegah.procurement.engine import store as store_module
from cegah.procurement.engine.cli import main
from cegah.procurement.engine.spse import Folder, import_spse
from cegah.procurement.engine.store import MSG_GZIP, MSG_JSON, Store

from .conftest import DATA, needs_data

BANDUNG = DATA / "spse_kab_bandung_2025"
SETTINGS = DATA / "synthetic"


def release(ocid: str, **extra: Any) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "buyer": {"id": "ID-SATKER-1", "name": "Dinas A"},
        "tender": {
            "title": "Paket " + ocid,
            "procurementMethod": "open",
            "procurementMethodDetails": "Tender",
            "value": {"amount": 100.0, "currency": "IDR"},
            "tenderPeriod": {
                "startDate": "2025-01-01T08:00:00+07:00",
                "endDate": "2025-01-08T08:00:00+07:00",
            },
        },
        "bids": {
            "statistics": [{"measure": "requests", "value": 12}],
            "details": [
                {"status": "valid", "tenderers": [{"id": "A"}], "value": {"amount": 95.0}},
                {"status": "pending", "tenderers": [{"id": "B"}], "value": {"amount": 97.0}},
                {"status": "withdrawn", "tenderers": [{"id": "C"}]},
            ],
        },
        "awards": [{"status": "active", "suppliers": [{"id": "A"}], "value": {"amount": 95}}],
        **extra,
    }


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    return path


def test_import_maps_registrants_bidders_and_money(tmp_path: Path) -> None:
    p1 = release("p1")
    p1["tender"]["tenderPeriod"]["endDate"] = "2025-01-08"
    data = write_lines(tmp_path / "a.jsonl", [p1])
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(data)
        assert (report.status, report.records, report.imported, report.issues) == (
            "imported",
            1,
            1,
            [],
        )
        row = store.con.execute(
            """SELECT title, hps, n_registrants, n_bidders,
                      strftime(tender_end AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M'), fiscal_year, line
            FROM process"""
        ).fetchall()[0]
        assert row[:4] == ("Paket p1", 100.0, 12, 2)
        # A date without a time zone is read as WIB.
        assert row[4] == "2025-01-07T17:00"
        assert row[5:] == (2025, 1)
        bids = store.con.execute("SELECT submitted FROM bid ORDER BY position").fetchall()
        assert [b[0] for b in bids] == [True, True, False]


def test_bad_records_are_reported_and_skipped(tmp_path: Path) -> None:
    bad_amount = release("p2")
    bad_amount["tender"]["value"]["amount"] = "seratus"
    bad_date = release("p3")
    bad_date["awards"][0]["date"] = "kemarin"
    data = write_lines(
        tmp_path / "a.jsonl",
        [release("p1"), bad_amount, "{not json", "[]", {"tender": {}}, bad_date, release("p1")],
    )
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(data)
        assert report.imported == 1
        where = [(i.line, i.field) for i in report.issues]
        assert where == [
            (2, "tender/value/amount"),
            (3, ""),
            (4, ""),
            (5, "ocid"),
            (6, "awards/0/date"),
            (7, "ocid"),
        ]
        assert "harus berupa angka / must be a number" in str(report.issues[0])
        assert str(report.issues[0]).startswith(f"{data}:2 tender/value/amount: ")
        assert "line 1" in report.issues[-1].message  # the duplicate names the first line
        assert store.count("process") == 1
        assert store.count("import_issue") == 6


def test_issues_beyond_the_listed_ones_are_counted_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file of junk lines (a wrong file) must not hold an issue per line in memory or in the
    # store: the first ones are listed, all are counted, and every bad line is refused.
    monkeypatch.setattr(store_module, "MAX_LISTED_ISSUES", 3)
    lines: list[Any] = [release("p1"), *(f"junk {n}" for n in range(7)), release("p2")]
    data = write_lines(tmp_path / "a.jsonl", lines)
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(data)
        assert [i.line for i in report.issues] == [2, 3, 4]
        assert (report.issue_count, len(report.issues)) == (7, 3)
        assert (report.records, report.imported, report.refused) == (9, 2, 7)
        assert store.count("import_issue") == 3
        row = store.con.execute("SELECT refused, issues FROM import_file").fetchone()
        assert row == (7, 7)
    monkeypatch.setenv("CEGAH_PROCUREMENT_STORE", str(tmp_path / "cli.duckdb"))
    assert main(["import", str(data), "--max-issues", "2"]) == 0
    err = capsys.readouterr().err
    assert "2 of 9 processes imported, 7 refused; 7 issues" in err
    assert "... 5 lagi / more" in err


def test_strict_refuses_the_whole_file(tmp_path: Path) -> None:
    data = write_lines(tmp_path / "a.jsonl", [release("p1"), "oops"])
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(data, strict=True)
        assert report.status == "refused"
        assert report.imported == 0
        assert store.count("process") == 0
        assert store.count("import_file") == 0
        # The same file, not strict: imported, and then unchanged.
        assert store.import_ocds(data).status == "imported"
        assert store.import_ocds(data).status == "unchanged"


def test_reimport_is_idempotent_and_a_new_file_replaces_processes(tmp_path: Path) -> None:
    first = write_lines(tmp_path / "a.jsonl", [release("p1"), release("p2")])
    changed = release("p2")
    changed["tender"]["title"] = "Judul baru"
    second = write_lines(tmp_path / "b.jsonl", [changed])
    seen: list[tuple[int, int]] = []
    with Store(tmp_path / "s.duckdb") as store:
        store.import_ocds(first, progress=lambda done, total: seen.append((done, total)))
        before = {t: store.count(t) for t in ("process", "bid", "award", "organisation")}
        assert store.import_ocds(first).status == "unchanged"
        assert {t: store.count(t) for t in before} == before
        store.import_ocds(second)
        assert {t: store.count(t) for t in before} == before
        titles = store.con.execute("SELECT ocid, title FROM process ORDER BY ocid").fetchall()
        assert titles == [("p1", "Paket p1"), ("p2", "Judul baru")]
    assert seen[-1][0] == seen[-1][1] == first.stat().st_size


def test_record_package_json(tmp_path: Path) -> None:
    package = tmp_path / "package.json"
    package.write_text(json.dumps({"records": [{"compiledRelease": release("p9")}]}))
    with Store(tmp_path / "s.duckdb") as store:
        assert store.import_ocds(package).imported == 1


def gzip_file(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


MODEL = """SELECT p.ocid, p.buyer_id, p.n_registrants, p.n_bidders, p.hps, p.line,
    (SELECT list(amount ORDER BY amount) FROM bid WHERE bid.ocid = p.ocid)
    FROM process AS p ORDER BY p.ocid"""


def test_gzip_files_import_like_plain_ones(tmp_path: Path) -> None:
    """OCDS files are often published gzip-compressed; they are told by their first bytes."""
    plain = write_lines(tmp_path / "a.jsonl", [release("p1"), "oops", release("p2")])
    package = tmp_path / "b.json"
    package.write_text(json.dumps({"releases": [release("p3")]}))
    models = {}
    for name, files in {
        "plain": [plain, package],
        "gzip": [
            gzip_file(plain, tmp_path / "a.jsonl.gz"),
            gzip_file(package, tmp_path / "b.json.gz"),
        ],
    }.items():
        with Store(tmp_path / f"{name}.duckdb") as store:
            reports = [store.import_ocds(f) for f in files]
            assert [(r.imported, [(i.line, i.message) for i in r.issues]) for r in reports] == [
                (2, [(2, MSG_JSON)]),
                (1, []),
            ]
            assert store.import_ocds(files[0]).status == "unchanged"
            models[name] = store.con.execute(MODEL).fetchall()
    assert models["gzip"] == models["plain"]
    assert len(models["plain"]) == 3


def test_a_file_of_which_nothing_imports_fails_and_is_not_remembered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", ["oops", {"ocid": 5}])
    store = tmp_path / "s.duckdb"
    argv = ["import", str(bad), "--store", str(store), "--no-progress"]
    for _ in range(2):  # not "unchanged" the second time: the file was not recorded
        assert main(argv) == 1
        assert "tidak ada rekaman yang dapat diimpor / no record could be imported" in (
            capsys.readouterr().err
        )
    with Store(store) as s:
        assert s.count("process") == 0
        assert s.con.execute("SELECT count(*) FROM import_file").fetchone() == (0,)
    empty = write_lines(tmp_path / "empty.jsonl", [])
    assert main(["import", str(empty), "--store", str(store), "--no-progress"]) == 0
    # A folder without any ISB export (or with the files renamed) says so.
    folder = tmp_path / "exports"
    folder.mkdir()
    write_lines(folder / "tender.jsonl", [{"kd_tender": 1}])
    assert main(["import", str(folder), "--store", str(store), "--no-progress"]) == 1
    assert "no known ISB export file in this folder" in capsys.readouterr().err


def test_a_utf8_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """Windows tools start UTF-8 files with a byte order mark (DuckDB refuses it; json.loads of
    bytes reads past it, which this keeps true)."""
    lines = tmp_path / "a.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + (json.dumps(release("p1")) + "\n").encode())
    package = tmp_path / "b.json"
    package.write_bytes(b"\xef\xbb\xbf" + json.dumps({"releases": [release("p2")]}).encode())
    with Store(tmp_path / "s.duckdb") as store:
        for path in (lines, package):
            report = store.import_ocds(path)
            assert (report.imported, report.issues) == (1, [])


def test_rows_reach_duckdb_in_several_files_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_lines(tmp_path / "a.jsonl", [release(f"p{i}") for i in range(7)] + ["oops"] * 3)
    models = {}
    for rows_per_file in (10_000, 2):
        monkeypatch.setattr(store_module, "_ROWS_PER_FILE", rows_per_file)
        with Store(tmp_path / f"{rows_per_file}.duckdb") as store:
            assert store.import_ocds(data).imported == 7
            issues = store.con.execute("SELECT list(line ORDER BY line) FROM import_issue")
            lines = issues.fetchall()
            models[rows_per_file] = (store.con.execute(MODEL).fetchall(), lines)
    assert models[2] == models[10_000]
    assert len(models[2][0]) == 7 and models[2][1] == [([8, 9, 10],)]


def test_truncated_gzip_is_reported_where_it_breaks(tmp_path: Path) -> None:
    plain = write_lines(tmp_path / "a.jsonl", [release(f"p{i}") for i in range(200)])
    whole = gzip.compress(plain.read_bytes())
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(broken)
        assert [i.message for i in report.issues] == [MSG_GZIP]
        line = report.issues[0].line
        assert 1 < line < 200
        assert report.imported == store.count("process") == line - 1
    with Store(tmp_path / "strict.duckdb") as store:
        assert store.import_ocds(broken, strict=True).status == "refused"
        assert store.count("process") == 0


def test_overlong_lines_and_packages_are_reported_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small gzip file can expand to gigabytes: a line or a package beyond the limits is
    reported and skipped, and the lines after it are read."""
    monkeypatch.setattr(store_module, "MAX_LINE", 2000)
    monkeypatch.setattr(store_module, "MAX_PACKAGE", 2000)
    long = release("p2", description="x" * 5000)
    lines = gzip_file(
        write_lines(tmp_path / "a.jsonl", [release("p1"), long, release("p3")]),
        tmp_path / "a.jsonl.gz",
    )
    package = tmp_path / "b.json"
    package.write_text(json.dumps({"releases": [long]}))
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(lines)
        assert [(i.line, i.message) for i in report.issues] == [
            (2, "baris lebih dari 0 MiB / line longer than 0 MiB")
        ]
        assert (report.records, report.imported) == (3, 2)
        assert store.con.execute("SELECT list(line ORDER BY line) FROM process").fetchone() == (
            [1, 3],
        )
        report = store.import_ocds(package)
        assert report.imported == 0
        assert report.issues[0].message.startswith("paket JSON lebih dari")


def test_line_limit_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MAX_LINE", 20)
    exact, over = json.dumps({"a": "x" * 11}), json.dumps({"a": "x" * 12})
    assert (len(exact), len(over)) == (20, 21)
    path = tmp_path / "a.jsonl"
    path.write_text(f"{exact}\n{over}\n{{}}\n{over}")  # the last line has no newline
    read = [(line, error is None) for line, _, error, _ in store_module.iter_json_lines(path)]
    assert read == [(1, True), (2, False), (3, True), (4, False)]


@needs_data(BANDUNG)
def test_gzipped_spse_exports_import_like_plain_ones(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    for path in (BANDUNG / "raw").glob("*.jsonl"):
        gzip_file(path, folder / (path.name + ".gz"))
    both = tmp_path / "both"  # as `gunzip -k` leaves a folder: each file twice
    shutil.copytree(folder, both)
    for path in (BANDUNG / "raw").glob("*.jsonl"):
        shutil.copy(path, both / path.name)
    models = {}
    for name, source in (("plain", BANDUNG / "raw"), ("gzip", folder), ("both", both)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            report = import_spse(store, source)
            assert report.imported == 3084
            skipped = [(Path(i.path).name, i.line) for i in report.issues]
            if name == "both":
                assert sorted(skipped) == sorted((p.name, 0) for p in folder.iterdir())
                assert report.refused == 0
            else:
                assert skipped == []
            models[name] = store.con.execute(MODEL.replace(", p.line", "")).fetchall()
    assert models["gzip"] == models["plain"] == models["both"]


@needs_data(BANDUNG)
def test_bandung_raw_and_ocds_give_the_same_model_and_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "ocds.duckdb") as store:
        report = store.import_ocds(BANDUNG / "ocds_compiled_releases.jsonl")
        assert (report.imported, report.issues) == (3084, [])
    seen: list[tuple[int, int]] = []
    joining: list[int] = []  # how many progress reports there were at the first join lookup
    lookup = Folder.lookup

    def first_lookup(self: Folder, dataset: str, code: str, lpse: str | None) -> list:
        joining.append(len(seen))
        return lookup(self, dataset, code, lpse)

    monkeypatch.setattr(Folder, "lookup", first_lookup)
    with Store(tmp_path / "raw.duckdb") as store:
        report = import_spse(store, BANDUNG / "raw", progress=lambda *p: seen.append(p))
        assert (report.imported, report.issues) == (3084, [])
        assert import_spse(store, BANDUNG / "raw").status == "unchanged"
    # Progress goes on while the announcements are joined, not only while the files are read.
    shares = [done / total for done, total in seen]
    assert shares == sorted(shares) and shares[-1] == 1
    assert shares[joining[0] - 1] < 0.5 and len(set(shares[joining[0] :])) >= 3

    summary = """SELECT method_details, count(*), sum(n_registrants), sum(n_bidders),
        round(sum(pagu)), round(sum(hps)) FROM process GROUP BY ALL ORDER BY ALL"""
    with Store(tmp_path / "ocds.duckdb") as a, Store(tmp_path / "raw.duckdb") as b:
        assert a.con.execute(summary).fetchall() == b.con.execute(summary).fetchall()

    for ini in ("cardinal_settings_default.ini", "cardinal_settings_id.ini"):
        settings = load_settings(SETTINGS / ini)
        with compute(BANDUNG / "ocds_compiled_releases.jsonl", settings) as result:
            expected = result.to_dict()
        for store_file in ("ocds.duckdb", "raw.duckdb"):
            with compute_store(tmp_path / store_file, settings) as result:
                assert result.to_dict() == expected, (ini, store_file)


@needs_data(BANDUNG)
def test_two_lpse_in_one_folder_keep_their_packages_apart(tmp_path: Path) -> None:
    # Package codes are numbered by each LPSE: the same kd_tender in two LPSE's exports is two
    # packages, each with its own participants, schedule and contracts.
    single = tmp_path / "single"
    both = tmp_path / "both"
    single.mkdir()
    both.mkdir()
    for source in sorted((BANDUNG / "raw").glob("*_SPSE-*.jsonl")):
        text = source.read_text()
        (single / source.name).write_text(text)
        other = [json.loads(line) | {"kd_lpse": 9999} for line in text.splitlines()]
        (both / source.name).write_text(text + "\n".join(json.dumps(r) for r in other) + "\n")
    counts = """SELECT split_part(ocid, '-', 3) AS lpse, count(*), sum(n_registrants),
        sum(n_bidders) FROM process GROUP BY 1 ORDER BY 1"""
    with Store(tmp_path / "single.duckdb") as store:
        assert import_spse(store, single).issues == []
        [(_lpse, *expected)] = store.con.execute(counts).fetchall()
    with Store(tmp_path / "both.duckdb") as store:
        report = import_spse(store, both)
        assert report.issues == [] and report.imported == 2 * expected[0]
        rows = store.con.execute(counts).fetchall()
    assert [tuple(row[1:]) for row in rows] == [tuple(expected), tuple(expected)]


@needs_data(BANDUNG)
def test_raw_bad_record_names_file_line_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    shutil.copytree(BANDUNG / "raw", folder)
    target = folder / "49_1015_SPSE-TenderSelesaiNilai.jsonl"
    lines = target.read_text().splitlines()
    row = json.loads(lines[4])
    row["nilai_kontrak"] = "satu miliar"
    lines[4] = json.dumps(row)
    target.write_text("\n".join(lines) + "\n")
    with Store(tmp_path / "s.duckdb") as store:
        report = import_spse(store, folder)
        assert [(Path(i.path).name, i.line, i.field) for i in report.issues] == [
            (target.name, 5, "nilai_kontrak")
        ]
        assert report.imported == 3083
        assert import_spse(store, folder, strict=False).status == "unchanged"
    with Store(tmp_path / "strict.duckdb") as store:
        assert import_spse(store, folder, strict=True).status == "refused"
        assert store.count("process") == 0


def test_spse_issues_pass_through_in_order_a_batch_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file of junk has one issue per line: they reach the report in batches, none held whole.
    from cegah.procurement.engine import spse

    monkeypatch.setattr(spse, "BATCH", 2)
    folder = tmp_path / "raw"
    folder.mkdir()
    junk = ["oops", "[1]", "{nope", "", "7", "x"]
    keyless = ['{"kd_peserta": 1}', '{"kd_tender": null}', '{"kd_tender": [1]}']
    (folder / "42_1070_SPSE-PesertaTender.jsonl").write_text("\n".join(junk + keyless) + "\n")
    with Store(tmp_path / "s.duckdb") as store:
        report = import_spse(store, folder)
    assert [(i.line, i.field) for i in report.issues] == [
        (1, ""),
        (2, ""),
        (3, ""),
        (5, ""),
        (6, ""),
        (7, "kd_tender"),
        (8, "kd_tender"),
        (9, "kd_tender"),
    ]
    assert report.issue_count == 8 and report.records == report.imported == report.refused == 0


def test_cli_import_and_indicators_from_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], run_indicators: Callable[..., Any]
) -> None:
    data = write_lines(tmp_path / "a.jsonl", [release("p1"), "oops"])
    store = tmp_path / "s.duckdb"
    argv = ["import", str(data), "--store", str(store), "--json", "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report[0]["imported"] == 1
    assert report[0]["issues"][0]["line"] == 2
    assert "1 of 2 processes imported, 1 refused; 1 issues" in captured.err
    assert main([*argv, "--strict"]) == 0  # already imported: unchanged, not refused
    assert json.loads(capsys.readouterr().out)[0]["status"] == "unchanged"
    assert main(["indicators", "--store", str(store), "--no-meta"]) == 0
    from_store = json.loads(capsys.readouterr().out)
    assert from_store == run_indicators(tmp_path / "a.jsonl")
    assert main(["indicators", str(data), "--store", str(store)]) == 2


def test_cli_import_writes_the_web_store_wherever_it_is_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --store, `cegah procurement import` writes VAR_DIR's store, not ./var's."""
    from cegah.cli import main as cegah_main

    data = write_lines(tmp_path / "a.jsonl", [release("p1")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("CEGAH_VAR_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CEGAH_PROCUREMENT_STORE", raising=False)
    assert cegah_main(["procurement", "import", str(data), "--no-progress"]) == 0
    with Store(tmp_path / "state" / "procurement.duckdb") as store:
        assert store.count("process") == 1
    assert not (elsewhere / "var").exists()

    monkeypatch.setenv("CEGAH_PROCUREMENT_STORE", str(tmp_path / "named.duckdb"))
    assert cegah_main(["procurement", "import", str(data), "--no-progress"]) == 0
    with Store(tmp_path / "named.duckdb") as store:
        assert store.count("process") == 1
    capsys.readouterr()


@needs_data(BANDUNG)
def test_bandung_indonesian_flags_agree_between_routes(tmp_path: Path) -> None:
    with Store(tmp_path / "ocds.duckdb") as store:
        store.import_ocds(BANDUNG / "ocds_compiled_releases.jsonl")
    with Store(tmp_path / "raw.duckdb") as store:
        import_spse(store, BANDUNG / "raw")
    settings = load_settings(SETTINGS / "cardinal_settings_id.ini")
    flags = {}
    for name in ("ocds", "raw"):
        with compute_store(tmp_path / f"{name}.duckdb", settings, indonesian=True) as result:
            flags[name] = {(g, i, c) for g, i, c, _ in result.flags()}
    # The OCDS mapping gives e-Katalog orders no tender date, so only the raw route can place
    # them in the fourth quarter (ID06). Values differ where the raw exports say more
    # (negotiated offers); the flags do not.
    extra = flags["raw"] - flags["ocds"]
    assert {c for _, _, c in extra} == {"ID06"}
    assert all("ekatalog" in i for _, i, _ in extra)
    # And only the raw exports give the fiscal year (tahun_anggaran): the OCDS mapping dates
    # next year's packages announced in December 2024 in 2024, so they look like a rush.
    missing = flags["ocds"] - flags["raw"]
    assert {c for _, _, c in missing} == {"ID06"} and len(missing) == 13
    with Store(tmp_path / "raw.duckdb") as store:
        early = store.con.execute(
            """SELECT list(ocid) FROM process WHERE fiscal_year = 2025
            AND year(announced_at AT TIME ZONE 'Asia/Jakarta') = 2024"""
        ).fetchone()
    assert early is not None and {i for _, i, _ in missing} <= set(early[0])
    assert len({c for _, _, c in flags["raw"]}) >= 12


@needs_data(BANDUNG)
def test_spse_supplier_names_survive_exports_that_carry_only_the_code(tmp_path: Path) -> None:
    # The e-Katalog export names its supplier by SIKaP code only (kd_penyedia_sikap): a supplier
    # met there too kept no name, and the tender page showed "ID-SIKAP-5213014" as the winner.
    with Store(tmp_path / "s.duckdb") as store:
        import_spse(store, BANDUNG / "raw")
        named = store.con.execute(
            "SELECT name FROM organisation WHERE id = 'ID-SIKAP-5213014'"
        ).fetchall()
        # Suppliers without a name are those only e-Katalog orders mention.
        nameless = store.con.execute(
            """SELECT count(*), count(*) FILTER (WHERE id IN (
                   SELECT unnest(supplier_ids) FROM award WHERE ocid NOT LIKE '%ekatalog%'))
            FROM organisation WHERE name IS NULL"""
        ).fetchone()
    assert named == [("CV. KURNIAWAN PUTRA",)]
    assert nameless == (127, 0)


def test_a_later_nameless_mention_keeps_the_name_and_a_later_name_wins(tmp_path: Path) -> None:
    named = release("p1")
    named["parties"] = [{"id": "A", "name": "CV Lama", "roles": ["supplier"]}]
    nameless = release("p2")
    nameless["parties"] = [{"id": "A", "roles": ["supplier"]}]
    renamed = release("p3")
    renamed["parties"] = [{"id": "A", "name": "CV Baru", "roles": ["supplier"]}]
    with Store(tmp_path / "s.duckdb") as store:
        store.import_ocds(write_lines(tmp_path / "a.jsonl", [named, nameless]))
        first = store.con.execute("SELECT name FROM organisation WHERE id = 'A'").fetchall()
        store.import_ocds(write_lines(tmp_path / "b.jsonl", [nameless]))
        second = store.con.execute("SELECT name FROM organisation WHERE id = 'A'").fetchall()
        store.import_ocds(write_lines(tmp_path / "c.jsonl", [nameless, renamed, nameless]))
        third = store.con.execute("SELECT name FROM organisation WHERE id = 'A'").fetchall()
    assert (first, second, third) == ([("CV Lama",)], [("CV Lama",)], [("CV Baru",)])


def _bandung_copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(BANDUNG / "raw", folder)
    return folder


def _replace_line(path: Path, number: int, text: str) -> str:
    lines = path.read_text().splitlines()
    old = lines[number - 1]
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return old


PARTICIPANTS = "42_1070_SPSE-PesertaTender.jsonl"
REGISTRANTS = "SELECT n_registrants FROM process WHERE ocid = 'ocds-idspse-93-t10040319000'"


@needs_data(BANDUNG)
def test_a_corrupt_participant_line_keeps_the_complete_tender_and_says_which(
    tmp_path: Path,
) -> None:
    # Line 8 of the participants is one of tender 10040319000's 46 registrants. Unreadable, it
    # cannot be told whose it is: no tender of the folder is known to be complete, so none
    # replaces the version imported before, and each is named.
    folder = _bandung_copy(tmp_path, "raw")
    _replace_line(folder / PARTICIPANTS, 8, "{broken")
    with Store(tmp_path / "s.duckdb") as store:
        import_spse(store, BANDUNG / "raw")
        assert store.con.execute(REGISTRANTS).fetchone() == (46,)
        report = import_spse(store, folder)
        assert store.con.execute(REGISTRANTS).fetchone() == (46,)
    tenders = 92
    assert (report.records, report.imported, report.refused) == (3084, 3084 - tenders, tenders)
    assert report.issue_count == 1 + tenders
    [unreadable] = [i for i in report.issues if Path(i.path).name == PARTICIPANTS]
    assert (unreadable.line, unreadable.message) == (8, MSG_JSON)
    incomplete = {i.ocid: i.message for i in report.issues if i.ocid}
    assert len(incomplete) == tenders
    assert (
        f"line 8 of {PARTICIPANTS} could not be used" in (incomplete["ocds-idspse-93-t10040319000"])
    )
    # Non-tenders and e-Katalog orders draw on no participant file: imported.
    assert not [o for o in incomplete if "-t" not in o]


@needs_data(BANDUNG)
def test_a_participant_line_cut_short_refuses_only_its_own_tender(tmp_path: Path) -> None:
    folder = _bandung_copy(tmp_path, "raw")
    whole = _replace_line(folder / PARTICIPANTS, 8, "")
    _replace_line(folder / PARTICIPANTS, 8, whole[: whole.index('"kd_pkt_dce"') + 8])
    with Store(tmp_path / "s.duckdb") as store:
        import_spse(store, BANDUNG / "raw")
        report = import_spse(store, folder)
        assert store.con.execute(REGISTRANTS).fetchone() == (46,)
    assert (report.imported, report.refused) == (3083, 1)
    assert [i.ocid for i in report.issues if i.ocid] == ["ocds-idspse-93-t10040319000"]
    # A number cut short names no package: "kd_tender":1004 is not tender 10040319000's.
    cut = whole[: whole.index('"kd_tender"') + len('"kd_tender":1004')]
    _replace_line(folder / PARTICIPANTS, 8, cut)
    with Store(tmp_path / "t.duckdb") as store:
        assert import_spse(store, folder).refused == 92


REAL = DATA / "real_examples"


@needs_data(REAL)
def test_ocds_organisations_known_only_by_identifier_keep_apart_and_named(tmp_path: Path) -> None:
    # Ukraine's OCDS 1.0 releases give buyers, bidders and suppliers an identifier, no id: the
    # ten buyers were one buyer with no id, and every bidder "—".
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(REAL / "ukraine.jsonl")
        buyers = store.con.execute(
            "SELECT count(DISTINCT buyer_id), count(*) FILTER (WHERE buyer_id IS NULL) FROM process"
        ).fetchone()
        first = store.con.execute(
            "SELECT buyer_id, buyer_name FROM process WHERE ocid LIKE '%2016-06-02-000468-c'"
        ).fetchone()
        unnamed = store.con.execute(
            """SELECT count(*) FROM (
                   SELECT unnest(tenderer_ids) AS id FROM bid
                   UNION ALL SELECT unnest(supplier_ids) FROM award
               ) LEFT JOIN organisation USING (id) WHERE name IS NULL"""
        ).fetchone()
    assert (report.imported, report.issue_count) == (11, 0)
    assert buyers == (11, 0)
    assert first is not None and first[0] == "UA-EDR-20201870" and first[1].startswith("КЗО")
    assert unnamed == (0,)


def test_a_buyer_party_stands_in_for_the_buyer_and_none_is_a_notice(tmp_path: Path) -> None:
    by_party = release("p1")
    del by_party["buyer"]
    by_party["parties"] = [
        {"id": "SUP-1", "name": "CV A", "roles": ["supplier"]},
        {"id": "GB-GOR-1", "name": "Dinas B", "roles": ["buyer", "procuringEntity"]},
    ]
    nobody = release("p2")
    del nobody["buyer"]
    data = write_lines(tmp_path / "a.jsonl", [by_party, nobody])
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(data, strict=True)  # a notice refuses nothing
        rows = store.con.execute("SELECT ocid, buyer_id, buyer_name FROM process ORDER BY ocid")
        assert rows.fetchall() == [("p1", "GB-GOR-1", "Dinas B"), ("p2", None, None)]
    assert (report.status, report.imported, report.refused) == ("imported", 2, 0)
    [notice] = report.issues
    assert (notice.line, notice.field, notice.ocid, notice.notice) == (2, "buyer/id", "p2", True)
    assert "no buyer id" in notice.message


@needs_data(REAL)
def test_empty_strings_for_numbers_are_missing_values_with_a_notice(tmp_path: Path) -> None:
    # Moldova's publisher writes "" for amounts (and some quantities) it does not know: the
    # whole file was refused, record by record.
    packed = gzip_file(REAL / "moldova.jsonl", tmp_path / "moldova.jsonl.gz")
    with Store(tmp_path / "s.duckdb") as store:
        report = store.import_ocds(packed, strict=True)
        hps = store.con.execute("SELECT count(*), count(hps) FROM process").fetchone()
    assert (report.status, report.records, report.imported, report.refused) == (
        "imported",
        51,
        51,
        0,
    )
    assert report.issue_count == report.notice_count == 69
    fields = {i.field.rsplit("/", 1)[-1] for i in report.issues}
    assert fields == {"amount", "quantity"}
    assert {i.message for i in report.issues} == {
        "kosong, dibaca sebagai tidak ada / empty, read as missing"
    }
    assert hps == (51, 0)
    blank = release("p1")
    blank["tender"]["value"]["amount"] = "  "
    wrong = release("p2")
    wrong["tender"]["value"]["amount"] = "seratus"
    with Store(tmp_path / "t.duckdb") as store:
        report = store.import_ocds(write_lines(tmp_path / "a.jsonl", [blank, wrong]))
    assert (report.imported, [(i.line, i.notice) for i in report.issues]) == (
        1,
        [(1, True), (2, False)],
    )


@needs_data(BANDUNG)
def test_id06_is_the_rush_of_the_processs_own_fiscal_year(tmp_path: Path) -> None:
    # 16 packages of fiscal year 2025 were announced on 27-31 December 2024 (tendered early, for
    # work to start in January): not a rush to spend 2024's budget, nor 2025's.
    with Store(tmp_path / "s.duckdb") as store:
        import_spse(store, BANDUNG / "raw")
    early = """SELECT list(ocid) FROM process WHERE fiscal_year = 2025
        AND year(announced_at AT TIME ZONE 'Asia/Jakarta') = 2024"""
    with Store(tmp_path / "s.duckdb") as store:
        [(announced_early,)] = store.con.execute(early).fetchall()
    assert len(announced_early) == 16 and "ocds-idspse-93-n10035581000" in announced_early
    settings = load_settings(SETTINGS / "cardinal_settings_id.ini")
    with compute_store(tmp_path / "s.duckdb", settings, indonesian=True) as result:
        id06 = {i for g, i, c, _ in result.flags() if c == "ID06" and g == "OCID"}
    assert id06 and not id06 & set(announced_early)


@needs_data(BANDUNG)
def test_id11_compares_the_winner_with_offers_known_to_have_passed_evaluation(
    tmp_path: Path,
) -> None:
    # Tender 10029557000: CV. ARTHA JAYA offered less than the winner, but SPSE gives its offer
    # no corrected price (nor any outcome): it most likely failed evaluation. Once its price was
    # corrected, it was evaluated: then the dearer winner is a sign.
    ocid = "ocds-idspse-93-t10029557000"
    settings = load_settings(SETTINGS / "cardinal_settings_id.ini")

    def id11(folder: Path, name: str) -> dict[str, float]:
        with Store(tmp_path / f"{name}.duckdb") as store:
            import_spse(store, folder)
        with compute_store(tmp_path / f"{name}.duckdb", settings, indonesian=True) as result:
            return {i: v for g, i, c, v in result.flags() if c == "ID11"}

    assert ocid not in id11(BANDUNG / "raw", "as-published")
    folder = _bandung_copy(tmp_path, "corrected")
    lines = (folder / PARTICIPANTS).read_text().splitlines()
    for n, line in enumerate(lines):
        row = json.loads(line)
        if row["kd_tender"] == 10029557000 and row["nama_penyedia"] == "CV. ARTHA JAYA":
            row["nilai_terkoreksi"] = row["nilai_penawaran"]
            lines[n] = json.dumps(row)
    (folder / PARTICIPANTS).write_text("\n".join(lines) + "\n")
    assert id11(folder, "corrected")[ocid] == pytest.approx(578926901.06 / 532918048.5 - 1)
