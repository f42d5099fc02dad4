"""The whole pipeline and a province's counties on a real Dask LocalCluster give the
single-machine result, exactly (a file of its own so that pytest-xdist runs it beside
tests/test_distributed.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

pytest.importorskip("dask.distributed")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; plain `pytest` must find it

SAMPLES = ROOT / "data" / "samples"


# -- the pipeline on a running scheduler ------------------------------------------------------

def test_run_on_a_running_scheduler_matches_one_machine(client, tmp_path,
                                                        sample_partition_reused):
    from conftest import partition_and_group_config
    from test_census_support import gridkit

    from gridkit.pipeline import run_pipeline

    config = partition_and_group_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + (
        f'[census]\nfiles = ["{SAMPLES / "census.csv"}"]\ncrs = "gcj02"\n'), encoding="utf-8")
    # One machine's run, its partition step the sample's partition computed once per test
    # run (conftest); the cluster's run below computes its own on the workers.
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
        for timing in ("seconds", "cpu_seconds"):
            assert a.pop(timing) > 0 and b.pop(timing) > 0
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
