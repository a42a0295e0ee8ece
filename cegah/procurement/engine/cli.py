"""The procurement command line (wired into Django as ``cegah procurement ...``; also
``python -m cegah.procurement.engine ...``).

``indicators FILE.jsonl [--settings S.ini] [--map] [--no-meta] [--count]`` prints the same JSON
object as ``ocdscardinal indicators`` on standard output.
``import PATH... [--store S.duckdb] [--strict]`` loads OCDS or SPSE data into the store.
Messages go to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import compute, compute_store
from .database import DEFAULT_MEMORY_LIMIT, DatabaseOptions, duckdb, interrupt_all
from .oserrors import describe
from .settings import SettingsError, load_settings

if TYPE_CHECKING:
    from .store import ImportReport


def default_store() -> str:
    """Return the store that ``import`` writes by default, wherever it is run from.

    The web's store: ``CEGAH_PROCUREMENT_STORE``, or ``procurement.duckdb`` in ``CEGAH_VAR_DIR``.
    """
    # Imported here: `indicators`, which the benchmark times, needs neither.
    from cegah.core.env import procurement_store, var_dir

    return str(procurement_store(var_dir()))


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (exposed so that the Django command can reuse its help)."""
    parser = argparse.ArgumentParser(
        prog="cegah procurement",
        description="Red flags for procurement (OCDS), compatible with OCDS Cardinal.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ind = commands.add_parser(
        "indicators",
        help="calculate red-flag indicators from OCDS compiled releases (JSON lines)",
        description=(
            "Calculate procurement indicators from OCDS compiled releases in a line-delimited JSON"
            " file. Prints a JSON object keyed by OCID, Buyer, ProcuringEntity and Tenderer, plus"
            " Meta (quartiles and fences) unless --no-meta, and Maps with --map."
        ),
    )
    ind.add_argument(
        "file", nargs="?", help='JSON lines file, one compiled release per line ("-" = stdin)'
    )
    ind.add_argument(
        "--store", help="read the processes of a procurement store (DuckDB file) instead of FILE"
    )
    ind.add_argument(
        "-s",
        "--settings",
        help="settings file in Cardinal's INI format (default: all 11 indicators, defaults)",
    )
    ind.add_argument(
        "-c", "--count", action="store_true", help="print the number of results per group to stderr"
    )
    ind.add_argument("--no-meta", action="store_true", help='omit the "Meta" key')
    ind.add_argument(
        "--indonesian",
        action="store_true",
        help="add the Indonesian indicators ID01-ID13 (see docs/procurement-indicators.md)",
    )
    ind.add_argument(
        "--map",
        action="store_true",
        help='add the "Maps" key (contracting process → organisations)',
    )
    ind.add_argument(
        "--memory-limit",
        default=None,
        help=f"DuckDB memory limit, beyond which it spills to disk (default {DEFAULT_MEMORY_LIMIT})",
    )
    ind.add_argument(
        "--temp-directory", default=None, help="where DuckDB spills (default: system temp)"
    )
    ind.add_argument(
        "--threads", type=int, default=None, help="DuckDB threads (default: all cores)"
    )

    imp = commands.add_parser(
        "import",
        help="import OCDS or SPSE (LKPP ISB) data into the procurement store",
        description=(
            "Import into the DuckDB procurement store: OCDS compiled releases (JSON lines, or a"
            " release/record package as .json) or a folder of LKPP ISB exports from SPSE."
            " Bad records are reported by file, line and field and skipped (--strict: the file is"
            " refused). Importing the same file again changes nothing."
        ),
    )
    imp.add_argument(
        "paths", nargs="+", help="OCDS files, or SPSE export folders or ZIP files of them"
    )
    imp.add_argument(
        "--store",
        default=None,
        help="DuckDB file (default $CEGAH_PROCUREMENT_STORE, or procurement.duckdb in"
        " $CEGAH_VAR_DIR, by default the project's var/: the store the web reads)",
    )
    imp.add_argument(
        "--format",
        choices=("auto", "ocds", "spse"),
        default="auto",
        help="auto: a folder or a .zip is SPSE, any other file is OCDS",
    )
    imp.add_argument("--strict", action="store_true", help="refuse a file with any bad record")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--json", action="store_true", help="print the reports as JSON on stdout")
    imp.add_argument(
        "--max-issues", type=int, default=20, help="issues listed per file (default 20)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 bad input, 2 usage error, 130
    interrupted)."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    with _Interrupt() as interrupt:
        try:
            status = run_import(args) if args.command == "import" else run_indicators(args)
        except BrokenPipeError:
            # The reader went away (`… | head`): stop quietly, as a program killed by SIGPIPE,
            # and keep Python from failing again when it flushes standard output at exit.
            _silence_stdout()
            return BROKEN_PIPE
        except BaseException:
            if not interrupt.happened:
                raise
    if interrupt.happened:
        sys.stderr.write("dibatalkan / interrupted\n")
        return 130
    return status


