"""``gridkit run``: the whole pipeline from one TOML config.

Steps, each run when its section is present (``[partition]`` or ``[grids]`` always): partition
(or adopt the city's own grids) → census import → events import → group → census check → spot-
check plan (and its verdict, when a filled-in sheet is given) → report. Relative paths in a
config are resolved against the config file's folder. Outputs sit beside the GeoPackage: the
spot-check plan in ``<name>_spotcheck/``, the report in ``<name>.html``. With no config, the
bundled sample district is used and the result written to ``out/sample.gpkg`` under the current
directory. Failed checks and a failed acceptance do not stop the run: they are in the figures,
the ``qa_issue`` layer and the report.

Config (``data/samples/gridkit.toml`` is a complete example)::

    output = "out/district.gpkg"

    [partition]
    communities = "communities.gpkg"   # required
    roads = "roads.gpkg"               # optional: roads, water, buildings
    target_area = 10000                # and any other `gridkit partition` option

    # or, instead of [partition], the unit grids the city already has (gridkit grids adopt):
    # [grids]
    # grids = "city_grids.shp"         # required; and any `gridkit grids adopt` option
    # communities = "communities.gpkg"
    # repair = true

    [census]                           # optional: component census files
    files = ["census.csv"]
    crs = "gcj02"

    [events]                           # optional: event records
    files = ["events.csv"]
    crs = "wgs84"

    [group]                            # optional: responsibility grids
    key_areas = "key_areas.gpkg"

    [spotcheck]                        # optional: plan (and judge) the census spot check
    seed = 20251121
    sheet = "spotcheck.csv"            # a filled-in verdict sheet for that plan

    [report]                           # optional: the HTML report
    lang = "zh"
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gridkit.acceptance import (
    AccuracyOptions,
    SampleOptions,
    census_accuracy_geopackage,
    census_sample_geopackage,
)
from gridkit.components import (
    CensusCheckOptions,
    CensusImportOptions,
    check_census_geopackage,
    import_census_geopackage,
)
from gridkit.console import config_message, emit_json, show_progress, status_line
from gridkit.distributed import cluster_client
from gridkit.errors import GridkitError
from gridkit.events import EventImportOptions, import_events_geopackage
from gridkit.grids import GridsAdoptOptions, adopt_geopackage
from gridkit.io import read_toml
from gridkit.options import cluster_options, from_section, json_option, toml_types
from gridkit.partition import PartitionOptions, partition_geopackage
from gridkit.report import ReportOptions, report_geopackage
from gridkit.responsibility import GroupOptions, group_geopackage
from gridkit.store import COMMITTED

SAMPLE_CONFIG = "gridkit.toml"

# Every key a section takes, with the type it must have; paths are resolved against the
# config file's folder.
SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "partition": toml_types(PartitionOptions),
    "grids": toml_types(GridsAdoptOptions),
    "group": toml_types(GroupOptions),
    "census": toml_types(CensusImportOptions),
    "events": toml_types(EventImportOptions),
    "check": toml_types(CensusCheckOptions),
    "spotcheck": {**toml_types(SampleOptions), **toml_types(AccuracyOptions)},
    "report": toml_types(ReportOptions),
}
TOP_LEVEL = {"output": Path, **{name: dict for name in SECTIONS}}


def sample_config() -> Path:
    """The bundled sample's config: in ./data/samples, or beside the installed package."""
    here = Path("data/samples") / SAMPLE_CONFIG
    if here.exists():
        return here
    repo = Path(__file__).resolve().parents[1] / "data" / "samples" / SAMPLE_CONFIG
    if repo.exists():
        return repo
    raise GridkitError("no CONFIG given and the bundled sample (data/samples/gridkit.toml) is "
                       "not here: run from the gridkit checkout or give a config file")


def _typed(path: Path, where: str, key: str, value, kind):
    """``value`` checked against ``kind``; Path values are resolved against the config."""
    if kind == list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GridkitError(f"{path}: {where}{key} must be a list of texts in quotes, e.g. "
                               f'{key} = ["OBJNAME=设施类型"], not {value!r}')
        return list(value)
    if kind is list:
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            raise GridkitError(f"{path}: {where}{key} must be a list of file paths, e.g. "
                               f'{key} = ["census.csv"], not {value!r}')
        return [path.parent / v for v in value]
    if kind is Path:
        if not isinstance(value, str) or not value.strip():
            raise GridkitError(f"{path}: {where}{key} must be a file path in quotes, "
                               f"not {value!r}")
        return path.parent / value
    if kind is bool:
        if not isinstance(value, bool):
            raise GridkitError(f"{path}: {where}{key} must be true or false, not {value!r}")
        return value
    expected = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, expected):
        names = " or ".join(dict.fromkeys(
            "a number" if t in (int, float) else "text in quotes" if t is str else "a [section]"
            for t in expected))
        raise GridkitError(f"{path}: {where}{key} must be {names}, not {value!r}")
    return value


