"""Communities (居委会/村): fields, codes, geometry, and the gaps and overlaps between them.

Admin boundary data commonly has sliver gaps and overlaps where neighbours were digitised
separately. gridkit resolves the small ones by one documented rule and refuses to guess on
large ones:

- an **overlap** piece stays with the community that borders it along the longer edge (its
  boundary length shared with the part of that community outside the overlap) and is removed
  from the other one;
- a **gap** (a hole in the union of all communities that no community covers, or a sliver
  between two neighbours open to the district's outer edge) is absorbed into the
  neighbouring community with the longest shared edge;
- a conflict is *small* when its area is at most ``max_conflict_area`` (default half the target
  unit grid area) or it is a sliver whose mean width (2·area/perimeter) is under 10 m; a larger
  one stops the partition with its location so that the boundary can be fixed at the source.

Every resolved conflict is reported once as a QA issue with its geometry: the pieces of one
pair of communities that the rule gave the same way are one report, with their summed area
(pieces under a square centimetre are rounding, not conflicts, and are left to the noding).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.codes.admin import CodeError, parse_community_code
from gridkit.crs import CGCS2000_GEOGRAPHIC
from gridkit.errors import InputError, mention, parameter_name
from gridkit.geometry import POLYGONAL, UNUSABLE_RULE, clean_geometries
from gridkit.qa import QAIssue
from gridkit.sources.cells import fold_text
from gridkit.sources.columns import column_key, map_columns

# 居委会代码 as `gridkit codes check` knows it; 行政区划代码 (a GBK DBF cuts it to 行政区划代) last,
# as a layer holding it besides a 社区代码 may mean the county.
CODE_ALIASES = ["CODE", "代码", "社区代码", "村居代码", "居委代码", "居委会代码", "区划代码",
                "统计用区划代码", "QHDM", "SQDM", "CJQHDM", "XZQDM", "行政区划代码"]
NAME_ALIASES = ["NAME", "名称", "社区名称", "村居名称", "居委名称", "居委会名称", "区划名称",
                "QHMC", "SQMC", "XZQMC", "行政区划名称"]
SLIVER_WIDTH = 10.0  # metres: thinner conflicts are digitising slivers whatever their area
# m²: a conflict piece smaller than a square centimetre is below any survey's precision (the
# rounding of two digitisations of one line); it is neither resolved nor reported.
MIN_CONFLICT_AREA = 1e-4


def find_field(frame: pd.DataFrame, wanted: str | None, aliases: list[str], *, what: str,
               option: str) -> str | None:
    """The column named ``wanted``, or the first alias present.

    Names compare as :func:`gridkit.sources.column_key` compares them (case, width, spaces and
    brackets ignored), and an alias also matches its 10-byte Shapefile cut (统计用区划代码 is
    统计用区划 in a GBK DBF), as the census import recognises its columns.
    ``option`` is the caller's parameter that named ``wanted`` (``"code_field"``), carried
    by the error when ``frame`` has no such field.
    """
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if wanted is not None:
        matches = [c for c in columns if column_key(c) == column_key(wanted)]
        if not matches:
            raise InputError(
                f"{frame.attrs.get('source', what)} ({what}) has no field {wanted!r}; its fields "
                f"are: {', '.join(columns)}",
                parameter=parameter_name(option) or None, file=frame.attrs.get("source"),
                field=wanted)
        return wanted if wanted in matches else matches[0]
    return map_columns(columns, aliases={"FIELD": tuple(aliases)}).get("FIELD")


def prepare_communities(
    frame: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[QAIssue]]:
    """Communities with CODE, NAME, STREET in ``crs``, repaired, codes checked."""
    source = frame.attrs.get("source", "communities")
    if frame.empty:
        raise InputError(f"{source} (communities): no features")
    code_col = find_field(frame, code_field, CODE_ALIASES, what="communities",
                          option="code_field")
    if code_col is None:
        raise InputError(
            f"{source} (communities): no community code field (looked for "
            f"{', '.join(CODE_ALIASES[:5])}, ...); name it with {mention('code_field')}",
            parameter="code_field", file=source)
    name_col = find_field(frame, name_field, NAME_ALIASES, what="communities",
                          option="name_field")
    cleaned, issues = clean_geometries(frame, what="communities", allowed=POLYGONAL,
                                       layer="community")
    _refuse_lost_territory(frame, cleaned, issues, code_col, source)
    codes = cleaned[code_col].map(community_code_text)
    for fid, code in codes.items():
        given = str(cleaned.at[fid, code_col]).strip()
        if code and code != given and code != given.removesuffix(".0"):
            issues.append(QAIssue(
                "community", code, "code-folded", "warning",
                f"{source}: feature {fid} field {code_col}: community code {given!r} read "
                f"as {code} (full-width or other non-ASCII digits folded)"))
    problems = []
    for fid, code in codes.items():
        try:
            parse_community_code(code)
        except CodeError as exc:
            problems.append((fid, str(exc) if code else "no community code"))
    if problems:
        fid, reason = problems[0]
        more = f" ({len(problems) - 1} more features with bad codes)" if len(problems) > 1 else ""
        raise InputError(
            f"{source}: feature {fid} field {code_col}: {reason}{more}; fix the codes "
            "(12 digits: county + street/town + committee) or name the field with "
            f"{mention('code_field')}", parameter="code_field", file=source, row=fid,
            field=code_col)
    names = cleaned[name_col].astype("string").fillna("") if name_col else codes.map(lambda _: "")
    cleaned, codes, names = _merge_parts(cleaned, codes, names, code_col, source, issues)
    out = gpd.GeoDataFrame(
        {"CODE": codes.to_numpy(), "NAME": names.to_numpy(), "SOURCE_FID": cleaned.index},
        geometry=cleaned.geometry.to_crs(crs).to_numpy(),
        crs=crs,
    )
    out["STREET"] = out["CODE"].str[:9]
    # make_valid again: reprojection can fold a ring that was barely valid.
    out.geometry = shapely.make_valid(out.geometry.to_numpy(), method="structure",
                                      keep_collapsed=False)
    out = out.sort_values("CODE", kind="stable").reset_index(drop=True)
    return out, issues


def _merge_parts(cleaned: gpd.GeoDataFrame, codes: pd.Series, names: pd.Series,
                 code_col: str, source: str, issues: list[QAIssue]):
    """One feature per community: the parts of a community stored as several features.

    ArcGIS layers are often single-part, so a community with an exclave comes as two rows
    with one code and one name; they are merged into one (multi)polygon and reported
    (``parts-merged``). Rows sharing a code under different names (or with no name to tell)
    may be two communities with a wrong code: refused.
    """
    duplicated = codes[codes.duplicated(keep=False)]
    if duplicated.empty:
        return cleaned, codes, names
    geometry = cleaned.geometry.copy()
    for code, fids in duplicated.groupby(duplicated, sort=True).groups.items():
        named = list(dict.fromkeys(names[fids]))
        listed = ", ".join(str(f) for f in fids)
        if len(named) > 1 or not named[0]:
            called = f" named {', '.join(named)}" if named[0] or len(named) > 1 else ""
            raise InputError(
                f"{source}: field {code_col}: code {code} is used by features {listed}"
                f"{called}; each community needs its own code (fix the codes, or merge the "
                "parts into one multipolygon, or give the parts of one community the same "
                "name to have them merged)", file=source, field=code_col)
        geometry[fids[0]] = shapely.union_all(geometry[fids].to_numpy())
        issues.append(QAIssue(
            "community", code, "parts-merged", "warning",
            f"{source}: features {listed} share code {code} and name {named[0]}: merged "
            "into one community of "
            f"{len(fids)} parts"))
    first = ~codes.duplicated(keep="first")
    cleaned = cleaned.set_geometry(geometry)[first]
    return cleaned, codes[first], names[first]


def _refuse_lost_territory(frame, cleaned, issues: list[QAIssue], code_col: str,
                           source: str) -> None:
    """Refuse the communities :func:`clean_geometries` skipped (empty, unreadable, a point).

    The error names their codes: the partition must cover all the territory it was given.
    """
    lost = frame.index.difference(cleaned.index, sort=False)
    if len(lost) == 0:
        return
    why = {i.key: i.message.split(": ", 1)[-1].rsplit(";", 1)[0] for i in issues
           if i.rule in ("empty-geometry", UNUSABLE_RULE)}
    named = [f"{community_code_text(frame.at[fid, code_col]) or '(no code)'} "
             f"({why.get(str(fid), f'feature {fid} has no usable geometry')})"
             for fid in lost[:5]]
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    raise InputError(
        f"{source} (communities): {len(lost)} "
        f"{'community has' if len(lost) == 1 else 'communities have'} no usable polygon, so their "
        f"territory would be lost: {'; '.join(named)}{more}; fix or redraw them at the source "
        "(a curved boundary the reader cannot linearise: export it as polygons)")


def area_text(area: float) -> str:
    """An area in m² rounded as a surveyor would write it.

    Whole m² from 100 m², one decimal from 1 m², two significant digits below.

    Examples
    --------
    >>> area_text(1234.567), area_text(12.34), area_text(0.0123)
    ('1,235 m²', '12.3 m²', '0.012 m²')
    """
    if area >= 100:
        return f"{area:,.0f} m²"
    if area >= 1:
        return f"{area:.1f} m²"
    return f"{float(f'{area:.2g}'):g} m²"


def _report(kind: str, key: list, pieces: list, codes: list) -> QAIssue:
    if kind == "overlap":
        i, j, keep, drop = key
        area = sum(p.area for p in pieces)
        count = f" in {len(pieces)} pieces" if len(pieces) > 1 else ""
        return QAIssue(
            "community", f"{codes[i]}|{codes[j]}", "admin-overlap", "warning",
            f"overlap of {area_text(area)}{count} between {codes[i]} and {codes[j]} kept in "
            f"{codes[keep]} (longer shared edge) and removed from {codes[drop]}",
            shapely.union_all(pieces))
    neighbours, best = key
    shapes = [h for h, _ in pieces]
    area = sum(h.area for h in shapes)
    count = f" in {len(shapes)} pieces" if len(shapes) > 1 else ""
    length = max(edge for _, edge in pieces)
    return QAIssue(
        "community", "|".join(neighbours), "admin-gap", "warning",
        f"gap of {area_text(area)}{count} between {', '.join(neighbours)} absorbed into "
        f"{codes[best]} (longest shared edge, {length:,.1f} m)", shapely.union_all(shapes))


def community_code_text(value: object) -> str:
    """A community code cell as text: NFKC-folded, stripped, a float's ``.0`` removed.

    Parameters
    ----------
    value : object
        The cell as read (text, a number from a numeric field, None).

    Returns
    -------
    str
        The code's text ("" for a missing cell); not checked.

    Examples
    --------
    >>> community_code_text("４４１９００００３００１ "), community_code_text(441900003001.0)
    ('441900003001', '441900003001')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    # Full-width digits (typed with a Chinese input method) are the same code: NFKC.
    text = fold_text(str(value)).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def _location(geom, crs: pyproj.CRS) -> str:
    point = gpd.GeoSeries([geom.representative_point()], crs=crs).to_crs(CGCS2000_GEOGRAPHIC)
    return f"{point.x.iloc[0]:.5f}°E {point.y.iloc[0]:.5f}°N"


