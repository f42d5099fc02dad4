"""``gridkit partition``: the command over :func:`gridkit.partition.partition`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gridkit.console import emit_json, show_progress, status_line
from gridkit.crs import parse_crs
from gridkit.distributed import cluster_client, cluster_options
from gridkit.geometry import skipped_features
from gridkit.io import (
    layers_of,
    merge_qa,
    read_vector,
    refuse_overwriting_inputs,
    run_record,
    write_geopackage,
)
from gridkit.partition.context import CONTEXT_LAYERS, context_layers, with_input_names
from gridkit.partition.counties import county_figures
from gridkit.partition.engine import CUTTINGS, DEFAULT_CUTTING
from gridkit.partition.engine import partition as run_partition
from gridkit.partition.metrics import partition_figures
from gridkit.qa import qa_frame

# Layers built on the unit grids, removed when the grids are cut anew (re-run gridkit group).
STALE_AFTER_PARTITION = ("responsibility_grid",)


def partition_to_geopackage(
    communities: Path,
    output: Path,
    *,
    layer: str | None = None,
    roads: Path | None = None,
    roads_layer: str | None = None,
    water: Path | None = None,
    water_layer: str | None = None,
    buildings: Path | None = None,
    buildings_layer: str | None = None,
    parcels: Path | None = None,
    parcels_layer: str | None = None,
    cutting: str = DEFAULT_CUTTING,
    target_area: float = 10_000,
    crs: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    road_class_field: str | None = None,
    max_conflict_area: float | None = None,
    update: bool = False,
    area: Path | None = None,
    progress=None,
    client=None,
    borders=None,
) -> dict:
    """Read the inputs, partition, write ``output``; returns the figures for the report.

    ``borders``: county border lines for :func:`gridkit.partition.engine.partition`.
    ``area``: grid only the communities at least half inside it; ``update``: adjust the
    grids ``output`` already has, keeping their codes (see :mod:`gridkit.grids.update`).
    """
    started = time.perf_counter()
    refuse_overwriting_inputs(output, [communities, roads, water, buildings, parcels, area])
    user_crs = parse_crs(crs) if crs else None
    comm = read_vector(communities, layer=layer, what="communities", crs=user_crs)
    if area is not None:
        from gridkit.grids.area import managed_communities

        comm = managed_communities(comm, area, user_crs)
    road_frame = (read_vector(roads, layer=roads_layer, what="roads", crs=user_crs,
                              layer_option="--roads-layer") if roads else None)
    water_frame = (read_vector(water, layer=water_layer, what="water", crs=user_crs,
                               layer_option="--water-layer") if water else None)
    building_frame = (read_vector(buildings, layer=buildings_layer, what="buildings",
                                  crs=user_crs, layer_option="--buildings-layer")
                      if buildings else None)
    parcel_frame = (read_vector(parcels, layer=parcels_layer, what="parcels", crs=user_crs,
                                layer_option="--parcels-layer") if parcels else None)
    if update and output.exists() and "unit_grid" in layers_of(output):
        from gridkit.grids.update import update_geopackage

        return update_geopackage(
            comm, output, roads=road_frame, water=water_frame, buildings=building_frame,
            parcels=parcel_frame, cutting=cutting,
            target_area=target_area, code_field=code_field, name_field=name_field,
            road_class_field=road_class_field, max_conflict_area=max_conflict_area,
            parameters={"target_area": target_area, "layer": layer, "code_field": code_field,
                        "name_field": name_field, "area": str(area) if area else None,
                        "cutting": cutting, "max_conflict_area": max_conflict_area},
            inputs=[p for p in (communities, roads, water, buildings, parcels, area) if p],
            progress=progress, client=client)
    result = run_partition(
        comm, road_frame, water_frame, building_frame, target_area, parcel_frame,
        cutting=cutting, crs=user_crs,
        code_field=code_field, name_field=name_field, road_class_field=road_class_field,
        max_conflict_area=max_conflict_area, progress=progress, client=client,
        borders=borders,
    )
    grids = result.unit_grids
    area_of = dict(zip(result.communities["CODE"], result.communities["AREA"], strict=True))
    figures = partition_figures(
        grids, target_area,
        community_area=grids["COMMUNITY"].map(area_of).to_numpy(),
        barrier_lines=result.barrier_lines,
        buildings=result.buildings,
    )
    parameters = {"target_area": target_area, "crs": result.crs.to_string(),
                  "layer": layer, "roads_layer": roads_layer, "water_layer": water_layer,
                  "buildings_layer": buildings_layer, "parcels_layer": parcels_layer,
                  "cutting": cutting, "code_field": code_field,
                  "name_field": name_field, "road_class_field": road_class_field,
                  "max_conflict_area": max_conflict_area, "area": str(area) if area else None}
    inputs = [p for p in (communities, roads, water, buildings, parcels, area) if p]
    # New unit grids invalidate what was built on the old ones.
    stale = [name for name in STALE_AFTER_PARTITION
             if output.exists() and name in layers_of(output)]
    qa = merge_qa(output, "partition", qa_frame(result.issues, result.crs), stale=("group",))
    # Names given with the communities, and the inputs cut along, for reports (context.py).
    context = context_layers(result.crs, road=road_frame, water=water_frame,
                             building=building_frame)
    stale += [name for name in CONTEXT_LAYERS if name not in context and output.exists()
              and name in layers_of(output)]
    write_geopackage(
        output,
        {"community": with_input_names(result.communities, comm, code_field), "unit_grid": grids,
         "qa_issue": qa, **context},
        run_record("partition", parameters, inputs),
        drop=tuple(stale),
    )
    severities = [i.severity for i in result.issues]
    rules: dict[str, int] = {}
    for issue in result.issues:
        rules[issue.rule] = rules.get(issue.rule, 0) + 1
    return {
        "output": str(output),
        "layers": ["community", "unit_grid", "qa_issue", *context, "gridkit_run"],
        "crs": result.crs.to_string(),
        "target_area": target_area,
        "communities": int(len(result.communities)),
        "streets": int(result.communities["STREET"].nunique()),
        "unit_grids": int(len(grids)),
        **{k: v for k, v in figures.items() if k != "count"},
        "counties": county_figures(grids, result.communities, target_area),
        "skipped_features": skipped_features(result.issues),
        "qa": {"error": severities.count("error"), "warning": severities.count("warning"),
               "by_rule": rules},
        "removed_stale_layers": stale,
        "seconds": round(time.perf_counter() - started, 2),
    }


def print_summary(figures: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"unit grids → {figures['output']}", show_header=False)
    area = figures["area_m2"]
    rows = [
        ("communities", f"{figures['communities']} in {figures['streets']} streets/towns"),
        ("unit grids", f"{figures['unit_grids']:,}"),
        ("area m² (min / median / max)",
         f"{area['min']:,.0f} / {area['median']:,.0f} / {area['max']:,.0f}"),
        ("in band 0.5–2× target", "n/a (every community is smaller than half the target)"
         if figures["in_band_share"] is None else f"{figures['in_band_share']:.1%}"),
        ("slivers (< 0.1× target)", str(figures["slivers"])),
        ("median Polsby–Popper", f"{figures['polsby_popper_median']:.3f}"),
    ]
    if "buildings_split" in figures:
        split = figures["buildings_split"]
        rows.append(("buildings split", f"{split['split']:,} of {split['buildings']:,} "
                                        f"({split['split_share']:.2%})"))
    if "boundary_on_fabric_share" in figures:
        rows.append(("boundary on roads/water/parcels or between buildings",
                     f"{figures['boundary_on_fabric_share']:.1%}"))
    if len(figures["counties"]) > 1:
        rows.append(("counties", ", ".join(f"{c['county']}: {c['unit_grids']:,} grids"
                                           for c in figures["counties"])))
    for layer, skipped in figures["skipped_features"].items():
        rows.append((f"skipped {layer} features", f"{skipped['count']} (ids "
                     f"{', '.join(skipped['ids'][:10])}{' ...' if skipped['count'] > 10 else ''}"
                     "; see qa_issue)"))
    rows += [
        ("QA issues", f"{figures['qa']['error']} errors, {figures['qa']['warning']} warnings "
                      "(layer qa_issue)"),
        ("CRS", figures["crs"]),
        ("seconds", f"{figures['seconds']:.1f}"),
    ]
    if figures.get("removed_stale_layers"):
        rows.append(("removed (built on the old grids)",
                     ", ".join(figures["removed_stale_layers"]) + ": re-run gridkit group"))
    for name, value in rows:
        table.add_row(name, value)
    Console(stderr=False).print(table)


@click.command()
@click.argument("communities", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage to write (layers community, unit_grid, qa_issue, gridkit_run; "
                   "other layers in an existing file are kept).")
@click.option("--layer", help="Layer of COMMUNITIES, when the file has several.")
@click.option("--roads", type=click.Path(path_type=Path), help="Road centre lines (or surfaces).")
@click.option("--roads-layer", help="Layer of --roads.")
@click.option("--water", type=click.Path(path_type=Path), help="Rivers, canals: lines/polygons.")
@click.option("--water-layer", help="Layer of --water.")
@click.option("--buildings", type=click.Path(path_type=Path), help="Building footprints.")
@click.option("--buildings-layer", help="Layer of --buildings.")
@click.option("--parcels", type=click.Path(path_type=Path),
              help="Compounds (小区/单位) and cadastral plots (polygons) or walls (lines): "
                   "grids follow their edges where the size band allows.")
@click.option("--parcels-layer", help="Layer of --parcels.")
@click.option("--cutting", type=click.Choice(CUTTINGS), default=DEFAULT_CUTTING,
              show_default=True,
              help="How blocks larger than 1.5× the target are cut: along the fabric (gaps "
                   "between buildings, dead-end alleys and paths, parcel lines; open land in "
                   "larger grids), or in straight rows and cells slid to miss buildings.")
@click.option("--target-area", type=float, default=10_000, show_default=True,
              help="Unit grid area to aim for, m².")
@click.option("--crs", help="CRS of inputs that have none; if projected, also the CRS to work "
                            "and write in (default: the CGCS2000 3° Gauss-Krüger zone).")
@click.option("--code-field", help="Community code field (default: CODE, 代码, 社区代码, ...).")
@click.option("--name-field", help="Community name field (default: NAME, 名称, ...).")
@click.option("--road-class-field",
              help="Road class field (default: CLASS, fclass, highway, 道路等级, ...).")
@click.option("--max-conflict-area", type=float,
              help="Largest gap/overlap between communities resolved by rule, m² "
                   "(default: half the target).")
@click.option("--update", is_flag=True,
              help="OUTPUT already has unit grids: keep those of unchanged communities with "
                   "their BGIDs, re-cut only what changed, list it in grid_change.")
@click.option("--area", type=click.Path(path_type=Path),
              help="Managed area polygons: grid only the communities at least half inside.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
@cluster_options
def partition(communities, output, layer, roads, roads_layer, water, water_layer, buildings,
              buildings_layer, parcels, parcels_layer, cutting, target_area, crs, code_field,
              name_field, road_class_field, max_conflict_area, update, area, as_json,
              scheduler, workers):
    """Cut communities (居委会/村) into coded unit grids (单元网格).

    Grids never cross a community border, follow roads and water, avoid cutting buildings,
    cover every community exactly and carry 15-digit BGIDs.

    \b
    Example:
        gridkit partition data/samples/communities.gpkg -o out/district.gpkg \\
            --roads data/samples/roads.gpkg --water data/samples/water.gpkg \\
            --buildings data/samples/buildings.gpkg
        gridkit partition communities.gpkg -o out/centre.gpkg --roads osm_roads.gpkg \\
            --buildings buildings.gpkg --parcels plots.gpkg
        # communities changed: keep the grids and BGIDs of the unchanged ones
        gridkit partition communities_2026.gpkg -o out/district.gpkg \\
            --roads data/samples/roads.gpkg --update
    """
    with status_line("partition", show_progress() and not as_json) as say, \
            cluster_client(scheduler, workers) as client:
        figures = partition_to_geopackage(
            communities, output, layer=layer, roads=roads, roads_layer=roads_layer,
            water=water, water_layer=water_layer, buildings=buildings,
            buildings_layer=buildings_layer, parcels=parcels, parcels_layer=parcels_layer,
            cutting=cutting, target_area=target_area, crs=crs,
            code_field=code_field, name_field=name_field, road_class_field=road_class_field,
            max_conflict_area=max_conflict_area, update=update, area=area, progress=say,
            client=client,
        )
    if as_json:
        emit_json(figures)
    elif figures.get("update"):
        from gridkit.grids.cli import print_update_summary

        print_update_summary(figures)
    else:
        print_summary(figures)
        click.echo(f"wrote {figures['output']}")