def load_config(path: Path) -> dict:
    """The config file at ``path``, checked, its paths resolved against its folder."""
    return check_config(read_toml(path, "config"), path)


def check_config(raw: dict, path: Path) -> dict:
    """``raw`` (one county's config as read from TOML), checked.

    ``path`` names it in errors and its folder resolves relative paths.
    """
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise GridkitError(f"{path}: unknown key {', '.join(unknown)}; a config has "
                           f"{', '.join(TOP_LEVEL)}")
    config = {key: _typed(path, "", key, value, TOP_LEVEL[key]) for key, value in raw.items()}
    for name, keys in SECTIONS.items():
        if name not in config:
            continue  # a step runs only when its section is there
        section = config[name]
        unknown = sorted(set(section) - set(keys))
        if unknown:
            raise GridkitError(f"{path}: [{name}] has unknown keys {', '.join(unknown)}; "
                               f"known: {', '.join(keys)}")
        config[name] = {key: _typed(path, f"[{name}] ", key, value, keys[key])
                        for key, value in section.items()}
    if "partition" in config and "grids" in config:
        raise GridkitError(f"{path}: has [partition] and [grids]: keep one, not both "
                           "([partition] cuts communities into grids, [grids] adopts the city's "
                           "own grids)")
    if "partition" not in config and "grids" not in config:
        raise GridkitError(f"{path}: needs a [partition] section (cut communities into grids) "
                           "or a [grids] section (adopt the city's own grids)")
    if "partition" in config and "communities" not in config["partition"]:
        raise GridkitError(f"{path}: needs a [partition] section with communities = \"FILE\"")
    if "grids" in config and "grids" not in config["grids"]:
        raise GridkitError(f"{path}: [grids] needs grids = \"FILE\" (the city's unit grids)")
    for name in ("census", "events"):
        if name in config and "files" not in config[name]:
            raise GridkitError(f"{path}: [{name}] needs files = [\"FILE\", ...]")
    return config


def run_pipeline(config_path: Path | None, output: Path | None, progress=None,
                 client=None, *, config: dict | None = None, borders=None) -> dict:
    """Run every step of the config on a staged copy and publish the outputs together.

    ``config`` (from :func:`check_config`) is used instead of reading ``config_path``;
    ``borders``: county border lines for the partition
    (:func:`gridkit.project.node_borders`).

    The GeoPackage, the HTML report and the spot-check folder are built in a folder beside
    the output (``.NAME.gridkit-run-PID-*``; the GeoPackage copied there first when it
    exists: ``run`` rewrites every layer from the partition on, the one place gridkit still
    copies a whole file) and moved into place only when every step succeeded. A failure,
    Ctrl-C or SIGTERM leaves the previous outputs untouched and removes the staging folder.
    """
    if config is None:
        config = load_config(config_path or sample_config())
    target = _target(config, config_path, output)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphan_runs(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{RUN_MARK}{os.getpid()}-",
                                    dir=target.parent))
    try:
        staged = staging / target.name
        if target.exists():
            shutil.copyfile(target, staged)
        figures = _steps(config, staged, progress, client, borders)
        _publish(staging, target)
    finally:
        # The steps committed into the staged copy only: the output is what _publish did.
        COMMITTED[:] = [p for p in COMMITTED if staging not in Path(p).absolute().parents]
        shutil.rmtree(staging, ignore_errors=True)
    _relocate(figures, staging, target.parent)
    return figures


RUN_MARK = ".gridkit-run-"


def _target(config: dict, config_path: Path | None, output: Path | None) -> Path:
    if output is not None:
        target = output
    elif "output" in config:
        target = config["output"]
    elif config_path is None:
        target = Path("out/sample.gpkg")
    else:
        raise GridkitError(f"{config_path}: no output = \"FILE.gpkg\"; add it or use -o")
    if target.suffix.lower() != ".gpkg":
        raise GridkitError(f"{target}: the output must be a GeoPackage (.gpkg)")
    return target.absolute()


