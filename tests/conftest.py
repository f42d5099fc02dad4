"""Shared fixtures: small community layouts in EPSG:4549 metres near 121.3°E 30.7°N."""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import shutil
import subprocess
import tempfile
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from hypothesis import HealthCheck, settings

# Property tests judge geometry, not speed: on two cores shared with other processes an
# example may take seconds, which must not fail a test (no deadline, no too_slow check).
settings.register_profile("gridkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gridkit")

X0, Y0 = 624_000.0, 3_398_000.0


CACHE_VARIABLE = "GRIDKIT_TEST_CACHE"


def pytest_configure(config) -> None:
    """One folder for the templates every test process shares: made by the main process
    before pytest-xdist starts its workers, which inherit its name in the environment."""
    if not hasattr(config, "workerinput") and CACHE_VARIABLE not in os.environ:
        folder = tempfile.mkdtemp(prefix="gridkit-tests-")
        os.environ[CACHE_VARIABLE] = folder
        config.add_cleanup(lambda: (shutil.rmtree(folder, True),
                                    os.environ.pop(CACHE_VARIABLE, None)))


# The files that take the most CPU (measured per test, 2026-11-30), handed to the two
# pytest-xdist workers first. xdist's own order (pyproject.toml turns it off with
# --no-loadscope-reorder) starts files with many tests first, which left these few-test ones
# to the end, one worker busy for a minute after the other had finished. The first one
# builds the shared sample (below) while the second, which needs none, runs beside it.
FIRST = ("test_sample.py", "test_store.py", "test_distributed_runs.py", "test_distributed.py",
         "test_report.py", "test_acceptance_cli.py", "test_partition_properties.py",
         "test_report_browser.py", "test_grids_sample.py", "test_project.py")


def pytest_collection_modifyitems(items) -> None:
    """The files of :data:`FIRST` first, in that order; the rest as collected."""
    rank = {name: k for k, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))


def shared_template(name: str, build) -> Path:
    """``name`` in the shared cache folder, made once per test run by ``build(path)``.

    Workers wait on a lock while another one builds it, so the sample district is
    partitioned once per run, not once per module or per worker. ``build`` may write other
    files beside ``path`` (found in the same folder afterwards). Treat the file as
    read-only: copy it before changing it.
    """
    folder = Path(os.environ.get(CACHE_VARIABLE) or scratch_folder("gridkit-tests-"))
    os.environ[CACHE_VARIABLE] = str(folder)
    target = folder / name
    with open(folder / f"{name}.lock", "w") as lock:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; one process (xdist is not used there)
            fcntl = None
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            building = Path(tempfile.mkdtemp(dir=folder)) / name
            build(building)
            # Files made beside it (the same stem) first: the template's name marks it done.
            for beside in building.parent.iterdir():
                if beside != building:
                    beside.replace(folder / beside.name)
            building.replace(target)
    return target


def copy_of(template: Path, folder: Path, name: str | None = None) -> Path:
    """A fresh copy of a shared template in ``folder`` (the template's name by default)."""
    target = Path(folder) / (name or template.name)
    shutil.copyfile(template, target)
    return target


