"""Audit a unit grid layer against GB/T 30428.1 and the rules of the field (DOMAIN.md).

Rules (``qa_issue.RULE``), each reported once per fault with its place:

Errors (severity ``error``)
    ``grid-code-missing``, ``grid-code-invalid`` (not 15 digits,
    no valid community prefix, serial 000); ``grid-code-duplicate`` (one issue per code);
    ``grid-code-community`` the 12-digit prefix is not the community holding the grid (with
    communities); ``grid-across-communities`` a grid reaching into a second community by more
    than :data:`ACROSS_AREA` m² and :data:`ACROSS_SHARE` of its area; ``grid-gap`` land of the
    communities (or a hole between grids) no grid covers, at least :data:`GAP_AREA` m²;
    ``grid-overlap`` two grids covering the same land, at least :data:`GAP_AREA` m²;
    ``grid-multipart`` a grid of several polygons; ``grid-invalid-geometry``;
    ``grid-empty-geometry``.
Warnings (severity ``warning``)
    ``grid-code-numeric`` the code field is stored as a number (Excel/ArcGIS double): 15-digit
    codes survive it exactly and are read back as text, codes that lost digits fail as invalid;
    ``grid-sliver`` a grid under :data:`SLIVER_RATIO` × the target area or thinner than
    :data:`SLIVER_WIDTH` m on average; ``grid-size-band`` other grids outside 0.5–2× the
    target; ``grid-outside-communities``; ``grid-community-disconnected`` (without
    communities: one prefix's grids fall apart); ``grid-serial-gap`` (serials never used in a
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
from gridkit.partition.counties import room_of_grids
from gridkit.qa import QAIssue
from gridkit.result import IssuesAsQA

GAP_AREA = 1.0  # m²: smaller gaps and overlaps are rounding, not faults
ACROSS_AREA = 20.0  # m²: a grid's piece in a second community larger than this ...
ACROSS_SHARE = 0.02  # ... and than this share of the grid crosses the border
SLIVER_RATIO = 0.1  # × target area
SLIVER_WIDTH = 5.0  # m: mean width 2·area/perimeter
BAND = (0.5, 2.0)  # × target area, as the partition's band
LAYER = "unit_grid"


@dataclass
class Audit(IssuesAsQA):
    """What :func:`audit_grids` found.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        The grids in the working CRS with CODE (text), FID (the source feature id), VALID (a
        usable single polygon), HOLDER (code of the community holding most of it, ``""`` when
        unknown) and the repaired geometry.
    issues : list of QAIssue
        One per fault: code shape and uniqueness (GB/T 30428.1), gaps and overlaps, slivers,
        grids across communities, sizes outside the band.
    figures : dict
        The numbers ``--json`` prints: counts, area, share in the size band, errors and
        warnings by rule.

    Examples
    --------
    >>> import geopandas as gpd, pyproj, shapely
    >>> from gridkit.grids import audit_grids, grid_layer
    >>> frame = gpd.GeoDataFrame({"BGID": ["310116001001001", "310116001001001"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4549)
    >>> found = audit_grids(grid_layer(frame), pyproj.CRS.from_epsg(4549))
    >>> found.errors > 0, found.figures["unit_grids"]
    (True, 2)
    """

    qa_crs_from = "grids"  # the frame whose CRS the qa_issue frame takes

    grids: gpd.GeoDataFrame
    issues: list[QAIssue] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """The number of issues of severity ``error``."""
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
        # Those left have a geometry: the loop above placed the others.
        placed = [k for k, i in enumerate(self.items)
                  if "{place}" in i.message and i.geometry is not None]
        if placed:
            points = gpd.GeoSeries([shapely.point_on_surface(self.items[k].geometry)
                                    for k in placed], crs=self.crs).to_crs(CGCS2000_GEOGRAPHIC)
            for k, x, y in zip(placed, points.x, points.y, strict=True):
                self.items[k].message = self.items[k].message.replace(
                    "{place}", f"{x:.5f}°E {y:.5f}°N")
        return self.items


def audit_grids(layer: GridLayer, crs: pyproj.CRS,
                communities: gpd.GeoDataFrame | None = None, *,
                target_area: float = 10_000) -> Audit:
    """Check a city's unit grids against GB/T 30428.1; nothing is changed.

    Codes (15 digits, unique, their community prefix), geometry (valid single polygons, no gaps
    or overlaps between grids, no slivers), size (the 0.5-2× ``target_area`` band) and, with
    ``communities``, that each grid lies in the community its code names.

    Parameters
    ----------
    layer : GridLayer
        The grids as :func:`gridkit.grids.fields.grid_layer` read them (any CRS).
    crs : pyproj.CRS
        The projected metric CRS to measure in (areas in m²).
    communities : geopandas.GeoDataFrame, optional
        Communities with CODE (12 digits) as
        :func:`gridkit.partition.communities.prepare_communities` gives them, in ``crs``.
        Without them, prefixes are checked only against each other.
    target_area : float, optional
        The unit grid area the city aims for, m² (slivers and the size band).

    Returns
    -------
    Audit
        The grids as checked, the issues and the figures.

    Examples
    --------
    >>> import geopandas as gpd, pyproj, shapely
    >>> from gridkit.grids import grid_layer
    >>> frame = gpd.GeoDataFrame({"BGID": ["310116001001001", "310116001001002"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4549)
    >>> found = audit_grids(grid_layer(frame), pyproj.CRS.from_epsg(4549))
    >>> found.errors, found.figures["area_m2"]["total"]
    (0, 20000.0)
    """
    found = _Found(crs)
    if layer.flattened:
        found.add("*", "dropped-z-m", "warning",
                  f"{layer.source}: {layer.flattened} of {len(layer.frame)} grids carry Z/M "
                  "values; unit_grid is 2D, so they were dropped (heights are not used)")
    frame = layer.frame.to_crs(crs)
    fids = np.array([str(i) for i in frame.index], dtype=object)
    codes = frame["CODE"].to_numpy(dtype=object)
    keys = np.array([c if c else f"#{f}" for c, f in zip(codes, fids, strict=True)],
                    dtype=object)
    geoms, valid = _geometry_checks(frame.geometry.to_numpy(), fids, keys, layer.source, found)
    valid_code = _code_checks(codes, fids, keys, geoms, layer, found)
    _overlaps(geoms, valid, keys, found)
    if communities is not None and len(communities):
        holder, gaps = _community_checks(geoms, valid, codes, valid_code, keys, communities,
                                         found)
    else:
        holder = np.full(len(geoms), "", dtype=object)
        gaps = _prefix_checks(geoms, valid, codes, valid_code, found)
    _gaps(gaps, found)
    # A grid filling a community (or a community's exclave) under half the target cannot be
    # larger: like the partition's figures, the size checks leave it out.
    room = (room_of_grids(gpd.GeoDataFrame({"COMMUNITY": holder}, geometry=geoms, crs=crs),
                          communities) if communities is not None and len(communities)
            else np.full(len(geoms), np.inf))
    _size_checks(geoms, valid & ~(room < BAND[0] * target_area), keys, fids, target_area,
                 found)
    _serial_gaps(codes[valid_code], found)
    issues = found.done()
    grids = gpd.GeoDataFrame({"CODE": codes, "FID": fids, "VALID": valid, "HOLDER": holder},
                             geometry=geoms, crs=crs)
    return Audit(grids, issues, _figures(layer, grids, issues, target_area))


def _geometry_checks(geoms, fids, keys, source, found):
    geoms = geoms.copy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array(["" if e else g.geom_type for g, e in zip(geoms, empty, strict=True)])
    is_polygon = np.isin(kinds, ["Polygon", "MultiPolygon"])
    for i in np.flatnonzero(empty | ~is_polygon):
        what = "has no geometry" if empty[i] else f"is a {kinds[i]}, not a polygon"
        found.add(keys[i], "grid-empty-geometry", "error",
                  f"{source}: feature {fids[i]} ({keys[i]}) {what}; remove it or draw it")
    usable = ~empty & is_polygon
    invalid = usable & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        for i, reason, repaired in zip(np.flatnonzero(invalid), reasons, fixed, strict=True):
            repaired = polygonal(repaired)
            pieces = shapely.get_num_geometries(repaired)
            # A ring crossing itself (a bow-tie) is one fault, reported here once: made valid
            # it falls into pieces, which is the consequence, not a second (multipart) fault.
            fix = ("gridkit grids adopt --repair fixes it with make_valid" if pieces <= 1 else
                   f"made valid it falls into {pieces} parts, which --repair cannot keep "
                   "under one code: redraw it as one polygon")
            found.add(keys[i], "grid-invalid-geometry", "error",
                      f"grid {keys[i]} (feature {fids[i]}) at {{place}} is invalid ({reason}); "
                      f"{fix}", geoms[i])
            geoms[i] = repaired
    parts = shapely.get_num_geometries(geoms)
    multi = usable & ~invalid & (parts > 1)
    for i in np.flatnonzero(multi):
        found.add(keys[i], "grid-multipart", "error",
                  f"grid {keys[i]} (feature {fids[i]}) at {{place}} has {parts[i]} separate "
                  "parts; a unit grid is one polygon: split it (new codes for the other parts) "
                  "or merge the parts into their neighbours", geoms[i])
    valid = usable & ~shapely.is_empty(geoms)
    return geoms, valid


def polygonal(geom):
    """The polygons of ``geom`` as one Polygon or MultiPolygon, empty when there are none.

    Collections are opened, lines and points dropped.
    """
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _code_checks(codes, fids, keys, geoms, layer: GridLayer, found) -> np.ndarray:
    if layer.numeric:
        # A number holds every 15-digit integer exactly (a double up to 2**53), so a code
        # read back with 15 digits is the code; one that lost digits fails as invalid below.
        found.add(layer.code_field, "grid-code-numeric", "warning",
                  f"{layer.source}: field {layer.code_field} holds the codes as numbers "
                  "(Excel/ArcGIS double or integer); each was read back as its 15 digits "
                  "(a number holds them exactly) and codes that lost digits are reported "
                  "invalid: store the field as text")
    ok = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        if not code:
            found.add(keys[i], "grid-code-missing", "error",
                      f"feature {fids[i]} at {{place}}: field {layer.code_field} is empty; give "
                      "the grid its 15-digit code", geoms[i] if geoms[i] is not None else None)
            continue
        try:
            parse_bgid(code)
        except CodeError as exc:
            found.add(keys[i], "grid-code-invalid", "error",
                      f"feature {fids[i]} field {layer.code_field}: {exc}", geoms[i])
            continue
        ok[i] = True
    counts = Counter(codes[ok])
    for code in sorted(c for c, n in counts.items() if n > 1):
        members = np.flatnonzero(codes == code)
        shape = shapely.union_all([g for g in geoms[members] if g is not None])
        found.add(code, "grid-code-duplicate", "error",
                  f"code {code} is held by {len(members)} features "
                  f"({', '.join(fids[members])}) at {{place}}; each grid needs its own code",
                  shape)
    return ok


def _overlaps(geoms, valid, keys, found) -> None:
    """Pairs of grids whose interiors meet.

    Only grids with an edge the coverage validator finds wrong (crossing or not matching a
    neighbour's) can overlap a neighbour, so the exact test runs on their pairs alone; exact
    duplicates match edge for edge and are found by their normalised shape instead.
    """
    index = np.flatnonzero(valid)
    shapes = geoms[index]
    suspect = ~shapely.is_empty(shapely.coverage_invalid_edges(shapes))
    normal = shapely.to_wkb(shapely.normalize(shapes))
    same = pd.Series(np.arange(len(shapes))).groupby(normal, sort=False).transform("size")
    suspect |= same.to_numpy() > 1
    tree = shapely.STRtree(shapes)
    a, b = tree.query(shapes[suspect], predicate="intersects")
    a = np.flatnonzero(suspect)[a]
    a, b = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(np.column_stack([a, b])[a < b], axis=0) if len(a) else np.empty((0, 2), int)
    a, b = pairs[:, 0], pairs[:, 1]
    inner = shapely.relate_pattern(shapes[a], shapes[b], "2********")
    a, b = a[inner], b[inner]
    pieces = shapely.intersection(shapes[a], shapes[b])
    for i, j, piece in zip(index[a], index[b], pieces, strict=True):
        piece = polygonal(piece)
        if piece.area < GAP_AREA:
            continue
        first, second = sorted((keys[i], keys[j]))
        found.add(f"{first}|{second}", "grid-overlap", "error",
                  f"grids {first} and {second} overlap by {piece.area:,.1f} m² at {{place}}",
                  piece)


def _gaps(pieces, found) -> None:
    """Report each gap piece (land in no grid) of at least GAP_AREA m²."""
    pieces = [p for p in shapely.get_parts(polygonal(shapely.union_all(pieces)))
              if p.area >= GAP_AREA] if len(pieces) else []
    for piece in sorted(pieces, key=lambda p: (p.bounds[1], p.bounds[0])):
        width = 2 * piece.area / piece.length if piece.length else 0.0
        x0, y0, x1, y1 = piece.bounds
        found.add(f"gap@{(x0 + x1) / 2:.0f},{(y0 + y1) / 2:.0f}", "grid-gap", "error",
                  f"a gap of {piece.area:,.1f} m² (mean width {width:,.1f} m) at {{place}} "
                  "lies in no unit grid; redraw the neighbouring grids to close it", piece)


def _community_checks(geoms, valid, codes, valid_code, keys, communities, found):
    """Which community holds each grid, and the land of the communities no grid covers.

    Grids across two communities and prefixes that contradict the holder are issues.
    Returns (holder codes, gap pieces).
    """
    comm_geoms = communities.geometry.to_numpy()
    comm_codes = communities["CODE"].to_numpy(dtype=object)
    index = np.flatnonzero(valid)
    shapes = geoms[index]
    g, c = shapely.STRtree(comm_geoms).query(shapes, predicate="intersects")
    shapely.prepare(comm_geoms)
    whole = shapely.covers(comm_geoms[c], shapes[g])
    areas = shapely.area(shapes[g])
    pieces = np.full(len(g), None, dtype=object)
    part = np.flatnonzero(~whole)
    if len(part):
        # Exact overlay only here (GEOS's rectangle clip takes a rectangle touching a
        # polygon's edge from outside for one inside it: not safe as a shortcut).
        pieces[part] = shapely.intersection(shapes[g[part]], comm_geoms[c[part]])
        areas[part] = shapely.area(pieces[part])
    order = np.lexsort((-areas, g))
    g, c, areas, pieces = g[order], c[order], areas[order], pieces[order]
    first = np.r_[True, g[1:] != g[:-1]]
    holder = np.full(len(geoms), "", dtype=object)
    holder[index[g[first]]] = comm_codes[c[first]]
    grid_area = shapely.area(shapes)
    limit = np.maximum(ACROSS_AREA, ACROSS_SHARE * grid_area)
    holder_comm = np.zeros(len(shapes), dtype=int)
    holder_comm[g[first]] = c[first]
    for k in np.flatnonzero(~first & (areas > limit[g])):
        grid = index[g[k]]
        # Where the communities as drawn overlap, that land is in the holder too: only the
        # part of the grid outside its own community crosses into another.
        piece = pieces[k] if pieces[k] is not None else shapes[g[k]]
        across = shapely.difference(piece, comm_geoms[holder_comm[g[k]]])
        if shapely.area(across) <= limit[g[k]]:
            continue
        found.add(keys[grid], "grid-across-communities", "error",
                  f"grid {keys[grid]} lies in community {holder[grid]} but "
                  f"{shapely.area(across):,.0f} m² of it at {{place}} is in community "
                  f"{comm_codes[c[k]]}; a unit grid lies in exactly one community: cut it at "
                  "the border", polygonal(across))
    covered = np.bincount(g, weights=areas, minlength=len(shapes))
    outside = grid_area - covered
    for k in np.flatnonzero(outside > limit):
        grid = index[k]
        found.add(keys[grid], "grid-outside-communities", "warning",
                  f"grid {keys[grid]} at {{place}} has {outside[k]:,.0f} m² outside every "
                  "community given", geoms[grid])
    prefix = np.array([code[:12] for code in codes[index]], dtype=object)
    wrong = valid_code[index] & (holder[index] != "") & (prefix != holder[index])
    renamed = _renamed_communities(prefix, holder[index], wrong)
    for grid in index[wrong]:
        if codes[grid][:12] in renamed:
            continue
        found.add(keys[grid], "grid-code-community", "error",
                  f"grid {keys[grid]} at {{place}} lies in community {holder[grid]} but its "
                  f"code starts with {codes[grid][:12]}; recode it as {holder[grid]}NNN",
                  geoms[grid])
    for old, new in sorted(renamed.items()):
        members = index[wrong & (prefix == old)]
        # One fault, not one per grid: the community's code changed on the same land.
        found.add(old, "grid-code-community", "error",
                  f"all {len(members)} grids coded {old}NNN lie in community {new} (at "
                  f"{{place}}), which has no grid of its own: the community was recoded "
                  f"(撤村建居?). Adopt them with the communities as they were coded (or "
                  "without --communities), then `gridkit partition NEW_COMMUNITIES -o OUT.gpkg "
                  f"--update` keeps each grid under a new code {new}NNN (grid_change KIND "
                  "recoded)", shapely.union_all(geoms[members]))
    # Gaps: only a community whose grids cover less than its area, or that holds an
    # overlap (which inflates the sum), needs the union of its grids.
    held = np.bincount(c, weights=areas, minlength=len(comm_geoms))
    overlapping = {code for issue in found.items if issue.rule == "grid-overlap"
                   for code in issue.key.split("|")}
    gaps = []
    for k in range(len(comm_geoms)):
        members = g[c == k]
        touched = bool(overlapping & set(keys[index[members]]))
        if shapely.area(comm_geoms[k]) - held[k] < GAP_AREA and not touched:
            continue
        gaps += list(shapely.get_parts(polygonal(shapely.difference(
            comm_geoms[k], shapely.union_all(shapes[members])))))
    return holder, gaps


def _renamed_communities(prefix: np.ndarray, holder: np.ndarray,
                         wrong: np.ndarray) -> dict[str, str]:
    """Prefixes whose grids (more than one) all lie in one community holding no other grid.

    Parameters are per valid grid: its 12-digit prefix, the community holding it and whether
    they differ. Returns prefix → holder.
    """
    if not wrong.any():
        return {}
    frame = pd.DataFrame({"prefix": prefix, "holder": holder, "wrong": wrong})
    by_prefix = frame.groupby("prefix").agg(grids=("wrong", "size"), wrong=("wrong", "all"),
                                            holders=("holder", "nunique"),
                                            holder=("holder", "first"))
    prefixes_held = frame.groupby("holder")["prefix"].nunique()
    renamed = by_prefix[(by_prefix["grids"] > 1) & by_prefix["wrong"]
                        & (by_prefix["holders"] == 1)]
    return {old: new for old, new in renamed["holder"].items() if prefixes_held[new] == 1}


def _prefix_checks(geoms, valid, codes, valid_code, found) -> list:
    """Audit checks that need no communities.

    Counties, prefixes whose grids fall apart, and the holes between the grids (returned as gap
    pieces).
    """
    use = valid & valid_code
    prefixes = pd.Series(codes[use]).str[:12]
    counties = sorted(prefixes.str[:6].unique())
    if len(counties) > 1:
        found.add("|".join(counties), "grid-counties", "warning",
                  f"codes come from {len(counties)} counties ({', '.join(counties[:5])}); "
                  "check the prefixes or give --communities")
    shapes = geoms[use]
    unions = []
    for prefix, members in prefixes.groupby(prefixes, sort=True).groups.items():
        union = shapely.union_all(shapes[np.asarray(members)])
        unions.append(union)
        parts = shapely.get_num_geometries(union)
        if parts > 1:
            found.add(prefix, "grid-community-disconnected", "warning",
                      f"the grids coded {prefix}NNN fall into {parts} separate pieces (one at "
                      "{place}); a grid with a wrong prefix, or a community in pieces", union)
    whole = shapely.union_all(np.concatenate([np.array(unions, dtype=object),
                                              geoms[valid & ~valid_code]]))
    holes = [shapely.Polygon(ring) for poly in shapely.get_parts(whole)
             for ring in poly.interiors]
    return [q for hole in holes
            for q in shapely.get_parts(polygonal(shapely.difference(hole, whole)))]


def _size_checks(geoms, valid, keys, fids, target_area, found) -> None:
    areas = shapely.area(geoms)
    lengths = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(lengths > 0, 2 * areas / lengths, 0.0)
    sliver = valid & ((areas < SLIVER_RATIO * target_area) | (width < SLIVER_WIDTH))
    for i in np.flatnonzero(sliver):
        found.add(keys[i], "grid-sliver", "warning",
                  f"grid {keys[i]} (feature {fids[i]}) at {{place}} is a sliver: "
                  f"{areas[i]:,.1f} m², mean width {width[i]:,.1f} m; merge it into a "
                  "neighbour (gridkit grids adopt --repair does)", geoms[i])
    low, high = BAND
    off = valid & ~sliver & ((areas < low * target_area) | (areas > high * target_area))
    for i in np.flatnonzero(off):
        found.add(keys[i], "grid-size-band", "warning",
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
            found.add(prefix, "grid-serial-gap", "warning",
                      f"community {prefix} has no grids with serials {shown}{more} (up to "
                      f"{max(used):03d}); retired codes are fine, lost grids are not")


def _figures(layer: GridLayer, grids: gpd.GeoDataFrame, issues: list[QAIssue],
             target_area: float) -> dict:
    areas = shapely.area(grids.geometry.to_numpy()[grids["VALID"].to_numpy()])
    rules = Counter(i.rule for i in issues)
    def total(rule: str) -> float:
        return round(sum(shapely.area(i.geometry) for i in issues if i.rule == rule), 1)
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
        "gaps": {"count": rules.get("grid-gap", 0), "area_m2": total("grid-gap")},
        "overlaps": {"count": rules.get("grid-overlap", 0), "area_m2": total("grid-overlap")},
        "errors": sum(i.severity == "error" for i in issues),
        "warnings": sum(i.severity == "warning" for i in issues),
        "by_rule": dict(sorted(rules.items())),
        "target_area": target_area,
    }
