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

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click
import geopandas as gpd
import pandas as pd

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
from gridkit.options import (
    PATH,
    click_options,
    cluster_options,
    from_section,
    json_option,
    option,
    toml_types,
)
from gridkit.partition import PartitionOptions, partition_geopackage
from gridkit.report import ReportOptions, ReportResult, report_geopackage
from gridkit.responsibility import GroupOptions, group_geopackage
from gridkit.result import StepResult, empty_qa
from gridkit.store import COMMITTED

__all__ = ["RunOptions", "RunResult", "check_config", "load_config", "run_pipeline"]

SAMPLE_CONFIG = "gridkit.toml"
Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class RunOptions:
    """Options of ``gridkit run`` (one county's config; a PROJECT is :mod:`gridkit.project`).

    ``gridkit run`` records no ``gridkit_run`` row of its own: each step it runs records its
    parameters as the step's own command does, so no field here is recorded.

    Parameters
    ----------
    config : pathlib.Path, optional
        The TOML config (see the module's docstring); default the bundled sample district.
        The ``CONFIG`` argument.
    output : pathlib.Path, optional
        The GeoPackage to write (default: the config's ``output``; ``out/sample.gpkg`` for
        the sample). ``-o``; the top-level TOML key ``output``.

    Examples
    --------
    >>> from gridkit.options import record, toml_types
    >>> toml_types(RunOptions), record(RunOptions(Path("city.toml")))
    ({'output': <class 'pathlib.Path'>}, {})
    """

    config: Path | None = option(None, flag="CONFIG", argument=True, type=PATH,
                                 required=False, toml=False, record=False)
    output: Path | None = option(
        None, flag=("-o", "--output"), type=PATH, record=False,
        help="GeoPackage to write (default: the config's output; out/sample.gpkg for the "
             "sample); for a PROJECT, the output folder.")


@dataclass
class RunResult(StepResult):
    """What ``gridkit run`` did: every step's figures and QA issues.

    Reads as its figures, as :class:`~gridkit.result.StepResult` does (``result["census"]``).

    Parameters
    ----------
    figures : dict
        Exactly what ``gridkit run --json`` prints: ``output`` and, per step that ran, its
        figures under the step's name (``partition`` or ``grids``, ``census``, ``events``,
        ``group``, ``check``, ``spotcheck`` with ``plan`` and ``accuracy``, ``report``).
    qa : geopandas.GeoDataFrame
        The QA issues every step found, in step order (columns of ``qa_issue``).
    steps : dict of str to StepResult
        Each step's own result (``"spotcheck"`` and ``"accuracy"`` apart), paths naming the
        published outputs.
    output : pathlib.Path
        The GeoPackage written.

    Examples
    --------
    >>> result = RunResult({"output": "out/a.gpkg"}, output=Path("out/a.gpkg"))
    >>> result["output"], result.step("census"), len(result.qa)
    ('out/a.gpkg', None, 0)
    """

    steps: dict[str, StepResult] = field(default_factory=dict)
    output: Path = Path()

    def step(self, name: str) -> StepResult | None:
        """The result of step ``name``, None when the config had no such step.

        Parameters
        ----------
        name : str
            ``partition``, ``grids``, ``census``, ``events``, ``group``, ``check``,
            ``spotcheck``, ``accuracy`` or ``report``.

        Returns
        -------
        StepResult or None
            That step's figures and QA issues.
        """
        return self.steps.get(name)

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
TOP_LEVEL: dict[str, Any] = {**toml_types(RunOptions), **{name: dict for name in SECTIONS}}


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
        return [path.parent / _file_path(path, where, key, v) for v in value]
    if kind is Path:
        if not isinstance(value, str) or not value.strip():
            raise GridkitError(f"{path}: {where}{key} must be a file path in quotes, "
                               f"not {value!r}")
        return path.parent / _file_path(path, where, key, value)
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


def _file_path(path: Path, where: str, key: str, value: str) -> str:
    """``value`` unless TOML read a Windows path's backslashes as escapes (tabs, line breaks)."""
    if any(ch in value for ch in "\t\n\r\b\f"):
        raise GridkitError(
            f"{path}: {where}{key} = {value!r} holds a tab or line break: TOML reads \\t, "
            "\\n, \\b, \\f and \\r in double quotes as those; write Windows paths with / "
            "(\"D:/temp/社区.shp\") or in single quotes ('D:\\temp\\社区.shp')")
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


