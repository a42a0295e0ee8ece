"""Typed settings helpers that read environment variables and fail loudly.

Every knob is declared once in ``SETTINGS`` with its help text. ``docs/settings.md`` lists them, and
a test fails when a knob is declared but not documented (datasette's rule).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigurationError(RuntimeError):
    """Raised when an environment variable is missing or malformed."""


@dataclass(frozen=True)
class Knob:
    name: str
    kind: str
    default: str | None
    help: str


SETTINGS: dict[str, Knob] = {}


def _declare(name: str, kind: str, default: str | None, help: str) -> str | None:
    SETTINGS.setdefault(name, Knob(name, kind, default, help))
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw


def env_str(name: str, default: str | None, help: str) -> str:
    """Return the variable as text, or ``default``; raise ConfigurationError if both are absent."""
    value = _declare(name, "str", default, help)
    if value is None:
        raise ConfigurationError(f"{name} must be set: {help}")
    return value


def env_bool(name: str, default: bool, help: str) -> bool:
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off)."""
    value = _declare(name, "bool", "true" if default else "false", help)
    assert value is not None
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, help: str) -> int:
    """Return the variable as an integer."""
    value = _declare(name, "int", str(default), help)
    assert value is not None
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not an integer") from exc


def env_list(name: str, default: list[str], help: str) -> list[str]:
    """Return a comma-separated variable as a list of stripped, non-empty items."""
    value = _declare(name, "list", ",".join(default), help)
    assert value is not None
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...], help: str) -> str:
    """Return the variable if it is one of ``choices``."""
    value = env_str(name, default, help)
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


# The project's folder (the one holding ``manage.py``), as ``settings.BASE_DIR``.
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def var_dir() -> Path:
    """Return the folder for local state (``CEGAH_VAR_DIR``), read without Django."""
    return Path(
        env_str(
            "CEGAH_VAR_DIR",
            str(PROJECT_DIR / "var"),
            "Directory for local state: database, keys, uploads, analytics.",
        )
    )


def procurement_store(var: Path) -> Path:
    """Return the procurement store's DuckDB file (``CEGAH_PROCUREMENT_STORE``), without Django.

    Read here so that the engine's Django-free CLI (``cegah procurement import``) and the web
    agree on it.
    """
    return Path(
        env_str(
            "CEGAH_PROCUREMENT_STORE",
            str(var / "procurement.duckdb"),
            "DuckDB file of the procurement store, which `cegah procurement import` and the web's"
            " uploads write and the risk pages read.",
        )
    )


def local_secret(path: Path) -> str:
    """Return the secret stored at ``path``, creating it (mode 0600) on first use.

    Only for local runs: production must pass secrets through the environment so that every app
    process and worker shares them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        value = secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process (web or worker) created it first; use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
    return path.read_text().strip()
