"""Bring a city's unit grids into a gridkit GeoPackage with their own codes.

``gridkit grids check`` reads and audits; ``gridkit grids adopt`` also writes ``unit_grid``
(the codes kept: never renumbered unless ``--recode``), ``community`` (the communities given,
or dissolved from the code prefixes), the audit in ``qa_issue`` and the ``bgid_registry``.

What ``unit_grid`` cannot hold stops the adoption with the first such fault: a missing,
invalid or duplicate code, a multi-part grid, an invalid
ring (unless ``--repair``). ``--recode``
gives every grid a new code in gridkit's spatial order (the old one kept in SRCCODE, multi-
part grids split); everything else the audit finds is written to ``qa_issue`` and adopted as
it is, unless ``--repair`` fixes it (see :mod:`gridkit.grids.repair`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.crs import parse_crs, working_crs
from gridkit.errors import InputError, mention
from gridkit.grids.audit import Audit, audit_grids
from gridkit.grids.fields import GridLayer, grid_layer
from gridkit.grids.registry import (
    ACTIVE,
    REGISTRY_LAYER,
    new_registry,
    read_registry,
    register,
    retire,
    run_number,
)
from gridkit.grids.repair import REPAIR_AREA, repair_grids
from gridkit.io import (
    layers_of,
    merge_qa,
    read_vector,
    refuse_overwriting_inputs,
    run_record,
    write_geopackage,
)
from gridkit.partition.bgids import assign_bgids
from gridkit.partition.communities import prepare_communities
from gridkit.qa import QAIssue, qa_frame
from gridkit.result import StepResult

# Faults that unit_grid cannot hold: adoption stops on them unless --recode.
BLOCKING = ("grid-code-missing", "grid-code-invalid",
            "grid-code-duplicate", "grid-multipart")
UNIT_GRID_COLUMNS = ["BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY"]
# Layers built on earlier unit grids, removed when grids are adopted anew.
STALE = ("responsibility_grid",)


@dataclass
class GridInputs:
    """The grids and communities read for a check or an adoption, in ``crs``.

    Attributes
    ----------
    layer : GridLayer
        The unit grids as read.
    crs : pyproj.CRS
        The working CRS (projected, metres).
    communities : geopandas.GeoDataFrame or None
        The communities, when given.
    area : shapely.Geometry, optional
        The managed area, when given.
    paths : list of pathlib.Path
        The files read, for the run record.
    """

    layer: GridLayer
    crs: pyproj.CRS
    communities: gpd.GeoDataFrame | None
    area: shapely.Geometry | None = None
    paths: list[Path] = field(default_factory=list)


def read_inputs(grids: Path, *, layer: str | None = None, code_field: str | None = None,
                communities: Path | None = None, communities_layer: str | None = None,
                area: Path | None = None, crs: str | None = None) -> GridInputs:
    """Read a city's unit grid layer (and communities, a managed area) for audit or adoption.

    Parameters
    ----------
    grids : Path
        Any GDAL vector source: Shapefile (GBK or UTF-8 DBF), GeoPackage, Esri JSON, GeoJSON.
    layer, code_field : str, optional
        The layer of ``grids`` and its code field, when not found by themselves.
    communities : Path, optional
        Community polygons with 12-digit codes (field CODE, 代码, 社区代码, ...).
    communities_layer : str, optional
        The layer of ``communities``, when it has several.
    area : Path, optional
        Polygons of the managed area: only grids whose representative point lies inside are
        kept.
    crs : str, optional
        CRS of inputs without one; a projected one is also the working CRS.

    Returns
    -------
    GridInputs

    Raises
    ------
    InputError
        Unreadable files, no code field, bad community codes (one line, exit 2).

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grids.gpkg"
    >>> grids = gpd.GeoDataFrame({"BGID": ["310116001001001"]}, crs=4549,
    ...     geometry=[shapely.box(624_000, 3_398_000, 624_100, 3_398_100)])
    >>> grids.to_file(path)
    >>> inputs = read_inputs(path)
    >>> inputs.layer.code_field, inputs.crs.to_epsg()
    ('BGID', 4549)
    """
    user_crs = parse_crs(crs) if crs else None
    frame = read_vector(grids, layer=layer, what="unit grids", crs=user_crs)
    work = working_crs([frame], user_crs)
    read = grid_layer(frame, code_field)
    comm = None
    if communities is not None:
        raw = read_vector(communities, layer=communities_layer, what="communities",
                          crs=user_crs, layer_option="communities_layer")
        comm, _ = prepare_communities(raw, work)
    managed = None
    if area is not None:
        shapes = read_vector(area, what="managed area", crs=user_crs).to_crs(work)
        managed = shapely.union_all(shapely.make_valid(shapes.geometry.to_numpy()))
        points = gpd.GeoSeries(read.frame.geometry, crs=read.frame.crs).to_crs(work)
        inside = np.array([g is not None and not g.is_empty and managed.contains(
            g.representative_point()) for g in points], dtype=bool)
        if not inside.any():
            raise InputError(f"{area} (managed area): no unit grid of {grids} lies inside "
                             "it; check that both files are in the CRS their .prj says")
        read.frame = read.frame[inside]
    paths = [p for p in (grids, communities, area) if p is not None]
    return GridInputs(read, work, comm, managed, paths)


def check_grids(inputs: GridInputs, *, target_area: float = 10_000) -> Audit:
    """Audit the grids read by :func:`read_inputs` (see :mod:`gridkit.grids.audit`).

    Parameters
    ----------
    inputs : GridInputs
        From :func:`read_inputs`.
    target_area : float, optional
        The city's unit grid area, m².

    Returns
    -------
    Audit
        What :func:`gridkit.grids.audit_grids` found: grids, issues, figures.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "city_grids.gpkg"
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> overlapping = [shapely.box(x, y, x + 100, y + 100),
    ...                shapely.box(x + 50, y, x + 150, y + 100)]
    >>> gpd.GeoDataFrame({"网格编码": ["310116001001001", "310116001001002"]},
    ...                  geometry=overlapping, crs=4549).to_file(path)
    >>> check_grids(read_inputs(path)).errors > 0
    True
    """
    return audit_grids(inputs.layer, inputs.crs, inputs.communities, target_area=target_area)


def adopt_to_geopackage(inputs: GridInputs, output: Path, *, target_area: float = 10_000,
                        repair: bool = False, repair_area: float = REPAIR_AREA,
                        recode: bool = False, parameters: dict | None = None) -> StepResult:
    """Audit, repair if asked, and write the grids to ``output`` as ``unit_grid``.

    Parameters
    ----------
    inputs : GridInputs
        From :func:`read_inputs`.
    output : Path
        GeoPackage to write; its other layers are kept, ``responsibility_grid`` removed.
    target_area : float
        The city's unit grid area, m² (slivers, size band, TARGET of communities).
    repair : bool
        Apply the safe repairs of :mod:`gridkit.grids.repair`.
    repair_area : float
        Largest gap/overlap resolved by ``repair``, m².
    recode : bool
        Give every grid a new gridkit code (old one in SRCCODE).
    parameters : dict, optional
        Recorded in ``gridkit_run``.

    Returns
    -------
    StepResult
        The figures ``--json`` prints; the issues of the grids written and the repairs.

    Raises
    ------
    InputError
        A fault ``unit_grid`` cannot hold, without ``--recode``.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, pyogrio, shapely, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> x, y = 624_000, 3_398_000
    >>> gpd.GeoDataFrame({"BGID": ["310116001001001", "310116001001002"]}, crs=4549,
    ...     geometry=[shapely.box(x, y, x + 100, y + 100),
    ...               shapely.box(x + 100, y, x + 200, y + 100)]).to_file(folder / "grids.gpkg")
    >>> figures = adopt_to_geopackage(read_inputs(folder / "grids.gpkg"), folder / "city.gpkg")
    >>> figures["unit_grids"], "unit_grid" in pyogrio.list_layers(folder / "city.gpkg")[:, 0]
    (2, True)
    """
    started = time.perf_counter()
    refuse_overwriting_inputs(output, inputs.paths)
    audit = check_grids(inputs, target_area=target_area)
    repairs: list[QAIssue] = []
    geoms = audit.grids.geometry.to_numpy()
    kept = audit.grids["VALID"].to_numpy().copy()
    if repair:
        geoms, still, repairs = repair_grids(audit, target_area=target_area,
                                             max_area=repair_area)
        kept &= still
    frame = audit.grids[kept].copy()
    frame.geometry = gpd.GeoSeries(geoms[kept], index=frame.index, crs=audit.grids.crs)
    if not repair:  # an invalid ring is only ever written repaired, and only when asked
        _refuse_blocking(audit, inputs.layer, ("grid-invalid-geometry",),
                         f"add {mention(repair=True)}", "repair")
    if recode:
        grids = _recoded(frame, inputs.communities, target_area)
    else:
        # A ring crossing itself is reported once, as invalid; made valid it may fall into
        # parts, which unit_grid cannot hold under one code either.
        split = set(frame.loc[shapely.get_num_geometries(frame.geometry.to_numpy()) > 1,
                              "CODE"])
        _refuse_blocking(audit, inputs.layer, BLOCKING,
                         f"fix the source, or add {mention(recode=True)} to give every grid a "
                         "new code (the old one kept in SRCCODE)", "recode", also=split)
        grids = _kept_codes(frame)
    issues = audit.issues
    if repairs or recode:
        again = GridLayer(gpd.GeoDataFrame({"CODE": grids["BGID"].to_numpy()},
                                           geometry=grids.geometry.to_numpy(), crs=grids.crs),
                          inputs.layer.source, "BGID", False)
        issues = audit_grids(again, inputs.crs, inputs.communities,
                             target_area=target_area).issues
    communities = _community_layer(grids, inputs.communities, target_area)
    run = run_number(output)
    registry = _registry(output, grids["BGID"], run)
    retired = [i.key for i in repairs if i.rule == "repair-sliver"]
    if retired and not recode:
        known = set(registry["BGID"])
        registry = register(registry, [c for c in retired if c not in known], run)
        registry = retire(registry, retired, run)
    all_issues = issues + repairs
    stale = [n for n in STALE if output.exists() and n in layers_of(output)]
    found = qa_frame(all_issues, inputs.crs)
    qa = merge_qa(output, "grids adopt", found, stale=("partition", "group"))
    write_geopackage(
        output,
        {"community": communities, "unit_grid": grids, "qa_issue": qa,
         REGISTRY_LAYER: registry},
        run_record("grids adopt", {**(parameters or {}), "crs": inputs.crs.to_string(),
                                   "code_field": inputs.layer.code_field,
                                   "target_area": target_area, "repair": repair,
                                   "repair_area": repair_area, "recode": recode},
                   inputs.paths),
        drop=tuple(stale),
    )
    severities = [i.severity for i in issues]
    return StepResult({
        "output": str(output),
        "source": inputs.layer.source,
        "code_field": inputs.layer.code_field,
        "crs": inputs.crs.to_string(),
        "read": int(len(audit.grids)),
        "unit_grids": int(len(grids)),
        "communities": int(len(communities)),
        "recoded": recode,
        "repairs": {rule: sum(i.rule == rule for i in repairs)
                    for rule in sorted({i.rule for i in repairs})},
        "retired": sorted(retired),
        "errors": severities.count("error"),
        "warnings": severities.count("warning"),
        "audit": audit.figures,
        "removed_stale_layers": stale,
        "seconds": round(time.perf_counter() - started, 2),
    }, found)


def _refuse_blocking(audit: Audit, layer: GridLayer, rules: tuple[str, ...], fix: str,
                     parameter: str, also: frozenset[str] | set[str] = frozenset()) -> None:
    """Stop on the first issue of ``rules`` (or an invalid-geometry issue of ``also``'s grids)."""
    blocking = [i for i in audit.issues if i.rule in rules
                or (i.rule == "grid-invalid-geometry" and i.key in also)]
    if blocking:
        more = f" ({len(blocking) - 1} more such faults)" if len(blocking) > 1 else ""
        message = blocking[0].message
        # Messages about the whole layer start with its name already.
        where = "" if message.startswith(f"{layer.source}:") else f"{layer.source}: "
        raise InputError(
            f"{where}{message}{more}; unit_grid needs one valid "
            f"single-polygon grid per unique text code: {fix}", parameter=parameter,
            file=layer.source)


def unit_grid_frame(codes, geoms, crs) -> gpd.GeoDataFrame:
    """The ``unit_grid`` layer for ``codes`` and their polygons, sorted by BGID."""
    codes = np.asarray(codes, dtype=object)
    grids = gpd.GeoDataFrame({
        "BGID": codes,
        "COMMUNITY": np.array([c[:12] for c in codes], dtype=object),
        "STREET": np.array([c[:9] for c in codes], dtype=object),
        "AREA": np.round(shapely.area(geoms), 2),
        "RGID": pd.Series([None] * len(codes), dtype="string"),
        "DENSITY": pd.Series([None] * len(codes), dtype="string"),
    }, geometry=shapely.normalize(np.asarray(geoms, dtype=object)), crs=crs)
    return grids.sort_values("BGID", kind="stable").reset_index(drop=True)


def _kept_codes(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return unit_grid_frame(frame["CODE"].to_numpy(), frame.geometry.to_numpy(), frame.crs)


def _recoded(frame: gpd.GeoDataFrame, communities, target_area: float) -> gpd.GeoDataFrame:
    """Every grid (every part of a multi-part one) coded anew in gridkit's order."""
    parts, index = shapely.get_parts(frame.geometry.to_numpy(), return_index=True)
    codes = frame["CODE"].to_numpy(dtype=object)[index]
    holder = frame["HOLDER"].to_numpy(dtype=object)[index]
    community = np.where(holder != "", holder,
                         np.array([c[:12] for c in codes], dtype=object))
    bad = [c for c in community if len(c) != 12 or not c.isdigit()]
    if bad:
        raise InputError(f"{mention(recode=True)}: some grids have no valid code prefix and no "
                         f"community holds them; give {mention('communities')} so that each "
                         "grid gets its community's code", parameter="communities")
    pieces = gpd.GeoDataFrame({"COMMUNITY": community, "SRCCODE": codes,
                               "TARGET": target_area}, geometry=parts, crs=frame.crs)
    comm = pieces.dissolve("COMMUNITY", as_index=False)[["COMMUNITY", "geometry"]] \
        .rename(columns={"COMMUNITY": "CODE"})
    coded = assign_bgids(pieces, comm, np.full(len(comm), float(target_area)))
    grids = unit_grid_frame(coded["BGID"].to_numpy(), coded.geometry.to_numpy(), frame.crs)
    source = dict(zip(coded["BGID"], coded["SRCCODE"], strict=True))
    grids.insert(len(grids.columns) - 1, "SRCCODE", grids["BGID"].map(source).astype(object))
    return grids


def _community_layer(grids: gpd.GeoDataFrame, communities, target_area: float):
    """The communities given (with UNITS and TARGET), and the union of grids of other prefixes.

    A prefix no community has stands for a community of the union of its grids.
    """
    units = grids.groupby("COMMUNITY").size()
    frames = []
    known: set[str] = set()
    if communities is not None:
        given = communities[["CODE", "NAME", "STREET", "geometry"]].copy()
        frames.append(given)
        known = set(given["CODE"])
    missing = sorted(set(units.index) - known)
    if missing:
        shapes = [shapely.union_all(grids.geometry.to_numpy()[grids["COMMUNITY"].eq(code)
                                                              .to_numpy()]) for code in missing]
        frames.append(gpd.GeoDataFrame({"CODE": missing, "NAME": [""] * len(missing),
                                        "STREET": [c[:9] for c in missing]},
                                       geometry=shapes, crs=grids.crs))
    comm = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=grids.crs)
    comm["AREA"] = comm.geometry.area.round(2)
    comm["UNITS"] = comm["CODE"].map(units).fillna(0).astype("int64")
    comm["TARGET"] = float(round(target_area))
    comm = comm.sort_values("CODE", kind="stable").reset_index(drop=True)
    return comm[["CODE", "NAME", "STREET", "AREA", "UNITS", "TARGET", "geometry"]]


def _registry(output: Path, codes: pd.Series, run: int) -> pd.DataFrame:
    """The output's registry with these codes active.

    Fresh for a new file; in an existing one, codes no longer present retire and new ones register.
    """
    if not (output.exists() and REGISTRY_LAYER in layers_of(output)):
        return new_registry(codes, run)
    registry = read_registry(output, [])
    now = set(codes)
    gone = registry.loc[registry["STATUS"].eq(ACTIVE) & ~registry["BGID"].isin(now), "BGID"]
    registry = retire(registry, gone, run)
    registry.loc[registry["BGID"].isin(now), ["STATUS", "RETIRED_RUN"]] = [ACTIVE, pd.NA]
    return register(registry, sorted(now - set(registry["BGID"])), run)
