"""Shared fixtures for the procurement engine tests (no Django, no database)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from cegah.procurement.engine import compute, parse_settings

DATA = Path("/work/shared/data/ocds")


def needs_data(path: Path) -> Any:
    """Skip (cleanly) when the shared data folder is not mounted."""
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not available")


@pytest.fixture
def run_indicators(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Return a function: (releases or path, settings INI text, **options) -> output dict."""

    def run(
        releases: Iterable[dict[str, Any]] | Path,
        ini: str | None = None,
        *,
        meta: bool = False,
        map: bool = False,
    ) -> dict[str, Any]:
        if isinstance(releases, Path):
            path = releases
        else:
            path = tmp_path / "input.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in releases), encoding="utf-8")
        settings = None if ini is None else parse_settings(ini)
        with compute(path, settings, map=map) as result:
            return result.to_dict(meta=meta)

    return run
