"""Server-rendered charts and maps as SVG geometry (no JavaScript): the template draws them.

Colours come from CSS classes (monitoring.css, cegah.css), never inline styles, to keep the strict CSP.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.dates import MONTHS_3
from django.utils.text import capfirst

GEO_DIR = Path(settings.BASE_DIR) / "cegah" / "static" / "geo"


@functools.cache
def _features(kind: str) -> dict[str, dict[str, Any]]:
    """Return code → GeoJSON feature for "provinces" or "regencies" (parsed once per process)."""
    with (GEO_DIR / f"{kind}.geojson").open(encoding="utf-8") as handle:
        data = json.load(handle)
    return {f["properties"]["code"]: f for f in data["features"]}


@dataclass
class MapShape:
    code: str
    name: str
    path: str
    css: str
    url: str
    label: str


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def choropleth(
    items: list[tuple[str, str, str, str, str]], width: int = 760
) -> tuple[list[MapShape], int, int]:
    """Project regions onto an SVG canvas; return ``(shapes, width, height)``.

    ``items`` are ``(region code, name, css class, link, label)``; codes with a dot are kab/kota,
    others provinces. An equirectangular projection scaled by cos(latitude) is close enough at a
    province's or the country's scale. Points closer than half a pixel are dropped, which keeps a
    province map to a few tens of kilobytes.
    """
    found = []
    for code, name, css, url, label in items:
        feature = _features("regencies" if "." in code else "provinces").get(code)
        if feature is not None:
            found.append((feature, code, name, css, url, label))
    if not found:
        return [], width, 0
    all_points = [pt for f, *_rest in found for ring in _rings(f["geometry"]) for pt in ring]
    min_lon = min(p[0] for p in all_points)
    max_lon = max(p[0] for p in all_points)
    min_lat = min(p[1] for p in all_points)
    max_lat = max(p[1] for p in all_points)
    k = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * k, 1e-6)
    span_y = max(max_lat - min_lat, 1e-6)
    pad = 8
    scale = (width - 2 * pad) / span_x
    height = int(span_y * scale + 2 * pad)
    shapes = []
    for feature, code, name, css, url, label in found:
        rings = []
        for ring in _rings(feature["geometry"]):
            last: tuple[float, float] | None = None
            points = []  # in tenths of a pixel
            for lon, lat, *_z in ring:
                x = pad + (lon - min_lon) * k * scale
                y = pad + (max_lat - lat) * scale
                if last is None or abs(x - last[0]) + abs(y - last[1]) >= 0.5:
                    points.append((round(x * 10), round(y * 10)))
                    last = (x, y)
            if len(points) >= 3:
                rings.append(points)
        # Islands smaller than a pixel each way cannot be seen; a region made only of such
        # islands keeps its largest, so that it stays on the map.
        seen = [r for r in rings if _extent(r) >= 10] or sorted(rings, key=_extent)[-1:]
        shapes.append(MapShape(code, name, "".join(_path(r) for r in seen), css, url, label))
    return shapes, width, height


def _extent(points: list[tuple[int, int]]) -> int:
    """Return the larger side of a ring's bounding box (in tenths of a pixel)."""
    xs = [x for x, _y in points]
    ys = [y for _x, y in points]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def _tenths(value: int) -> str:
    """Format tenths of a pixel shortly: 15 -> "1.5", -4 -> "-.4", 20 -> "2"."""
    whole, tenth = divmod(abs(value), 10)
    sign = "-" if value < 0 else ""
    if not tenth:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{tenth}"


def _path(points: list[tuple[int, int]]) -> str:
    """Return a closed SVG subpath: an absolute move, then relative lines (a third of the size)."""
    (x0, y0), rest = points[0], points[1:]
    out = [f"M{_tenths(x0)} {_tenths(y0)}l"]
    px, py = x0, y0
    for x, y in rest:
        dx, dy = _tenths(x - px), _tenths(y - py)
        # Numbers run together where a sign separates them; otherwise a space does.
        out.append(
            f"{'' if dx[0] == '-' or len(out) == 1 else ' '}{dx}{'' if dy[0] == '-' else ' '}{dy}"
        )
        px, py = x, y
    return "".join(out) + "z"


@dataclass
class Series:
    css: str
    points: str
    dots: list[tuple[float, float, str]]


def s_curve_geometry(
    points: list[dict[str, Any]], width: int = 640, height: int = 280
) -> dict[str, Any]:
    """Return polylines for the S-curve: months on x, cumulative % (0–100) on y."""
    left, right, top, bottom = 40, 10, 10, 30
    plot_w = width - left - right
    plot_h = height - top - bottom

    def xy(month: int, pct: Decimal) -> tuple[float, float]:
        x = left + (month - 1) / 11 * plot_w
        y = top + (1 - min(max(float(pct), 0.0), 110.0) / 100) * plot_h
        return round(x, 1), round(y, 1)

    series = {}
    for key, css in (
        ("financial_target", "s-target-fin"),
        ("physical_target", "s-target-phys"),
        ("financial", "s-fin"),
        ("physical", "s-phys"),
    ):
        pts = [(p["month"], p[key]) for p in points if p[key] is not None]
        coords = [xy(m, v) for m, v in pts]
        series[key] = Series(
            css,
            " ".join(f"{x},{y}" for x, y in coords),
            [(x, y, f"{float(v):.1f}%") for (x, y), (_m, v) in zip(coords, pts, strict=True)],
        )
    grid = [
        {"y": round(top + (1 - g / 100) * plot_h, 1), "label": f"{g}%"}
        for g in (0, 25, 50, 75, 100)
    ]
    # Short month names in the reader's language ("Agu"), not numbers.
    months = [
        {"x": round(left + (m - 1) / 11 * plot_w, 1), "label": capfirst(str(MONTHS_3[m]))}
        for m in range(1, 13)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
        "series": series,
        "grid": grid,
        "months": months,
    }


def trend_geometry(
    values: list[tuple[str, Decimal]], width: int = 480, height: int = 160
) -> dict[str, Any]:
    """Return a polyline for scores over periods (0–100)."""
    left, right, top, bottom = 30, 10, 10, 24
    n = max(len(values), 1)
    step = (width - left - right) / max(n - 1, 1)
    pts = []
    for i, (label, score) in enumerate(values):
        x = round(left + i * step, 1)
        y = round(top + (1 - float(score) / 100) * (height - top - bottom), 1)
        pts.append({"x": x, "y": y, "label": label, "score": f"{float(score):.2f}"})
    return {
        "width": width,
        "height": height,
        "points": pts,
        "line": " ".join(f"{p['x']},{p['y']}" for p in pts),
        "bottom": height - bottom,
        "left": left,
        "right": width - right,
    }