# The status of a program killed by SIGPIPE (128 + 13), as a shell reports it.
BROKEN_PIPE = 141


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # standard output is not a file descriptor (tests capture it)
    finally:
        os.close(devnull)


class _Interrupt:
    """Ctrl-C: notes that it happened and interrupts every DuckDB query at once.

    DuckDB turns the KeyboardInterrupt raised during a query into an error of its own (a plain
    RuntimeError "Query interrupted"), so the exception alone cannot tell an interrupt from a
    failure. And it only runs Python's handler between two of its tasks, which on a large file can
    be seconds away; so the signal also wakes a watcher thread (``signal.set_wakeup_fd``), which
    interrupts the queries straight away. Only in the main thread, where Python handles signals.
    """

    def __init__(self) -> None:
        self.happened = False
        self._raised = False
        self._previous: Any = None
        self._previous_fd = -1
        self._pipe: tuple[int, int] | None = None
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is not threading.main_thread():
            return self
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._watcher = threading.Thread(
            target=self._watch, args=(read,), name="cegah-ctrl-c", daemon=True
        )
        self._watcher.start()
        self._previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pipe is None or self._watcher is None:
            return
        read, write = self._pipe
        try:
            signal.signal(signal.SIGINT, self._previous)
            signal.set_wakeup_fd(self._previous_fd)
        finally:
            os.close(write)  # the watcher reads the end of the pipe and stops
            self._watcher.join()
            os.close(read)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        # Only the first Ctrl-C raises KeyboardInterrupt: a second one, pressed while the first
        # is being handled, would break off the clean-up (the watcher still interrupts queries).
        self.happened = True
        if not self._raised:
            self._raised = True
            signal.default_int_handler(signum, frame)

    def _watch(self, read: int) -> None:
        while data := os.read(read, 64):
            if signal.SIGINT in data:
                self.happened = True
                interrupt_all()


def run_indicators(args: argparse.Namespace) -> int:
    """``indicators``: print Cardinal's JSON for one file."""
    try:
        settings = load_settings(args.settings)
    except SettingsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    options = DatabaseOptions(
        memory_limit=args.memory_limit, temp_directory=args.temp_directory, threads=args.threads
    )
    if args.file is None and args.store is None:
        sys.stderr.write(
            "error: berikan FILE (OCDS JSON lines) atau --store S.duckdb / give FILE (OCDS JSON"
            " lines) or --store S.duckdb\n"
        )
        return 2
    if args.file is not None and args.store is not None:
        sys.stderr.write(
            "error: berikan FILE atau --store, bukan keduanya / give FILE or --store, not both\n"
        )
        return 2
    source = args.file or args.store
    refused = _not_json_lines(source) if args.file else None
    if refused:
        sys.stderr.write(f"error: {source}: {refused}\n")
        return 1
    try:
        if args.store:
            result = compute_store(
                args.store, settings, map=args.map, indonesian=args.indonesian, database=options
            )
        else:
            result = compute(
                args.file, settings, map=args.map, indonesian=args.indonesian, database=options
            )
    except FileNotFoundError as exc:
        # A folder given to --store (FILE was checked above).
        found: OSError = IsADirectoryError() if Path(source).is_dir() else exc
        sys.stderr.write(f"error: {source}: {describe(found)}\n")
        return 1
    except duckdb.InterruptException:
        raise  # Ctrl-C (see _Interrupt), not a file that cannot be read
    except duckdb.Error as exc:
        sys.stderr.write(f"error: {source}: tidak dapat dibaca / cannot be read: {exc}\n")
        return 1
    with result:
        if not result.releases and args.file and args.file != "-":
            # Nothing usable was read (a fast check: only then is the file looked at again).
            problem = _no_releases(Path(args.file), options)
            if problem:
                sys.stderr.write(f"error: {source}: {problem}\n")
                return 1
        result.write_json(sys.stdout, meta=not args.no_meta)
        sys.stdout.flush()
        if args.count:
            for group, count in result.counts().items():
                sys.stderr.write(f"{group}: {count}\n")
    return 0