def run_pipeline(config_path: RunOptions | Path | None = None, output: Path | None = None,
                 progress: Progress = None, client: Any = None, *, config: dict | None = None,
                 borders: Any = None) -> RunResult:
    """Run every step of a config on a staged copy and publish the outputs together.

    The GeoPackage, the HTML report and the spot-check folder are built in a folder beside
    the output (``.NAME.gridkit-run-PID-*``; the GeoPackage copied there first when it
    exists: ``run`` rewrites every layer from the partition on, the one place gridkit still
    copies a whole file) and moved into place only when every step succeeded. A failure,
    Ctrl-C or SIGTERM leaves the previous outputs untouched and removes the staging folder.

    Parameters
    ----------
    config_path : RunOptions or pathlib.Path, optional
        The run's options, or just the config file (default: the bundled sample).
    output : pathlib.Path, optional
        The GeoPackage to write, when ``config_path`` is a path (see :class:`RunOptions`).
    progress : callable, optional
        Called with a short text as each step starts.
    client : dask.distributed.Client, optional
        Run the partition's and the grouping's tasks on this cluster.
    config : dict, optional
        A config checked by :func:`check_config`, used instead of reading ``config_path``.
    borders : numpy.ndarray of LineString, optional
        The county's share of the province's noded border lines
        (:func:`gridkit.project.node_borders`), for the partition.

    Returns
    -------
    RunResult
        ``figures`` as ``gridkit run --json`` prints them, ``qa`` every step's issues,
        ``steps`` each step's result; paths name the published outputs.

    Raises
    ------
    GridkitError
        A config that does not check, no output, any step's own error (nothing published).

    Examples
    --------
    >>> result = run_pipeline(RunOptions(output=Path("out/sample.gpkg")))  # doctest: +SKIP
    >>> result["partition"]["unit_grids"], result.step("report")["output"]  # doctest: +SKIP
    (1416, '.../out/sample.html')
    """
    options = config_path if isinstance(config_path, RunOptions) \
        else RunOptions(config_path, output)
    if config is None:
        config = load_config(options.config or sample_config())
    target = _target(config, options.config, options.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphan_runs(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{RUN_MARK}{os.getpid()}-",
                                    dir=target.parent))
    try:
        staged = staging / target.name
        if target.exists():
            shutil.copyfile(target, staged)
        steps = _steps(config, staged, progress, client, borders)
        _unstage(staging, target)
        _publish(staging, target)
    finally:
        # The steps committed into the staged copy only: the output is what _publish did.
        COMMITTED[:] = [p for p in COMMITTED if staging not in Path(p).absolute().parents]
        shutil.rmtree(staging, ignore_errors=True)
    return _result(target, steps, staging)


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


def _unstage(staging: Path, target: Path) -> None:
    """Make the staged outputs name where they will be published, not the staging folder.

    The steps ran on the staged copy, so the run records (the spot-check plan's path, the
    inputs' checksums) and the report's file line name ``.NAME.gridkit-run-PID-*``, a folder
    that is gone after :func:`_publish` and differs from run to run.
    """
    import sqlite3

    folder = str(target.parent)
    pairs = [(str(staging), folder), (json.dumps(str(staging))[1:-1], json.dumps(folder)[1:-1])]
    html = staging / target.with_suffix(".html").name
    if html.exists():
        page = html.read_bytes()
        for old, new in pairs:
            page = page.replace(old.encode(), new.encode())
        html.write_bytes(page)
    gpkg = staging / target.name
    if not gpkg.exists():
        return
    db = sqlite3.connect(gpkg)
    try:
        with db:  # one transaction
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'gridkit_run'").fetchone():
                for old, new in dict(pairs).items():
                    db.execute("UPDATE gridkit_run SET PARAMETERS = replace(PARAMETERS, ?, ?), "
                               "INPUTS = replace(INPUTS, ?, ?)", (old, new, old, new))
    finally:
        db.close()


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


def _relocated(value: Any, staging: Path, folder: Path) -> Any:
    """``value`` with the texts that named the staging folder made to name the outputs."""
    if isinstance(value, dict):
        return {key: _relocated(item, staging, folder) for key, item in value.items()}
    if isinstance(value, str) and value.startswith(str(staging)):
        return str(folder) + value[len(str(staging)):]
    return value


