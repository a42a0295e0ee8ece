"""The harness both outbox benchmarks share (``channels_outbox.py``, ``survey_invitations.py``).

It runs the real pieces on loopback against a throwaway database:

- the fake WhatsApp Graph API (``FakeGraphAPI`` served over HTTP), enforcing the provider rate
  limit (429 / 130429 above it) and counting accepted sends per reference;
- the web app (``cegah serve``), to which the fake posts its signed status webhooks (``sent``,
  ``delivered``, echoing ``biz_opaque_callback_data``) as Meta does, so the outbox reconciles a
  killed worker's send with real callbacks through the real webhook view;
- ``--workers`` send workers (``cegah channels drain --until-empty``), one of which is killed once
  with SIGKILL, and a replacement started as systemd would.

The kill (``--kill-when``): ``accepted`` (default) kills the worker whose send the fake has just
accepted, before the answer is written back, once ``--kill-at`` of the messages are accepted:
the one case that used to cost a duplicate, made certain instead of left to chance. ``any``
kills the first worker at whatever it is doing at that point.

Duplicates are counted per reference (``<message>.<recipient index>``): sends of one message to
one recipient beyond the first. Lost: queued messages the provider never accepted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP_SECRET = "bench-app-secret"  # a throwaway secret shared with the fake


def add_arguments(parser: argparse.ArgumentParser, *, lease: int) -> None:
    parser.add_argument("--rate", type=float, default=80.0, help="fake provider limit, msg/s")
    parser.add_argument("--workers", type=int, default=2, help="send workers")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="fake provider's answer delay (real: 100-300)"
    )
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction sent at the kill")
    parser.add_argument("--kill-when", choices=["accepted", "any"], default="accepted")
    parser.add_argument("--lease", type=int, default=lease, help="CEGAH_CHANNELS_LEASE_SECONDS")
    parser.add_argument(
        "--reconcile", type=int, default=30, help="CEGAH_CHANNELS_RECONCILE_SECONDS"
    )
    parser.add_argument("--batch", type=int, default=50, help="cegah channels drain --batch")
    parser.add_argument("--webhook-batch", type=int, default=25, help="statuses per webhook")
    parser.add_argument(
        "--statuses", default="sent,delivered", help="statuses the fake reports per message"
    )
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the loopback TCP socket from ``local_port`` to ``remote_port`` (Linux)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == local_port and int(remote, 16) == remote_port:
                return fields[9]
    return None


def _owner(pids: list[int], inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Kill:
    pid: int = 0
    after: int = 0  # sends accepted by then
    reference: str = ""  # the send accepted just before the kill ("accepted" mode)
    at: float = 0.0


@dataclass
class Harness:
    args: argparse.Namespace
    prefix: str
    tmp: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    kill: Kill = field(default_factory=Kill)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per part

    def __post_init__(self) -> None:
        from cegah.channels.providers.fake_whatsapp import FakeGraphAPI, serve

        self.tmp = Path(tempfile.mkdtemp(prefix=self.prefix))
        self.database_url = self.args.database_url or f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.fake = FakeGraphAPI(
            rate_per_second=self.args.rate,
            app_secret=APP_SECRET,
            webhook_batch=self.args.webhook_batch,
            status_flow=tuple(s for s in self.args.statuses.split(",") if s),
        )
        self.server = serve(
            self.fake, before_response=self._before_response, latency=self.args.latency_ms / 1000
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.fake_port = self.server.server_address[1]
        self.web_port = _free_port()
        self.env = dict(os.environ)
        self.env.update(
            CEGAH_VAR_DIR=str(self.tmp),
            CEGAH_DATABASE_URL=self.database_url,
            CEGAH_SECRET_KEY="bench-secret-key-not-for-production",
            CEGAH_DATA_SECRET="bench-data-secret-not-for-production",
            CEGAH_WHATSAPP_API_BASE=f"http://127.0.0.1:{self.fake_port}",
            CEGAH_WHATSAPP_APP_SECRET=APP_SECRET,
            CEGAH_WHATSAPP_RATE_PER_SECOND=str(int(self.args.rate)),
            CEGAH_CHANNELS_LEASE_SECONDS=str(self.args.lease),
            CEGAH_CHANNELS_RECONCILE_SECONDS=str(self.args.reconcile),
            CEGAH_SITE_URL=f"http://127.0.0.1:{self.web_port}",
            CEGAH_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="cegah.settings",
        )
        os.environ.update(self.env)
        self.manage = [sys.executable, str(ROOT / "manage.py")]
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._armed_at = -1
        self._lock = threading.Lock()
        self._stop_webhooks = threading.Event()

    # --- set-up ----------------------------------------------------------------------------
    def migrate(self) -> None:
        for command in (["migrate", "--noinput", "-v", "0"], ["createcachetable"]):
            subprocess.run([*self.manage, *command], env=self.env, check=True)
        import django

        django.setup()

    def start_web(self) -> None:
        """Serve the app on loopback and have the fake post its status webhooks to it."""
        import httpx

        from cegah.channels.providers.fake_whatsapp import post_webhooks_forever

        command = [sys.executable, "-m", "cegah.cli", "serve", "--port", str(self.web_port)]
        self.web = subprocess.Popen(
            [*command, "--workers", "1", "--threads", "4"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{self.web_port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the web server did not start")
        post_webhooks_forever(
            self.fake, base + "/channels/whatsapp/webhook", stop=self._stop_webhooks
        )

    # --- the drain and the kill ------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        drain = ["channels", "drain", "--until-empty", "--batch", str(self.args.batch)]
        return subprocess.Popen(
            [*self.manage, *drain, "--idle", "0.2"], env=self.env, stdout=subprocess.DEVNULL
        )

    def _before_response(self, client: tuple[str, int], request: Any, response: Any) -> None:
        """Runs in the fake between accepting a send and answering it: the "accepted" kill."""
        if self._armed_at < 0 or response.status_code != 200 or self.kill.pid:
            return
        if len(self.fake.sent) < self._armed_at:
            return
        inode = _socket_inode(client[1], self.fake_port)
        with self._lock:
            pids = [w.pid for w in self.workers[: self.args.workers] if w.poll() is None]
            pid = _owner(pids, inode) if inode else None
            if pid is None or self.kill.pid:
                return
            os.kill(pid, signal.SIGKILL)
            self.kill = Kill(pid, len(self.fake.sent), self.fake.sent[-1]["reference"], time.time())

    def drain(self, total: int) -> float:
        """Run the send workers until nothing is queued, killing one once; return the seconds."""
        threshold = int(self.args.kill_at * total)
        before = os.times()
        began = time.perf_counter()
        with self._lock:
            self.workers = [self._spawn() for _ in range(self.args.workers)]
        if self.args.kill_when == "accepted":
            self._armed_at = threshold
        replaced = False
        while any(w.poll() is None for w in self.workers):
            time.sleep(0.2)
            # "accepted" falls back to "any" if it cannot find the sender of an accepted send
            # (no /proc) by the time another 5% of the messages have gone out.
            late = threshold + (0 if self.args.kill_when == "any" else max(1, total // 20))
            if not self.kill.pid and len(self.fake.sent) >= late:
                with self._lock:
                    if not self.kill.pid:
                        victim = self.workers[0]
                        victim.send_signal(signal.SIGKILL)
                        self.kill = Kill(victim.pid, len(self.fake.sent), "", time.time())
            if self.kill.pid and not replaced:
                replaced = True
                print(
                    f"killed worker pid {self.kill.pid} (SIGKILL) after {self.kill.after:,} sends"
                )
                time.sleep(1.0)
                with self._lock:
                    self.workers.append(self._spawn())
        elapsed = time.perf_counter() - began
        after = os.times()
        self.cpu["send workers"] = (after.children_user + after.children_system) - (
            before.children_user + before.children_system
        )
        errors = [w.returncode for w in self.workers if w.returncode not in (0, -signal.SIGKILL)]
        if errors:
            print("a worker exited with an error", errors)
        return elapsed

    def settle(self, timeout: float = 120.0) -> float:
        """Wait until every status webhook has been delivered; return the seconds waited."""
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if self.fake.statuses_delivered >= self.fake.statuses_queued:
                break
            time.sleep(0.2)
        return time.perf_counter() - began

    def stop_web(self) -> None:
        """Stop the web server (after ``settle``) and note the CPU time it used."""
        self._stop_webhooks.set()
        if self.web is None or self.web.poll() is not None:
            return
        before = os.times()
        self.web.terminate()
        try:
            self.web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.web.kill()
            self.web.wait()
        after = os.times()
        self.cpu["web (webhooks)"] = (after.children_user + after.children_system) - (
            before.children_user + before.children_system
        )

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
        self.stop_web()
        self.server.shutdown()
        if not self.args.database_url:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- the figures -----------------------------------------------------------------------
    def report(self, queued: int, elapsed: float, stages: dict[str, float] | None = None) -> bool:
        """Print the figures; return True if nothing was lost or sent twice."""
        from django.db import connection
        from django.db.models import Count, Sum

        from cegah.channels.models import OutboundMessage

        args = self.args
        rows = OutboundMessage.objects
        by_status = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
        references = {str(r) for r in rows.values_list("reference", flat=True)}
        per_reference = Counter(str(s["reference"]) for s in self.fake.sent)
        duplicates = sum(n - 1 for n in per_reference.values() if n > 1)
        accepted = {ref.rpartition(".")[0] for ref in per_reference}
        lost = len(references - accepted)
        resent = rows.aggregate(n=Sum("unconfirmed_resends"))["n"] or 0
        taken_over = rows.filter(claims__gt=1).count()
        stats = self.fake.stats()
        span = (stats["last_at"] - stats["first_at"]) if stats["first_at"] else 0.0
        steady = (stats["accepted"] - 1) / span if span else 0.0
        overall = stats["accepted"] / elapsed if elapsed else 0.0
        # The bulk of the run, kill included, without the tail (leases of the dead worker
        # running out, the reconcile window) that dominates short runs.
        times = [s["at"] for s in self.fake.sent]
        low, high = int(0.1 * len(times)), int(0.9 * len(times))
        bulk = (high - low) / (times[high] - times[low]) if high > low else 0.0
        print()
        print(
            f"machine      {platform.platform()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
        print(
            f"database     {connection.vendor}; {args.workers} send workers; lease {args.lease} s; "
            f"reconcile window {args.reconcile} s"
        )
        print(f"messages     {queued:,}; provider limit {args.rate:g} msg/s")
        for name, seconds in (stages or {}).items():
            print(f"  {name:<14} {seconds:8.1f} s")
        print(f"drain time   {elapsed:.1f} s (including the kill and the lease running out)")
        print(f"achieved     {overall:.1f} msg/s overall = {overall / args.rate:.3f} of the limit")
        print(
            f"             {steady:.1f} msg/s first to last send = "
            f"{steady / args.rate:.3f} of the limit"
        )
        print(
            f"             {bulk:.1f} msg/s from 10% to 90% of sends = {bulk / args.rate:.3f} of the limit"
        )
        self.stop_web()
        own = os.times()
        self.cpu["fake API + harness"] = own.user + own.system
        parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.cpu.items())
        print(
            f"CPU time     {parts} ({1000 * sum(self.cpu.values()) / max(1, queued):.1f} ms a message)"
        )
        print(f"429 answers  {stats['rate_limited']:,}")
        print(
            f"webhooks     {stats['webhooks_delivered']:,} delivered "
            f"({args.webhook_batch} statuses each at most), {stats['webhooks_refused']} refused, "
            f"{stats['statuses_pending']} statuses undelivered"
        )
        if self.kill.pid:
            kind = "as the provider accepted its send" if self.kill.reference else "at any instant"
            line = f"kill         pid {self.kill.pid} {kind}, after {self.kill.after:,} sends"
            if self.kill.reference:
                message = rows.filter(reference=self.kill.reference.rpartition(".")[0]).first()
                if message is not None:
                    line += (
                        f"; that send, never answered to the worker: accepted "
                        f"{per_reference[self.kill.reference]}x, message now {message.status}"
                    )
            print(line)
        print(
            f"recovery     {taken_over} messages taken over after a lease ran out; {resent} re-sent unconfirmed"
        )
        print(f"statuses     {by_status}")
        print(
            f"duplicates   {duplicates}  (sends of one message to one recipient beyond the first)"
        )
        print(f"lost         {lost}  (queued but never accepted by the provider)")
        done = sum(by_status.get(s, 0) for s in ("sent", "delivered", "read"))
        return lost == 0 and duplicates == 0 and done == queued
