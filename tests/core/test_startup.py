"""Django's start-up, which every command, the worker and the web pay, loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported where they are used (each takes a tenth to half a second to import).
LAZY = ("datasketch", "scipy", "pyxform", "openpyxl", "lokal", "polars")

SCRIPT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "cegah.settings"
import django
django.setup()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:])))
"""


def test_django_setup_imports_no_heavy_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *LAZY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout) == []
