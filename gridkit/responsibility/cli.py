"""``gridkit group``: the command over :func:`gridkit.responsibility.group`."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pyogrio
import shapely

from gridkit.console import emit_json
from gridkit.crs import parse_crs
from gridkit.distributed import cluster_client, cluster_options
from gridkit.errors import GridkitError
from gridkit.geometry import POLYGONAL, clean_geometries, skipped_features
from gridkit.io import layers_of, merge_qa, read_vector, run_record, write_geopackage
from gridkit.qa import qa_frame
from gridkit.responsibility.adjacency import MIN_SHARED_EDGE
from gridkit.responsibility.density import DEFAULT_THRESHOLD
from gridkit.responsibility.engine import group as group_grids
from gridkit.responsibility.engine import parse_band
from gridkit.responsibility.workload import load_weights, workload_for


def read_unit_grids(path: Path):
    if path.suffix.lower() != ".gpkg":
        raise GridkitError(f"{path}: give the GeoPackage gridkit partition wrote")
    if "unit_grid" not in layers_of(path):
        raise GridkitError(f"{path} has no unit_grid layer: run gridkit partition first")
    return pyogrio.read_dataframe(path, layer="unit_grid", use_arrow=True)


def read_key_areas(path: Path, layer: str | None, grids, crs: str | None = None):
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


def group_geopackage(output: Path, *, key_areas: Path | None = None,
                     key_areas_layer: str | None = None, crs: str | None = None,
                     dense: str = "10-16", sparse: str = "20-30",
                     dense_threshold: float = DEFAULT_THRESHOLD,
                     weights: Path | None = None,
                     min_shared_edge: float = MIN_SHARED_EDGE, client=None) -> dict:
    started = time.perf_counter()
    bands = parse_band(dense, "--dense"), parse_band(sparse, "--sparse")
    if not dense_threshold > 0:
        raise GridkitError(f"--dense-threshold {dense_threshold:g}: it is a multiple of the "
                           "median workload per m² and must be above 0 (default 2)")
    grids = read_unit_grids(output)
    keys, issues = (read_key_areas(key_areas, key_areas_layer, grids, crs) if key_areas
                    else (None, []))
    load, source = workload_for(output, grids, load_weights(weights))
    result = group_grids(grids, keys, load, dense=bands[0], sparse=bands[1],
                         dense_threshold=dense_threshold, min_shared_edge=min_shared_edge,
                         client=client)
    # Responsibility grids whose unit grids did not change keep their RGIDs.
    from gridkit.grids.rgids import keep_rgids

    result, kept_rgids = keep_rgids(grids, result)
    issues += result.issues
    parameters = {"dense": dense, "sparse": sparse, "dense_threshold": dense_threshold,
                  "key_areas_layer": key_areas_layer, "weights": str(weights or "default"),
                  "workload": source, "min_shared_edge": min_shared_edge}
    write_geopackage(
        output,
        {"unit_grid": result.unit_grids, "responsibility_grid": result.responsibility_grids,
         "qa_issue": merge_qa(output, "group", qa_frame(issues, grids.crs))},
        run_record("group", parameters, [p for p in (key_areas, weights) if p]),
    )
    return {"output": str(output), "workload": source, **result.figures,
            "kept_rgids": kept_rgids,
            "skipped_features": skipped_features(issues),
            "qa": {"warning": sum(i.severity == "warning" for i in issues),
                   "error": sum(i.severity == "error" for i in issues)},
            "seconds": round(time.perf_counter() - started, 2)}


@click.command()
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--key-areas", type=click.Path(path_type=Path),
              help="Polygons of demonstration areas, CBDs, landscape belts: dense by rule.")
@click.option("--key-areas-layer", help="Layer of --key-areas.")
@click.option("--crs", help="CRS of --key-areas when the file has none, e.g. EPSG:4490.")
@click.option("--dense", default="10-16", show_default=True,
              help="Unit grids per responsibility grid in dense areas.")
@click.option("--sparse", default="20-30", show_default=True,
              help="Unit grids per responsibility grid elsewhere.")
@click.option("--dense-threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
              help="A grid is dense when its workload per m² is at least this many times "
                   "the district median.")
@click.option("--weights", type=click.Path(path_type=Path),
              help="TOML of workload weights per component/event class.")
@click.option("--min-shared-edge", type=float, default=MIN_SHARED_EDGE, show_default=True,
              help="Metres of shared edge that make two unit grids neighbours: responsibility "
                   "grids are contiguous through such walkable edges, never a corner contact.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
@cluster_options
def group(output, key_areas, key_areas_layer, crs, dense, sparse, dense_threshold, weights,
          min_shared_edge, as_json, scheduler, workers):
    """Group unit grids into responsibility grids (责任网格) by the density rule.

    Dense and key areas get 10-16 unit grids per responsibility grid, others 20-30; each is
    contiguous, inside one street and balanced in workload. Writes responsibility_grid and
    fills unit_grid.RGID and DENSITY in OUTPUT.

    \b
    Example:
        gridkit group out/district.gpkg --key-areas data/samples/key_areas.gpkg
    """
    with cluster_client(scheduler, workers) as client:
        figures = group_geopackage(output, key_areas=key_areas,
                                   key_areas_layer=key_areas_layer, crs=crs, dense=dense,
                                   sparse=sparse, dense_threshold=dense_threshold,
                                   weights=weights, min_shared_edge=min_shared_edge,
                                   client=client)
    if as_json:
        emit_json(figures)
        return
    print_group_summary(figures)
    click.echo(f"wrote {figures['output']}")


def print_group_summary(figures: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"responsibility grids → {figures['output']}", show_header=False)
    for name, value in [
        ("responsibility grids", f"{figures['responsibility_grids']:,} from "
                                 f"{figures['unit_grids']:,} unit grids"),
        ("in band", f"{figures['in_band_share']:.1%} ({figures['violations']} violations, "
                    "layer qa_issue)"),
        ("contiguous", f"{figures['contiguous_share']:.0%}"),
        ("workload", f"{figures['workload']}; worst CV per street and class "
                     f"{figures['workload_cv_max']:.3f}"),
        ("median Polsby–Popper", f"{figures['polsby_popper_median']:.3f}"),
        ("seconds", f"{figures['seconds']:.1f}"),
    ]:
        table.add_row(name, value)
    Console().print(table)
