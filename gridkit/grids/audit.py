"""Audit a unit grid layer against GB/T 30428.1 and the rules of the field (DOMAIN.md).

Rules (``qa_issue.RULE``), each reported once per fault with its place:

errors
    ``grid_code_numeric`` the code field is stored as a number (Excel/ArcGIS double): codes
    read from it cannot be trusted; ``grid_code_missing``, ``grid_code_invalid`` (not 15 digits,
    no valid community prefix, serial 000); ``grid_code_duplicate`` (one issue per code);
    ``grid_code_community`` the 12-digit prefix is not the community holding the grid (with
    communities); ``grid_across_communities`` a grid reaching into a second community by more
    than :data:`ACROSS_AREA` m² and :data:`ACROSS_SHARE` of its area; ``grid_gap`` land of the
    communities (or a hole between grids) no grid covers, at least :data:`GAP_AREA` m²;
    ``grid_overlap`` two grids covering the same land, at least :data:`GAP_AREA` m²;
    ``grid_multipart`` a grid of several polygons; ``grid_invalid_geometry``; ``grid_empty``.
warnings
    ``grid_sliver`` a grid under :data:`SLIVER_RATIO` × the target area or thinner than
    :data:`SLIVER_WIDTH` m on average; ``grid_size_band`` other grids outside 0.5–2× the
    target; ``grid_outside_communities``; ``grid_community_disconnected`` (without
    communities: one prefix's grids fall apart); ``grid_serial_gap`` (serials never used in a
    community, one issue per community).

Gaps and overlaps smaller than :data:`GAP_AREA` are digitising noise and not reported.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.codes.admin import CodeError, parse_bgid
from gridkit.crs import CGCS2000_GEOGRAPHIC
from gridkit.grids.fields import GridLayer
from gridkit.qa import QAIssue

GAP_AREA = 1.0  # m²: smaller gaps and overlaps are rounding, not faults
ACROSS_AREA = 20.0  # m²: a grid's piece in a second community larger than this ...
ACROSS_SHARE = 0.02  # ... and than this share of the grid crosses the border
SLIVER_RATIO = 0.1  # × target area
SLIVER_WIDTH = 5.0  # m: mean width 2·area/perimeter
BAND = (0.5, 2.0)  # × target area, as the partition's band
LAYER = "unit_grid"


@dataclass
class Audit:
    """What :func:`audit_grids` found.

    ``grids`` holds the grids in the working CRS with CODE (text), FID (the source feature
    id), VALID (a usable single polygon), HOLDER (code of the community holding most of it,
    '' when unknown) and the repaired geometry; ``issues`` the QA issues; ``figures`` the
    numbers ``--json`` prints.
    """

    grids: gpd.GeoDataFrame
    issues: list[QAIssue] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(i.severity == "error" for i in self.issues)


class _Found:
    """Issues collected with a ``{place}`` placeholder, filled in one reprojection."""

    def __init__(self, crs: pyproj.CRS) -> None:
        self.crs = crs
        self.items: list[QAIssue] = []

    def add(self, key: str, rule: str, severity: str, message: str, geometry=None) -> None:
        self.items.append(QAIssue(LAYER, key, rule, severity, message, geometry))

    def done(self) -> list[QAIssue]:
        for issue in self.items:
            if "{place}" in issue.message and (issue.geometry is None
                                               or issue.geometry.is_empty):
                issue.message = issue.message.replace("{place}", "an unknown place")
        placed = [k for k, i in enumerate(self.items) if "{place}" in i.message]
        if placed:
            points = gpd.GeoSeries([self.items[k].geometry.representative_point()
                                    for k in placed], crs=self.crs).to_crs(CGCS2000_GEOGRAPHIC)
            for k, x, y in zip(placed, points.x, points.y, strict=True):
                self.items[k].message = self.items[k].message.replace(
                    "{place}", f"{x:.5f}°E {y:.5f}°N")
        return self.items


def audit_grids(layer: GridLayer, crs: pyproj.CRS,
                communities: gpd.GeoDataFrame | None = None, *,
                target_area: float = 10_000) -> Audit:
    """Check a city's unit grids; nothing is changed.

    Parameters
    ----------
    layer : GridLayer
        The grids as :func:`gridkit.grids.fields.grid_layer` read them (any CRS).
    crs : pyproj.CRS
        The projected metric CRS to measure in (areas in m²).
    communities : GeoDataFrame, optional
        Communities with CODE (12 digits) as :func:`gridkit.partition.communities.
        prepare_communities` gives them, in ``crs``. Without them, prefixes are checked only
        against each other.
    target_area : float
        The unit grid area the city aims for, m² (slivers and the size band).

    Returns
    -------
    Audit

    Examples
    --------
    >>> found = audit_grids(layer, crs, communities)  # doctest: +SKIP
    >>> found.errors, found.figures["by_rule"]  # doctest: +SKIP
    """
    found = _Found(crs)
    frame = layer.frame.to_crs(crs)
    fids = np.array([str(i) for i in frame.index], dtype=object)
    codes = frame["CODE"].to_numpy(dtype=object)
    keys = np.array([c if c else f"#{f}" for c, f in zip(codes, fids, strict=True)],
                    dtype=object)
    geoms, valid = _geometry_checks(frame.geometry.to_numpy(), fids, keys, layer.source, found)
    valid_code = _code_checks(codes, fids, keys, geoms, layer, found)
    _overlaps(geoms, valid, keys, found)
    holder = np.full(len(geoms), "", dtype=object)
    if communities is not None and len(communities):
        holder = _community_checks(geoms, valid, codes, valid_code, keys, communities, found)
        _gaps(shapely.union_all(communities.geometry.to_numpy()), geoms, valid, found,
              between=False)
    else:
        _gaps(None, geoms, valid, found, between=True)
        _prefix_checks(geoms, valid, codes, valid_code, found)
    _size_checks(geoms, valid, keys, fids, target_area, found)
    _serial_gaps(codes[valid_code], found)
    issues = found.done()
    grids = gpd.GeoDataFrame({"CODE": codes, "FID": fids, "VALID": valid, "HOLDER": holder},
                             geometry=geoms, crs=crs)
    return Audit(grids, issues, _figures(layer, grids, issues, target_area))


def _geometry_checks(geoms, fids, keys, source, found):
    geoms = geoms.copy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array(["" if e else g.geom_type for g, e in zip(geoms, empty, strict=True)])
    polygonal = np.isin(kinds, ["Polygon", "MultiPolygon"])
    for i in np.flatnonzero(empty | ~polygonal):
        what = "has no geometry" if empty[i] else f"is a {kinds[i]}, not a polygon"
        found.add(keys[i], "grid_empty", "error",
                  f"{source}: feature {fids[i]} ({keys[i]}) {what}; remove it or draw it")
    usable = ~empty & polygonal
    invalid = usable & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        for i, reason, repaired in zip(np.flatnonzero(invalid), reasons, fixed, strict=True):
            found.add(keys[i], "grid_invalid_geometry", "error",
                      f"grid {keys[i]} (feature {fids[i]}) at {{place}} is invalid ({reason}); "
                      "gridkit grids adopt --repair fixes it with make_valid", geoms[i])
            geoms[i] = _polygonal(repaired)
    parts = shapely.get_num_geometries(geoms)
    multi = usable & (parts > 1)
    for i in np.flatnonzero(multi):
        found.add(keys[i], "grid_multipart", "error",
                  f"grid {keys[i]} (feature {fids[i]}) at {{place}} has {parts[i]} separate "
                  "parts; a unit grid is one polygon: split it (new codes for the other parts) "
                  "or merge the parts into their neighbours", geoms[i])
    valid = usable & ~shapely.is_empty(geoms)
    return geoms, valid


def _polygonal(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _code_checks(codes, fids, keys, geoms, layer: GridLayer, found) -> np.ndarray:
    if layer.numeric:
        found.add(layer.code_field, "grid_code_numeric", "error",
                  f"{layer.source}: field {layer.code_field} holds the codes as numbers "
                  "(Excel/ArcGIS double or integer), which can round or drop digits: store "
                  "the codes as text and check them against the paper register")
    ok = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        if not code:
            found.add(keys[i], "grid_code_missing", "error",
                      f"feature {fids[i]} at {{place}}: field {layer.code_field} is empty; give "
                      "the grid its 15-digit code", geoms[i] if geoms[i] is not None else None)
            continue
        try:
            parse_bgid(code)
        except CodeError as exc:
            found.add(keys[i], "grid_code_invalid", "error",
                      f"feature {fids[i]} field {layer.code_field}: {exc}", geoms[i])
            continue
        ok[i] = True
    counts = Counter(codes[ok])
    for code in sorted(c for c, n in counts.items() if n > 1):
        members = np.flatnonzero(codes == code)
        shape = shapely.union_all([g for g in geoms[members] if g is not None])
        found.add(code, "grid_code_duplicate", "error",
                  f"code {code} is held by {len(members)} features "
                  f"({', '.join(fids[members])}) at {{place}}; each grid needs its own code",
                  shape)
    return ok


def _overlaps(geoms, valid, keys, found) -> None:
    index = np.flatnonzero(valid)
    shapes = geoms[index]
    tree = shapely.STRtree(shapes)
    a, b = tree.query(shapes, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inner = shapely.relate_pattern(shapes[a], shapes[b], "2********")
    a, b = a[inner], b[inner]
    pieces = shapely.intersection(shapes[a], shapes[b])
    for i, j, piece in zip(index[a], index[b], pieces, strict=True):
        piece = _polygonal(piece)
        if piece.area < GAP_AREA:
            continue
        first, second = sorted((keys[i], keys[j]))
        found.add(f"{first}|{second}", "grid_overlap", "error",
                  f"grids {first} and {second} overlap by {piece.area:,.1f} m² at {{place}}",
                  piece)


def _gaps(area, geoms, valid, found, *, between: bool) -> None:
    """Land no grid covers: of ``area`` (the communities), or holes between the grids."""
    union = shapely.union_all(geoms[valid])
    if between:
        pieces = [shapely.Polygon(ring) for poly in shapely.get_parts(union)
                  for ring in poly.interiors]
        pieces = [_polygonal(shapely.difference(p, union)) for p in pieces]
        pieces = [q for p in pieces for q in shapely.get_parts(p)]
    else:
        pieces = list(shapely.get_parts(_polygonal(shapely.difference(area, union))))
    for piece in sorted(pieces, key=lambda p: (p.bounds[1], p.bounds[0])):
        if piece.area < GAP_AREA:
            continue
        width = 2 * piece.area / piece.length if piece.length else 0.0
        x0, y0, x1, y1 = piece.bounds
        found.add(f"gap@{(x0 + x1) / 2:.0f},{(y0 + y1) / 2:.0f}", "grid_gap", "error",
                  f"a gap of {piece.area:,.1f} m² (mean width {width:,.1f} m) at {{place}} "
                  "lies in no unit grid; redraw the neighbouring grids to close it", piece)


def _community_checks(geoms, valid, codes, valid_code, keys, communities, found) -> np.ndarray:
    comm_geoms = communities.geometry.to_numpy()
    comm_codes = communities["CODE"].to_numpy(dtype=object)
    index = np.flatnonzero(valid)
    g, c = shapely.STRtree(comm_geoms).query(geoms[index], predicate="intersects")
    pieces = shapely.intersection(geoms[index][g], comm_geoms[c])
    areas = shapely.area(pieces)
    holder = np.full(len(geoms), "", dtype=object)
    table = pd.DataFrame({"g": index[g], "c": c, "area": areas}).sort_values(
        ["g", "area"], ascending=[True, False], kind="stable")
    covered = table.groupby("g")["area"].sum()
    for grid, rows in table.groupby("g", sort=True):
        grid_area = geoms[grid].area
        holder[grid] = comm_codes[rows["c"].iloc[0]]
        limit = max(ACROSS_AREA, ACROSS_SHARE * grid_area)
        for k, (other, area) in enumerate(zip(rows["c"], rows["area"], strict=True)):
            if k == 0 or area <= limit:
                continue
            piece_index = table.index[table["g"].eq(grid) & table["c"].eq(other)][0]
            found.add(keys[grid], "grid_across_communities", "error",
                      f"grid {keys[grid]} lies in community {holder[grid]} but {area:,.0f} m² "
                      f"of it at {{place}} is in community {comm_codes[other]}; a unit grid "
                      "lies in exactly one community: cut it at the border",
                      _polygonal(pieces[piece_index]))
    for grid in index:
        outside = geoms[grid].area - covered.get(grid, 0.0)
        if outside > max(ACROSS_AREA, ACROSS_SHARE * geoms[grid].area):
            found.add(keys[grid], "grid_outside_communities", "warning",
                      f"grid {keys[grid]} at {{place}} has {outside:,.0f} m² outside every "
                      "community given", geoms[grid])
        if valid_code[grid] and holder[grid] and codes[grid][:12] != holder[grid]:
            found.add(keys[grid], "grid_code_community", "error",
                      f"grid {keys[grid]} at {{place}} lies in community {holder[grid]} but its "
                      f"code starts with {codes[grid][:12]}; recode it as {holder[grid]}NNN",
                      geoms[grid])
    return holder


def _prefix_checks(geoms, valid, codes, valid_code, found) -> None:
    use = valid & valid_code
    prefixes = pd.Series(codes[use]).str[:12]
    counties = sorted(prefixes.str[:6].unique())
    if len(counties) > 1:
        found.add("|".join(counties), "grid_counties", "warning",
                  f"codes come from {len(counties)} counties ({', '.join(counties[:5])}); "
                  "check the prefixes or give --communities")
    shapes = geoms[use]
    for prefix, members in prefixes.groupby(prefixes, sort=True).groups.items():
        union = shapely.union_all(shapes[np.asarray(members)])
        parts = shapely.get_num_geometries(union)
        if parts > 1:
            found.add(prefix, "grid_community_disconnected", "warning",
                      f"the grids coded {prefix}NNN fall into {parts} separate pieces (one at "
                      "{place}); a grid with a wrong prefix, or a community in pieces", union)


def _size_checks(geoms, valid, keys, fids, target_area, found) -> None:
    areas = shapely.area(geoms)
    lengths = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(lengths > 0, 2 * areas / lengths, 0.0)
    sliver = valid & ((areas < SLIVER_RATIO * target_area) | (width < SLIVER_WIDTH))
    for i in np.flatnonzero(sliver):
        found.add(keys[i], "grid_sliver", "warning",
                  f"grid {keys[i]} (feature {fids[i]}) at {{place}} is a sliver: "
                  f"{areas[i]:,.1f} m², mean width {width[i]:,.1f} m; merge it into a "
                  "neighbour (gridkit grids adopt --repair does)", geoms[i])
    low, high = BAND
    off = valid & ~sliver & ((areas < low * target_area) | (areas > high * target_area))
    for i in np.flatnonzero(off):
        found.add(keys[i], "grid_size_band", "warning",
                  f"grid {keys[i]} at {{place}} has {areas[i]:,.0f} m², outside "
                  f"{low:g}-{high:g}× the target {target_area:,.0f} m²", geoms[i])


def _serial_gaps(codes: np.ndarray, found) -> None:
    serials: dict[str, set[int]] = {}
    for code in codes:
        serials.setdefault(code[:12], set()).add(int(code[12:]))
    for prefix in sorted(serials):
        used = serials[prefix]
        missing = sorted(set(range(1, max(used) + 1)) - used)
        if missing:
            shown = ", ".join(f"{s:03d}" for s in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            found.add(prefix, "grid_serial_gap", "warning",
                      f"community {prefix} has no grids with serials {shown}{more} (up to "
                      f"{max(used):03d}); retired codes are fine, lost grids are not")


def _figures(layer: GridLayer, grids: gpd.GeoDataFrame, issues: list[QAIssue],
             target_area: float) -> dict:
    areas = shapely.area(grids.geometry.to_numpy()[grids["VALID"].to_numpy()])
    rules = Counter(i.rule for i in issues)
    def total(rule: str) -> float:
        return round(sum(i.geometry.area for i in issues if i.rule == rule), 1)
    low, high = BAND
    return {
        "source": layer.source,
        "code_field": layer.code_field,
        "code_field_numeric": layer.numeric,
        "unit_grids": int(len(grids)),
        "communities": int(pd.Series(grids["CODE"]).str[:12].nunique()),
        "area_m2": ({"min": round(float(areas.min()), 1),
                     "median": round(float(np.median(areas)), 1),
                     "max": round(float(areas.max()), 1), "total": round(float(areas.sum()), 1)}
                    if len(areas) else None),
        "in_band_share": (round(float(((areas >= low * target_area)
                                       & (areas <= high * target_area)).mean()), 4)
                          if len(areas) else None),
        "gaps": {"count": rules.get("grid_gap", 0), "area_m2": total("grid_gap")},
        "overlaps": {"count": rules.get("grid_overlap", 0), "area_m2": total("grid_overlap")},
        "errors": sum(i.severity == "error" for i in issues),
        "warnings": sum(i.severity == "warning" for i in issues),
        "by_rule": dict(sorted(rules.items())),
        "target_area": target_area,
    }
