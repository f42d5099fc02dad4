"""Responsibility grids (责任网格): unit grids grouped per street and density class.

Rules: a responsibility grid lies in one street/town (never across ``STREET``), holds one
density class, is contiguous through shared edges of at least ``min_shared_edge`` metres
(walkable: see :mod:`.adjacency`), and holds ``dense`` 10-16 or ``sparse``
20-30 unit grids (bands overridable). Among groupings that satisfy that, balanced workload
and compact shapes are preferred (see :mod:`.grouping`). Where a band cannot be met (too few
grids of a class in a street, an island of a few grids), the nearest feasible grouping is
made and every violation reported; no unit grid is ever dropped or duplicated. A region too
small for its band whose class came from workload (not a key area) takes the class of the
grids around it in its street: a few busy grids amid quiet ones are patrolled with them.

RGID = the 9-digit street code + a 4-digit serial. Serials run over the street's
responsibility grids in rows of 500 m from the street's northern edge, west to east, by the
representative point of each responsibility grid; so re-running on the same grids gives the
same RGIDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.crs import require_crs
from gridkit.distributed import map_ordered
from gridkit.errors import InputError, mention, parameter_name
from gridkit.geometry import dissolve_coverage, polsby_popper
from gridkit.qa import QAIssue
from gridkit.responsibility.adjacency import MIN_SHARED_EDGE, rook_adjacency
from gridkit.responsibility.density import (
    DEFAULT_THRESHOLD,
    DENSE,
    KEY_SHARE,
    SPARSE,
    density_classes,
    key_area_share,
)
from gridkit.responsibility.grouping import balanced_counts, connected_parts, group_region
from gridkit.result import IssuesAsQA

ROW = 500.0  # metres: the rows in which RGID serials run


@dataclass
class Grouping(IssuesAsQA):
    """Unit grids grouped into responsibility grids: what :func:`group` returns.

    Parameters
    ----------
    responsibility_grids : geopandas.GeoDataFrame
        One polygon per responsibility grid: RGID, STREET, DENSITY, BAND, UNITS, WORKLOAD,
        AREA (m²).
    unit_grids : geopandas.GeoDataFrame
        The unit grids with RGID and DENSITY filled.
    issues : list of QAIssue
        Bands missed, grids not contiguous.
    figures : dict
        Counts and shares (``gridkit group --json`` without the file's figures).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, shapely
    >>> corners = np.array([(624_000 + 100 * c, 3_398_000 + 100 * r)
    ...                     for r in range(4) for c in range(6)])  # EPSG:4549 metres
    >>> squares = shapely.box(corners[:, 0], corners[:, 1], corners[:, 0] + 100,
    ...                       corners[:, 1] + 100)
    >>> bgids = [f"310116001001{k:03d}" for k in range(1, 25)]
    >>> result = group(gpd.GeoDataFrame({"BGID": bgids, "STREET": "310116001"},
    ...                                 geometry=squares, crs=4549))
    >>> result.responsibility_grids[["RGID", "DENSITY", "UNITS"]].values.tolist()
    [['3101160010001', 'sparse', 24]]
    """

    qa_crs_from = "unit_grids"  # the frame whose CRS the qa_issue frame takes

    responsibility_grids: gpd.GeoDataFrame
    unit_grids: gpd.GeoDataFrame
    issues: list[QAIssue] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


def parse_band(text: str | tuple[int, int], option: str) -> tuple[int, int]:
    """'10-16' → (10, 16), refusing empty, reversed or zero bands.

    ``option`` is the parameter the band was given as (``"dense"``; a flag spelling such as
    ``"--dense"`` is taken too), named in the error.

    Examples
    --------
    >>> parse_band("10-16", "dense")
    (10, 16)
    """
    option = parameter_name(option)
    if isinstance(text, tuple):
        lo, hi = text
    else:
        try:
            lo, hi = (int(part) for part in str(text).replace("–", "-").split("-"))
        except ValueError:
            raise InputError(f"{mention(**{option: text})} is not a band like 10-16",
                             parameter=option) from None
    if lo < 1 or hi < lo:
        raise InputError(f"{mention(**{option: f'{lo}-{hi}'})}: a band needs 1 ≤ low ≤ high, "
                         "e.g. 10-16", parameter=option)
    return lo, hi


class Neighbours:
    """Each unit grid's neighbours, packed in two arrays.

    The packed form is what crosses to a Dask worker: pickling 67,000 small arrays one by one took
    seconds, two arrays take milliseconds. ``lists()`` unpacks them once per process.
    """

    def __init__(self, n: int, adjacency: pd.DataFrame) -> None:
        a = adjacency["a"].to_numpy().astype(np.int64)
        b = adjacency["b"].to_numpy().astype(np.int64)
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        order = np.lexsort((dst, src))
        self.targets = dst[order]
        self.bounds = np.searchsorted(src[order], np.arange(n + 1))
        self._lists: list[np.ndarray] | None = None

    def lists(self) -> list[np.ndarray]:
        """The neighbours of each unit grid as one array per grid, unpacked once per process."""
        if self._lists is None:
            t, b = self.targets, self.bounds
            self._lists = [t[b[i]:b[i + 1]] for i in range(len(b) - 1)]
        return self._lists

    def __getstate__(self) -> dict:
        return {"targets": self.targets, "bounds": self.bounds, "_lists": None}


def group(
    unit_grids: gpd.GeoDataFrame,
    key_areas: gpd.GeoDataFrame | None = None,
    workload: np.ndarray | pd.Series | None = None,
    *,
    dense: tuple[int, int] | str = (10, 16),
    sparse: tuple[int, int] | str = (20, 30),
    dense_threshold: float = DEFAULT_THRESHOLD,
    min_shared_edge: float = MIN_SHARED_EDGE,
    client: object | None = None,
) -> Grouping:
    """Group unit grids into responsibility grids (责任网格) by the density rule (疏密相间).

    Dense places (key areas: demonstration areas, central business districts, main landscape
    belts, and grids whose workload per m² is ``dense_threshold`` times the median) get
    responsibility grids of 10-16 unit grids, other places 20-30, as the municipal rule of a
    Shanghai district's implementation plan sets it. Groups are contiguous, stay within one
    street/town (街道/镇), balance workload, and are numbered in 500 m rows from the north-west
    (RGID: 9-digit street code + four-digit serial).

    Parameters
    ----------
    unit_grids : geopandas.GeoDataFrame
        The unit grids (polygons, projected metric CRS) with BGID and STREET (9-digit
        street/town code) on every feature, as :func:`gridkit.partition.partition` writes them.
    key_areas : geopandas.GeoDataFrame, optional
        Polygons of dense places, any CRS; a unit grid mostly inside one is dense.
    workload : array_like of float, optional
        One value per unit grid (e.g. components and events weighted by class, see
        :func:`gridkit.responsibility.workload.load_weights`); default the ``BLDG_AREA`` column
        (building footprint area, m²) when present, else the grid area (m²).
    dense : tuple of (int, int) or str, optional
        The band of unit grids per dense responsibility grid, ``(10, 16)`` or ``"10-16"``.
    sparse : tuple of (int, int) or str, optional
        The band elsewhere, ``(20, 30)`` or ``"20-30"``.
    dense_threshold : float, optional
        A grid is dense when its workload per m² is this many times the street's median.
    min_shared_edge : float, optional
        Metres of shared edge that make two unit grids neighbours (a shared corner does not).
    client : dask.distributed.Client, optional
        Group the streets on this cluster; the result is the same.

    Returns
    -------
    Grouping
        Responsibility grids, unit grids with RGID and DENSITY, issues and figures.

    Raises
    ------
    GridkitError
        When the unit grid layer is empty or lacks BGID or STREET, a band is not ``low-high`` with
        1 ≤ low ≤ high, ``min_shared_edge`` is negative, or an input has no CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> grids = gpd.GeoDataFrame(
    ...     {"BGID": [f"310116001001{i + 1:03d}" for i in range(40)], "STREET": "310116001"},
    ...     geometry=[shapely.box(x + 100 * (i % 10), y + 100 * (i // 10), x + 100 * (i % 10 + 1),
    ...                           y + 100 * (i // 10 + 1)) for i in range(40)], crs=4549)
    >>> result = group(grids, sparse="15-25")
    >>> sorted(result.responsibility_grids["UNITS"].tolist())
    [20, 20]
    >>> result.unit_grids["RGID"].nunique()
    2
    """
    bands = {DENSE: parse_band(dense, "dense"), SPARSE: parse_band(sparse, "sparse")}
    if not (np.isfinite(min_shared_edge) and min_shared_edge >= 0):
        raise InputError(f"`min_shared_edge={min_shared_edge:g}`: it is in metres and must "
                         f"be 0 or more (default {MIN_SHARED_EDGE:g})", parameter="min_shared_edge")
    if unit_grids.empty:
        raise InputError("unit_grid has no features: run gridkit partition first")
    require_crs(unit_grids=unit_grids, key_areas=key_areas)
    for column in ("BGID", "STREET"):
        if column not in unit_grids or unit_grids[column].isna().any() or (
                unit_grids[column].astype(str).str.strip() == "").any():
            raise InputError(f"unit_grid needs {column} on every feature; re-run "
                             "gridkit partition to write it")
    if workload is None:
        workload = (unit_grids["BLDG_AREA"] if "BLDG_AREA" in unit_grids
                    else unit_grids.geometry.area)
    workload = np.asarray(workload, dtype=float)
    if len(workload) != len(unit_grids) or not np.isfinite(workload).all() or (
            workload < 0).any():
        raise InputError("workload needs one finite, non-negative value per unit grid")
    duplicated = unit_grids["BGID"][unit_grids["BGID"].duplicated()]
    if not duplicated.empty:
        raise InputError(f"unit_grid: BGID {duplicated.iloc[0]} appears more than once; "
                         "re-run gridkit partition")
    # Work in BGID order so that the input's row order cannot change the result.
    order = np.argsort(unit_grids["BGID"].astype(str).to_numpy(), kind="stable")
    grids = unit_grids.iloc[order].reset_index(drop=True)
    workload = workload[order]
    geoms = grids.geometry.to_numpy()
    keys = np.empty(0, dtype=object)
    if key_areas is not None:
        keys = key_areas.to_crs(grids.crs).geometry.to_numpy()
    density, why = density_classes(geoms, workload, keys, dense_threshold)
    in_key = key_area_share(geoms, keys) > KEY_SHARE

    touching = rook_adjacency(geoms)
    adjacency = touching[touching["length"] >= min_shared_edge]
    packed = Neighbours(len(grids), adjacency)
    neighbours = packed.lists()
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    streets = grids["STREET"].astype(str).to_numpy()
    density, relabelled = _absorb_islands(density, in_key, streets, neighbours, bands)
    group_of = np.full(len(grids), -1, dtype=np.int64)
    members_of: list[np.ndarray] = []
    region_of: list[int] = []
    feasible_region: list[bool] = []
    # Streets are independent (no group crosses one), so with a Dask client each street is
    # grouped on the cluster; results are put together in street order, as on one machine.
    by_street = [(np.flatnonzero((streets == street) & (density == DENSE)),
                  np.flatnonzero((streets == street) & (density == SPARSE)))
                 for street in sorted(set(streets))]
    for street_regions in map_ordered(client, _group_street, by_street, xy, workload,
                                      packed, bands):
        for groups, feasible in street_regions:
            for members in groups:
                group_of[members] = len(members_of)
                members_of.append(np.array(members))
                region_of.append(len(feasible_region))
            feasible_region.append(feasible)
    assert (group_of >= 0).all()
    result = _assemble(grids, density, workload, group_of, members_of, region_of,
                       feasible_region, bands, why)
    bgid = grids["BGID"].astype(str).to_numpy()
    for nodes, old, new in relabelled:
        result.issues.append(QAIssue(
            "unit_grid", ",".join(bgid[nodes]), "density-relabel", "warning",
            f"{_island(len(nodes), old)} ({bgid[nodes[0]]}...): too few for a {old} "
            f"responsibility grid, so counted {new} with their neighbours",
            dissolve_coverage(geoms[nodes])))
    result.figures["relabelled_unit_grids"] = int(sum(len(n) for n, _, _ in relabelled))
    result.figures["min_shared_edge_m"] = float(min_shared_edge)
    result.figures["contacts_below_min_shared_edge"] = int(len(touching) - len(adjacency))
    return result


def _group_street(nodes_by_class, xy, workload, packed: Neighbours, bands) -> list:
    """The groups of one street.

    Per connected region of each class, its groups and whether the region was large enough for its
    band.
    """
    neighbours = packed.lists()
    out = []
    for klass, nodes in zip((DENSE, SPARSE), nodes_by_class, strict=True):
        if len(nodes) == 0:
            continue
        lo, hi = bands[klass]
        # Neighbours only count inside the same street and class.
        regions = connected_parts(nodes, neighbours)
        counts = balanced_counts([len(r) for r in regions],
                                 [float(workload[r].sum()) for r in regions], lo, hi)
        for region, k in zip(regions, counts, strict=True):
            out.append((list(group_region(region, xy, workload, neighbours, lo, hi, k)),
                        len(region) >= lo))
    return out


def _island(n: int, klass: str) -> str:
    return f"an island of {n} {klass} unit grid{'' if n == 1 else 's'}"


def _absorb_islands(density, in_key, streets, neighbours, bands):
    """Give regions too small for their band the class of their neighbours in the street.

    Key-area grids are designated, so a region holding one keeps its class (and is reported
    as a band violation if it stays too small). Repeats until nothing changes, since an
    absorbed island can make a neighbouring region large enough.
    """
    density = density.copy()
    relabelled = []
    for _ in range(10):
        changed = False
        for street in sorted(set(streets)):
            for klass in (DENSE, SPARSE):
                nodes = np.flatnonzero((streets == street) & (density == klass))
                for region in connected_parts(nodes, neighbours):
                    if len(region) >= bands[klass][0] or in_key[region].any():
                        continue
                    other = SPARSE if klass == DENSE else DENSE
                    touching = {int(v) for u in region for v in neighbours[u]
                                if streets[v] == street and density[v] == other}
                    if not touching:
                        continue
                    density[region] = other
                    relabelled.append((region, klass, other))
                    changed = True
        if not changed:
            break
    return density, relabelled


def _assemble(grids, density, workload, group_of, members_of, region_of, feasible_region,
              bands, why) -> Grouping:
    geoms = grids.geometry.to_numpy()
    n_groups = len(members_of)
    shapes = np.array([geoms[m[0]] if len(m) == 1 else dissolve_coverage(geoms[m])
                       for m in members_of], dtype=object)
    street = grids["STREET"].astype(str).to_numpy()[[m[0] for m in members_of]]
    klass = density[[m[0] for m in members_of]]
    units = np.array([len(m) for m in members_of])
    load = np.bincount(group_of, weights=workload, minlength=n_groups)
    # RGID serials: rows of ROW metres from the street's northern edge, then west to east.
    points = shapely.point_on_surface(shapes)
    px, py = shapely.get_x(points), shapely.get_y(points)
    north = pd.Series(shapely.bounds(geoms)[:, 3]).groupby(
        grids["STREET"].astype(str).to_numpy()).max()
    row = np.floor((north.loc[street].to_numpy() - py) / ROW)
    order = np.lexsort((-py, px, row, street))
    serial = np.zeros(n_groups, dtype=np.int64)
    counter: dict[str, int] = {}
    for g in order:
        counter[street[g]] = counter.get(street[g], 0) + 1
        serial[g] = counter[street[g]]
    if serial.max() > 9999:
        raise InputError("a street would need over 9,999 responsibility grids; widen the bands")
    rgid = np.array([f"{s}{n:04d}" for s, n in zip(street, serial, strict=True)])
    band_text = np.array([f"{bands[k][0]}-{bands[k][1]}" for k in klass])
    responsibility = gpd.GeoDataFrame({
        "RGID": rgid, "STREET": street, "DENSITY": klass, "BAND": band_text, "UNITS": units,
        "WORKLOAD": np.round(load, 3), "AREA": np.round(shapely.area(shapes), 2),
    }, geometry=shapely.normalize(shapes), crs=grids.crs)
    responsibility = responsibility.iloc[order].reset_index(drop=True)
    out = grids.copy()
    out["RGID"] = rgid[group_of]
    out["DENSITY"] = density
    issues, figures = _report(responsibility, shapes[order], np.array(region_of)[order],
                              feasible_region, bands)
    figures["dense_by"] = why
    return Grouping(responsibility, out, issues, figures)


def _report(resp: gpd.GeoDataFrame, shapes, region_of, feasible_region, bands):
    issues = []
    lo = np.array([bands[k][0] for k in resp["DENSITY"]])
    hi = np.array([bands[k][1] for k in resp["DENSITY"]])
    units = resp["UNITS"].to_numpy()
    in_band = (units >= lo) & (units <= hi)
    for i in np.flatnonzero(~in_band):
        row = resp.iloc[i]
        why = ("its region has too few grids of this class"
               if not feasible_region[region_of[i]] else "no split of its region fits the band")
        issues.append(QAIssue("responsibility_grid", row["RGID"], "band-violation", "warning",
                              f"{row['RGID']} ({row['DENSITY']}) holds {units[i]} unit grids, "
                              f"outside the band {row['BAND']}: {why}", shapes[i]))
    contiguous = np.array([s.geom_type == "Polygon" for s in shapes])
    for i in np.flatnonzero(~contiguous):
        issues.append(QAIssue("responsibility_grid", resp["RGID"].iloc[i], "not-contiguous",
                              "error", f"{resp['RGID'].iloc[i]} is not contiguous", shapes[i]))
    judged = np.array([feasible_region[r] for r in region_of], dtype=bool)
    per = []
    for (street, klass), part in resp.groupby(["STREET", "DENSITY"], sort=True):
        load = part["WORKLOAD"].to_numpy()
        mean = load.mean()
        per.append({
            "street": street, "density": klass, "groups": int(len(part)),
            "units": int(part["UNITS"].sum()),
            "in_band_share": float(in_band[part.index].mean()),
            "workload_cv": float(load.std() / mean) if mean > 0 else 0.0,
        })
    compact = polsby_popper(shapes)
    figures = {
        "responsibility_grids": int(len(resp)),
        "unit_grids": int(units.sum()),
        "in_band_share": float(in_band.mean()),
        "in_band_share_where_feasible": float(in_band[judged].mean()) if judged.any() else 1.0,
        "contiguous_share": float(contiguous.mean()),
        "workload_cv_max": max((p["workload_cv"] for p in per if p["groups"] > 1), default=0.0),
        "polsby_popper_median": float(np.median(compact)),
        "violations": int((~in_band).sum()),
        "by_street_and_density": per,
    }
    return issues, figures
