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


# --- Django side: a small scored store ----------------------------------------------------------


def release(
    n: int,
    buyer: str,
    *,
    bidders: int = 3,
    registrants: int = 10,
    hps: float = 1_000_000_000,
    title: str = "Pembangunan jalan desa dan jembatan penghubung",
    month: int = 3,
) -> dict[str, Any]:
    """Return an SPSE-like OCDS compiled release; ``bidders=1`` with registrants fires ID01."""
    date = f"2025-{month:02d}-03T09:00:00+07:00"
    end = f"2025-{month:02d}-20T09:00:00+07:00"  # 17 days: no short-period flag
    step = 0.04 + 0.015 * (n % 7)  # varied gaps between offers, so the R024/R058 fences are real
    suppliers = [f"ID-SIKAP-{n}{i}" for i in range(bidders)]
    return {
        "ocid": f"ocds-test-{n}",
        "date": date,
        "buyer": {"id": buyer, "name": f"Satker {buyer}"},
        "planning": {"budget": {"amount": {"amount": hps * 1.05, "currency": "IDR"}}},
        "tender": {
            "id": str(n),
            "title": title,
            "status": "complete",
            "procurementMethod": "open",
            "procurementMethodDetails": "Tender",
            "mainProcurementCategory": "works",
            "value": {"amount": hps, "currency": "IDR"},
            "datePublished": date,
            "tenderPeriod": {"startDate": date, "endDate": end},
            "awardCriteria": "priceOnly",
        },
        "bids": {
            "statistics": [{"id": "1", "measure": "requests", "value": registrants}],
            "details": [
                {
                    "id": f"{n}-{i}",
                    "status": "valid",
                    "date": date,
                    "tenderers": [{"id": s}],
                    "value": {"amount": hps * (0.99 - step * i), "currency": "IDR"},
                }
                for i, s in enumerate(suppliers)
            ],
        },
        "awards": [
            {
                "id": f"{n}-a",
                "status": "active",
                "date": f"2025-{month:02d}-20T09:00:00+07:00",
                "value": {"amount": hps * (0.99 - step * (bidders - 1)), "currency": "IDR"},
                "suppliers": [{"id": suppliers[-1], "name": f"PT Pemenang {n}"}],
            }
        ],
        "parties": [
            {"id": buyer, "name": f"Satker {buyer}", "roles": ["buyer"]},
            *[{"id": s, "name": f"PT Penyedia {s}", "roles": ["tenderer"]} for s in suppliers],
        ],
    }


def write_releases(path: Path, releases: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in releases), encoding="utf-8")
    return path


@pytest.fixture
def procurement_store(settings: Any, tmp_path: Path) -> Path:
    """Point VAR_DIR and the store at a temporary folder."""
    settings.VAR_DIR = tmp_path / "var"
    settings.PROCUREMENT_STORE = settings.VAR_DIR / "procurement.duckdb"
    return settings.PROCUREMENT_STORE
