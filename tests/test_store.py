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


def snapshot(path: Path, runs: bool = True) -> dict:
    """What a reader sees: every layer's rows (read after SQLite rolled back any journal);
    without the gridkit_run rows when not ``runs`` (they name the command line)."""
    sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchall()
    seen = {}
    for name, _ in pyogrio.list_layers(path):
        if not runs and name == "gridkit_run":
            continue
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
    complete = snapshot(out, runs=False)  # what any finished run of this config writes
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
            # What the later, stopped runs must leave as it was is now this run's output.
            before, before_html = snapshot(out), html.read_bytes()
            before_plan = sorted(p.name for p in plan.iterdir())
        else:
            expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[how]
            assert process.returncode == expected, err
            if snapshot(out) != before:
                # Stopped after its outputs were published: they are whole.
                assert snapshot(out, runs=False) == complete
                assert how == signal.SIGKILL or "was written before" in err, err
                before, before_html = snapshot(out), html.read_bytes()
                before_plan = sorted(p.name for p in plan.iterdir())
                continue
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
    # What a killed run left behind is removed by the next one (run in this process: the
    # killed ones' process ids are gone either way).
    again = CliRunner().invoke(main, ["run", str(project), "-o", str(out)])
    assert again.exit_code == 0, again.output
    assert _leftovers(folder) == []


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
        if after != before:
            # Stopped after its commit: then the import is there whole, as the uninterrupted
            # one wrote it, and the line says so.
            assert snapshot(out, runs=False) == snapshot(copy, runs=False), (how, share)
            if how != signal.SIGKILL:
                assert "was written before" in err
            return
        if how != signal.SIGKILL:
            assert "previous output is intact" in err
            # A killed (SIGKILL) process cannot remove its stage; the next command that writes
            # the file does. A stopped one leaves nothing of its own.
            assert [n for n in _leftovers(folder) if f"-{process.pid}-" in n] == []
    done = _start("census", "import", folder / "more.csv", "-o", out, "--crs", "wgs84",
                  "--mode", "replace", cwd=folder)
    done.communicate(timeout=600)
    assert done.returncode == 0 and _leftovers(folder) == []


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


# -- re-imports, stale results, others' files, error order ------------------------------------

@pytest.fixture
def imported(tmp_path) -> Path:
    """Partition, census import and check of the tiny district (in-process, fast)."""
    communities = tmp_path / "communities.gpkg"
    four_communities().to_file(communities, driver="GPKG")
    census_csv(tmp_path / "census.csv", 300, 1)
    out = tmp_path / "out.gpkg"
    runner = CliRunner()
    for args in (["partition", str(communities), "-o", str(out), "--target-area", "20000"],
                 ["census", "import", str(tmp_path / "census.csv"), "-o", str(out), "--crs",
                  "wgs84"],
                 ["census", "check", str(out)]):
        done = runner.invoke(main, args)
        assert done.exit_code in (0, 1), done.output
    return out


def _components(out: Path) -> int:
    return pyogrio.read_info(out, layer="component")["features"]


def test_same_census_under_another_name_is_refused_with_the_fix(imported):
    folder = imported.parent
    copy = folder / "census_export.csv"
    copy.write_bytes((folder / "census.csv").read_bytes())
    runner = CliRunner()
    done = runner.invoke(main, ["census", "import", str(copy), "-o", str(imported),
                                "--crs", "wgs84"])
    assert done.exit_code == 2
    assert "same content as census.csv" in done.output
    assert "--mode replace" in done.output and "--allow-duplicates" in done.output
    assert _components(imported) == 300
    # Same rows, other bytes (re-saved with another column order): refused by position.
    frame = pd.read_csv(folder / "census.csv", dtype=str, keep_default_na=False)
    frame[["纬度", "经度", "部件名称", "标识码"]].to_csv(folder / "resaved.csv", index=False)
    done = runner.invoke(main, ["census", "import", str(folder / "resaved.csv"), "-o",
                                str(imported), "--crs", "wgs84"])
    assert done.exit_code == 2, done.output
    assert "300 of its 300 rows (100%)" in done.output and "from census.csv" in done.output
    # On purpose: allowed, and then held twice.
    done = runner.invoke(main, ["census", "import", str(copy), "-o", str(imported), "--crs",
                                "wgs84", "--allow-duplicates"])
    assert done.exit_code == 0, done.output
    assert _components(imported) == 600


