"""Engine behaviour on hand-made releases: the fixes to Cardinal, edge cases, output, CLI."""

from __future__ import annotations

import io
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cegah.procurement.engine import DatabaseOptions, compute, parse_settings
from cegah.procurement.engine.cli import main
from cegah.procurement.engine.database import (
    connect,
    duckdb,
    memory_limit_bytes,
    roomy,
    side_by_side,
)

from .conftest import DATA, needs_data

Run = Callable[..., dict[str, Any]]


def bid(
    tenderer: str, status: str = "valid", amount: float | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "tenderers": [{"id": tenderer}], **extra}
    if amount is not None:
        out["value"] = {"amount": amount, "currency": "IDR"}
    return out


# --- R018: counting bidders, not trusting numberOfTenderers -------------------------------------

R018_RELEASES = [
    # One tenderer submitted two bids, but numberOfTenderers counts registrants.
    {
        "ocid": "one-bidder",
        "tender": {"procurementMethod": "open", "numberOfTenderers": 3},
        "bids": {"details": [bid("A"), bid("A", "disqualified")]},
    },
    # Two bidders, numberOfTenderers wrongly 1.
    {
        "ocid": "two-bidders",
        "tender": {"procurementMethod": "open", "numberOfTenderers": 1},
        "bids": {"details": [bid("A"), bid("B")]},
    },
    # Invited and withdrawn bids are not submitted: one bidder.
    {
        "ocid": "invited",
        "tender": {"procurementMethod": "open"},
        "bids": {"details": [bid("A"), bid("B", "invited"), bid("C", "withdrawn")]},
    },
    # No bids: fall back to numberOfTenderers.
    {"ocid": "no-bids", "tender": {"procurementMethod": "open", "numberOfTenderers": 1}},
    {"ocid": "direct", "tender": {"procurementMethod": "direct", "numberOfTenderers": 1}},
]


def test_r018_counts_distinct_bidders(run_indicators: Run) -> None:
    assert set(run_indicators(R018_RELEASES, "[R018]\n")["OCID"]) == {
        "one-bidder",
        "invited",
        "no-bids",
    }


def test_r018_cardinal_mode_trusts_number_of_tenderers(run_indicators: Run) -> None:
    out = run_indicators(R018_RELEASES, "[R018]\ncount = cardinal\n")
    assert set(out["OCID"]) == {"two-bidders", "no-bids"}


# --- R030: instants, not text ---------------------------------------------------------------------


def r030_release(ocid: str, bid_date: str, end: str) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "tender": {"tenderPeriod": {"endDate": end}},
        "bids": {"details": [bid("W", date=bid_date)]},
        "awards": [{"status": "active", "suppliers": [{"id": "W"}]}],
    }


R030_RELEASES = [
    # 10:00 WIB is 03:00 UTC: on time, but sorts after "05:00Z" as text.
    r030_release("on-time-other-zone", "2025-03-01T10:00:00+07:00", "2025-03-01T05:00:00Z"),
    # 05:00 UTC is two hours after 10:00 WIB: late, but sorts before it as text.
    r030_release("late-other-zone", "2025-03-01T05:00:00Z", "2025-03-01T10:00:00+07:00"),
    # Same instant, different precision: not late, but "00Z" sorts after "00.000Z".
    r030_release("same-instant", "2025-03-01T05:00:00Z", "2025-03-01T05:00:00.000Z"),
    r030_release("late", "2025-03-02T00:00:00+07:00", "2025-03-01T00:00:00+07:00"),
    r030_release("not-a-date", "yesterday", "2025-03-01T00:00:00+07:00"),
    # Later, and DuckDB would cast them, but not RFC 3339 (no time; no offset): not dates here.
    r030_release("date-only", "2025-03-02", "2025-03-01T00:00:00+07:00"),
    r030_release("no-offset", "2025-03-02T00:00:00", "2025-03-01T00:00:00+07:00"),
]


def test_r030_compares_instants(run_indicators: Run) -> None:
    out = run_indicators(R030_RELEASES, "[R030]\n")
    assert set(out["OCID"]) == {"late-other-zone", "late"}
    assert out["Tenderer"] == {"W": {"R030": 1.0}}