_IMPORT_FIRST = (
    "impor dulu: cegah procurement import {path} --store S.duckdb, lalu cegah procurement"
    " indicators --store S.duckdb / import it first: cegah procurement import {path} --store"
    " S.duckdb, then cegah procurement indicators --store S.duckdb"
)


def _not_json_lines(source: str) -> str | None:
    """Return why ``source`` cannot be read as JSON lines, told by its name and kind only (no
    reading: the JSON lines path stays as fast as it was), or None."""
    if source == "-":
        return None
    path = Path(source)
    if path.is_dir():
        return (
            "ini folder, bukan berkas JSON lines; folder ekspor SPSE diimpor ke penyimpanan"
            " / is a folder, not a JSON lines file; SPSE export folders are imported into a"
            " store: " + _IMPORT_FIRST.format(path=source)
        )
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json"):
        return (
            "paket rilis atau rekaman (.json), bukan JSON lines (satu rilis terkompilasi per"
            " baris) / a release or record package (.json), not JSON lines (one compiled"
            " release a line): " + _IMPORT_FIRST.format(path=source)
        )
    return None


def _no_releases(path: Path, options: DatabaseOptions) -> str | None:
    """Return what is wrong with a file in which no usable compiled release was found: no line
    is a JSON object, or no object has an ocid; None if some have one (all cancelled, say)."""
    from .database import close, connect, first_row, sql_string

    con = connect(options)
    try:
        row = first_row(
            con,
            "SELECT count(*) FILTER (WHERE json_type(json) = 'OBJECT'),"
            " count(json ->> 'ocid') FILTER (WHERE json_type(json) = 'OBJECT')"
            f" FROM read_ndjson_objects({sql_string(path)}, ignore_errors = true,"
            " maximum_object_size = 33554432)",
        )
    except duckdb.Error:
        row = (0, 0)
    finally:
        close(con)
    objects, with_ocid = (int(row[0]), int(row[1])) if row else (0, 0)
    if not objects:
        hint = ""
        if path.suffix.lower() == ".zip":
            hint = (
                "; ekstrak ZIP ekspor SPSE lalu impor foldernya / unzip SPSE exports and import"
                " the folder"
            )
        return (
            "tidak ada baris yang berupa objek JSON: perlu OCDS JSON lines (satu rilis"
            " terkompilasi per baris) / no line is a JSON object: OCDS JSON lines expected (one"
            " compiled release a line)" + hint
        )
    if not with_ocid:
        return (
            f"tidak satu pun dari {objects:,} objek JSON punya ocid (sebuah paket?) / none of the"
            f" {objects:,} JSON objects has an ocid (a package?): "
            + _IMPORT_FIRST.format(path=path)
        )
    return None


def _import_items(
    args: argparse.Namespace, scratch: contextlib.ExitStack
) -> Iterator[tuple[str, Path | str, str, bool]]:
    """Yield (the path as given, what to import or why it cannot be, "ocds" or "spse", whether
    it was extracted from a ZIP) for each path: a folder is SPSE, a ``.zip`` holds SPSE exports
    (each of its folders is imported in turn, from a scratch directory), any other file is
    OCDS."""
    from .spse import SPSE_ZIP_LIMIT, SpseZipError, extract_spse_zip

    for raw in args.paths:
        path = Path(raw)
        kind = args.format
        is_zip = path.suffix.lower() == ".zip" and not path.is_dir()
        if kind == "auto":
            kind = "spse" if path.is_dir() or is_zip else "ocds"
        if kind != "spse" or not is_zip:
            yield raw, path, kind, False
            continue
        if not path.is_file():
            yield raw, describe(FileNotFoundError(raw)), kind, False
            continue
        target = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="cegah-zip-")))
        try:
            folders = extract_spse_zip(path, target, SPSE_ZIP_LIMIT)
        except SpseZipError as exc:
            yield raw, str(exc), kind, False
            continue
        except OSError as exc:
            yield raw, describe(exc), kind, False
            continue
        for directory, folder in folders:
            yield (f"{raw}/{directory}" if directory else raw), folder, kind, True


