"""Where uploaded files go: random names under MEDIA_ROOT, never the uploader's file name.

The original name is kept in a model field for display only; a guessable or user-chosen path would
let one upload overwrite or reveal another. Module-level functions so migrations can refer to them.
"""

from __future__ import annotations

import secrets
from pathlib import PurePath


def _random_name(prefix: str, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"monitoring/{prefix}/{secrets.token_hex(16)}{suffix}"


def evidence_upload_to(instance: object, filename: str) -> str:
    return _random_name("evidence", filename)


def minutes_upload_to(instance: object, filename: str) -> str:
    return _random_name("minutes", filename)


def progress_upload_to(instance: object, filename: str) -> str:
    return _random_name("progress", filename)