def _result(target: Path, steps: dict[str, StepResult], staging: Path) -> RunResult:
    """The run's result from its steps', paths moved from the staging folder to the outputs.

    The figures nest as ``--json`` always printed them: the spot-check plan and its
    accuracy under ``spotcheck``, the report's page under ``report``.
    """
    folder = target.parent
    published: dict[str, StepResult] = {}
    for name, result in steps.items():
        moved = _relocated(result.figures, staging, folder)
        published[name] = replace(result, figures=moved, page=_relocated(
            result.page, staging, folder)) if isinstance(result, ReportResult) \
            else replace(result, figures=moved)
    figures: dict[str, Any] = {"output": str(target)}
    for name, result in published.items():
        if name == "accuracy":
            continue
        if name == "spotcheck":
            figures[name] = {"plan": result.figures}
            if "accuracy" in published:
                figures[name]["accuracy"] = published["accuracy"].figures
        elif isinstance(result, ReportResult):
            figures[name] = result.page
        else:
            figures[name] = result.figures
    crs = next((r.qa.crs for r in published.values() if r.qa.crs is not None), None)
    frames = [r.qa for r in published.values() if len(r.qa)]
    qa = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs) if frames \
        else empty_qa(crs)
    return RunResult(figures, qa, steps=published, output=target)


def _steps(config: dict, target: Path, progress: Progress, client: Any,
           borders: Any = None) -> dict[str, StepResult]:
    """Each step of ``config`` on the GeoPackage ``target``, in order; its result by name."""
    say = progress or (lambda _stage: None)
    steps: dict[str, StepResult] = {}
    if "grids" in config:
        say("adopting the city's unit grids")
        steps["grids"] = adopt_geopackage(target, from_section(GridsAdoptOptions,
                                                               config["grids"]))
    else:
        options = from_section(PartitionOptions, config["partition"])
        with _fix_in_section("partition", "partition"):
            steps["partition"] = partition_geopackage(target, options, progress=progress,
                                                      client=client, borders=borders)
    if "census" in config:
        say("importing the census")
        with _fix_in_section("census", "census import"):
            steps["census"] = import_census_geopackage(
                target, from_section(CensusImportOptions, config["census"]))
    if "events" in config:
        say("importing events")
        with _fix_in_section("events", "events import"):
            steps["events"] = import_events_geopackage(
                target, from_section(EventImportOptions, config["events"]))
    if "group" in config:
        say("grouping responsibility grids")
        with _fix_in_section("group", "group"):
            steps["group"] = group_geopackage(
                target, from_section(GroupOptions, config["group"]), client=client)
    if "census" in config:
        say("checking the census")
        options = from_section(CensusCheckOptions, config.get("check", {}))
        steps["check"] = check_census_geopackage(target, options)
    if "spotcheck" in config:
        say("planning the spot check")
        steps.update(_spotcheck(target, config["spotcheck"]))
    if "report" in config:
        say("writing the report")
        options = from_section(ReportOptions, config["report"],
                               output=target.with_suffix(".html"))
        steps["report"] = report_geopackage(target, options)
    return steps


@contextmanager
def _fix_in_section(section: str, command: str) -> Iterator[None]:
    """Errors of a step name the fix as the config key of its section, not the flag."""
    try:
        yield
    except GridkitError as exc:
        exc.args = (config_message(str(exc), section, command), *exc.args[1:])
        raise


def _census(target: Path, section: dict) -> StepResult:
    return import_census_geopackage(target, from_section(CensusImportOptions, section))


def _events(target: Path, section: dict) -> StepResult:
    return import_events_geopackage(target, from_section(EventImportOptions, section))


def _spotcheck(target: Path, section: dict) -> dict[str, StepResult]:
    plan = target.with_name(f"{target.stem}_spotcheck")
    sample = from_section(SampleOptions, section, plan=plan)
    steps = {"spotcheck": census_sample_geopackage(target, sample)}
    if "sheet" in section:
        # As before the options were generated: the config's target is the accuracy's;
        # completeness is judged against the default 96%.
        judge = from_section(AccuracyOptions, section, plan=plan,
                             completeness_target=AccuracyOptions.target)
        steps["accuracy"] = census_accuracy_geopackage(target, judge)
    return steps


@click.command()
@click_options(RunOptions)
@json_option()
@cluster_options
def run(options: RunOptions, as_json: bool, scheduler: str | None,
        workers: int | None) -> None:
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

    if options.config is not None and is_project(options.config):
        _run_project(options.config, options.output, as_json, scheduler, workers)
        return
    with status_line("partition", show_progress() and not as_json) as say, \
            cluster_client(scheduler, workers) as client:
        figures = run_pipeline(options, progress=say, client=client).figures
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
    else:  # [group] is optional: say so, or a missing layer looks like a failure
        click.echo(f"{'group':<10} skipped: the config has no [group] section, so no "
                   "responsibility grids; add [group] (empty for the 10-16/20-30 bands) or run "
                   f"gridkit group {figures['output']}")
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