def run_import(args: argparse.Namespace) -> int:
    """``import``: load files into the store, with a progress bar; report issues on stderr."""
    # Imported here: `indicators`, which the benchmark times, needs none of them.
    from tqdm import tqdm

    from .spse import import_spse
    from .store import Store

    reports: list[ImportReport] = []
    failed = False
    with Store(args.store or default_store()) as store, contextlib.ExitStack() as scratch:
        for raw, path, kind, in_zip in _import_items(args, scratch):
            if isinstance(path, str):  # a ZIP that could not be extracted: why
                sys.stderr.write(f"error: {raw}: {path}\n")
                failed = True
                continue
            # An OCDS file's progress is in bytes read; an SPSE folder's is not (its reading is
            # a third, the join the rest: see ``import_spse``), so it is shown in percent.
            percent = kind == "spse"
            bar = tqdm(
                total=100 if percent else 0,
                unit="%" if percent else "B",
                unit_scale=not percent,
                desc=Path(raw).name,
                disable=args.no_progress or None,  # None: only on a terminal
                file=sys.stderr,
            )

            def progress(done: int, total: int, bar: tqdm = bar, percent: bool = percent) -> None:
                if percent:
                    bar.n = 100 * done // total if total else 0
                else:
                    bar.total = total
                    bar.n = done
                bar.refresh()

            try:
                if kind == "spse":
                    report = import_spse(store, path, strict=args.strict, progress=progress)
                else:
                    report = store.import_ocds(path, strict=args.strict, progress=progress)
            except OSError as exc:
                bar.close()
                name = str(raw if getattr(exc, "filename", None) is None else exc.filename)
                if in_zip and name.startswith(str(path)):  # as the user knows it
                    name = raw + name[len(str(path)) :]
                sys.stderr.write(f"error: {name}: {describe(exc)}\n")
                failed = True
                continue
            bar.close()
            if in_zip:
                report = _renamed(report, str(path), raw)
            reports.append(report)
            failed = failed or report.status in ("refused", "nothing")
            _summarise(report, args.max_issues)
    if args.json:
        json.dump(
            [
                {
                    "path": r.path,
                    "sha256": r.sha256,
                    "source": r.source,
                    "status": r.status,
                    "records": r.records,
                    "imported": r.imported,
                    "refused": r.refused,
                    # all issues; "issues" lists the first store.MAX_LISTED_ISSUES of them
                    "issue_count": r.issue_count,
                    "issues": [
                        {"line": i.line, "field": i.field, "message": i.message, "ocid": i.ocid}
                        for i in r.issues
                    ],
                }
                for r in reports
            ],
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    return 1 if failed else 0


def _renamed(report: ImportReport, scratch: str, shown: str) -> ImportReport:
    """Return ``report`` of a folder extracted from a ZIP to ``scratch`` with its paths as the
    user named them (``exports.zip/47_1013_SPSE-TenderPengumuman.jsonl``), not the scratch's."""

    def rename(path: str) -> str:
        return shown + path[len(scratch) :] if path.startswith(scratch) else path

    report.path = rename(report.path)
    report.issues = [dataclasses.replace(i, path=rename(i.path)) for i in report.issues]
    return report


def _summarise(report: ImportReport, max_issues: int) -> None:
    status = {
        "imported": "diimpor / imported",
        "unchanged": "sudah pernah diimpor, tidak ada perubahan / already imported, unchanged",
        "refused": "ditolak (--strict) / refused (--strict)",
        "nothing": "tidak ada rekaman yang dapat diimpor / no record could be imported",
    }[report.status]
    # Processes (an OCDS file's records, an SPSE folder's announcements) and issues apart: a
    # process can have several issues, and an SPSE folder's other files have lines of their own.
    sys.stderr.write(
        f"{report.path}: {status}; {report.imported:,} of {report.records:,} processes imported,"
        f" {report.refused:,} refused; {report.issue_count:,} issues\n"
    )
    for issue in report.issues[:max_issues]:
        sys.stderr.write(f"  {issue}\n")
    shown = min(len(report.issues), max_issues)
    if report.issue_count > shown:
        sys.stderr.write(f"  ... {report.issue_count - shown:,} lagi / more\n")