def test_replace_import_removes_the_check_rows_and_marks_coverage_stale(imported):
    folder = imported.parent
    qa = pyogrio.read_dataframe(imported, layer="qa_issue", read_geometry=False)
    assert (qa["COMMAND"] == "census check").any()
    census_csv(folder / "second.csv", 40, 5)
    runner = CliRunner()
    done = runner.invoke(main, ["census", "import", str(folder / "second.csv"), "-o",
                                str(imported), "--crs", "wgs84", "--mode", "replace"])
    assert done.exit_code == 0, done.output
    assert "removed" in done.output and "`gridkit census check`" in done.output
    assert "component_coverage is stale: component changed" in done.output
    qa = pyogrio.read_dataframe(imported, layer="qa_issue", read_geometry=False)
    assert not (qa["COMMAND"] == "census check").any()
    # Every remaining issue about a component names one that exists.
    held = set(pyogrio.read_dataframe(imported, layer="component",
                                      read_geometry=False)["OBJCODE"])
    about = qa[(qa["LAYER"] == "component") & qa["KEY"].str.fullmatch(r"\d{16}")]
    assert set(about["KEY"]) <= held
    report = folder / "r.html"
    assert runner.invoke(main, ["report", str(imported), "-o", str(report),
                                "--lang", "en"]).exit_code == 0
    page = report.read_text(encoding="utf-8")
    assert "Stale results" in page and "component_coverage: component changed" in page
    # Checking again makes the coverage current.
    runner.invoke(main, ["census", "check", str(imported)])
    assert stale_results(imported) == []


def test_append_of_a_new_file_keeps_the_others_and_reads_only_its_neighbourhood(imported):
    folder = imported.parent
    census_csv(folder / "street2.csv", 25, 9)
    done = CliRunner().invoke(main, ["census", "import", str(folder / "street2.csv"), "-o",
                                     str(imported), "--crs", "wgs84", "--json"])
    assert done.exit_code == 0, done.output
    figures = __import__("json").loads(done.output[done.output.index("{"):])
    assert figures["components"] == 325 == _components(imported)
    assert figures["incremental"]["kept_read"] < 300
    files = pyogrio.read_dataframe(imported, layer="component", read_geometry=False)["SRCFILE"]
    assert files.value_counts().to_dict() == {"census.csv": 300, "street2.csv": 25}
    codes = pyogrio.read_dataframe(imported, layer="component", read_geometry=False)["OBJCODE"]
    assert codes.is_unique


def test_an_append_whose_every_row_is_rejected_leaves_the_check_current(imported):
    # A street team's file with unusable positions: every row goes to component_reject,
    # no component is added, so the census check rows and the coverage stay current.
    folder = imported.parent
    pd.DataFrame({"标识码": [""] * 3, "部件名称": ["路灯"] * 3, "经度": ["abc", "", "东经"],
                  "纬度": ["def", "", "北纬"]}).to_csv(folder / "street3.csv", index=False)
    checked = pyogrio.read_dataframe(imported, layer="qa_issue", read_geometry=False)
    before = read_state(imported)["layers"]["component"]["version"]
    done = CliRunner().invoke(main, ["census", "import", str(folder / "street3.csv"), "-o",
                                     str(imported), "--crs", "wgs84", "--mode", "append"])
    assert done.exit_code == 0, done.output
    assert "stale" not in done.output and "removed" not in done.output
    assert _components(imported) == 300
    rejects = pyogrio.read_dataframe(imported, layer="component_reject", read_geometry=False)
    assert (rejects["SRCFILE"] == "street3.csv").sum() == 3
    # The last line gives the file's totals, components and rejects alike.
    assert f"300 components, {len(rejects):,} rejects" in done.output, done.output
    assert read_state(imported)["layers"]["component"]["version"] == before
    qa = pyogrio.read_dataframe(imported, layer="qa_issue", read_geometry=False)
    assert (qa["COMMAND"] == "census check").sum() == (checked["COMMAND"] == "census check").sum()
    assert stale_results(imported) == []
    # A second team's file: the totals count both files' rejects, not this import's alone.
    pd.DataFrame({"标识码": [""] * 2, "部件名称": ["路灯"] * 2, "经度": ["x", ""],
                  "纬度": ["y", ""]}).to_csv(folder / "street4.csv", index=False)
    done = CliRunner().invoke(main, ["census", "import", str(folder / "street4.csv"), "-o",
                                     str(imported), "--crs", "wgs84", "--mode", "append"])
    assert done.exit_code == 0, done.output
    total = pyogrio.read_info(imported, layer="component_reject")["features"]
    assert total == len(rejects) + 2
    assert f"300 components, {total:,} rejects" in done.output, done.output


