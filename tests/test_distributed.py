"""The per-street work on a real Dask LocalCluster gives the single-machine result, exactly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

pytest.importorskip("dask.distributed")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; plain `pytest` must find it

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit import distributed  # noqa: E402
from gridkit.distributed import cluster_client  # noqa: E402
from gridkit.errors import GridkitError  # noqa: E402
from gridkit.io import read_vector  # noqa: E402
from gridkit.partition import partition  # noqa: E402
from gridkit.responsibility.engine import group  # noqa: E402

SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def client():
    # Two worker processes on loopback, started once for the module.
    with cluster_client(workers=2) as dask_client:
        assert len(dask_client.scheduler_info()["workers"]) == 2
        yield dask_client


@pytest.fixture(scope="module")
def sample_inputs():
    return [read_vector(SAMPLES / f"{name}.gpkg", what=name)
            for name in ("communities", "roads", "water", "buildings")]


def assert_identical(local, remote, key: str) -> None:
    assert list(local[key]) == list(remote[key])
    assert shapely.equals_exact(local.geometry.to_numpy(), remote.geometry.to_numpy(), 0).all()
    assert local.drop(columns="geometry").equals(remote.drop(columns="geometry"))


def assert_same_grouping(local, remote) -> None:
    assert_identical(local.responsibility_grids, remote.responsibility_grids, "RGID")
    assert_identical(local.unit_grids, remote.unit_grids, "BGID")
    assert local.figures == remote.figures
    assert [(i.rule, i.key, i.message) for i in local.issues] == [
        (i.rule, i.key, i.message) for i in remote.issues]


@pytest.mark.parametrize("district", ["sample", "synthetic"])
def test_partition_and_group_on_the_cluster_match_one_machine(client, sample_inputs, district):
    inputs = sample_inputs if district == "sample" else [synthetic_communities(40, 20)]
    from dask.distributed import get_task_stream

    local = partition(*inputs)
    with get_task_stream(client) as tasks:
        remote = partition(*inputs, client=client)
        grouped = group(local.unit_grids, client=client)
    ran = {str(t["key"]).split("-")[0].strip("('") for t in tasks.data}
    assert {"_plan_street", "_group_street"} <= ran, ran  # the work really went to the cluster
    assert len(local.unit_grids) > 1000
    assert_identical(local.unit_grids, remote.unit_grids, "BGID")
    assert_identical(local.communities, remote.communities, "CODE")
    assert [(i.rule, i.key) for i in local.issues] == [(i.rule, i.key) for i in remote.issues]
    assert shapely.coverage_is_valid(remote.unit_grids.geometry.to_numpy())
    assert_same_grouping(group(local.unit_grids), grouped)


def test_partition_cli_with_two_local_workers(tmp_path, sample_inputs):
    out = tmp_path / "d.gpkg"
    done = subprocess.run(
        [sys.executable, "-m", "gridkit", "partition", SAMPLES / "communities.gpkg", "-o", out,
         "--roads", SAMPLES / "roads.gpkg", "--water", SAMPLES / "water.gpkg",
         "--buildings", SAMPLES / "buildings.gpkg", "--workers", "2", "--json"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = pyogrio.read_dataframe(out, layer="unit_grid")
    local = partition(*sample_inputs).unit_grids
    assert list(written["BGID"]) == list(local["BGID"])
    assert shapely.equals_exact(written.geometry.to_numpy(), local.geometry.to_numpy(), 0).all()


def test_no_option_means_no_cluster(monkeypatch):
    monkeypatch.delenv(distributed.ENV, raising=False)
    with cluster_client() as dask_client:
        assert dask_client is None
    monkeypatch.setenv(distributed.ENV, "  ")
    with cluster_client() as dask_client:
        assert dask_client is None


def test_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "1s")
    monkeypatch.setenv(distributed.ENV, "tcp://127.0.0.1:9")
    with pytest.raises(GridkitError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with cluster_client():
            pass


def test_bad_options(monkeypatch):
    with pytest.raises(GridkitError, match="not both"):
        with cluster_client("tcp://127.0.0.1:9", 2):
            pass
    with pytest.raises(GridkitError, match="at least 1"):
        with cluster_client(workers=0):
            pass
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    with pytest.raises(GridkitError, match=r"pip install gridkit\[dask\]"):
        with cluster_client(workers=2):
            pass


# -- census import and check ------------------------------------------------------------------

def _census_files(tmp_path: Path) -> list[Path]:
    """The sample census (GBK, GCJ-02, 340 broken rows), a second file that re-uses some
    positions and codes, and a record with a surplus cell (a bad CSV row)."""
    sample = (SAMPLES / "census.csv").read_bytes().decode("gb18030").splitlines()
    second = tmp_path / "补查.csv"
    lines = [sample[0]] + sample[1:3000:7] + [sample[5] + ",surplus"]
    second.write_text("\n".join(lines) + "\n", encoding="gb18030")
    return [SAMPLES / "census.csv", second]


@pytest.fixture(scope="module")
def sample_district(sample_inputs, tmp_path_factory) -> Path:
    from gridkit.io import run_record, write_geopackage

    result = partition(*sample_inputs)
    path = tmp_path_factory.mktemp("district") / "district.gpkg"
    write_geopackage(path, {"community": result.communities, "unit_grid": result.unit_grids},
                     run_record("partition", {}, []))
    return path


def _district(sample_district: Path, folder: Path, name: str = "out.gpkg") -> Path:
    target = folder / name
    shutil.copyfile(sample_district, target)
    return target


def _assert_same_import(local, remote) -> None:
    assert local.component_table().equals(remote.component_table())
    assert local.reject.equals(remote.reject)
    assert local.qa.equals(remote.qa)
    a, b = dict(local.figures), dict(remote.figures)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_census_import_and_check_on_the_cluster_match_one_machine(client, sample_district,
                                                                   tmp_path):
    from dask.distributed import get_task_stream

    from gridkit.components.check import check_components
    from gridkit.components.gpkg import load_grids
    from gridkit.components.importer import ImportOptions, import_census

    grids = load_grids(sample_district)
    files = _census_files(tmp_path)
    options = ImportOptions(crs="gcj02")
    local = import_census(files, grids, options)
    with get_task_stream(client) as tasks:
        remote = import_census(files, grids, options, client=client, block_rows=9_000)
        local_check = check_components(local.component_table(), grids)
        remote_check = check_components(remote.component_table(), grids, client=client,
                                        block_points=20_000)
    ran = [str(t["key"]).split("-")[0].strip("('") for t in tasks.data]
    assert ran.count("_prepare_block") == 7 and ran.count("_locate_block") == 3, ran
    assert local.figures["accepted"] > 50_000 and local.figures["balanced"]
    assert local.figures["rejects_by_rule"]["bad-row"] == 1
    _assert_same_import(local, remote)
    assert local_check.qa.equals(remote_check.qa)
    assert local_check.coverage.equals(remote_check.coverage)

    # A second import of the second file over the first result: codes carried over by
    # position, serials continuing after the kept ones, on both paths alike.
    existing = local.component_table()
    again = [files[1]]
    _assert_same_import(
        import_census(again, grids, options, existing=existing, existing_rejects=local.reject),
        import_census(again, grids, options, existing=existing, existing_rejects=local.reject,
                      client=client, block_rows=100))


def test_census_cli_on_a_running_scheduler(client, sample_district, tmp_path):
    from test_census_support import gridkit

    files = _census_files(tmp_path)
    one = _district(sample_district, tmp_path, "one.gpkg")
    many = _district(sample_district, tmp_path, "many.gpkg")
    address = client.scheduler.address
    for out, extra in ((one, []), (many, ["--scheduler", address, "--block-rows", "5000"])):
        done = gridkit("census", "import", *files, "-o", out, "--crs", "gcj02", "--json",
                       *extra)
        assert done.returncode == 0, done.stderr
        done = gridkit("census", "check", out, "--json", *extra[:2])
        assert done.returncode in (0, 1), done.stderr
    for layer in ("component", "component_reject", "qa_issue", "component_coverage"):
        a = pyogrio.read_dataframe(one, layer=layer)
        b = pyogrio.read_dataframe(many, layer=layer)
        assert len(a) > 0 and a.equals(b), layer
    runs = pyogrio.read_dataframe(many, layer="gridkit_run", read_geometry=False)
    assert '"block_rows": 5000' in runs["PARAMETERS"].iloc[-2]


def test_census_error_on_a_worker_is_one_line(client, sample_district, tmp_path):
    from test_census_support import gridkit

    bad = tmp_path / "nocrs.csv"
    bad.write_text("部件名称,经度,纬度\n路灯,121.3,30.7\n", encoding="utf-8")
    out = _district(sample_district, tmp_path)
    done = gridkit("census", "import", bad, "-o", out, "--scheduler", client.scheduler.address)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--crs" in done.stderr, done.stderr


def test_run_on_a_running_scheduler_matches_one_machine(client, tmp_path):
    from conftest import partition_and_group_config
    from test_census_support import gridkit

    from gridkit.pipeline import run_pipeline

    config = partition_and_group_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + (
        f'[census]\nfiles = ["{SAMPLES / "census.csv"}"]\ncrs = "gcj02"\n'), encoding="utf-8")
    local = run_pipeline(config, tmp_path / "local.gpkg")
    done = gridkit("run", config, "-o", tmp_path / "cluster.gpkg", "--json",
                   "--scheduler", client.scheduler.address)
    assert done.returncode == 0, done.stderr
    assert local["census"]["accepted"] > 50_000
    for layer in ("unit_grid", "responsibility_grid", "component", "component_reject",
                  "component_coverage"):
        a = pyogrio.read_dataframe(tmp_path / "local.gpkg", layer=layer)
        b = pyogrio.read_dataframe(tmp_path / "cluster.gpkg", layer=layer)
        assert len(a) > 0 and a.equals(b), layer


# -- a province: counties as tasks (issue 18) ---------------------------------------------------

def test_province_on_two_workers_matches_the_serial_run(client, tmp_path):
    import hashlib
    from datetime import UTC, datetime

    import dask_geopandas
    import pyarrow.dataset as ds
    from dask.distributed import get_task_stream

    from benchmarks.province import make_province
    from gridkit.project import run_project

    province = make_province(tmp_path / "province", 3, rows=300)
    stamp, argv = datetime(2026, 11, 30, tzinfo=UTC), "gridkit run province -o out"
    serial = run_project(province, tmp_path / "serial", stamp=stamp, argv=argv)
    with get_task_stream(client) as tasks:
        remote = run_project(province, tmp_path / "cluster", client=client, stamp=stamp,
                             argv=argv)
    ran = [str(t["key"]) for t in tasks.data]
    assert sum(k.startswith("county-") for k in ran) == 3, ran  # each county one task
    assert sum(k.startswith("county_outline") for k in ran) == 3
    assert remote["workers"] == 2 and remote["borders"] == serial["borders"]
    assert remote["borders"]["valid"] and len(remote["borders"]["pairs"]) == 2
    for a, b in zip(serial["counties"], remote["counties"], strict=True):
        a, b = dict(a), dict(b)
        a.pop("seconds"), b.pop("seconds")
        assert a == b
        name = a["gpkg"]
        assert (hashlib.sha256((tmp_path / "serial" / name).read_bytes()).digest()
                == hashlib.sha256((tmp_path / "cluster" / name).read_bytes()).digest()), name

    # The province dataset, read back as one table by pyarrow and by dask-geopandas.
    grids = ds.dataset(tmp_path / "cluster" / "parquet" / "unit_grid", format="parquet",
                       partitioning="hive").to_table()
    assert sorted(set(grids["county"].to_pylist())) == [310101, 310104, 310105]
    frame = dask_geopandas.read_parquet(tmp_path / "cluster" / "parquet" / "unit_grid")
    frame = frame.compute().sort_values("BGID").reset_index(drop=True)
    assert frame.crs.to_epsg() == 4549
    written = pd.concat([pyogrio.read_dataframe(tmp_path / "cluster" / f"{c}.gpkg",
                                                layer="unit_grid")
                         for c in ("310101", "310104", "310105")]).sort_values("BGID")
    assert list(frame["BGID"]) == list(written["BGID"])
    assert shapely.equals_exact(frame.geometry.to_numpy(), written.geometry.to_numpy(),
                                0).all()
    assert (frame["BGID"].str[:6].astype(int) == frame["county"].astype(int)).all()
