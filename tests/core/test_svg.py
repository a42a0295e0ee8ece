"""The maps' SVG paths: compact, and drawing exactly the points they are meant to."""

from __future__ import annotations

import re

from cegah.core import svg

NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def absolute(path: str) -> list[list[tuple[int, int]]]:
    """Parse our subpaths ("M x y l dx dy ... z") back into absolute points, in tenths."""
    rings = []
    for sub in re.findall(r"M([^l]*)l([^z]*)z", path):
        x, y = (round(float(n) * 10) for n in NUMBER.findall(sub[0]))
        points = [(x, y)]
        deltas = [round(float(n) * 10) for n in NUMBER.findall(sub[1])]
        for dx, dy in zip(deltas[::2], deltas[1::2], strict=True):
            x, y = x + dx, y + dy
            points.append((x, y))
        rings.append(points)
    return rings


def test_relative_path_draws_the_same_points() -> None:
    points = [(1234, 567), (1239, 563), (1230, 570), (1230, 600), (1305, 600), (1234, 567)]
    path = svg._path(points)
    assert absolute(path) == [points]
    assert path == "M123.4 56.7l.5-.4-.9 .7 0 3 7.5 0-7.1-3.3z"


def test_national_map_drops_invisible_islands_but_no_region() -> None:
    codes = list(svg._features("regencies"))
    shapes, width, height = svg.choropleth([(c, c, "zone-none", "", c) for c in codes])
    assert len(shapes) == len(codes) and all(s.path for s in shapes)
    assert width == 760 and height > 0
    for shape in shapes:
        for ring in absolute(shape.path):
            assert len(ring) >= 3
            xs, ys = [x for x, _ in ring], [y for _, y in ring]
            assert (
                min(xs) >= 0 and max(xs) <= width * 10 and min(ys) >= 0 and max(ys) <= height * 10
            )
    total = sum(len(s.path) for s in shapes)
    assert total < 300_000  # 444,649 characters with absolute coordinates and every island
