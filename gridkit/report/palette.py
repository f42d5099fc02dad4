"""Colours shared by the interactive map, the charts and the PNG maps.

So that a class or a band has one colour wherever it appears. Colour-blind-safe (Tableau 10) hues.
"""

from __future__ import annotations

CLASS_COLOURS = ["#4e79a7", "#f28e2b", "#b07aa1", "#59a14f", "#9c755f", "#7f7f7f",
                 "#edc948", "#76b7b2", "#ff9da7", "#e15759"]
DENSE = "#f4a259"
SPARSE = "#8cb9de"
BAND_OTHER = ["#c5a3d9", "#a6d96a", "#fdd49e", "#bababa"]
SEVERITY = {"error": "#d62728", "warning": "#f0a202"}
VERDICT = {"pass": "#2ca02c", "fail": "#d62728", "empty": "#9e9e9e"}
OTHER = "#555555"


def class_colour(code: str, order: list[str]) -> str:
    """The colour of a major class: national classes 01–06 by their code, others by rank."""
    if code.isdigit() and 1 <= int(code) <= 6:
        return CLASS_COLOURS[int(code) - 1]
    extras = [c for c in order if not (c.isdigit() and 1 <= int(c) <= 6)]
    rank = extras.index(code) if code in extras else len(extras)
    return CLASS_COLOURS[6 + rank] if rank < 4 else OTHER


def band_colours(bands: list[str], density_of: dict[str, str]) -> dict[str, str]:
    """A colour per BAND value: warm for the dense band, cool for the sparse one."""
    colours: dict[str, str] = {}
    spare = iter(BAND_OTHER)
    for band in bands:
        density = density_of.get(band, "")
        if density == "dense" and DENSE not in colours.values():
            colours[band] = DENSE
        elif density == "sparse" and SPARSE not in colours.values():
            colours[band] = SPARSE
        else:
            colours[band] = next(spare, OTHER)
    return colours
