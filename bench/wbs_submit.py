"""Benchmark: 8 concurrent clients submit 2,000 reports with a 100 KB attachment each.

Prints throughput and p50/p99 latency, beside a trivial endpoint (/api/v1/health) measured on the
same server in the same run, and the ratio. Then proves no report was lost: every receipt issued
opens its report through the public API.

    .venv/bin/python bench/wbs_submit.py [--reports 2000] [--clients 8] [--port 8765] [--workers 2]

It runs against a throwaway database in a temporary directory (SQLite by default, or
CEGAH_DATABASE_URL), with rate limits off (they would stop a benchmark from one address).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import secrets
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _png(size: int) -> bytes:
    """A PNG of about ``size`` bytes whose chunks parse (random image data): the intake refuses a
    photo whose structure does not, since its metadata could not be removed."""
    header = PNG_HEADER + _chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    data = secrets.token_bytes(max(0, size - len(header) - 24))
    return header + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_load(n: int, clients: int, call) -> tuple[float, list[float], list]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    results: list = []

    def one(i: int):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = call(i)
        latencies.append(time.perf_counter() - started)
        return result

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, range(n)))
    return time.perf_counter() - started, latencies, results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--attachment-kb", type=int, default=100)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="cegah-wbs-bench-"))
    env = dict(
        os.environ, CEGAH_VAR_DIR=str(var), CEGAH_RATELIMIT="false", CEGAH_LOG_LEVEL="WARNING"
    )
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "createcachetable"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [
            python,
            "-m",
            "cegah.cli",
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = httpx.Client(
            base_url=base, timeout=60, limits=httpx.Limits(max_connections=args.clients)
        )
        attachment = base64.b64encode(_png(args.attachment_kb * 1024)).decode()

        def health(_i: int) -> int:
            return client.get("/api/v1/health").status_code

        def submit(i: int) -> tuple[int, str, str]:
            response = client.post(
                "/api/v1/public/reports",
                json={
                    "organisation": "inspektorat-lampung",
                    "category": "suap",
                    "description": f"Laporan uji beban nomor {i}: suap di loket pelayanan perizinan.",
                    "attachments": [{"name": f"bukti-{i}.png", "content_base64": attachment}],
                },
            )
            body = response.json() if response.status_code == 201 else {}
            return response.status_code, body.get("receipt", ""), body.get("reference", "")

        run_load(50, args.clients, health)  # warm-up
        t_health, l_health, r_health = run_load(args.reports, args.clients, health)
        t_submit, l_submit, r_submit = run_load(args.reports, args.clients, submit)

        def verify(i: int) -> bool:
            status, receipt, reference = r_submit[i]
            if status != 201:
                return False
            session = client.post("/api/v1/public/session", json={"receipt": receipt})
            if session.status_code != 200:
                return False
            report = client.get(
                "/api/v1/public/session/report",
                headers={"Authorization": f"Bearer {session.json()['token']}"},
            )
            return report.status_code == 200 and report.json()["reference"] == reference

        _t, _l, verified = run_load(args.reports, args.clients, verify)
    finally:
        server.terminate()
        server.wait(timeout=30)

    ok_submit = sum(1 for status, _r, _ref in r_submit if status == 201)
    print(
        f"machine: {platform.node()} {platform.machine()} cores={os.cpu_count()} python={platform.python_version()}"
    )
    print(
        f"database: {os.environ.get('CEGAH_DATABASE_URL', 'sqlite (temporary)')}, web workers: {args.workers}, clients: {args.clients}"
    )
    print(
        f"trivial endpoint: {args.reports} requests in {t_health:.2f} s = {args.reports / t_health:.0f} req/s, "
        f"p50 {statistics.median(l_health) * 1000:.1f} ms, p99 {percentile(l_health, 0.99) * 1000:.1f} ms, "
        f"ok {sum(1 for s in r_health if s == 200)}"
    )
    print(
        f"report submission ({args.attachment_kb} KB attachment): {args.reports} in {t_submit:.2f} s = "
        f"{args.reports / t_submit:.1f} reports/s, p50 {statistics.median(l_submit) * 1000:.1f} ms, "
        f"p99 {percentile(l_submit, 0.99) * 1000:.1f} ms, ok {ok_submit}"
    )
    print(
        f"ratio (submission / trivial): throughput {(args.reports / t_submit) / (args.reports / t_health):.3f}, "
        f"p50 latency x{statistics.median(l_submit) / statistics.median(l_health):.1f}"
    )
    lost = args.reports - sum(verified)
    print(f"every receipt opens its report: {sum(verified)}/{args.reports} (lost: {lost})")
    shutil.rmtree(var, ignore_errors=True)
    return 0 if lost == 0 and ok_submit == args.reports else 1


if __name__ == "__main__":
    sys.exit(main())
