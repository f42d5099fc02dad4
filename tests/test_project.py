"""``gridkit run PROJECT`` without a cluster: loading projects, one-line errors, the county
run alone against the province run, borders, the dataset and the summary."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow.dataset as ds
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; plain `pytest` must find it

from benchmarks.province import make_province  # noqa: E402
from gridkit.cli import main  # noqa: E402
from gridkit.errors import GridkitError  # noqa: E402
from gridkit.project import (  # noqa: E402
    county_outline,
    load_project,
    node_borders,
    run_county,
    run_project,
)
from gridkit.province import check_borders  # noqa: E402

STAMP = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ARGV = "gridkit run province -o out"
X0, Y0 = 624_000.0, 3_398_000.0  # metres, EPSG:4549, as in tests/conftest.py


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return make_province(tmp_path_factory.mktemp("province") / "province", 3, rows=300)


@pytest.fixture(scope="module")
def serial(province, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("serial") / "out"
    return out, run_project(province, out, stamp=STAMP, argv=ARGV)


def test_project_folder_and_toml_list_the_same_counties(province, tmp_path):
    folder = load_project(province)
    assert [c.code for c in folder.counties] == ["310101", "310104", "310105"]
    assert [c.name for c in folder.counties] == ["黄浦区", "徐汇区", "长宁区"]
    toml = tmp_path / "province.toml"
    toml.write_text("".join(
        f'[county.{c.code}]\nname = "{c.name}"\n[county.{c.code}.partition]\n'
        f'communities = "{c.config["partition"]["communities"]}"\n' for c in folder.counties),
        encoding="utf-8")
    listed = load_project(toml)
    assert [(c.code, c.name) for c in listed.counties] == [
        (c.code, c.name) for c in folder.counties]
    assert listed.counties[0].config["partition"]["communities"] == \
        folder.counties[0].config["partition"]["communities"]


@pytest.mark.parametrize(("text", "message"), [
    ('[county.3101]\n[county.3101.partition]\ncommunities = "c.gpkg"\n', "six-digit code"),
    ('[county.310101]\n', "a [partition] section"),
    ('[county.310101]\noutput = "x.gpkg"\n[county.310101.partition]\ncommunities = "c.gpkg"\n',
     "OUT_DIR/310101.gpkg"),
    ('[county.310101.partition]\ncommunities = "c.gpkg"\n[group]\n', "unknown key group"),
    ('[county.310101.partition]\ncommunities = "c.gpkg"\n[census]\ncrs = "wgs84"\n',
     "[census] needs files"),
])
def test_bad_project_is_one_line(tmp_path, text, message):
    toml = tmp_path / "p.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(GridkitError, match=message.replace("[", r"\[")):
        load_project(toml)


def test_county_folder_needs_a_code(tmp_path):
    (tmp_path / "huangpu").mkdir()
    (tmp_path / "huangpu" / "gridkit.toml").write_text("[partition]\ncommunities = 'c.gpkg'\n")
    with pytest.raises(GridkitError, match="six-digit code, e.g. 310101"):
        load_project(tmp_path)


def test_cli_project_needs_an_output_folder(province):
    done = CliRunner().invoke(main, ["run", str(province)])
    assert done.exit_code == 2
    assert done.output.strip().count("\n") == 0 and "-o out/" in done.output


def test_cli_cluster_without_dask_is_one_line(province, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    done = CliRunner().invoke(main, ["run", str(province), "-o", str(tmp_path / "o"),
                                     "--workers", "2"])
    assert done.exit_code == 2
    assert done.output.strip() == ("gridkit: error: --scheduler/--workers need Dask: "
                                   "pip install gridkit[dask]")


def test_core_never_imports_dask():
    done = subprocess.run([sys.executable, "-c",
                           "import sys, gridkit.cli, gridkit.project, gridkit.province; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                           "('dask', 'distributed', 'dask_geopandas')))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_county_alone_writes_the_same_file(province, serial, tmp_path):
    out, summary = serial
    project = load_project(province)
    shares = node_borders([county_outline(c) for c in project.counties])
    middle = project.counties[1]
    figures = run_county(middle, tmp_path, shares[middle.code], STAMP, ARGV)
    assert "error" not in figures
    assert digest(tmp_path / "310104.gpkg") == digest(out / "310104.gpkg")
    runs = pyogrio.read_dataframe(out / "310104.gpkg", layer="gridkit_run",
                                  read_geometry=False)
    assert set(runs["TIME"]) == {"2026-11-30T08:00:00+00:00"} and set(runs["ARGV"]) == {ARGV}


def test_summary_and_counts(province, serial):
    out, summary = serial
    saved = json.loads((out / "province.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(summary, default=str))
    assert [c["code"] for c in saved["counties"]] == ["310101", "310104", "310105"]
    for county in saved["counties"]:
        assert county["census"] == {"rows": 300, "accepted": 300, "rejected": 0,
                                    "balanced": True}
        grids = pyogrio.read_info(out / f"{county['code']}.gpkg", layer="unit_grid")
        assert county["unit_grids"] == grids["features"] > 50
        assert county["parquet_layers"]["unit_grid"] == county["unit_grids"]
    html = (out / "province.html").read_text(encoding="utf-8")
    assert html.count('href="310104.gpkg"') == 1 and "长宁区" in html
    table = ds.dataset(out / "parquet" / "component", format="parquet",
                       partitioning="hive").to_table()
    counts = dict(zip(*np.unique(np.asarray(table["county"]), return_counts=True),
                      strict=True))
    assert {str(k): int(v) for k, v in counts.items()} == {
        "310101": 300, "310104": 300, "310105": 300}


def test_county_borders_meet_and_the_handed_borders_matter(province, serial, tmp_path):
    out, summary = serial
    b = summary["borders"]
    # Two shared borders, 600 m high, leaning 0.27 m a metre: 621.5 m each.
    assert [p[:2] for p in b["pairs"]] == [["310101", "310104"], ["310104", "310105"]]
    assert [p[2] for p in b["pairs"]] == pytest.approx([621.51, 621.51], abs=0.05)
    assert b["valid"] and b["max_offset_m"] <= 1e-4
    assert b["overlap_m2"] < 0.01 and b["gap_m2"] < 0.01
    # Each county alone, with no borders handed: its neighbours' vertices are missing on
    # its side, so many more border vertices are one side's only and the slivers grow.
    project = load_project(province)
    for county in project.counties:
        run_county(county, tmp_path, None, STAMP, ARGV)
    alone = check_borders(tmp_path, [c.code for c in project.counties])
    assert alone["t_junctions"] > 2 * b["t_junctions"]
    assert alone["overlap_m2"] > 2 * b["overlap_m2"]


def test_a_mixed_census_file_is_routed_by_location(province, tmp_path):
    import shutil

    project = tmp_path / "province"
    shutil.copytree(province, project)
    lines = []
    for k, csv in enumerate(sorted(project.glob("*/census.csv"))):
        rows = csv.read_text(encoding="utf-8").splitlines()
        lines += rows[:1] if k == 0 else []
        lines += rows[1:1 + 10 * (k + 1)]  # 10, 20 and 30 rows of the three counties
    lines += [',路灯,121.9,31.5,,,,完好,2025-05-09,实测,IMG_far',  # in the sea off Pudong
              ',路灯,,,,,,完好,2025-05-09,实测,IMG_none']
    (project / "全市补查.csv").write_text("\n".join(lines) + "\n", encoding="gb18030")
    (project / "province.toml").write_text('[census]\nfiles = ["全市补查.csv"]\ncrs = "wgs84"\n',
                                           encoding="utf-8")
    summary = run_project(project, tmp_path / "out", stamp=STAMP, argv=ARGV)
    routed = summary["routing"]["census"]
    assert routed == [{"file": "全市补查.csv", "path": str(project / "全市补查.csv"),
                       "rows": 62, "by_county": {"310101": 10, "310104": 20, "310105": 30},
                       "unrouted": 2,
                       "unrouted_file": str(tmp_path / "out/routed/unrouted/全市补查.csv"),
                       "balanced": True}]
    for county, extra in zip(summary["counties"], (10, 20, 30), strict=True):
        assert county["routed"] == {"census": {"全市补查.csv": extra}}
        assert county["census"]["rows"] == county["census"]["accepted"] == 300 + extra
        files = pyogrio.read_dataframe(tmp_path / "out" / county["gpkg"], layer="component",
                                       columns=["SRCFILE"], read_geometry=False)["SRCFILE"]
        assert (files == "全市补查.csv").sum() == extra
    unrouted = (tmp_path / "out/routed/unrouted/全市补查.csv").read_text(encoding="utf-8")
    assert '"IMG_far","outside every county"' in unrouted
    assert '"IMG_none","no position"' in unrouted


def _county_file(path: Path, x0: float, code: str) -> None:
    # Two 100 m unit grids a side, stacked: the county is 100 m wide and 200 m high.
    grids = [shapely.box(x0, Y0 + k * 100, x0 + 100, Y0 + (k + 1) * 100) for k in range(2)]
    community = gpd.GeoDataFrame({"CODE": [code + "001001"]},
                                 geometry=[shapely.union_all(grids)], crs=4549)
    community.to_file(path, layer="community", driver="GPKG")
    gpd.GeoDataFrame({"BGID": [f"{code}001001{k:03d}" for k in (1, 2)]}, geometry=grids,
                     crs=4549).to_file(path, layer="unit_grid", driver="GPKG")


@pytest.mark.parametrize("offset", [0.0, 0.4])
def test_a_county_drawn_off_its_neighbours_border_is_a_gap_and_a_pair(tmp_path, offset):
    # Real admin data: the second county's outline 0.4 m off the first's, all along their
    # 200 m border, the sliver open to the province's edge at both ends (no hole).
    _county_file(tmp_path / "310101.gpkg", X0, "310101")
    _county_file(tmp_path / "310104.gpkg", X0 + 100 + offset, "310104")
    b = check_borders(tmp_path, ["310101", "310104"])
    assert [p[:2] for p in b["pairs"]] == [["310101", "310104"]]
    assert b["pairs"][0][2] == pytest.approx(200 if offset == 0 else 0, abs=0.01)
    assert b["gap_m2"] == pytest.approx(200 * offset, abs=0.01)
    assert b["overlap_m2"] == 0 and b["max_offset_m"] == pytest.approx(offset, abs=1e-6)
    assert b["valid"] is (offset == 0)


def test_a_county_whose_communities_cannot_be_read_fails_alone(tmp_path):
    # One county's communities file is damaged (a copy cut short): its failure names the
    # county and the file in one line, and the other county's outputs are still written.
    project = make_province(tmp_path / "province", 2, rows=50)
    broken = project / "310104_徐汇区" / "communities.gpkg"
    broken.write_bytes(broken.read_bytes()[:500])
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["run", str(project), "-o", str(out)])
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    error = [line for line in done.output.splitlines() if line.startswith("gridkit: error:")]
    assert len(error) == 1
    assert "1 of 2 counties failed: 310104:" in error[0] and "communities.gpkg" in error[0]
    assert pyogrio.read_info(out / "310101.gpkg", layer="unit_grid")["features"] > 0
    assert not (out / "310104.gpkg").exists()
    summary = json.loads((out / "province.json").read_text(encoding="utf-8"))
    failed = {c["code"]: c.get("error") for c in summary["counties"]}
    assert failed["310101"] is None and "communities.gpkg" in failed["310104"]