def scratch_folder(prefix: str) -> Path:
    """A temporary folder shared by a test session (cached templates), removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def invoke(args: Sequence[object], *, cwd: Path | None = None, command=None,
           prog_name: str = "gridkit") -> subprocess.CompletedProcess:
    """Run ``gridkit ARGS`` in this process with click's CliRunner, answered in the shape of
    ``subprocess.run(..., capture_output=True, text=True)``.

    A subprocess start costs more than a second of imports; the few tests that check the real
    process end to end (exit codes, no traceback) keep using one. What a separate process
    would print is kept: an uncaught exception appears as its traceback on stderr with exit
    code 1, and warnings shown under Python's default filters are appended to stderr.
    """
    from click.testing import CliRunner

    if command is None:
        from gridkit.cli import main as command
    argv = [str(a) for a in args]
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(), \
            warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's defaults, not pytest's, as in a fresh process
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):
            warnings.filterwarnings("ignore", category=category)
        result = CliRunner().invoke(command, argv, prog_name=prog_name)
    stderr = result.stderr
    stderr += "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
                      for w in caught)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, stderr)


def layout(polygons, codes=None, crs=4549) -> gpd.GeoDataFrame:
    codes = codes or [f"310116001{k + 1:03d}" for k in range(len(polygons))]
    return gpd.GeoDataFrame({"CODE": codes, "NAME": [f"社区{k}" for k in range(len(codes))]},
                            geometry=list(polygons), crs=crs)


def four_communities() -> gpd.GeoDataFrame:
    """Four neighbours, one of them in a town (village code), 0.25-0.39 km² each."""
    return layout(
        [
            shapely.box(X0, Y0, X0 + 600, Y0 + 600),
            shapely.box(X0 + 600, Y0, X0 + 1300, Y0 + 600),
            shapely.Polygon([(X0, Y0 + 600), (X0 + 600, Y0 + 600), (X0 + 600, Y0 + 1150),
                             (X0, Y0 + 1200)]),
            shapely.box(X0 + 600, Y0 + 600, X0 + 1300, Y0 + 1150),
        ],
        ["310116001001", "310116001002", "310116001003", "310116101201"],
    )


@pytest.fixture
def communities() -> gpd.GeoDataFrame:
    return four_communities()


@pytest.fixture
def roads() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(X0 - 50, Y0 + 300), (X0 + 1350, Y0 + 310)]),  # crosses everything
        shapely.LineString([(X0 + 300, Y0 - 50), (X0 + 310, Y0 + 1250)]),
        shapely.LineString([(X0 + 900, Y0 + 600), (X0 + 905, Y0 + 1150)]),  # ends on borders
        shapely.LineString([(X0 + 100, Y0 + 100), (X0 + 150, Y0 + 200)]),  # a dead end
    ]
    return gpd.GeoDataFrame({"CLASS": ["primary", "residential", "service", "track"]},
                            geometry=lines, crs=4549)


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _partition_sample(path: Path) -> None:
    # The command's in-memory result (``partition(communities, roads, water, buildings,
    # key_areas=...)`` with the defaults, as partition_geopackage calls it) is kept beside
    # the file for the tests that measure it, so that the sample is partitioned once per run,
    # not per module.
    from gridkit.partition import api

    kept = []

    def keep(*args, progress=None, **kwargs):
        result = api_partition(*args, progress=progress, **kwargs)
        kept.append({"args": args, "kwargs": kwargs, "result": result})
        return result

    api_partition = api.partition
    api.partition = keep
    try:
        done = invoke(["partition", SAMPLES / "communities.gpkg", "-o", path, "--roads",
                       SAMPLES / "roads.gpkg", "--water", SAMPLES / "water.gpkg",
                       "--buildings", SAMPLES / "buildings.gpkg", "--key-areas",
                       SAMPLES / "key_areas.gpkg"])
    finally:
        api.partition = api_partition
    assert done.returncode == 0, done.stderr
    assert len(kept) == 1
    with open(path.with_suffix(".pickle"), "wb") as pickled:
        pickle.dump(kept[0], pickled, protocol=pickle.HIGHEST_PROTOCOL)


def _sample_partition_call() -> dict:
    """The call behind :func:`sample_partitioned`: its ``args``, ``kwargs`` (all but
    ``progress``) and ``result``, unpickled afresh."""
    with open(sample_partitioned().with_suffix(".pickle"), "rb") as pickled:
        return pickle.load(pickled)


def _group_sample(path: Path) -> None:
    shutil.copyfile(sample_partitioned(), path)
    done = invoke(["group", path, "--key-areas", SAMPLES / "key_areas.gpkg"])
    assert done.returncode == 0, done.stderr


def sample_partitioned() -> Path:
    """The sample district partitioned as ``gridkit partition communities.gpkg --roads
    --water --buildings --key-areas`` writes it (community, unit_grid, qa_issue, gridkit_run),
    built once per test run. Read-only: use :func:`copy_of`."""
    return shared_template("sample_partitioned.gpkg", _partition_sample)


def sample_partition():
    """The :class:`gridkit.partition.Partition` behind :func:`sample_partitioned`: what
    ``partition(communities, roads, water, buildings, key_areas=...)`` returns for the sample
    district (unit grids, resolved communities, issues, barrier lines, buildings). A fresh
    copy at each call: change it freely."""
    return _sample_partition_call()["result"]


def _same_argument(a, b) -> bool:
    if isinstance(a, gpd.GeoDataFrame) or isinstance(b, gpd.GeoDataFrame):
        return (type(a) is type(b) and a.crs == b.crs and list(a.columns) == list(b.columns)
                and a.index.equals(b.index)
                and a.drop(columns=a.geometry.name).equals(b.drop(columns=b.geometry.name))
                and bool(shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(),
                                              0).all()))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b  # target_area: 10000 from a TOML file, 10000.0 from the command line
    return type(a) is type(b) and a == b


@pytest.fixture
def sample_partition_reused(monkeypatch) -> None:
    """Within the test, ``partition()`` called by a command with exactly the arguments of
    :func:`sample_partition`'s call (the same frames, field for field and vertex for vertex,
    the same options, no cluster) returns that result instead of computing it again; any
    other call computes. The partition is deterministic, so the command writes what it
    would have: a test of ``gridkit run`` on the sample pays for the steps after it only.
    A target area equal in value but of another type (an integer from a TOML file) is
    handed back as given where ``partition()`` keeps it (the result's ``target_area``, the
    grids' attrs, the figures); everywhere else it only enters arithmetic.
    """
    from gridkit.partition import api

    call = _sample_partition_call()
    real = api.partition
    target = 4  # partition(communities, roads, water, buildings, target_area, ...)

    def partition(*args, progress=None, **kwargs):
        if not (len(args) == len(call["args"]) and kwargs.keys() == call["kwargs"].keys()
                and all(map(_same_argument, args, call["args"]))
                and all(_same_argument(kwargs[k], v) for k, v in call["kwargs"].items())):
            return real(*args, progress=progress, **kwargs)
        result = _sample_partition_call()["result"]
        if len(args) > target:
            result.target_area = result.unit_grids.attrs["target_area"] = args[target]
            if "figures" in vars(result):  # computed (cached) before it was kept
                result.figures["target_area"] = args[target]
        return result

    monkeypatch.setattr(api, "partition", partition)


def sample_grouped() -> Path:
    """:func:`sample_partitioned` grouped with the sample's key areas, as ``gridkit run`` on
    :func:`partition_and_group_config` writes it (adds responsibility_grid). Read-only."""
    return shared_template("sample_grouped.gpkg", _group_sample)


def partition_and_group_config(folder) -> Path:
    """A config for the sample's partition and grouping only (no census, events, spot check
    or report): the GeoPackage several test modules build their fixtures on."""
    config = Path(folder) / "partition_and_group.toml"
    config.write_text(
        "[partition]\n"
        + "".join(f'{key} = "{SAMPLES / name}"\n' for key, name in (
            ("communities", "communities.gpkg"), ("roads", "roads.gpkg"),
            ("water", "water.gpkg"), ("buildings", "buildings.gpkg"),
            ("key_areas", "key_areas.gpkg")))
        + f'[group]\nkey_areas = "{SAMPLES / "key_areas.gpkg"}"\n',
        encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def client():
    """A Dask LocalCluster of two worker processes on loopback, started once per module."""
    pytest.importorskip("dask.distributed")
    from gridkit.distributed import cluster_client

    with cluster_client(workers=2) as dask_client:
        assert len(dask_client.scheduler_info()["workers"]) == 2
        yield dask_client