def _is_small(piece, max_area: float) -> bool:
    width = 2 * piece.area / piece.length if piece.length else 0.0
    return piece.area <= max_area or width < SLIVER_WIDTH


def _polygonal(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _edge_with(piece, geom) -> float:
    """Length of ``piece``'s boundary lying on ``geom`` (1 cm tolerance for rounding)."""
    return piece.boundary.intersection(geom.buffer(0.01)).length


def _gaps(geoms: list, tree: shapely.STRtree) -> list:
    """Holes in the union of communities, and slivers open to the district's outer edge.

    The second kind is found by a morphological closing (buffer out and back in by half the
    sliver width); the closing also rounds every concave corner of the outline, so a piece
    counts only where it runs along two communities for at least twice the sliver width.
    """
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(ring) for poly in shapely.get_parts(union)
             for ring in poly.interiors]
    closed = union.buffer(SLIVER_WIDTH / 2).buffer(-SLIVER_WIDTH / 2)
    notches = shapely.get_parts(shapely.difference(closed, union))
    for notch in notches:
        if notch.geom_type != "Polygon" or any(notch.intersects(h) for h in holes):
            continue
        neighbours = tree.query(notch, predicate="dwithin", distance=0.01)
        edges = sorted((_edge_with(notch, geoms[k]) for k in neighbours), reverse=True)
        if len(edges) >= 2 and edges[1] >= 2 * SLIVER_WIDTH:
            holes.append(notch)
    return holes


