"""``gridkit partition``: the command over :func:`gridkit.partition.partition_geopackage`."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, print_table, show_progress, status_line
from gridkit.distributed import cluster_client
from gridkit.options import click_options, cluster_options, json_option
from gridkit.partition import PartitionOptions, partition_geopackage


def print_summary(figures: dict) -> None:
    """Print the figures of :func:`~gridkit.partition.partition_geopackage` as a table.

    Parameters
    ----------
    figures : dict
        The step's figures.
    """
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
    columns = figures.get("community_columns")
    if columns:
        rows.append(("community fields", ", ".join(f"{k} ← {v}" for k, v in
                                                   columns["used"].items())
                     + (f"; ignored: {', '.join(columns['ignored'])}"
                        if columns["ignored"] else "")))
    rows += [
        ("QA issues", f"{figures['qa']['error']} errors, {figures['qa']['warning']} warnings "
                      "(layer qa_issue)"),
        ("CRS", figures["crs"]),
        ("seconds", f"{figures['seconds']:.1f}"),
    ]
    if figures.get("removed_stale_layers"):
        rows.append(("removed (built on the old grids)",
                     ", ".join(figures["removed_stale_layers"]) + ": re-run gridkit group"))
    print_table(f"unit grids → {figures['output']}", rows)


@click.command()
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage to write (layers community, unit_grid, qa_issue, gridkit_run; "
                   "other layers in an existing file are kept).")
@click_options(PartitionOptions)
@json_option()
@cluster_options
def partition(output: Path, options: PartitionOptions, as_json: bool, scheduler: str | None,
              workers: int | None) -> None:
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
        figures = partition_geopackage(output, options, progress=say, client=client).figures
    if as_json:
        emit_json(figures)
    elif figures.get("update"):
        from gridkit.grids.cli import print_update_summary

        print_update_summary(figures)
    else:
        print_summary(figures)
        click.echo(f"wrote {figures['output']}")