def _remove_orphan_runs(target: Path) -> None:
    """Staging folders of a killed ``gridkit run`` (their process gone)."""
    from gridkit.store import process_alive

    prefix = f".{target.name}{RUN_MARK}"
    for folder in target.parent.glob(prefix + "*"):
        try:
            pid = int(folder.name[len(prefix):].split("-")[0])
        except ValueError:
            continue
        if not process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _publish(staging: Path, target: Path) -> None:
    """Move the staged GeoPackage, report and spot-check folder into place, signals held.

    Ctrl-C and SIGTERM are held over three renames that must not be split (each is atomic, and
    the earlier report and folder are put back if a later rename fails).
    """
    from gridkit.io import publish_mode, replace_folder
    from gridkit.store import signals_held

    gpkg, html = staging / target.name, staging / target.with_suffix(".html").name
    plan = staging / f"{target.stem}_spotcheck"
    with signals_held():
        backup = None
        if html.exists():
            publish_mode(html, target.with_suffix(".html"))
            if target.with_suffix(".html").exists():
                backup = staging / ".previous.html"
                os.replace(target.with_suffix(".html"), backup)
            os.replace(html, target.with_suffix(".html"))
        try:
            if plan.exists():
                replace_folder(plan, target.with_name(plan.name))
            publish_mode(gpkg, target)
            os.replace(gpkg, target)
            COMMITTED.append(target)  # before the held signals are delivered
        except BaseException:
            if backup is not None:
                os.replace(backup, target.with_suffix(".html"))
            raise


def _relocate(figures: dict, staging: Path, folder: Path) -> None:
    """Paths in the figures that named the staging folder, made to name the outputs."""
    for key, value in list(figures.items()):
        if isinstance(value, dict):
            _relocate(value, staging, folder)
        elif isinstance(value, str) and value.startswith(str(staging)):
            figures[key] = str(folder) + value[len(str(staging)):]


def _steps(config: dict, target: Path, progress, client, borders=None) -> dict:
    say = progress or (lambda _stage: None)
    figures = {"output": str(target)}
    if "grids" in config:
        say("adopting the city's unit grids")
        figures["grids"] = adopt_geopackage(
            target, from_section(GridsAdoptOptions, config["grids"])).figures
    else:
        options = from_section(PartitionOptions, config["partition"])
        with _fix_in_section("partition", "partition"):
            figures["partition"] = partition_geopackage(target, options, progress=progress,
                                                        client=client, borders=borders).figures
    if "census" in config:
        say("importing the census")
        with _fix_in_section("census", "census import"):
            figures["census"] = _census(target, config["census"])
    if "events" in config:
        say("importing events")
        with _fix_in_section("events", "events import"):
            figures["events"] = _events(target, config["events"])
    if "group" in config:
        say("grouping responsibility grids")
        with _fix_in_section("group", "group"):
            figures["group"] = group_geopackage(
                target, from_section(GroupOptions, config["group"]), client=client).figures
    if "census" in config:
        say("checking the census")
        options = from_section(CensusCheckOptions, config.get("check", {}))
        figures["check"] = check_census_geopackage(target, options).figures
    if "spotcheck" in config:
        say("planning the spot check")
        figures["spotcheck"] = _spotcheck(target, config["spotcheck"])
    if "report" in config:
        say("writing the report")
        options = from_section(ReportOptions, config["report"],
                               output=target.with_suffix(".html"))
        figures["report"] = report_geopackage(target, options).page
    return figures


@contextmanager
def _fix_in_section(section: str, command: str) -> Iterator[None]:
    """Errors of a step name the fix as the config key of its section, not the flag."""
    try:
        yield
    except GridkitError as exc:
        exc.args = (config_message(str(exc), section, command), *exc.args[1:])
        raise


def _census(target: Path, section: dict) -> dict:
    return import_census_geopackage(target, from_section(CensusImportOptions, section)).figures


def _events(target: Path, section: dict) -> dict:
    return import_events_geopackage(target, from_section(EventImportOptions, section)).figures


def _spotcheck(target: Path, section: dict) -> dict:
    plan = target.with_name(f"{target.stem}_spotcheck")
    sample = from_section(SampleOptions, section, plan=plan)
    figures = {"plan": census_sample_geopackage(target, sample).figures}
    if "sheet" in section:
        # As before the options were generated: the config's target is the accuracy's;
        # completeness is judged against the default 96%.
        judge = from_section(AccuracyOptions, section, plan=plan,
                             completeness_target=AccuracyOptions.target)
        figures["accuracy"] = census_accuracy_geopackage(target, judge).figures
    return figures


@click.command()
@click.argument("config", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="GeoPackage to write (default: the config's output; out/sample.gpkg for the "
                   "sample); for a PROJECT, the output folder.")
