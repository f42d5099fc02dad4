"""``gridkit census sample`` and ``gridkit census accuracy``: two click commands over the
library calls, attached to the ``census`` group by gridkit's main CLI.

They turn a GridkitError into one line on stderr and its exit code themselves, so they behave
the same inside the group and on their own.
"""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.acceptance.design import (
    DEFAULT_CONFIDENCE,
    DEFAULT_EXPECTED,
    DEFAULT_ICC,
    DEFAULT_MARGIN,
    DEFAULT_MINIMUM,
    DesignInputs,
)
from gridkit.acceptance.estimate import Targets
from gridkit.acceptance.match import DEFAULT_SEARCH, DEFAULT_TOLERANCE
from gridkit.console import emit_json, one_line_errors
from gridkit.errors import CheckFailed

json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object of figures on stdout, nothing else.")


@click.command("sample")
@click.argument("output", type=click.Path(path_type=Path))
@click.option("-o", "--output", "plan", required=True, type=click.Path(path_type=Path),
              help="PLAN folder to write: plan.gpkg, checklist.csv, checklist.xlsx, plan.json. "
                   "The plan is also stored in OUTPUT (layers spotcheck_plan, "
                   "spotcheck_stratum).")
@click.option("--seed", type=int, help="Seed of the random draw; the same seed and census "
                                       "give the same grids. Default: a fresh one, recorded.")
@click.option("--margin", type=float, default=DEFAULT_MARGIN, show_default=True,
              help="Half-width of the confidence interval the sample is sized for (0.015 = "
                   "±1.5 points).")
@click.option("--confidence", type=float, default=DEFAULT_CONFIDENCE, show_default=True,
              help="Confidence level of that interval.")
@click.option("--expected", type=float, default=DEFAULT_EXPECTED, show_default=True,
              help="Accuracy the census is expected to have (the size is largest near 0.5).")
@click.option("--icc", type=float, default=DEFAULT_ICC, show_default=True,
              help="Assumed correlation of errors within a grid; gridkit census accuracy "
                   "reports the observed one for the next plan.")
@click.option("--min-per-stratum", "minimum", type=int, default=DEFAULT_MINIMUM,
              show_default=True, help="Grids drawn at least in every stratum.")
@click.option("--grids", type=int, help="Draw exactly this many grids instead of sizing for "
                                        "--margin (the plan reports the margin it achieves).")
@json_option
@one_line_errors
def sample(output, plan, seed, margin, confidence, expected, icc, minimum, grids, as_json):
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
    from gridkit.acceptance.sampling import sample_geopackage

    inputs = DesignInputs(expected=expected, margin=margin, confidence=confidence, icc=icc,
                          minimum=minimum, grids=grids)
    report = sample_geopackage(output, plan, inputs, seed)
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


@click.command("accuracy")
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--check", type=click.Path(path_type=Path),
              help="Verdict sheet (CSV/XLSX): the checklist with VERDICT filled in and rows "
                   "added for missing components.")
@click.option("--resurvey", type=click.Path(path_type=Path),
              help="An independent re-survey of the sampled grids (any file gridkit census "
                   "import reads); gridkit matches it to the census and derives the verdicts.")
@click.option("--plan", type=click.Path(path_type=Path),
              help="PLAN folder (or its plan.gpkg). Default: the plan stored in OUTPUT by the "
                   "last gridkit census sample.")
@click.option("--target", type=float, default=0.96, show_default=True,
              help="Accuracy the census must reach.")
@click.option("--completeness-target", type=float,
              help="Completeness it must reach (default: --target; 0 to not judge it).")
@click.option("--confidence", type=float, default=DEFAULT_CONFIDENCE, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--strict", is_flag=True,
              help="Judge the lower confidence bounds instead of the estimates.")
@click.option("--crs", help="CRS of coordinates in the check or re-survey file: wgs84, "
                            "cgcs2000, gcj02, bd09, bd09mc or EPSG:n. Default for a sheet: "
                            "WGS-84 for degrees, else OUTPUT's CRS; required for a CSV/XLSX "
                            "re-survey.")
@click.option("--sheet", help="XLSX sheet to read (default: 'checklist' when present).")
@click.option("--layer", help="Layer of a re-survey file with several.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Re-survey: take FIELD from COLUMN, e.g. --map OBJNAME=设施类型.")
@click.option("--x", "x_column", help="Re-survey: column of X/longitude.")
@click.option("--y", "y_column", help="Re-survey: column of Y/latitude.")
@click.option("--tolerance", type=float, default=DEFAULT_TOLERANCE, show_default=True,
              help="Re-survey: metres within which the same class is the same component.")
@click.option("--search", type=float, default=DEFAULT_SEARCH, show_default=True,
              help="Re-survey: metres within which a same-class component counts as "
                   "wrong_position rather than not_found + missing.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False),
              help="Local component catalog for class names (see gridkit codes list --help).")
@click.option("--extend", is_flag=True, help="Add the --catalog classes to the national one.")
@json_option
@one_line_errors
def accuracy(output, check, resurvey, plan, target, completeness_target, confidence, strict,
             crs, sheet, layer, maps, x_column, y_column, tolerance, search, catalog_path,
             extend, as_json):
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
    from gridkit.acceptance.accuracy import accuracy_geopackage
    from gridkit.acceptance.evidence import ResurveyOptions, SheetOptions
    from gridkit.records.schema import COMPONENT
    from gridkit.sources.columns import parse_maps

    if completeness_target is None:
        completeness_target = target
    targets = Targets(accuracy=target, completeness=completeness_target or None,
                      confidence=confidence, strict=strict)
    mapping = parse_maps(list(maps), COMPONENT.aliases)
    for field, column in (("X", x_column), ("Y", y_column)):
        if column:
            mapping[field] = column
    report = accuracy_geopackage(
        output, check=check, resurvey=resurvey, plan=plan, targets=targets,
        catalog=_catalog(catalog_path, extend),
        sheet_options=SheetOptions(sheet=sheet, crs=crs),
        resurvey_options=ResurveyOptions(crs=crs, sheet=sheet, layer=layer, maps=mapping,
                                         tolerance=tolerance, search=search))
    if as_json:
        emit_json(report)
    else:
        _print(report)
    if report["verdict"] != "pass":
        overall = report["overall"]
        raise CheckFailed(
            f"{output}: the census fails the spot check: accuracy "
            f"{_share(overall['accuracy']['estimate'])}, completeness "
            f"{_share(overall['completeness']['estimate'])} against {target:.2%} "
            f"({report['overall']['judged_on']}); see layers spotcheck_result and "
            "spotcheck_rework")


def _catalog(path: str | None, extend: bool):
    if path is None:
        return None
    from gridkit.codes.local import load_catalog

    return load_catalog(path, "component", extend=extend)


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
