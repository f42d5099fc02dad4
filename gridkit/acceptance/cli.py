"""``gridkit census sample`` and ``gridkit census accuracy``: two click commands over the
library calls, attached to the ``census`` group by gridkit's main CLI.

They turn a GridkitError into one line on stderr and its exit code themselves, so they behave
the same inside the group and on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gridkit.acceptance import (
    AccuracyOptions,
    SampleOptions,
    census_accuracy_geopackage,
    census_sample_geopackage,
)
from gridkit.console import emit_json, one_line_errors
from gridkit.errors import CheckFailed
from gridkit.options import click_options, json_option


def _census_command(name: str, options: type) -> Callable[[Callable], click.Command]:
    """``gridkit census NAME OUTPUT``: the fields of ``options``, ``--json``, one-line errors."""
    def decorate(function: Callable) -> click.Command:
        function = json_option()(one_line_errors(function))
        function = click.argument("output", type=click.Path(path_type=Path))(
            click_options(options)(function))
        return click.command(name)(function)
    return decorate


@_census_command("sample", SampleOptions)
def sample(output: Path, options: SampleOptions, as_json: bool) -> None:
    """Draw a spot-check plan (抽查方案) for the census in OUTPUT.

    Unit grids are drawn at random within strata (street × density class), as many as make
    the accuracy estimate precise to ±MARGIN at the confidence level around the expected
    accuracy, allowing for the finite number of grids and for errors clustering in grids.
    Every census component of the drawn grids goes on the field checklist (CSV and XLSX),
    with an empty VERDICT to fill in.

    \b
    Examples:
        gridkit census sample out/district.gpkg -o spotcheck --seed 20240501
        gridkit census sample out/district.gpkg -o spotcheck --margin 0.01 --json
    """
    report = census_sample_geopackage(output, options).figures
    if as_json:
        emit_json(report)
        return
    design = report["design"]
    click.echo(f"{report['plan']}: {design['sample_grids']:,} of "
               f"{design['population_grids']:,} unit grids in {design['strata']} strata, "
               f"{report['checklist_components']:,} census components to check "
               f"(seed {report['seed']}, plan {report['plan_id']})")
    click.echo(f"anticipated margin ±{design['anticipated_margin'] * 100:.2f} points at "
               f"{design['confidence']:.0%} confidence around {design['expected_accuracy']:.2%}"
               f" (design effect {design['design_effect']:.2f}); a census below "
               f"{design['fails_with_95pct_below']:.2%} fails and one above "
               f"{design['passes_with_95pct_above']:.2%} passes in 95% of draws")
    for stratum in report["strata"]:
        click.echo(f"  {stratum['STRATUM']:<24} {stratum['SAMPLE']:>4} of {stratum['GRIDS']:>5}"
                   f" grids, {stratum['SAMPLE_COMPONENTS']:>6,} components")
    click.echo("fill in VERDICT in checklist.xlsx or checklist.csv, then: gridkit census "
               f"accuracy {output} --check FILLED_CHECKLIST")


@_census_command("accuracy", AccuracyOptions)
def accuracy(output: Path, options: AccuracyOptions, as_json: bool) -> None:
    """Judge the census in OUTPUT on a spot check: accuracy and completeness against 96%.

    accuracy = correct / census components checked; completeness = checked components that
    exist / (those + components missing from the census). Both come overall, per street, per
    class and per grid, with confidence intervals that allow for the clustered design. Exit 0
    when the census passes, 1 when it fails, 2 on bad input. Writes the layers
    spotcheck_result (per grid), spotcheck_summary and spotcheck_rework to OUTPUT.

    \b
    Examples:
        gridkit census accuracy out/district.gpkg --check spotcheck/checklist.xlsx
        gridkit census accuracy out/district.gpkg --resurvey recheck.csv --crs gcj02 \\
            --plan spotcheck --json
    """
    report = census_accuracy_geopackage(output, options).figures
    if as_json:
        emit_json(report)
    else:
        _print(report)
    if report["verdict"] != "pass":
        overall = report["overall"]
        raise CheckFailed(
            f"{output}: the census fails the spot check: accuracy "
            f"{_share(overall['accuracy']['estimate'])}, completeness "
            f"{_share(overall['completeness']['estimate'])} against {options.target:.2%} "
            f"({report['overall']['judged_on']}); see layers spotcheck_result and "
            "spotcheck_rework")


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _interval(figure: dict) -> str:
    return (f"{_share(figure['estimate'])} [{_share(figure['low'])}, "
            f"{_share(figure['high'])}]")


def _print(report: dict) -> None:
    overall = report["overall"]
    click.echo(f"{report['input']['file']}: {overall['checked']:,} census components checked "
               f"in {overall['grids']} grids, {overall['missing']:,} missing "
               f"(plan {report['plan']['plan_id']}, {report['method']})")
    if report["plan"].get("design"):
        click.echo(f"design: {report['plan']['design']}")
    click.echo(f"accuracy     {_interval(overall['accuracy'])}  "
               f"(raw {overall['correct']:,}/{overall['checked']:,}, design effect "
               f"{overall['accuracy']['design_effect']})")
    click.echo(f"completeness {_interval(overall['completeness'])}")
    for street in report["by_street"]:
        click.echo(f"  street {street['street']}: accuracy {_interval(street['accuracy'])}, "
                   f"completeness {_share(street['completeness']['estimate'])}, "
                   f"{street['verdict']}")
    if report["input"].get("warning"):
        click.echo(f"warning: {report['input']['warning']}", err=True)
    rework = report["rework"]
    if rework["grids"] or rework["components"]:
        click.echo(f"rework: {len(rework['grids'])} grids, {len(rework['components'])} "
                   "components (layer spotcheck_rework)")
    click.echo(f"verdict: {report['verdict'].upper()} against {report['target']:.2%} "
               f"({overall['judged_on']}, {report['confidence']:.0%} confidence)")