@json_option()
@cluster_options
def run(config, output, as_json, scheduler, workers):
    """Run the whole pipeline from a TOML config; with no CONFIG, on the bundled sample.

    Steps: partition into unit grids, then (with a [group] section) responsibility grids.
    CONFIG may be a PROJECT of many counties (a TOML file of [county.<code>] tables, or a
    folder of county folders with a gridkit.toml each): every county runs as one task and
    -o names the output folder.

    \b
    Example:
        gridkit run                      # the sample district → out/sample.gpkg
        gridkit run city.toml -o out/city.gpkg
        gridkit run province.toml -o out/ --workers 2
    """
    from gridkit.project import is_project

    if config is not None and is_project(config):
        _run_project(config, output, as_json, scheduler, workers)
        return
    with status_line("partition", show_progress() and not as_json) as say, \
            cluster_client(scheduler, workers) as client:
        figures = run_pipeline(config, output, progress=say, client=client)
    if as_json:
        emit_json(figures)
        return
    if "partition" in figures:
        from gridkit.partition.cli import print_summary

        print_summary(figures["partition"])
    else:
        g = figures["grids"]
        click.echo(f"grids      adopted {g['unit_grids']:,} unit grids ({g['errors']} audit "
                   f"errors, {g['warnings']} warnings in qa_issue)")
    if "group" in figures:
        from gridkit.responsibility.cli import print_group_summary

        print_group_summary(figures["group"])
    for step, line in _step_lines(figures):
        click.echo(f"{step:<10} {line}")
    click.echo(f"wrote {figures['output']}")
    if "report" in figures:
        click.echo(f"report   {figures['report'].get('output')}")


def _run_project(project: Path, output: Path | None, as_json: bool, scheduler, workers):
    from gridkit.project import run_project

    if output is None:
        raise GridkitError(f"{project}: a project writes one GeoPackage per county; give the "
                           "output folder with -o, e.g. -o out/")
    with status_line("partition", show_progress() and not as_json) as say, \
            cluster_client(scheduler, workers) as client:
        summary = run_project(project, output, client=client, progress=say)
    failed = [c for c in summary["counties"] if "error" in c]
    if as_json:
        emit_json(summary)
    else:
        for c in summary["counties"]:
            if "error" in c:
                continue
            census = c.get("census")
            click.echo(f"{c['code']} {c['name']}: {c['unit_grids']:,} unit grids"
                       + (f", {census['accepted']:,} components" if census else "")
                       + (f", verdict {c['verdict']}" if c.get("verdict") else "")
                       + f" ({c['seconds']} s)")
        b = summary["borders"]
        click.echo(f"borders  {len(b['pairs'])} shared, overlap {b['overlap_m2']:g} m², gaps "
                   f"{b['gap_m2']:g} m², largest offset {b['max_offset_m'] * 1000:.2f} mm"
                   + ("" if b["valid"] else ": the grids do not meet")
                   + (f"; {len(b['zones'])} CRS zones, borders between them not compared "
                      "(give every county the same crs)" if len(b["zones"]) > 1 else ""))
        click.echo(f"wrote {summary['output']}/province.html")
    if failed:
        raise GridkitError(f"{len(failed)} of {len(summary['counties'])} counties failed: "
                           + "; ".join(f"{c['code']}: {c['error']}" for c in failed))


def _step_lines(figures: dict):
    if "census" in figures:
        c = figures["census"]
        yield "census", (f"{c['rows']:,} rows: {c['accepted']:,} components, "
                         f"{c['rejected']:,} rejected (component_reject)")
    if "events" in figures:
        e = figures["events"]
        yield "events", (f"{e['rows']:,} rows: {e['accepted']:,} events, "
                         f"{e['rejected']:,} rejected (event_reject)")
    if "check" in figures:
        q = figures["check"]
        yield "check", (f"{q.get('errors', 0):,} errors, {q.get('warnings', 0):,} warnings "
                        "(qa_issue)")
    if "spotcheck" in figures:
        s = figures["spotcheck"]
        plan = s["plan"]
        yield "spotcheck", f"plan in {plan.get('plan', plan.get('plan_dir', ''))}"
        if "accuracy" in s:
            overall = s["accuracy"]["overall"]
            acc = overall["accuracy"]
            yield "verdict", (f"{s['accuracy']['verdict']}: accuracy {acc['estimate']:.1%} "
                              f"(95% CI {acc['low']:.1%}-{acc['high']:.1%}) on "
                              f"{overall['checked']:,} components in {overall['grids']} grids")