def test_export_of_a_foreign_geopackage_writes_nothing_into_it(tmp_path):
    foreign = tmp_path / "foreign.gpkg"
    points(10, 0).to_file(foreign, layer="poi", driver="GPKG")
    before = foreign.read_bytes()
    done = CliRunner().invoke(main, ["export", str(foreign), "--to", "shp",
                                     str(tmp_path / "shp")])
    assert done.exit_code == 0, done.output
    assert foreign.read_bytes() == before
    assert "not made by gridkit" in done.output
    assert {n for n, _ in pyogrio.list_layers(foreign)} == {"poi"}


def test_census_check_lists_errors_first_and_its_fix_names_real_columns(tmp_path):
    communities = tmp_path / "communities.gpkg"
    four_communities().to_file(communities, driver="GPKG")
    csv = census_csv(tmp_path / "census.csv", 60, 1)
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    frame["设施情况"] = "完好"
    frame.to_csv(csv, index=False)
    out = tmp_path / "out.gpkg"
    runner = CliRunner()
    runner.invoke(main, ["partition", str(communities), "-o", str(out)])
    assert runner.invoke(main, ["census", "import", str(csv), "-o", str(out), "--crs",
                                "wgs84"]).exit_code == 0
    done = runner.invoke(main, ["census", "check", str(out)])
    assert done.exit_code == 1
    severities = [line.split()[0] for line in done.output.splitlines()
                  if line.startswith("  ")]
    assert "error" in severities and "warning" in severities
    assert severities == sorted(severities, key=lambda s: s != "error")
    qa = pyogrio.read_dataframe(out, layer="qa_issue", read_geometry=False)
    empty = qa[(qa["RULE"] == "field-empty") & (qa["KEY"] == "OBJSTATE")]
    assert len(empty) == 1 and "--map OBJSTATE=设施情况" in empty["MESSAGE"].iloc[0]
    check = qa[qa["COMMAND"] == "census check"]
    order = (check["SEVERITY"] != "error").to_numpy()
    assert (np.diff(order.astype(int)) >= 0).all()


def test_a_rewrite_keeps_other_commands_qa_rows_and_qa_stays_any_geometry(tmp_path):
    """A first big import rewrites the file from its stage; the partition's qa_issue rows
    (polygons) must survive beside the import's (points), and the layer stays GEOMETRY so
    that GDAL reads it without a warning."""
    import warnings

    from test_census_import import write_csv
    from test_census_support import district, good_rows

    from gridkit.components.gpkg import import_to_geopackage
    from gridkit.components.importer import ImportOptions
    from gridkit.io import merge_qa, run_record, write_geopackage
    from gridkit.qa import QAIssue, qa_frame

    out = district(tmp_path)
    crs = pyogrio.read_info(out, layer="unit_grid")["crs"]
    gap = QAIssue("community", "310116001001", "admin-gap", "warning", "a 616 m² gap",
                  shapely.box(X0, Y0, X0 + 10, Y0 + 10))
    write_geopackage(out, {"qa_issue": merge_qa(out, "partition", qa_frame([gap], crs))},
                     run_record("partition", {}, []))
    rows = good_rows(400)
    rows += [rows[0]]  # one duplicate position: a census import qa row (a point)
    census = write_csv(tmp_path / "c.csv", rows)
    import_to_geopackage([census], out, ImportOptions(crs="wgs84"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        qa = pyogrio.read_dataframe(out, layer="qa_issue")
    assert set(qa["COMMAND"]) == {"partition", "census import"}
    assert qa.loc[qa["COMMAND"] == "partition", "RULE"].tolist() == ["admin-gap"]
    declared = sqlite3.connect(out).execute(
        "SELECT sql FROM sqlite_master WHERE name = 'qa_issue'").fetchone()[0]
    assert '"geom" GEOMETRY' in declared