def test_r030_text_mode_reproduces_cardinal(run_indicators: Run) -> None:
    out = run_indicators(R030_RELEASES, "[R030]\ncompare = text\n")
    assert set(out["OCID"]) == {
        "on-time-other-zone",
        "same-instant",
        "late",
        "not-a-date",
        "date-only",
        "no-offset",
    }


# --- R003 per method (the Indonesian case) ---------------------------------------------------------


def test_r003_thresholds_per_method_details(run_indicators: Run) -> None:
    def release(ocid: str, details: str, days: int) -> dict[str, Any]:
        return {
            "ocid": ocid,
            "tender": {
                "procurementMethod": "open",
                "procurementMethodDetails": details,
                "tenderPeriod": {
                    "startDate": "2025-01-01T08:00:00+07:00",
                    "endDate": f"2025-01-{1 + days:02d}T08:00:00+07:00",
                },
            },
        }

    releases = [
        release("tender-7", "Tender", 7),
        release("tender-4", "Tender", 4),
        release("cepat-3", "Tender Cepat", 3),
        release("cepat-2", "Tender Cepat", 2),
    ]
    ini = "[R003]\nthreshold = 5\n[R003.procurement_method_details]\nTender Cepat = 3\n"
    assert set(run_indicators(releases, ini)["OCID"]) == {"tender-4", "cepat-2"}


# --- Input handling -------------------------------------------------------------------------------


def test_bad_lines_and_cancelled_and_excluded_are_skipped(
    tmp_path: Path, run_indicators: Run
) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"ocid": "ok", "tender": {"numberOfTenderers": 1, "procurementMethod": "open"}}),
        "",
        "not json at all",
        "[1, 2, 3]",
        json.dumps({"tender": {"numberOfTenderers": 1, "procurementMethod": "open"}}),  # no ocid
        json.dumps(
            {
                "ocid": "cancelled",
                "tender": {
                    "status": "cancelled",
                    "numberOfTenderers": 1,
                    "procurementMethod": "open",
                },
            }
        ),
        json.dumps(
            {
                "ocid": "excluded",
                "tender": {
                    "procurementMethodDetails": "EXC",
                    "numberOfTenderers": 1,
                    "procurementMethod": "open",
                },
            }
        ),
        json.dumps({"ocid": "wrong types", "tender": "oops", "bids": {"details": {"a": 1}}}),
    ]
    path.write_text("\n".join(lines) + "\n")
    out = run_indicators(path, "[R018]\n[exclusions]\nprocurement_method_details = EXC\n")
    assert out == {"OCID": {"ok": {"R018": 1.0}}}


def test_a_byte_order_mark_does_not_cost_the_first_release(tmp_path: Path) -> None:
    """Windows tools start UTF-8 files with a byte order mark, which DuckDB takes for bad JSON."""
    lines = "".join(json.dumps(r) + "\n" for r in R018_RELEASES)
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + lines.encode())
    with compute(marked, parse_settings("[R018]\n")) as result:
        assert result.releases == len(R018_RELEASES)  # the first line read once, not twice
        flagged = [ocid for _, ocid, _, _ in result.flags()]
    assert sorted(flagged) == ["invited", "no-bids", "one-bidder"]


def test_an_ocid_on_several_lines_keeps_each_indicators_last_value(run_indicators: Run) -> None:
    disq = {"details": [bid("V"), bid("D1", "disqualified"), bid("D2", "disqualified")]}
    awards = [{"status": "active", "suppliers": [{"id": "V"}]}]
    releases = [
        {"ocid": "X", "tender": {"procurementMethod": "open", "numberOfTenderers": 1}},
        {"ocid": "X", "bids": disq, "awards": awards},
        {"ocid": "X", "bids": {"details": [bid("V"), bid("D1", "disqualified")]}, "awards": awards},
    ]
    out = run_indicators(releases, "[R018]\n[R035]\n")
    assert out["OCID"] == {"X": {"R018": 1.0, "R035": 1.0}}


