"""``gridkit partition`` as a library: its options and the step over files.

The in-memory step is :func:`gridkit.partition.partition` (communities and barriers in, a
:class:`~gridkit.partition.engine.Partition` with ``.qa`` and ``.figures`` out);
:func:`partition_geopackage` reads the input files, partitions and writes the GeoPackage.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gridkit.crs import parse_crs
from gridkit.io import (
    layers_of,
    merge_qa,
    read_vector,
    refuse_overwriting_inputs,
    run_record,
    write_geopackage,
)
from gridkit.options import PATH, crs_field, layer_field, option, record
from gridkit.partition.context import (
    CONTEXT_LAYERS,
    community_columns,
    context_layers,
    with_input_names,
)
from gridkit.partition.engine import CUTTINGS, DEFAULT_CUTTING, partition
from gridkit.result import StepResult

__all__ = ["PartitionOptions", "partition_geopackage"]

# Layers built on the unit grids, removed when the grids are cut anew (re-run gridkit group).
STALE_AFTER_PARTITION = ("responsibility_grid",)


def _input(help: str) -> Any:
    """An input file option: on the command line and in TOML, checksummed, not a parameter."""
    return option(None, type=PATH, record=False, help=help)


@dataclass(frozen=True)
class PartitionOptions:
    """Options of ``gridkit partition`` (and of the ``[partition]`` section of ``gridkit run``).

    Parameters
    ----------
    communities : pathlib.Path
        Community (居委会/村) polygons, one feature per community: CODE (12 digits) and NAME,
        or fields named by ``code_field``/``name_field``. The ``COMMUNITIES`` argument.
    layer : str, optional
        Layer of ``communities`` when the file has several. ``--layer``.
    roads, water, buildings : pathlib.Path, optional
        Road centre lines (or surfaces), rivers and canals (lines or polygons), building
        footprints. ``--roads``, ``--water``, ``--buildings``.
    roads_layer, water_layer, buildings_layer : str, optional
        Their layers.
    parcels : pathlib.Path, optional
        Compounds (小区/单位) and cadastral plots (polygons) or walls (lines) whose edges
        grids follow where the size band allows. ``--parcels``.
    parcels_layer : str, optional
        Its layer.
    cutting : {"fabric", "straight"}
        How blocks larger than 1.5× the target are cut (default ``fabric``). ``--cutting``.
    target_area : float
        Unit grid area to aim for, m². ``--target-area``.
    crs : str, optional
        CRS of inputs that have none; if projected, also the CRS to work and write in
        (default: the CGCS2000 3° Gauss-Krüger zone of the data). ``--crs``.
    code_field, name_field, road_class_field : str, optional
        Field names when the common names (CODE/代码, NAME/名称, CLASS/fclass/道路等级) are
        not used.
    max_conflict_area : float, optional
        Largest gap/overlap between communities resolved by rule, m² (default: half the
        target).
    update : bool
        The GeoPackage already has unit grids: keep those of unchanged communities with
        their BGIDs and re-cut only what changed. ``--update`` (not in TOML).
    area : pathlib.Path, optional
        Managed area polygons: grid only the communities at least half inside. ``--area``
        (not in TOML).

    Examples
    --------
    >>> PartitionOptions(Path("communities.gpkg"), target_area=8000).cutting
    'fabric'
    """

    communities: Path = option(dataclasses.MISSING, flag="COMMUNITIES", argument=True,
                               type=PATH, record=False)
    layer: str | None = layer_field("COMMUNITIES")
    roads: Path | None = _input("Road centre lines (or surfaces).")
    roads_layer: str | None = layer_field("--roads")
    water: Path | None = _input("Rivers, canals: lines/polygons.")
    water_layer: str | None = layer_field("--water")
    buildings: Path | None = _input("Building footprints.")
    buildings_layer: str | None = layer_field("--buildings")
    parcels: Path | None = _input(
        "Compounds (小区/单位) and cadastral plots (polygons) or walls (lines): grids follow "
        "their edges where the size band allows.")
    parcels_layer: str | None = layer_field("--parcels")
    cutting: str = option(
        DEFAULT_CUTTING, type=click.Choice(CUTTINGS), show_default=True,
        help="How blocks larger than 1.5× the target are cut: along the fabric (gaps between "
             "buildings, dead-end alleys and paths, parcel lines; open land in larger grids), "
             "or in straight rows and cells slid to miss buildings.")
    target_area: float = option(10_000, type=float, show_default=True,
                                help="Unit grid area to aim for, m².")
    crs: str | None = crs_field(
        "CRS of inputs that have none; if projected, also the CRS to work and write in "
        "(default: the CGCS2000 3° Gauss-Krüger zone).")
    code_field: str | None = option(
        None, help="Community code field (default: CODE, 代码, 社区代码, ...).")
    name_field: str | None = option(None, help="Community name field (default: NAME, 名称, ...).")
    road_class_field: str | None = option(
        None, help="Road class field (default: CLASS, fclass, highway, 道路等级, ...).")
    max_conflict_area: float | None = option(
        None, type=float,
        help="Largest gap/overlap between communities resolved by rule, m² (default: half "
             "the target).")
    update: bool = option(
        False, is_flag=True, toml=False, record=False,
        help="OUTPUT already has unit grids: keep those of unchanged communities with their "
             "BGIDs, re-cut only what changed, list it in grid_change.")
    area: Path | None = option(
        None, type=PATH, toml=False,
        help="Managed area polygons: grid only the communities at least half inside.")

    @property
    def inputs(self) -> list[Path]:
        """The input files given, in a fixed order (checksummed in ``gridkit_run``)."""
        return [p for p in (self.communities, self.roads, self.water, self.buildings,
                            self.parcels, self.area) if p]


def partition_geopackage(gpkg: str | Path, options: PartitionOptions, *, progress=None,
                         client=None, borders=None) -> StepResult:
    """Read the inputs, partition the communities and write ``gpkg``.

    Writes ``community``, ``unit_grid``, the step's ``qa_issue`` rows, the context layers
    (roads, water, buildings the grids were cut along) and a ``gridkit_run`` row in one
    transaction; other layers of an existing file are kept, except those built on the old
    grids (``responsibility_grid``). With ``options.update`` and unit grids already in
    ``gpkg``, only what changed is re-cut (:mod:`gridkit.grids.update`).

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage to write (created when absent).
    options : PartitionOptions
        The inputs and options.
    progress : callable, optional
        Called with the name of each stage.
    client : dask.distributed.Client, optional
        Plan the cuts per street on this cluster; same result.
    borders : numpy.ndarray of shapely geometries, optional
        County border lines noded for a whole province (:func:`gridkit.project.node_borders`).

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit partition --json`` prints (unit_grids, area_m2,
        in_band_share, slivers, counties, qa, seconds, ...); ``qa``: the partition's issues.

    Raises
    ------
    GridkitError
        An unreadable input, a target area out of range, ``gpkg`` among the inputs.

    Examples
    --------
    >>> options = PartitionOptions(Path("data/samples/communities.gpkg"),
    ...                            roads=Path("data/samples/roads.gpkg"))
    >>> result = partition_geopackage("out/district.gpkg", options)  # doctest: +SKIP
    >>> result["unit_grids"] > 0, result.qa["SEVERITY"].eq("error").sum()  # doctest: +SKIP
    (True, 0)
    """
    started = time.perf_counter()
    gpkg = Path(gpkg)
    o = options
    refuse_overwriting_inputs(gpkg, [o.communities, o.roads, o.water, o.buildings, o.parcels,
                                     o.area])
    user_crs = parse_crs(o.crs) if o.crs else None
    comm = read_vector(o.communities, layer=o.layer, what="communities", crs=user_crs)
    if o.area is not None:
        from gridkit.grids.area import managed_communities

        comm = managed_communities(comm, o.area, user_crs)
    frames = {name: read_vector(path, layer=layer, what=name, crs=user_crs,
                                layer_option=f"--{name}-layer") if path else None
              for name, path, layer in (("roads", o.roads, o.roads_layer),
                                        ("water", o.water, o.water_layer),
                                        ("buildings", o.buildings, o.buildings_layer),
                                        ("parcels", o.parcels, o.parcels_layer))}
    if o.update and gpkg.exists() and "unit_grid" in layers_of(gpkg):
        from gridkit.grids.update import update_geopackage

        # The --update path still returns the figures dict (a Mapping, as StepResult reads).
        return update_geopackage(  # type: ignore[return-value]
            comm, gpkg, **frames, cutting=o.cutting, target_area=o.target_area,
            code_field=o.code_field, name_field=o.name_field,
            road_class_field=o.road_class_field, max_conflict_area=o.max_conflict_area,
            parameters=record(o), inputs=o.inputs, progress=progress, client=client)
    result = partition(
        comm, frames["roads"], frames["water"], frames["buildings"], o.target_area,
        frames["parcels"], cutting=o.cutting, crs=user_crs, code_field=o.code_field,
        name_field=o.name_field, road_class_field=o.road_class_field,
        max_conflict_area=o.max_conflict_area, progress=progress, client=client,
        borders=borders,
    )
    # New unit grids invalidate what was built on the old ones.
    stale = [name for name in STALE_AFTER_PARTITION
             if gpkg.exists() and name in layers_of(gpkg)]
    qa = result.qa
    assert result.crs is not None  # partition() always says which CRS it worked in
    # Names given with the communities, and the inputs cut along, for reports (context.py).
    context = context_layers(result.crs, road=frames["roads"], water=frames["water"],
                             building=frames["buildings"])
    stale += [name for name in CONTEXT_LAYERS if name not in context and gpkg.exists()
              and name in layers_of(gpkg)]
    write_geopackage(
        gpkg,
        {"community": with_input_names(result.communities, comm, o.code_field),
         "unit_grid": result.unit_grids,
         "qa_issue": merge_qa(gpkg, "partition", qa, stale=("group",)), **context},
        run_record("partition", record(o, crs=result.crs.to_string()), o.inputs),
        drop=tuple(stale),
    )
    figures = {"output": str(gpkg),
               "layers": ["community", "unit_grid", "qa_issue", *context, "gridkit_run"],
               **result.figures,
               "community_columns": community_columns(comm, o.code_field, o.name_field),
               "removed_stale_layers": stale,
               "seconds": round(time.perf_counter() - started, 2)}
    return StepResult(figures, qa)
