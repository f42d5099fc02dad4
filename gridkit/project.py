"""A province: many counties, each county's whole pipeline one task (``gridkit run PROJECT``).

Counties are independent by construction (serials run per county and class; BGIDs and RGIDs
carry the county and street), so the county is the unit that goes to the workers. Three
kinds of task run there, never on the client:

1. ``county_outline``: read one county's communities and barriers, prepared as the partition
   prepares them; return its outer border and the barrier pieces that reach it;
2. ``node_borders``: node every county's border (and the barrier crossings on it) once, on
   the partition's 0.1 mm grid, and cut out each county's share; handed to the county task,
   it puts every vertex of the border on both sides of it, so neighbouring counties' grids
   meet edge to edge with no gap or overlap;
3. ``run_county``: that county's whole pipeline (:func:`gridkit.pipeline.run_pipeline`) into
   ``OUT_DIR/<code>.gpkg``, then its layers into the province's GeoParquet dataset; it returns
   a few figures.

The client holds the task graph and those figures, whatever the rows and counties. Without
Dask the same functions run one after the other in this process.

A PROJECT is a TOML file with one ``[county.<code>]`` table per county (each holding what a
single-county config holds: ``[county.<code>.partition]``, ``.census``, ...), or a folder
holding one sub-folder per county, named by its six-digit code (``310101`` or
``310101_黄浦区``), each with a ``gridkit.toml``.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely

from gridkit.errors import GridkitError, InputError
from gridkit.io import read_toml

CONFIG_NAME = "gridkit.toml"
PROVINCE_NAME = "province.toml"  # in a project folder: the mixed files, if any
MIXED_KEYS = {"files": list, "crs": str, "sheet": str, "layer": str}
CODE = re.compile(r"^(\d{6})(?:$|[_\-\s])")
# A noded edge belongs to a county's border when it lies this close to it (metres): well
# above the 0.1 mm noding grid, far below any real distance between two lines.
ON_BORDER = 1e-3


@dataclass(frozen=True)
class County:
    """One county of a project: its six-digit code, name and checked pipeline config."""

    code: str
    name: str
    config: dict
    source: Path


@dataclass(frozen=True)
class Project:
    """The counties of a province, in the order given."""

    path: Path
    counties: tuple[County, ...]
    mixed: dict = field(default_factory=dict)  # "census"/"events" → files to route + options


def is_project(path: Path) -> bool:
    """Whether ``path`` is a PROJECT rather than one county's config.

    A PROJECT is a folder, or a TOML file with ``[county.*]`` tables.
    """
    if path.is_dir():
        return True
    if path.suffix.lower() != ".toml" or not path.is_file():
        return False
    return "county" in read_toml(path, "config")


def load_project(path: Path) -> Project:
    """The counties of the PROJECT at ``path``, every config checked before anything runs.

    Parameters
    ----------
    path : Path
        A TOML file with ``[county.<code>]`` tables, or a folder of county folders each
        holding a ``gridkit.toml``.

    Returns
    -------
    Project

    Raises
    ------
    InputError
        A county code that is not six digits or repeats, an unknown key, a county config
        that a single-county run would refuse; the message names the file and the fix.

    Examples
    --------
    >>> load_project(Path("province.toml")).counties[0].code  # doctest: +SKIP
    '310101'
    """
    from gridkit.pipeline import check_config, load_config

    path = Path(path)
    counties: list[County] = []
    raw: dict = {}
    if path.is_dir():
        if (path / PROVINCE_NAME).is_file():
            raw = read_toml(path / PROVINCE_NAME, "project")
            unknown = sorted(set(raw) - {"census", "events"})
            if unknown:
                raise InputError(f"{path / PROVINCE_NAME}: unknown key {', '.join(unknown)};"
                                 " it holds [census] and [events] files to route")
        folders = sorted(p for p in path.iterdir() if (p / CONFIG_NAME).is_file())
        if not folders:
            raise InputError(f"{path}: no county folder with a {CONFIG_NAME} in it; a "
                             f"project folder holds one folder per county, e.g. "
                             f"310101/{CONFIG_NAME}")
        for folder in folders:
            match = CODE.match(folder.name)
            if not match:
                raise InputError(f"{folder}: name county folders by their six-digit code, "
                                 "e.g. 310101 or 310101_黄浦区")
            name = folder.name[7:] or match.group(1)
            counties.append(County(match.group(1), name, load_config(folder / CONFIG_NAME),
                                   folder / CONFIG_NAME))
    else:
        raw = read_toml(path, "project")
        unknown = sorted(set(raw) - {"county", "census", "events"})
        if unknown:
            raise InputError(f"{path}: unknown key {', '.join(unknown)}; a project has "
                             "[county.<code>] tables and [census]/[events] files to route")
        tables = raw.get("county")
        if not isinstance(tables, dict) or not tables:
            raise InputError(f"{path}: needs at least one [county.<code>] table, e.g. "
                             "[county.310101.partition]")
        for code, table in tables.items():
            if not re.fullmatch(r"\d{6}", code) or not isinstance(table, dict):
                raise InputError(f"{path}: [county.{code}]: a county is a table named by its "
                                 "six-digit code, e.g. [county.310101]")
            table = dict(table)
            name = table.pop("name", code)
            if not isinstance(name, str):
                raise InputError(f"{path}: [county.{code}] name must be text in quotes")
            if "output" in table:
                raise InputError(f"{path}: [county.{code}] output: a county's GeoPackage is "
                                 f"OUT_DIR/{code}.gpkg; remove the key")
            counties.append(County(code, name, check_config(table, path), path))
    seen: set[str] = set()
    for county in counties:
        if county.code in seen:
            raise InputError(f"{county.source}: county {county.code} is in the project "
                             "twice; give each county once")
        seen.add(county.code)
        if "partition" not in county.config:  # a [grids] county: adopted, not partitioned
            raise InputError(f"{county.source}: county {county.code} adopts its own grids "
                             "([grids]); a province run partitions every county: run "
                             "gridkit run on that county's config alone")
    where = path / PROVINCE_NAME if path.is_dir() else path
    mixed = {step: _mixed_section(where, step, raw[step], counties)
             for step in ("census", "events") if step in raw}
    return Project(path, tuple(counties), mixed)


def _mixed_section(path: Path, step: str, section, counties: list[County]) -> dict:
    """A project-level [census]/[events] section: files holding several counties."""
    from gridkit.pipeline import check_config

    if not isinstance(section, dict):
        raise InputError(f"{path}: {step} must be a [{step}] section")
    unknown = sorted(set(section) - set(MIXED_KEYS))
    if unknown:
        raise InputError(f"{path}: [{step}] has unknown keys {', '.join(unknown)}; a "
                         f"project's [{step}] takes {', '.join(MIXED_KEYS)}")
    # Checked as a county's section is (types, paths resolved against the project file).
    checked = check_config({"partition": {"communities": "-"}, step: section}, path)[step]
    if "files" not in checked:
        raise InputError(f"{path}: [{step}] needs files = [\"FILE\", ...]")
    for county in counties:
        own = county.config.get(step, {})
        for key in ("crs", "sheet", "layer"):
            if key in own and key in checked and own[key] != checked[key]:
                raise InputError(
                    f"{county.source}: county {county.code} imports its {step} with {key} = "
                    f"{own[key]!r} but the project's mixed files have {checked[key]!r}; one "
                    "import takes one: put the county's files in the project's [" + step
                    + "] or make them agree")
    return checked


def with_routed(county: County, routes: dict[str, list[dict]]) -> County:
    """``county`` with the rows routed to it from mixed files added to its imports.

    Parameters
    ----------
    county : County
    routes : dict
        ``"census"``/``"events"`` → :func:`gridkit.routing.route_file` figures.

    Returns
    -------
    County
        The same county when nothing was routed to it.
    """
    config = dict(county.config)
    for step, figures in routes.items():
        files = [Path(f["files"][county.code]) for f in figures if county.code in f["files"]]
        if not files:
            continue
        options = figures[0]["options"]
        section = dict(config.get(step, options))
        section["files"] = [*section.get("files", []), *files]
        config[step] = section
    return replace(county, config=config) if config != county.config else county


# -- county borders -----------------------------------------------------------------------------

def county_outline(county: County) -> dict:
    """The county's outer border and the barrier pieces that reach it, as its partition sees them.

    A county whose inputs cannot be read gives ``{"code", "error"}`` instead (the one-line
    message): noding and routing leave it out and its own task then fails with that line,
    so one broken county does not stop the others.

    Same reading, repair, conflict rule and working CRS as the partition. Runs on a worker.

    Returns
    -------
    dict
        ``code``, ``crs`` (WKT of the working CRS), ``area`` (the union of its communities,
        which its unit grids will cover), ``border`` (LineStrings of the outer
        rings of the union of the communities) and ``crossings`` (barrier lines clipped to
        the county, those touching its border).
    """
    try:
        return _outline(county)
    except GridkitError as error:
        return {"code": county.code, "error": str(error)}


def _outline(county: County) -> dict:
    """:func:`county_outline`, raising on unreadable inputs."""
    from gridkit.crs import parse_crs, working_crs
    from gridkit.io import read_vector
    from gridkit.partition.barriers import prepare_barriers
    from gridkit.partition.communities import prepare_communities, resolve_conflicts

    if "partition" not in county.config:
        return _adopted_outline(county)
    section = county.config["partition"]
    user_crs = parse_crs(section["crs"]) if section.get("crs") else None
    comm = read_vector(section["communities"], layer=section.get("layer"), what="communities",
                       crs=user_crs)
    work = working_crs([comm], user_crs)
    comm, _ = prepare_communities(comm, work, code_field=section.get("code_field"),
                                  name_field=section.get("name_field"))
    target = section.get("target_area", 10_000)
    comm, _ = resolve_conflicts(comm, max_area=section.get("max_conflict_area", 0.5 * target))
    district = shapely.union_all(comm.geometry.to_numpy())
    border = shapely.get_parts(shapely.boundary(district))
    frames = {}
    for kind in ("roads", "water", "parcels"):
        if section.get(kind):
            frames[kind] = read_vector(section[kind], layer=section.get(f"{kind}_layer"),
                                       what=kind, crs=user_crs)
    crossings = np.empty(0, dtype=object)
    if frames:
        barriers, _ = prepare_barriers(frames.get("roads"), frames.get("water"), work,
                                       road_class_field=section.get("road_class_field"),
                                       parcels=frames.get("parcels"))
        lines = barriers.geometry.to_numpy()
        # Clipped as the partition clips them (its noding sees these very lines).
        near = shapely.intersects(lines, shapely.boundary(district))
        crossings = shapely.get_parts(shapely.intersection(lines[near], district))
        crossings = crossings[np.isin(shapely.get_type_id(crossings), [1, 2])]
    return {"code": county.code, "crs": work.to_wkt(), "area": district, "border": border,
            "crossings": crossings}


def _adopted_outline(county: County) -> dict:
    """A county that adopts its city's grids ([grids]).

    Its area for routing mixed files; no border to hand it, since its grids are kept as they were
    drawn.
    """
    from gridkit.crs import parse_crs, working_crs
    from gridkit.io import read_vector

    section = county.config["grids"]
    user_crs = parse_crs(section["crs"]) if section.get("crs") else None
    grids = read_vector(section["grids"], layer=section.get("layer"), what="grids",
                        crs=user_crs)
    work = working_crs([grids], user_crs)
    area = shapely.union_all(shapely.make_valid(grids.to_crs(work).geometry.to_numpy()))
    empty = np.empty(0, dtype=object)
    return {"code": county.code, "crs": work.to_wkt(), "area": area, "border": empty,
            "crossings": empty}


def node_borders(outlines: list[dict]) -> dict[str, np.ndarray | None]:
    """Every county's share of the province's border linework, noded once.

    Borders of counties in one working CRS are noded together (on the partition's 0.1 mm
    grid) with the barrier pieces that reach them; each county gets the noded edges lying
    on its own border, so a vertex that either side puts on a shared border (a neighbour's
    vertex, a road crossing) is on both. Runs on a worker.

    Parameters
    ----------
    outlines : list of dict
        :func:`county_outline` of each county.

    Returns
    -------
    dict
        County code → array of LineStrings (metres, in that county's working CRS); None for
        a county whose outline failed (its task reports why).
    """
    from gridkit.partition.faces import PRECISION

    shares: dict[str, np.ndarray | None] = {}  # None: the county's outline failed
    by_crs: dict[str, list[dict]] = {}
    for outline in outlines:
        if "error" in outline:
            shares[outline["code"]] = None
            continue
        by_crs.setdefault(outline["crs"], []).append(outline)
    for group in by_crs.values():
        lines = np.concatenate([np.concatenate([o["border"], o["crossings"]]) for o in group])
        if not len(lines):
            shares.update({o["code"]: np.empty(0, dtype=object) for o in group})
            continue
        noded = shapely.get_parts(shapely.union_all(lines, grid_size=PRECISION))
        noded = noded[shapely.get_type_id(noded) == 1]
        tree = shapely.STRtree(noded)
        for outline in group:
            border = shapely.multilinestrings(outline["border"])
            near = np.unique(tree.query(border, predicate="dwithin", distance=ON_BORDER))
            edges = noded[near]
            # Whole edges only: a barrier piece ending on the border is not part of it.
            on = np.ones(len(edges), dtype=bool)
            for where in (0.0, 0.5, 1.0):
                points = shapely.line_interpolate_point(edges, where, normalized=True)
                on &= shapely.distance(points, border) <= ON_BORDER
            edges = edges[on]
            shares[outline["code"]] = edges[np.argsort(shapely.to_wkb(edges))]
    return shares


# -- running ------------------------------------------------------------------------------------

def run_county(county: County, out_dir: Path, borders: np.ndarray | None, stamp: datetime,
               argv: str, routes: dict[str, list[dict]] | None = None) -> dict:
    """One county's whole pipeline into ``out_dir/<code>.gpkg`` and the province dataset.

    Returns its figures (a few numbers), or its one-line error. Runs on a worker.

    Parameters
    ----------
    county : County
    out_dir : Path
        The province's output folder.
    borders : ndarray of LineString or None
        The county's share of :func:`node_borders`.
    stamp, argv
        The run's time and command line, recorded in every county alike
        (:func:`gridkit.io.stamped_run`), which makes the GeoPackage the same file
        whichever worker wrote it.
    routes : dict, optional
        Mixed files routed to the counties (see :func:`with_routed`).

    Returns
    -------
    dict
        :func:`gridkit.province.county_summary` of the run, with ``seconds`` and
        ``cpu_seconds``.
    """
    from gridkit.io import stamped_run
    from gridkit.pipeline import run_pipeline
    from gridkit.province import county_summary, write_county_dataset

    started, cpu = time.perf_counter(), time.process_time()
    target = Path(out_dir) / f"{county.code}.gpkg"
    county = with_routed(county, routes or {})
    try:
        with stamped_run(stamp, argv):
            result = run_pipeline(None, target, config=county.config, borders=borders)
        layers = write_county_dataset(target, Path(out_dir) / "parquet", county.code)
    except GridkitError as error:
        return {"code": county.code, "name": county.name, "error": str(error),
                "seconds": round(time.perf_counter() - started, 2)}
    out = county_summary(county.code, county.name, result.figures)
    out["routed"] = {step: {f["file"]: f["by_county"].get(county.code, 0) for f in found}
                     for step, found in (routes or {}).items()}
    out["parquet_layers"] = layers
    out["seconds"] = round(time.perf_counter() - started, 2)
    # CPU time of the process: what the county costs, whatever else shares the machine.
    out["cpu_seconds"] = round(time.process_time() - cpu, 2)
    return out


def run_project(path: Path, out_dir: Path, *, client=None, progress=None,
                stamp: datetime | None = None, argv: str | None = None) -> dict:
    """Run every county of the PROJECT at ``path`` into ``out_dir``; the province summary.

    Parameters
    ----------
    path : Path
        The PROJECT (see :func:`load_project`).
    out_dir : Path
        Output folder: ``<code>.gpkg``, ``<code>.html`` (with a ``[report]`` section),
        ``parquet/<layer>/county=<code>/``, ``province.json`` and ``province.html``.
    client : dask.distributed.Client, optional
        Run the county tasks on this cluster; without one, one after the other here.
    progress : callable, optional
        Called with a short stage text.
    stamp, argv
        The time and command line every county records (default: now and ``sys.argv``).

    Returns
    -------
    dict
        The province summary (also written to ``province.json``).

    Examples
    --------
    >>> run_project(Path("province.toml"), Path("out"))["totals"]  # doctest: +SKIP
    """
    from gridkit.province import check_borders, write_summary
    from gridkit.routing import route_file

    say = progress or (lambda _stage: None)
    started = time.perf_counter()
    project = load_project(path)
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: the output of a project is a folder; give -o a folder "
                         "path")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Routed rows of an earlier run must not be imported again.
    shutil.rmtree(out_dir / "routed", ignore_errors=True)
    stamp = stamp or datetime.now(UTC).replace(microsecond=0)
    argv = argv if argv is not None else " ".join(sys.argv)
    codes = [c.code for c in project.counties]
    say(f"noding the borders of {len(codes)} counties")
    mixed = [(step, path, section) for step, section in project.mixed.items()
             for path in section["files"]]
    if client is None:
        outlines = [county_outline(c) for c in project.counties]
        shares = node_borders(outlines)
        routes: dict[str, list[dict]] = {}
        for step, file, section in mixed:
            say(f"routing {file.name}")
            routes.setdefault(step, []).append(route_file(file, section, outlines, out_dir,
                                                          step))
        results = []
        for county in project.counties:
            say(f"running county {county.code}")
            results.append(run_county(county, out_dir, shares[county.code], stamp, argv,
                                      routes))
        say("checking county borders")
        borders = check_borders(out_dir, [r["code"] for r in results if "error" not in r])
    else:
        from operator import getitem

        outlines = client.map(county_outline, list(project.counties), pure=False)
        noded = client.submit(node_borders, outlines, pure=False)
        futures: dict[str, list] = {}
        for step, file, section in mixed:
            futures.setdefault(step, []).append(
                client.submit(route_file, file, section, outlines, out_dir, step, pure=False))
        say(f"running {len(codes)} counties on the cluster")
        tasks = [client.submit(run_county, county, out_dir,
                               client.submit(getitem, noded, county.code, pure=False),
                               stamp, argv, futures, pure=False, key=f"county-{county.code}")
                 for county in project.counties]
        results = client.gather(tasks)
        routes = client.gather(futures)
        say("checking county borders")
        borders = client.submit(check_borders, out_dir,
                                [r["code"] for r in results if "error" not in r],
                                pure=False).result()
    summary = {"project": str(project.path.absolute()), "output": str(out_dir),
               "time": stamp.isoformat(timespec="seconds"),
               "workers": len(client.scheduler_info()["workers"]) if client else 0,
               "counties": results, "borders": borders,
               "routing": {step: [{k: v for k, v in f.items() if k not in ("files", "options")}
                                  for f in found] for step, found in routes.items()},
               "seconds": round(time.perf_counter() - started, 2)}
    write_summary(summary, out_dir)
    return summary