def test_currency_setting_and_first_seen_currency(run_indicators: Run) -> None:
    def release(ocid: str, currency: str) -> dict[str, Any]:
        return {
            "ocid": ocid,
            "bids": {
                "details": [
                    {"status": "disqualified", "value": {"amount": 1, "currency": currency}},
                    {"status": "valid", "value": {"amount": 2, "currency": currency}},
                ]
            },
            "awards": [{"status": "active"}],
        }

    releases = [release("usd", "USD"), release("idr", "IDR")]
    assert set(run_indicators(releases, "[R036]\n")["OCID"]) == {"usd"}
    assert set(run_indicators(releases, "currency = IDR\n[R036]\n")["OCID"]) == {"idr"}


def test_price_comparison_allow_list(run_indicators: Run) -> None:
    releases = [
        {
            "ocid": m or "none",
            "tender": {"procurementMethodDetails": m} if m else {},
            "bids": {"details": [bid("A", amount=5), bid("B", amount=5)]},
        }
        for m in ("Tender", "Seleksi", None)
    ]
    out = run_indicators(releases, "price_comparison_procurement_methods = Tender\n[R028]\n")
    assert set(out["OCID"]) == {"Tender"}


# --- Output ---------------------------------------------------------------------------------------


def test_meta_has_nulls_without_data_and_maps_have_every_key(run_indicators: Run) -> None:
    out = run_indicators([{"ocid": "x"}], None, meta=True, map=True)
    assert out["Meta"]["R024"] == {"q1": None, "q3": None, "lower_fence": None}
    assert out["Meta"]["R025"]["upper_fence"] is None
    assert "R038" not in out["Meta"]  # no organisation had enough bids
    assert set(out["Maps"]) == {
        "ocid_buyer_r038",
        "ocid_procuringentity_r038",
        "ocid_tenderer",
        "ocid_tenderer_r024",
        "ocid_tenderer_r028",
        "ocid_tenderer_r030",
        "ocid_tenderer_r035",
        "ocid_tenderer_r058",
    }
    assert all(v == {} for v in out["Maps"].values())


def test_result_api(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        json.dumps({"ocid": "a", "tender": {"numberOfTenderers": 1, "procurementMethod": "open"}})
        + "\n"
    )
    with compute(path, parse_settings("[R018]\n")) as result:
        assert result.releases == 1
        assert result.counts() == {"OCID": 1}
        assert result.flags() == [("OCID", "a", "R018", 1.0)]


# --- CLI ------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in R018_RELEASES))
    ini = tmp_path / "s.ini"
    ini.write_text("[R018]\n")
    return data, ini


