"""Benchmark: 5,000 signed WhatsApp webhook deliveries from 500 simulated reporters.

Reports throughput and p50/p99 time to acknowledge (the webhook's 200), measured against the
running server started here on a throwaway database, then checks that every message was recorded
exactly once (a tenth of the deliveries are repeated, as Meta does on retries).

    .venv/bin/python bench/channels_inbound.py [--messages 5000] [--reporters 500] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-app-secret"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--reporters", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="cegah-inbound-bench-"))
    env = dict(
        os.environ,
        CEGAH_VAR_DIR=str(var),
        CEGAH_RATELIMIT="false",
        CEGAH_LOG_LEVEL="WARNING",
        CEGAH_WHATSAPP_APP_SECRET=SECRET,
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "createcachetable"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    server = subprocess.Popen(
        [sys.executable, "-m", "cegah.cli", "serve", "--port", str(args.port), "--workers", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sys.path.insert(0, str(ROOT))
    from cegah.channels.providers.whatsapp import sign

    base = f"http://127.0.0.1:{args.port}"
    ids = [f"wamid.BENCH{i:08d}" for i in range(args.messages)]
    repeats = ids[: args.messages // 10]
    deliveries = ids + repeats
    latencies: list[float] = []
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = httpx.Client(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=args.clients)
        )

        def deliver(i: int) -> int:
            message_id = deliveries[i]
            reporter = int(message_id[-8:]) % args.reporters
            body = {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "0",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": "1",
                                        "phone_number_id": "100000000000001",
                                    },
                                    "contacts": [
                                        {
                                            "profile": {"name": "R"},
                                            "user_id": f"ID.BENCH{reporter:06d}",
                                        }
                                    ],
                                    "messages": [
                                        {
                                            "from_user_id": f"ID.BENCH{reporter:06d}",
                                            "id": message_id,
                                            "timestamp": str(int(time.time())),
                                            "type": "text",
                                            "text": {"body": f"pesan {secrets.token_hex(4)}"},
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
            raw = json.dumps(body).encode()
            started = time.perf_counter()
            response = client.post(
                "/channels/whatsapp/webhook",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(raw, SECRET),
                },
            )
            latencies.append(time.perf_counter() - started)
            return response.status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            codes = list(pool.map(deliver, range(len(deliveries))))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    recorded_out = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from cegah.channels.models import InboundMessage as M; print(M.objects.count(), M.objects.values('conversation').distinct().count())",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The last line holds the two counts; the shell may print log lines before it.
    recorded = recorded_out.strip().splitlines()[-1].split()
    ordered = sorted(latencies)
    print(
        f"machine: {platform.node()} {platform.machine()} cores={os.cpu_count()} python={platform.python_version()}"
    )
    print(
        f"deliveries: {len(deliveries)} ({args.messages} messages + {len(repeats)} repeats) from {args.reporters} reporters, {args.clients} clients"
    )
    print(
        f"throughput: {len(deliveries) / elapsed:.0f} deliveries/s; ack p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {ordered[int(0.99 * (len(ordered) - 1))] * 1000:.1f} ms; non-200: {sum(1 for c in codes if c != 200)}"
    )
    print(
        f"recorded messages: {recorded[0]} (expected {args.messages}), conversations: {recorded[1]} (expected {args.reporters})"
    )
    shutil.rmtree(var, ignore_errors=True)
    return 0 if int(recorded[0]) == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
