"""The GeoPackage store: transactions in place, appends that cost what they add, stale
results, and commands that survive Ctrl-C, SIGTERM, SIGKILL and a failing disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from gridkit.cli import main
from gridkit.errors import GridkitError
from gridkit.store import read_state, stale_results, transaction
from tests.conftest import X0, Y0, four_communities

CLASSES = ["路灯", "污水井盖", "行道树", "垃圾箱"]


def points(n: int, seed: int = 0, crs: int = 4549) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"NAME": [f"p{seed}-{k}" for k in range(n)],
                             "VALUE": rng.integers(0, 100, n)},
                            geometry=shapely.points(X0 + rng.random(n) * 1300,
                                                    Y0 + rng.random(n) * 1150), crs=crs)


def census_csv(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    x = X0 + 20 + rng.random(n) * 1260
    y = Y0 + 20 + rng.random(n) * 1100
    lon, lat = pyproj.Transformer.from_crs(4549, 4326, always_xy=True).transform(x, y)
    pd.DataFrame({"标识码": [""] * n, "部件名称": rng.choice(CLASSES, n),
                  "经度": np.round(lon, 7), "纬度": np.round(lat, 7)}) \
        .to_csv(path, index=False, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """A tiny district: four communities, a 300-row census, and a config running every
    step but the verdict sheet."""
    communities = tmp_path / "communities.gpkg"
    four_communities().to_file(communities, driver="GPKG")
    census_csv(tmp_path / "census.csv", 300, 1)
    config = tmp_path / "tiny.toml"
    config.write_text(
        '[partition]\ncommunities = "communities.gpkg"\ntarget_area = 20000\n'
        '[census]\nfiles = ["census.csv"]\ncrs = "wgs84"\n'
        '[group]\n[spotcheck]\nseed = 7\n[report]\nlang = "en"\n', encoding="utf-8")
    return config


def snapshot(path: Path) -> dict:
    """What a reader sees: every layer's rows (read after SQLite rolled back any journal)."""
    sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchall()
    seen = {}
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name, read_geometry=True)
        seen[name] = frame.drop(columns=[c for c in ("TIME",) if c in frame]).to_json()
    return seen


# -- the store itself -----------------------------------------------------------------------

def test_append_adds_rows_in_place_with_index_count_and_extent(tmp_path):
    out = tmp_path / "s.gpkg"
    with transaction(out, "test") as tx:
        tx.replace_layer("thing", points(50, 0))
    with transaction(out, "test") as tx:
        tx.append_rows("thing", points(30, 1).assign(EXTRA="x"))
    info = pyogrio.read_info(out, layer="thing")
    assert info["features"] == 80
    assert "EXTRA" in list(info["fields"])
    frame = pyogrio.read_dataframe(out, layer="thing", fid_as_index=True)
    assert sorted(frame.index) == list(range(1, 81))
    # The R-tree answers for the appended rows: a window around one of them finds it.
    last = frame.geometry.iloc[-1]
    window = pyogrio.read_dataframe(out, layer="thing",
                                    bbox=(last.x - 0.01, last.y - 0.01, last.x + 0.01,
                                          last.y + 0.01))
    assert frame["NAME"].iloc[-1] in set(window["NAME"])
    with sqlite3.connect(out) as db:
        assert db.execute("SELECT count(*) FROM rtree_thing_geom").fetchone()[0] == 80
        assert db.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE "
                          "table_name='thing'").fetchone()[0] == 80
        assert "PRAGMA" not in str(db.execute("PRAGMA integrity_check").fetchone())
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with transaction(out, "test") as tx:
        tx.delete_rows("thing", "NAME LIKE 'p1-%'")
    assert pyogrio.read_info(out, layer="thing")["features"] == 50


def test_a_failure_inside_the_transaction_changes_nothing(tmp_path):
    out = tmp_path / "s.gpkg"
    with transaction(out, "test") as tx:
        tx.replace_layer("thing", points(20, 0))
    before = out.read_bytes()
    with pytest.raises(RuntimeError), transaction(out, "test") as tx:
        tx.delete_rows("thing", "1 = 1")
        tx.append_rows("thing", points(5, 1))
        raise RuntimeError("boom")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_an_oserror_at_write_is_one_line_and_leaves_the_file(tmp_path, monkeypatch):
    import gridkit.io

    out = tmp_path / "s.gpkg"
    with transaction(out, "test") as tx:
        tx.replace_layer("thing", points(20, 0))
    before = out.read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gridkit.io, "write_layer", full)
    with pytest.raises(GridkitError, match="No space left on device.*as it was"), \
            transaction(out, "test") as tx:
        tx.append_rows("thing", points(5, 1))
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_qa_rows_of_a_command_are_removed_when_its_inputs_change(tmp_path):
    out = tmp_path / "s.gpkg"
    qa = gpd.GeoDataFrame({"LAYER": ["component"], "KEY": ["c1"], "RULE": ["r"],
                           "SEVERITY": ["error"], "MESSAGE": ["m"]},
                          geometry=[shapely.Point(X0, Y0)], crs=4549)
    with transaction(out, "census import") as tx:
        tx.replace_layer("component", points(10, 0))
    with transaction(out, "census check") as tx:
        tx.replace_qa("census check", qa)
        tx.replace_layer("component_coverage", pd.DataFrame({"BGID": ["1"], "COUNT": [1]}))
    with transaction(out, "events import") as tx:
        tx.replace_layer("event", points(3, 2))
    assert len(pyogrio.read_dataframe(out, layer="qa_issue")) == 1
    assert stale_results(out) == []
    with transaction(out, "census import") as tx:
        tx.append_rows("component", points(2, 3))
    assert tx.summary.removed_qa == {"census check": 1}
    assert len(pyogrio.read_dataframe(out, layer="qa_issue")) == 0
    stale = stale_results(out)
    assert [(s.result, s.changed) for s in stale] == [("component_coverage", ["component"])]
    assert "census check" in stale[0].message()
    state = read_state(out)
    assert state["layers"]["component"]["version"] == 2
    # No layer for the bookkeeping: GDAL lists what the commands wrote.
    assert {n for n, _ in pyogrio.list_layers(out)} == {"component", "component_coverage",
                                                        "event", "qa_issue"}


