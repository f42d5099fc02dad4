"""`gridkit partition` as a user runs it: real files in, outputs read back with pyogrio."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from conftest import X0, Y0, four_communities, invoke

ROADS = gpd.GeoDataFrame(
    {"道路等级": ["主干路", "支路"]},
    geometry=[shapely.LineString([(X0 - 50, Y0 + 300), (X0 + 1350, Y0 + 310)]),
              shapely.LineString([(X0 + 300, Y0 - 50), (X0 + 310, Y0 + 1250)])],
    crs=4549,
)


def gridkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return invoke(args, cwd=cwd)


def chinese_communities() -> gpd.GeoDataFrame:
    comm = four_communities().rename(columns={"CODE": "社区代码", "NAME": "名称"})
    comm["名称"] = ["石化一村居委会", "东村居委会", "卫零居委会", "金卫村"]
    return comm.to_crs(4490)


@pytest.fixture
def sources(tmp_path):
    comm = chinese_communities()
    comm.to_file(tmp_path / "comm.gpkg", layer="community")
    ROADS.to_crs(3857).to_file(tmp_path / "roads.gpkg")  # another CRS on purpose
    return tmp_path


def test_partition_writes_spec_layers_readable_by_gdal(sources):
    out = sources / "out.gpkg"
    done = gridkit("partition", sources / "comm.gpkg", "-o", out, "--roads",
                   sources / "roads.gpkg", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["unit_grids"] > 100 and figures["in_band_share"] >= 0.95
    assert figures["crs"] == "EPSG:4549" and figures["communities"] == 4
    layers = dict(pyogrio.list_layers(out))
    # The roads the grids were cut along are kept as context for the report.
    assert layers == {"community": "Polygon", "unit_grid": "Polygon", "qa_issue": "Unknown",
                      "context_road": "LineString", "gridkit_run": None}
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert grids.crs.to_epsg() == 4549
    assert {"BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY"} <= set(grids.columns)
    assert grids["BGID"].str.fullmatch(r"\d{15}").all()  # TEXT: leading zeros would survive
    info = pyogrio.read_info(out, layer="unit_grid")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["BGID"] == "object"
    comm = pyogrio.read_dataframe(out, layer="community")
    assert sorted(comm["NAME"]) == sorted(chinese_communities()["名称"])
    assert comm["AREA"].sum() == pytest.approx(grids["AREA"].sum(), rel=1e-6)
    run = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert run["COMMAND"].tolist() == ["partition"]
    assert len(json.loads(run["INPUTS"].iloc[0])) == 2


def test_summary_without_json_and_help_examples(sources):
    done = gridkit("partition", sources / "comm.gpkg", "-o", sources / "o.gpkg")
    assert done.returncode == 0 and "in band" in done.stdout
    assert "Example" in gridkit("partition", "--help").stdout
    assert "Example" in gridkit("--help").stdout


def test_gbk_shapefile_without_cpg_and_geojson(tmp_path):
    comm = chinese_communities()
    shp = tmp_path / "comm.shp"
    pyogrio.write_dataframe(comm, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    assert "名称".encode("gbk") in shp.with_suffix(".dbf").read_bytes()
    done = gridkit("partition", shp, "-o", tmp_path / "a.gpkg", "--json")
    assert done.returncode == 0, done.stderr
    names = pyogrio.read_dataframe(tmp_path / "a.gpkg", layer="community")["NAME"]
    assert "石化一村居委会" in set(names)
    comm.to_file(tmp_path / "comm.geojson")
    done = gridkit("partition", tmp_path / "comm.geojson", "-o", tmp_path / "b.gpkg", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["unit_grids"] > 100


def test_failed_run_leaves_existing_output_untouched(sources):
    out = sources / "out.gpkg"
    assert gridkit("partition", sources / "comm.gpkg", "-o", out).returncode == 0
    pyogrio.write_dataframe(gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(X0, Y0)],
                                             crs=4549), out, layer="keepme")
    before = out.read_bytes()
    bad = chinese_communities()
    bad.loc[1, "社区代码"] = "3101160010"
    bad.to_file(sources / "bad.gpkg")
    done = gridkit("partition", sources / "bad.gpkg", "-o", out)
    assert done.returncode == 2
    assert out.read_bytes() == before
    assert gridkit("partition", sources / "comm.gpkg", "-o", out).returncode == 0
    assert "keepme" in dict(pyogrio.list_layers(out))
    assert len(pyogrio.read_dataframe(out, layer="gridkit_run")) == 2
    assert not list(sources.glob(".out.gpkg.*"))


def test_write_failure_midway_keeps_the_previous_file(sources, monkeypatch):
    from click.testing import CliRunner

    import gridkit.io
    from gridkit.cli import main

    out = sources / "out.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["partition", str(sources / "comm.gpkg"), "-o",
                                str(out)]).exit_code == 0
    before = out.read_bytes()
    real = gridkit.io.write_layer

    def failing(path, name, frame):
        if name == "unit_grid":
            raise OSError("disk full")
        real(path, name, frame)

    monkeypatch.setattr(gridkit.io, "write_layer", failing)
    result = runner.invoke(main, ["partition", str(sources / "comm.gpkg"), "-o", str(out)])
    assert result.exit_code != 0
    assert out.read_bytes() == before
    assert not list(sources.glob(".out.gpkg.*"))


def _one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridkit: error:"), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.filterwarnings("ignore:Could not decode error message")  # the cut field name
def test_bad_inputs_get_one_line_errors(tmp_path):
    comm = chinese_communities()
    out = tmp_path / "out.gpkg"

    missing = gridkit("partition", tmp_path / "nope.gpkg", "-o", out)
    _one_line_error(missing, "nope.gpkg", "no such file")

    comm.to_file(tmp_path / "two.gpkg", layer="a")
    comm.to_file(tmp_path / "two.gpkg", layer="b")
    _one_line_error(gridkit("partition", tmp_path / "two.gpkg", "-o", out),
                    "has 2 layers (a, b)", "--layer")
    assert gridkit("partition", tmp_path / "two.gpkg", "--layer", "b", "-o",
                   out).returncode == 0

    comm.iloc[:0].to_file(tmp_path / "empty.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "empty.gpkg", "-o", out), "no features")

    cut = tmp_path / "cut.shp"  # "社区代码" is 12 bytes in UTF-8: cut at 10 mid-character
    pyogrio.write_dataframe(comm, cut, encoding="UTF-8")
    _one_line_error(gridkit("partition", cut, "-o", out), "cut.shp", "10 bytes")

    nocrs = tmp_path / "nocrs.shp"
    pyogrio.write_dataframe(comm.rename(columns={"社区代码": "CODE"}), nocrs, encoding="UTF-8")
    nocrs.with_suffix(".prj").unlink()
    _one_line_error(gridkit("partition", nocrs, "-o", out), "has no CRS", "--crs")
    assert gridkit("partition", nocrs, "--crs", "EPSG:4490", "-o", out).returncode == 0

    dup = comm.copy()
    dup.loc[2, "社区代码"] = dup.loc[1, "社区代码"]
    dup.to_file(tmp_path / "dup.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "dup.gpkg", "-o", out),
                    "社区代码", "310116001002 is used by features 2, 3")

    county = comm.copy()  # several counties are fine; a prefecture with districts is not one
    county.loc[0, "社区代码"] = "320500001001"
    county.to_file(tmp_path / "county.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "county.gpkg", "-o", out),
                    "feature 1 field 社区代码", "320500 is a prefecture, not a county")

    short = comm.copy()
    short.loc[3, "社区代码"] = "31011610120"
    short.to_file(tmp_path / "short.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "short.gpkg", "-o", out),
                    "feature 4 field 社区代码", "11 digits")

    lines = gpd.GeoDataFrame({"CODE": ["310116001001"]},
                             geometry=[shapely.LineString([(121.3, 30.7), (121.31, 30.7)])],
                             crs=4490)
    lines.to_file(tmp_path / "lines.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "lines.gpkg", "-o", out),
                    "feature 1 is a LineString")

    nocode = comm.drop(columns=["社区代码"])
    nocode.to_file(tmp_path / "nocode.gpkg")
    _one_line_error(gridkit("partition", tmp_path / "nocode.gpkg", "-o", out), "--code-field")

    _one_line_error(gridkit("partition", tmp_path / "two.gpkg", "--layer", "b", "-o", out,
                            "--crs", "EPSG:99999"), "--crs")
    _one_line_error(gridkit("partition", tmp_path / "two.gpkg", "--layer", "b", "-o",
                            tmp_path / "out.txt"), "must be a GeoPackage")


def test_self_intersection_is_repaired_and_reported(tmp_path):
    comm = chinese_communities().to_crs(4549)
    comm.loc[0, "geometry"] = shapely.Polygon(
        [(X0, Y0), (X0 + 600, Y0), (X0 + 600, Y0 + 600), (X0, Y0 + 600), (X0, Y0),
         (X0 + 10, Y0 + 10), (X0 + 10, Y0 - 0.0)])  # a spike back along an edge: invalid
    assert not comm.geometry.iloc[0].is_valid
    comm.to_file(tmp_path / "c.gpkg")
    done = gridkit("partition", tmp_path / "c.gpkg", "-o", tmp_path / "o.gpkg", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["qa"]["by_rule"] == {"invalid-geometry": 1}
    qa = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="qa_issue")
    assert qa["RULE"].tolist() == ["invalid-geometry"] and qa["SEVERITY"].iloc[0] == "warning"


def test_flatgeobuf_and_geoparquet_inputs(tmp_path):
    comm = chinese_communities()
    comm.to_file(tmp_path / "comm.fgb", driver="FlatGeobuf")
    comm.to_parquet(tmp_path / "comm.parquet")  # pyogrio's GDAL has no Parquet driver
    for name in ("comm.fgb", "comm.parquet"):
        done = gridkit("partition", tmp_path / name, "-o", tmp_path / f"{name}.gpkg", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["unit_grids"] > 100
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    _one_line_error(gridkit("partition", tmp_path / "junk.parquet", "-o", tmp_path / "j.gpkg"),
                    "junk.parquet", "not a GeoParquet file")
