"""The per-street work and the counties of a province on a real Dask LocalCluster give the
single-machine result, exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
import shapely

pytest.importorskip("dask.distributed")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; plain `pytest` must find it

from conftest import sample_partition  # noqa: E402

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit import distributed  # noqa: E402
from gridkit.distributed import cluster_client  # noqa: E402
from gridkit.errors import GridkitError  # noqa: E402
from gridkit.io import read_vector  # noqa: E402
from gridkit.partition import partition  # noqa: E402
from gridkit.responsibility.engine import group  # noqa: E402

SAMPLES = ROOT / "data" / "samples"


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

    # partition(*sample_inputs, key_areas=...) on one machine, computed once per test run
    # (conftest).
    local = sample_partition() if district == "sample" else partition(*inputs)
    keys = ({"key_areas": read_vector(SAMPLES / "key_areas.gpkg", what="key_areas")}
            if district == "sample" else {})
    with get_task_stream(client) as tasks:
        remote = partition(*inputs, client=client, **keys)
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
    # The option's path from the command line to a cluster of its own; that the cluster's
    # partition of the whole sample is exact is the test above. Here: two communities of each
    # of the sample's two urban streets (two streets, so both workers plan one) with all of
    # its roads, water and buildings.
    communities, *barriers = sample_inputs
    some = communities[communities["CODE"].isin(
        ["310116001001", "310116001002", "310116002001", "310116002002"])]
    pyogrio.write_dataframe(some, tmp_path / "some.gpkg")
    out = tmp_path / "d.gpkg"
    done = subprocess.run(
        [sys.executable, "-m", "gridkit", "partition", tmp_path / "some.gpkg", "-o", out,
         "--roads", SAMPLES / "roads.gpkg", "--water", SAMPLES / "water.gpkg",
         "--buildings", SAMPLES / "buildings.gpkg", "--workers", "2", "--json"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = pyogrio.read_dataframe(out, layer="unit_grid")
    local = partition(read_vector(tmp_path / "some.gpkg", what="communities"),
                      *barriers).unit_grids
    assert local["STREET"].nunique() == 2 and len(local) > 50
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
