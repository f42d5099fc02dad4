"""``gridkit group`` as a library: its options and the step over a GeoPackage.

The in-memory step is :func:`gridkit.responsibility.group` (unit grids in, a
:class:`~gridkit.responsibility.engine.Grouping` with ``.qa`` and ``.figures`` out);
:func:`group_geopackage` reads the unit grids (and the census and events for the workload)
from a GeoPackage, groups them and writes the result back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyogrio
import shapely

from gridkit.crs import parse_crs
from gridkit.errors import GridkitError, InputError
from gridkit.geometry import POLYGONAL, clean_geometries, skipped_features
from gridkit.io import layers_of, merge_qa, read_vector, run_record, write_geopackage
from gridkit.options import PATH, crs_field, layer_field, option, record
from gridkit.qa import qa_frame
from gridkit.responsibility.adjacency import MIN_SHARED_EDGE
from gridkit.responsibility.density import DEFAULT_THRESHOLD
from gridkit.responsibility.engine import group, parse_band
from gridkit.responsibility.workload import load_weights, workload_for
from gridkit.result import StepResult

__all__ = ["GroupOptions", "group_geopackage"]


@dataclass(frozen=True)
class GroupOptions:
    """Options of ``gridkit group`` (and of the ``[group]`` section of ``gridkit run``).

    Parameters
    ----------
    key_areas : pathlib.Path, optional
        Polygons of demonstration areas, CBDs, landscape belts: their unit grids are dense
        by rule. ``--key-areas``.
    key_areas_layer : str, optional
        Layer of ``key_areas`` when the file has several. ``--key-areas-layer``.
    crs : str, optional
        CRS of ``key_areas`` when the file has none, e.g. ``EPSG:4490``. ``--crs``.
    dense : str
        Unit grids per responsibility grid in dense areas, ``LOW-HIGH``. ``--dense``.
    sparse : str
        Unit grids per responsibility grid elsewhere, ``LOW-HIGH``. ``--sparse``.
    dense_threshold : float
        A grid is dense when its workload per m² is at least this many times the district
        median (a ratio, > 0). ``--dense-threshold``.
    weights : pathlib.Path, optional
        TOML of workload weights per component/event class (default: the bundled ones).
        ``--weights``.
    min_shared_edge : float
        Metres of shared edge that make two unit grids neighbours. ``--min-shared-edge``.

    Examples
    --------
    >>> GroupOptions(dense="8-12").dense
    '8-12'
    """

    key_areas: Path | None = option(
        None, type=PATH, record=False,
        help="Polygons of demonstration areas, CBDs, landscape belts: dense by rule.")
    key_areas_layer: str | None = layer_field("--key-areas")
    crs: str | None = crs_field("CRS of --key-areas when the file has none, e.g. EPSG:4490.",
                                record=False)
    dense: str = option("10-16", show_default=True,
                        help="Unit grids per responsibility grid in dense areas.")
    sparse: str = option("20-30", show_default=True,
                         help="Unit grids per responsibility grid elsewhere.")
    dense_threshold: float = option(
        DEFAULT_THRESHOLD, type=float, show_default=True,
        help="A grid is dense when its workload per m² is at least this many times the "
             "district median.")
    weights: Path | None = option(None, type=PATH,
                                  help="TOML of workload weights per component/event class.")
    min_shared_edge: float = option(
        MIN_SHARED_EDGE, type=float, show_default=True,
        help="Metres of shared edge that make two unit grids neighbours: responsibility "
             "grids are contiguous through such walkable edges, never a corner contact.")


def read_unit_grids(path: Path):
    """The ``unit_grid`` layer of the GeoPackage ``gridkit partition`` wrote.

    Parameters
    ----------
    path : pathlib.Path
        The GeoPackage.

    Returns
    -------
    geopandas.GeoDataFrame
        The unit grids.

    Raises
    ------
    GridkitError
        When ``path`` is not a GeoPackage or has no ``unit_grid`` layer.
    """
    if path.suffix.lower() != ".gpkg":
        raise GridkitError(f"{path}: give the GeoPackage gridkit partition wrote")
    if "unit_grid" not in layers_of(path):
        raise GridkitError(f"{path} has no unit_grid layer: run gridkit partition first")
    return pyogrio.read_dataframe(path, layer="unit_grid", use_arrow=True)


def _read_key_areas(path: Path, layer: str | None, grids, crs: str | None = None):
    keys = read_vector(path, layer=layer, what="key areas", crs=parse_crs(crs) if crs else None,
                       layer_option="--key-areas-layer")
    keys, issues = clean_geometries(keys, what="key areas", allowed=POLYGONAL,
                                    layer="key_area")
    declared = keys.crs.to_string()
    keys = keys.to_crs(grids.crs)
    extent = shapely.box(*grids.total_bounds)
    if not keys.intersects(extent).any():
        raise GridkitError(
            f"{path} (key areas): no key area overlaps the unit grids after reprojecting from "
            f"{declared}; check that the file's CRS is the one its coordinates are in")
    return keys, issues


def group_geopackage(gpkg: str | Path, options: GroupOptions | None = None, *,
                     client=None) -> StepResult:
    """Group the unit grids of ``gpkg`` into responsibility grids and write them there.

    Reads ``unit_grid`` (and ``component``/``event`` for the workload when present),
    writes ``responsibility_grid``, fills ``unit_grid.RGID``/``DENSITY``, adds the step's
    issues to ``qa_issue`` and a ``gridkit_run`` row, in one transaction. Responsibility
    grids whose unit grids did not change keep their RGIDs.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage ``gridkit partition`` (or ``grids adopt``) wrote.
    options : GroupOptions, optional
        The step's options; defaults as ``gridkit group``'s.
    client : dask.distributed.Client, optional
        Group the streets on this cluster; same result.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit group --json`` prints (responsibility_grids,
        unit_grids, in_band_share, contiguous_share, workload, kept_rgids, qa, seconds, ...);
        ``qa``: the grouping's issues.

    Raises
    ------
    GridkitError
        A band or threshold out of range, no unit grids, unreadable key areas or weights.

    Examples
    --------
    >>> result = group_geopackage("out/district.gpkg", GroupOptions(dense="8-12"))
    ... # doctest: +SKIP
    >>> result["responsibility_grids"], len(result.qa)  # doctest: +SKIP
    (64, 0)
    """
    options = options or GroupOptions()
    gpkg = Path(gpkg)
    started = time.perf_counter()
    bands = parse_band(options.dense, "--dense"), parse_band(options.sparse, "--sparse")
    if not options.dense_threshold > 0:
        raise InputError(f"`dense_threshold={options.dense_threshold:g}`: it is a multiple "
                         "of the median workload per m² and must be above 0 (default 2)",
                         parameter="dense_threshold")
    grids = read_unit_grids(gpkg)
    keys, issues = (_read_key_areas(options.key_areas, options.key_areas_layer, grids,
                                    options.crs)
                    if options.key_areas else (None, []))
    load, source = workload_for(gpkg, grids, load_weights(options.weights))
    result = group(grids, keys, load, dense=bands[0], sparse=bands[1],
                   dense_threshold=options.dense_threshold,
                   min_shared_edge=options.min_shared_edge, client=client)
    # Responsibility grids whose unit grids did not change keep their RGIDs.
    from gridkit.grids.rgids import keep_rgids

    result, kept_rgids = keep_rgids(grids, result)
    issues += result.issues
    qa = qa_frame(issues, grids.crs)
    write_geopackage(
        gpkg,
        {"unit_grid": result.unit_grids, "responsibility_grid": result.responsibility_grids,
         "qa_issue": merge_qa(gpkg, "group", qa)},
        run_record("group", record(options, weights=str(options.weights or "default"),
                                   workload=source),
                   [p for p in (options.key_areas, options.weights) if p]),
    )
    figures = {"output": str(gpkg), "workload": source, **result.figures,
               "kept_rgids": kept_rgids,
               "skipped_features": skipped_features(issues),
               "qa": {"warning": sum(i.severity == "warning" for i in issues),
                      "error": sum(i.severity == "error" for i in issues)},
               "seconds": round(time.perf_counter() - started, 2)}
    return StepResult(figures, qa)
