"""``gridkit group``: the command over :func:`gridkit.responsibility.group_geopackage`."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, print_table
from gridkit.distributed import cluster_client
from gridkit.options import click_options, cluster_options, json_option
from gridkit.responsibility import GroupOptions, group_geopackage


@click.command()
@click.argument("output", type=click.Path(path_type=Path))
@click_options(GroupOptions)
@json_option()
@cluster_options
def group(output: Path, options: GroupOptions, as_json: bool, scheduler: str | None,
          workers: int | None) -> None:
    """Group unit grids into responsibility grids (责任网格) by the density rule.

    Dense and key areas get 10-16 unit grids per responsibility grid, others 20-30; each is
    contiguous, inside one street and balanced in workload. Writes responsibility_grid and
    fills unit_grid.RGID and DENSITY in OUTPUT.

    \b
    Example:
        gridkit group out/district.gpkg --key-areas data/samples/key_areas.gpkg
    """
    with cluster_client(scheduler, workers) as client:
        figures = group_geopackage(output, options, client=client).figures
    if as_json:
        emit_json(figures)
        return
    print_group_summary(figures)
    click.echo(f"wrote {figures['output']}")


def print_group_summary(figures: dict) -> None:
    """Print the figures of :func:`~gridkit.responsibility.group_geopackage` as a table.

    Parameters
    ----------
    figures : dict
        The step's figures.
    """
    print_table(f"responsibility grids → {figures['output']}", [
        ("responsibility grids", f"{figures['responsibility_grids']:,} from "
                                 f"{figures['unit_grids']:,} unit grids"),
        ("in band", f"{figures['in_band_share']:.1%} ({figures['violations']} violations, "
                    "layer qa_issue)"),
        ("contiguous", f"{figures['contiguous_share']:.0%}"),
        ("workload", f"{figures['workload']}; worst CV per street and class "
                     f"{figures['workload_cv_max']:.3f}"),
        ("median Polsby–Popper", f"{figures['polsby_popper_median']:.3f}"),
        ("seconds", f"{figures['seconds']:.1f}"),
    ])