def test_cli_prints_cardinal_json(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, ini = files
    assert main(["indicators", str(data), "--settings", str(ini), "--no-meta", "--count"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert list(out) == ["OCID"]
    assert list(out["OCID"]) == ["one-bidder", "invited", "no-bids"]  # file order
    assert captured.err == "OCID: 3\n"


def test_cli_meta_and_map(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data, _ = files
    assert main(["indicators", str(data), "--map", "--threads", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out)[-2:] == ["Meta", "Maps"]
    assert out["Maps"]["ocid_tenderer"]["two-bidders"] == ["A", "B"]


def test_cli_errors(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = files
    bad = tmp_path / "bad.ini"
    bad.write_text("[R018]\nfoo = 1\n")
    assert main(["indicators", str(data), "--settings", str(bad)]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert main(["indicators", str(tmp_path / "missing.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["indicators"]) == 2  # neither FILE nor --store
    with pytest.raises(SystemExit):
        main(["indicators", "--no-such-option"])


def interrupted_query(*args: Any, **kwargs: Any) -> None:
    """Stands in for ``compute`` when Ctrl-C comes during a query, as DuckDB reports it.

    DuckDB runs Python's SIGINT handler when it polls for signals between tasks, and turns the
    KeyboardInterrupt that follows into a RuntimeError of its own. When it polls depends on the
    query (a task can be long), so the signal is raised here directly rather than from a timer.
    """
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None


def test_cli_ctrl_c_ends_quietly_with_130(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB turns Ctrl-C during a query into its own RuntimeError; the command still says
    "interrupted" and exits 130, without a traceback."""
    data, _ = files
    monkeypatch.setattr("cegah.procurement.engine.cli.compute", interrupted_query)
    assert main(["indicators", str(data)]) == 130
    assert capsys.readouterr().err == "dibatalkan / interrupted\n"
    # The handler is put back: Ctrl-C is a KeyboardInterrupt again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_cli_ctrl_c_interrupts_the_reading_pass(
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real SIGINT while DuckDB reads JSON lines, which it alone only notices once the whole scan
    is over (seconds, or minutes on a large file): the command interrupts the query at once."""
    lines = tmp_path / "lines.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in R018_RELEASES * 2000))
    # Read over and over, the file makes a scan of about 10 s here.
    paths = ", ".join([f"'{lines}'"] * 20000)

    def reading_pass(*args: Any, **kwargs: Any) -> None:
        connect().execute(
            f"SELECT count(*) FROM read_json([{paths}], columns = {{'ocid': 'VARCHAR'}},"
            " format = 'newline_delimited', records = true)"
        )

    data, _ = files
    monkeypatch.setattr("cegah.procurement.engine.cli.compute", reading_pass)
    timer = threading.Timer(0.3, signal.raise_signal, [signal.SIGINT])
    start = time.monotonic()
    timer.start()
    try:
        assert main(["indicators", str(data)]) == 130
    finally:
        timer.cancel()
    assert capsys.readouterr().err == "dibatalkan / interrupted\n"
    # Not a timing claim: left to DuckDB, the interrupt would only take effect at the end.
    assert time.monotonic() - start < 10


def test_cli_other_errors_are_not_taken_for_ctrl_c(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    data, _ = files
    monkeypatch.setattr("cegah.procurement.engine.cli.compute", fail)
    with pytest.raises(RuntimeError, match="boom"):
        main(["indicators", str(data)])


# --- Two connections at once ----------------------------------------------------------------------


def test_side_by_side_runs_each_task_once_on_two_connections() -> None:
    con = connect()
    con.execute("CREATE TABLE done (task INTEGER, connection BIGINT)")
    seen: list[int] = []
    # Each task waits for another to be running: with one connection, the first would time out.
    both = threading.Barrier(2, timeout=30)

    def task(n: int) -> Callable[[Any], None]:
        def on(other: Any) -> None:
            seen.append(id(other))
            other.execute("INSERT INTO done VALUES (?, ?)", [n, id(other)])
            both.wait()

        return on

    side_by_side(con, [task(n) for n in range(6)])
    rows = con.execute("SELECT task FROM done ORDER BY task").fetchall()
    assert [n for (n,) in rows] == list(range(6))
    assert len(set(seen)) == 2
    con.close()


def test_side_by_side_raises_the_first_error_and_stops_handing_out() -> None:
    con = connect()
    con.execute("CREATE TABLE done (task INTEGER)")

    def ok(n: int) -> Callable[[Any], None]:
        def insert(other: Any) -> None:
            # Not instant: on a busy machine the other thread could otherwise run all 50
            # before the first task's error is even seen (this test failed under load).
            time.sleep(0.02)
            other.execute("INSERT INTO done VALUES (?)", [n])

        return insert

    def bad(other: Any) -> None:
        other.execute("SELECT * FROM no_such_table")

    with pytest.raises(duckdb.CatalogException):
        side_by_side(con, [bad, *[ok(n) for n in range(50)]], connections=2)
    done = con.execute("SELECT count(*) FROM done").fetchone()
    assert done is not None and done[0] < 50
    with pytest.raises(duckdb.CatalogException):
        side_by_side(con, [bad, ok(99)], connections=1)
    con.close()


def test_side_by_side_on_ctrl_c_stops_both_queries_then_raises() -> None:
    """Ctrl-C during two long queries, with the CLI's handling of it: both queries are
    interrupted, the helper thread is joined and its connection closed, and only then does
    KeyboardInterrupt come out (never in the middle of starting or joining the thread, which
    could leave it running with its connection open)."""
    from cegah.procurement.engine.cli import _Interrupt

    con = connect()
    seen: list[type[BaseException]] = []

    def long_query(other: Any) -> None:
        try:
            other.execute("SELECT count(*) FROM range(100000000000) AS t(a) WHERE a % 7 = 8")
        except BaseException as exc:
            seen.append(type(exc))
            raise

    timer = threading.Timer(0.3, signal.raise_signal, [signal.SIGINT])
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt), _Interrupt() as interrupt:
            side_by_side(con, [long_query, long_query], connections=2)
    finally:
        timer.cancel()
    assert interrupt.happened
    assert seen == [duckdb.InterruptException, duckdb.InterruptException]
    assert not [t for t in threading.enumerate() if t.name == "cegah-duckdb"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # Not a timing claim: left alone, each query runs for minutes.
    assert time.monotonic() - start < 30
    con.close()


def test_side_by_side_waits_for_the_tasks_a_task_needs() -> None:
    con = connect()
    con.execute("CREATE TABLE done (task INTEGER, seen BIGINT)")

    def slow_first(other: Any) -> None:
        time.sleep(0.2)
        other.execute("INSERT INTO done VALUES (0, 0)")

    def needs_first(other: Any) -> None:
        other.execute("INSERT INTO done SELECT 1, count(*) FROM done WHERE task = 0")

    def independent(other: Any) -> None:
        other.execute("INSERT INTO done VALUES (2, 0)")

    side_by_side(con, [slow_first, needs_first, independent], after={1: [0]})
    assert con.execute("SELECT seen FROM done WHERE task = 1").fetchall() == [(1,)]
    with pytest.raises(ValueError):
        side_by_side(con, [slow_first, needs_first], after={0: [1]})
    con.close()


@needs_data(DATA / "synthetic" / "synth_spse_2k.jsonl")
def test_one_connection_and_two_give_the_same_output() -> None:
    outputs = []
    for threads in (1, 2):
        with compute(
            DATA / "synthetic" / "synth_spse_2k.jsonl",
            map=True,
            database=DatabaseOptions(threads=threads),
        ) as result:
            buffer = io.StringIO()
            result.write_json(buffer)
            outputs.append(buffer.getvalue())
            # The OCID group was formatted while the last indicators ran; formatted at the
            # end instead, it is the same.
            assert result.prepared
            result.prepared = False
            result.con.execute("DROP TABLE ocid_member")
            buffer = io.StringIO()
            result.write_json(buffer)
            outputs.append(buffer.getvalue())
    assert len(set(outputs)) == 1
    assert list(json.loads(outputs[0])["Meta"]) == sorted(json.loads(outputs[0])["Meta"])


def test_ocid_group_with_awkward_ocids_and_more_than_a_piece(run_indicators: Run) -> None:
    awkward = ["a,b", 'q"uote', "back\\slash", "new\nline", "tab\tand ÿ ü 漢", '"},{"x":', "ok"]
    # Long ocids, so that the OCID group spans several of the 1 MiB pieces it is read back in.
    many = [f"ocds-{n:06d}-" + "x" * 60 for n in range(20_000)]
    releases = [
        {"ocid": ocid, "tender": {"procurementMethod": "open", "numberOfTenderers": 1}}
        for ocid in awkward + many
    ]
    out = run_indicators(releases, "[R018]\n")
    assert list(out["OCID"]) == awkward + many
    assert all(value == {"R018": 1.0} for value in out["OCID"].values())


def test_two_connections_only_with_memory_to_spare() -> None:
    con = connect(DatabaseOptions(memory_limit="60MB"))
    assert 55e6 < memory_limit_bytes(con) < 61e6
    assert roomy(con)
    con.execute("CREATE TABLE big AS SELECT range AS n, repeat('x', 40) AS s FROM range(600000)")
    assert not roomy(con)
    ran: set[int] = set()
    side_by_side(con, [lambda other: ran.add(id(other))] * 4)
    assert ran == {id(con)}
    con.close()