# -- commands under signals -----------------------------------------------------------------

def _start(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gridkit", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".gridkit-" in p.name)


def test_run_is_atomic_under_ctrl_c_sigterm_and_sigkill(project):
    folder = project.parent
    out = folder / "out.gpkg"
    started = time.perf_counter()
    first = _start("run", project, "-o", out, cwd=folder)
    _, err = first.communicate(timeout=600)
    took = time.perf_counter() - started
    assert first.returncode == 0, err
    html, plan = folder / "out.html", folder / "out_spotcheck"
    assert html.exists() and plan.is_dir()
    # A second run over the same output, stopped at several moments.
    before = snapshot(out)
    before_html = html.read_bytes()
    before_plan = sorted(p.name for p in plan.iterdir())
    outcomes = set()
    # Moments spread over a run (loading, partition, import, check, plan, report, publish).
    for how, share in ((signal.SIGINT, 0.3), (signal.SIGTERM, 0.55), (signal.SIGINT, 0.8),
                       (signal.SIGKILL, 0.45), (signal.SIGKILL, 0.9)):
        process = _start("run", project, "-o", out, cwd=folder)
        time.sleep(share * took)
        process.send_signal(how)
        _, err = process.communicate(timeout=600)
        assert "Traceback" not in err, err
        if process.returncode == 0:
            outcomes.add("finished")  # the run won the race: complete and consistent
            assert snapshot(out).keys() == before.keys()
        else:
            expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[how]
            assert process.returncode == expected, err
            if how != signal.SIGKILL:
                lines = err.strip().splitlines()
                assert lines[-1].startswith("gridkit: interrupted") and \
                    "previous output is intact" in lines[-1], err
                assert _leftovers(folder) == []
            outcomes.add("stopped")
            assert snapshot(out) == before
            assert html.read_bytes() == before_html
            assert sorted(p.name for p in plan.iterdir()) == before_plan
    assert "stopped" in outcomes
    # What a killed run left behind is removed by the next one.
    again = _start("run", project, "-o", out, cwd=folder)
    again.communicate(timeout=600)
    assert again.returncode == 0 and _leftovers(folder) == []


def test_census_import_under_signals_leaves_the_file_or_completes(project):
    folder = project.parent
    out = folder / "out.gpkg"
    runner = CliRunner()
    done = runner.invoke(main, ["run", str(project), "-o", str(out)])
    assert done.exit_code == 0, done.output
    census_csv(folder / "more.csv", 20_000, 2)
    before = snapshot(out)
    copy = folder / "copy.gpkg"
    copy.write_bytes(out.read_bytes())
    started = time.perf_counter()
    whole = _start("census", "import", folder / "more.csv", "-o", copy, "--crs", "wgs84",
                   cwd=folder)
    whole.communicate(timeout=600)
    took = time.perf_counter() - started
    for how, share in ((signal.SIGINT, 0.5), (signal.SIGKILL, 0.7), (signal.SIGTERM, 0.9)):
        process = _start("census", "import", folder / "more.csv", "-o", out, "--crs", "wgs84",
                         cwd=folder)
        time.sleep(share * took)
        process.send_signal(how)
        _, err = process.communicate(timeout=600)
        assert "Traceback" not in err, err
        after = snapshot(out)
        if process.returncode == 0:
            assert pyogrio.read_info(out, layer="component")["features"] > 300
            return
        assert after == before, (how, delay)
        if how != signal.SIGKILL:
            assert "previous output is intact" in err
            assert _leftovers(folder) == []


def test_failed_write_in_a_command_is_one_line_and_changes_nothing(project, monkeypatch):
    import gridkit.io

    folder = project.parent
    out = folder / "out.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(project), "-o", str(out)]).exit_code == 0
    census_csv(folder / "more.csv", 50, 3)
    before = snapshot(out)
    real = gridkit.io.write_layer

    def failing(path, name, frame):
        if name == "component_reject":
            raise OSError(28, "No space left on device")
        real(path, name, frame)

    monkeypatch.setattr(gridkit.io, "write_layer", failing)
    done = runner.invoke(main, ["census", "import", str(folder / "more.csv"), "-o", str(out),
                                "--crs", "wgs84"])
    assert done.exit_code == 2
    assert "No space left on device" in done.output and "Traceback" not in done.output
    assert snapshot(out) == before
    assert _leftovers(folder) == []
