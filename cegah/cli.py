"""The `cegah` operator command. It wraps manage.py and adds `serve`.

cegah serve [--with-worker] [--host H] [--port P] [--workers N]
cegah worker                 task worker + scheduler
cegah demo [load|logins|otp USER]
cegah audit verify
cegah <any manage.py command>   (migrate, refresh_regions, procurement …, survey …)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from cegah.core.env import env_int, env_str


def serve_defaults() -> dict[str, object]:
    """Read the `cegah serve` knobs (declared here so docs/settings.md lists them too)."""
    return {
        "host": env_str("CEGAH_HOST", "127.0.0.1", "Address `cegah serve` binds to."),
        "port": env_int("CEGAH_PORT", 8000, "Port `cegah serve` listens on."),
        "workers": env_int("CEGAH_WEB_WORKERS", 2, "Web worker processes of `cegah serve`."),
        "threads": env_int("CEGAH_WEB_THREADS", 4, "Threads per web worker process."),
    }


def _serve(argv: list[str]) -> int:
    defaults = serve_defaults()
    parser = argparse.ArgumentParser(
        prog="cegah serve", description="Serve the web app with granian."
    )
    parser.add_argument("--host", default=defaults["host"])
    parser.add_argument("--port", type=int, default=defaults["port"])
    parser.add_argument("--workers", type=int, default=defaults["workers"])
    parser.add_argument("--threads", type=int, default=defaults["threads"])
    parser.add_argument(
        "--with-worker", action="store_true", help="Also run one task worker (local runs)."
    )
    args = parser.parse_args(argv)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="cegah.settings")
    # No access log: request lines would put anonymous follow-up URLs and client addresses in logs.
    web_cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
        "--blocking-threads",
        str(args.threads),
        "--no-access-log",
        "--log-level",
        "warning",
        "cegah.wsgi:application",
    ]
    procs = []
    if args.with_worker:
        procs.append(subprocess.Popen([sys.executable, "-m", "cegah.cli", "worker"], env=env))
    procs.append(subprocess.Popen(web_cmd, env=env))
    print(f"Cegah is serving on http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)

    def stop(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            for proc in procs:
                code = proc.poll()
                if code is not None:
                    stop()
                    for other in procs:
                        other.wait(timeout=15)
                    return code
            with contextlib.suppress(subprocess.TimeoutExpired):
                procs[-1].wait(timeout=1)
    except KeyboardInterrupt:
        stop()
        for proc in procs:
            proc.wait(timeout=15)
        return 0


def main(argv: list[str] | None = None) -> int:
    """Run a `cegah` command; Ctrl-C ends it with "dibatalkan / interrupted" and status 130.

    Also while the command is still starting (importing Django or the engine), where Python
    would otherwise print a KeyboardInterrupt traceback.
    """
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.stderr.write("dibatalkan / interrupted\n")
        return 130


def _dispatch(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cegah.settings")
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    if argv[:2] in (["procurement", "indicators"], ["procurement", "import"]):
        # The red-flag engine and its store are Django-free: skip Django's start-up (about two
        # seconds) for what is often run in scripts on large files.
        from cegah.procurement.engine.cli import main as engine

        return engine(argv[1:])
    if argv[:2] == ["procurement", "score"] and _ini_after_settings(argv[2:]):
        # Django would take it for its settings module and fail on an import error.
        sys.stderr.write(
            "error: --settings adalah opsi Django; berkas pengaturan indikator diberikan dengan"
            " --indicators FILE.ini / --settings is Django's option; give the indicator"
            " settings with --indicators FILE.ini\n"
        )
        return 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cegah", *argv])
    return 0


def _ini_after_settings(args: list[str]) -> bool:
    """Return whether ``args`` pass an INI file to ``--settings``."""
    for i, arg in enumerate(args):
        value = arg.removeprefix("--settings=") if arg.startswith("--settings=") else None
        if arg == "--settings" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None and value.lower().endswith(".ini"):
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