def resolve_conflicts(
    communities: gpd.GeoDataFrame, *, max_area: float
) -> tuple[gpd.GeoDataFrame, list[QAIssue]]:
    """Remove overlaps and fill interior gaps between communities, per the module rule."""
    crs = communities.crs
    geoms = list(communities.geometry.to_numpy())
    codes = communities["CODE"].tolist()
    # One report per conflict (pair of communities and the rule's decision), however many
    # pieces the digitising left: the pieces are summed, not listed word for word.
    reports: dict[tuple, list] = {}
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in sorted({(a, b) for a, b in zip(left, right, strict=True) if a < b}):
        overlap = _polygonal(shapely.intersection(geoms[i], geoms[j]))
        for piece in shapely.get_parts(overlap):
            if piece.area < MIN_CONFLICT_AREA:
                continue
            if not _is_small(piece, max_area):
                raise InputError(
                    f"communities {codes[i]} and {codes[j]} overlap by {piece.area:,.0f} m² at "
                    f"{_location(piece, crs)}: too large to resolve by rule; fix the boundaries "
                    f"or raise {mention('max_conflict_area')}", parameter="max_conflict_area"
                )
            # Across the part of j's boundary inside i lies i-only land, and vice versa.
            to_i = _edge_with(piece, geoms[j].boundary)
            to_j = _edge_with(piece, geoms[i].boundary)
            keep, drop = (i, j) if (to_i, codes[j]) >= (to_j, codes[i]) else (j, i)
            before = geoms[drop].area
            geoms[drop] = _polygonal(shapely.difference(geoms[drop], piece))
            if before - geoms[drop].area >= MIN_CONFLICT_AREA:
                reports.setdefault(("overlap", i, j, keep, drop), []).append(piece)
    tree = shapely.STRtree(geoms)
    holes = _gaps(geoms, tree)
    for hole in sorted(holes, key=lambda h: (h.bounds[1], h.bounds[0])):
        if hole.area < MIN_CONFLICT_AREA:
            continue
        neighbours = tree.query(hole, predicate="dwithin", distance=0.01)
        if len(neighbours) == 0:
            continue
        edges = [(_edge_with(hole, geoms[k]), codes[k], k) for k in neighbours]
        length, _, best = max(edges)
        key = tuple(sorted(codes[k] for k in neighbours))
        if not _is_small(hole, max_area):
            raise InputError(
                f"communities {', '.join(key)} leave a gap of {hole.area:,.0f} m² at "
                f"{_location(hole, crs)} that no community covers: too large to assign by rule; "
                "add the missing community, fix the boundaries or raise "
                f"{mention('max_conflict_area')}", parameter="max_conflict_area"
            )
        geoms[best] = _polygonal(shapely.union(geoms[best], hole))
        reports.setdefault(("gap", key, best), []).append((hole, length))
    issues = [_report(kind, rest, pieces, codes) for (kind, *rest), pieces in reports.items()]
    out = communities.copy()
    out.geometry = gpd.GeoSeries(geoms, crs=crs)
    empty = out.geometry.is_empty
    if empty.any():
        raise InputError(
            f"community {out.loc[empty, 'CODE'].iloc[0]} lies entirely inside its neighbours; "
            "fix the boundaries"
        )
    return out, issues
