"""Real territory through the CLI: the prefecture-level cities without counties (东莞 441900,
中山 442000) and one partition over two counties, then codes, census import, check, group."""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from gridkit.cli import main

# CGCS2000 / 3-degree Gauss-Kruger CM 114E, near the 东莞-中山 border (113.6°E, 22.8°N).
CRS = 4547
X, Y = 459_000.0, 2_521_000.0


def run(*args) -> tuple[int, str]:
    """Exit code and standard output of ``gridkit ARGS`` (messages on stderr left out)."""
    done = CliRunner().invoke(main, [str(a) for a in args])
    return done.exit_code, done.stdout if done.exit_code == 0 else done.output


def two_cities() -> gpd.GeoDataFrame:
    """Two communities of 东莞 (town 东城 003) and two of 中山 (石岐 street 001), the county
    border between them digitised twice with a 3 cm overlap."""
    return gpd.GeoDataFrame(
        {"社区代码": ["441900003001", "441900003002", "442000001001", "442000001002"],
         "名称": ["东城社区", "主山社区", "石岐社区", "民族社区"]},
        geometry=[shapely.box(X, Y + 400, X + 500.03, Y + 800),
                  shapely.box(X + 500, Y + 400, X + 1000, Y + 800),
                  shapely.box(X, Y, X + 500, Y + 400.03),
                  shapely.box(X + 500, Y, X + 1000, Y + 400)],
        crs=CRS)


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("territory")
    two_cities().to_file(folder / "comm.gpkg", layer="community")
    out = folder / "district.gpkg"
    code, output = run("partition", folder / "comm.gpkg", "-o", out, "--json")
    assert code == 0, output
    return folder, out, json.loads(output)


def test_two_counties_partition_in_one_run(partitioned):
    _, out, figures = partitioned
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert set(grids["BGID"].str[:6]) == {"441900", "442000"}
    assert (grids["BGID"].str[:12] == grids["COMMUNITY"]).all()
    assert "441900003001001" in set(grids["BGID"])
    # One coverage over both cities: nothing lost or doubled at the county border.
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    assert grids.area.sum() == pytest.approx(1000 * 800, rel=1e-6)
    by_county = {c["county"]: c for c in figures["counties"]}
    assert sorted(by_county) == ["441900", "442000"]
    for county, entry in by_county.items():
        assert entry["communities"] == 2 and entry["streets"] == 1
        assert entry["unit_grids"] == int((grids["BGID"].str[:6] == county).sum())
        assert entry["area_km2"] == pytest.approx(0.4, abs=1e-3)
    assert sum(c["unit_grids"] for c in figures["counties"]) == figures["unit_grids"]
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    overlaps = qa[qa["RULE"] == "admin-overlap"]
    assert len(overlaps) == 2 and overlaps["MESSAGE"].is_unique
    # 0.03 m x 400 m inside 东莞, 0.03 m x 500 m across the county border.
    assert sorted(overlaps["MESSAGE"].str.extract(r"overlap of ([\d.]+) m²")[0]) == \
        ["12.0", "15.0"]


def test_codes_show_explains_a_dongguan_community_and_grid(partitioned):
    code, output = run("codes", "show", "441900003001")
    assert code == 0, output
    assert "community code, valid" in output and "东莞市" in output and "003" in output
    code, output = run("codes", "show", "441900003001001", "--json")
    assert code == 0, output
    shown = json.loads(output)
    shown = shown[0] if isinstance(shown, list) else shown
    assert shown["valid"] and shown["kind"] == "unit grid"
    assert shown["parts"][0]["value"] == "441900"
    code, output = run("codes", "show", "441800003001")  # 广东 441800 清远 has districts
    assert "prefecture, not a county" in output


def test_census_import_codes_each_county_by_itself(partitioned, tmp_path):
    _, out, _ = partitioned
    target = tmp_path / "d.gpkg"
    target.write_bytes(out.read_bytes())
    grids = pyogrio.read_dataframe(target, layer="unit_grid").sort_values("BGID")
    inner = grids.geometry.representative_point()
    lon, lat = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True).transform(
        inner.x.to_numpy(), inner.y.to_numpy())
    path = tmp_path / "普查.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["标识码", "部件名称", "经度", "纬度", "主管部门", "权属单位", "养护单位",
                         "状态"])
        for k in range(len(grids)):
            writer.writerow(["", "路灯", f"{lon[k]:.8f}", f"{lat[k]:.8f}", "市城管局",
                             "市路灯所", "路灯养护公司", "完好"])
    code, output = run("census", "import", path, "-o", target, "--crs", "wgs84", "--json")
    assert code == 0, output
    comp = pyogrio.read_dataframe(target, layer="component")
    assert len(comp) == len(grids)
    assert (comp["OBJCODE"].str[:6] == comp["BGID"].str[:6]).all()
    for county in ("441900", "442000"):
        mine = comp[comp["OBJCODE"].str[:6] == county]
        serials = np.sort(mine["OBJCODE"].str[10:].astype(int).to_numpy())
        # Serials run per county and class: each county's street lamps start at 000001.
        assert serials.tolist() == list(range(1, len(mine) + 1))
    code, output = run("census", "check", target, "--json")
    report = json.loads(output)
    assert code == 0 and report["errors"] == 0, report.get("by_rule")


def test_group_keeps_each_responsibility_grid_in_one_street(partitioned, tmp_path):
    _, out, _ = partitioned
    target = tmp_path / "g.gpkg"
    target.write_bytes(out.read_bytes())
    code, output = run("group", target, "--dense", "1-10", "--sparse", "1-10", "--json")
    assert code == 0, output
    grids = pyogrio.read_dataframe(target, layer="unit_grid")
    assert (grids.groupby("RGID")["STREET"].nunique() == 1).all()
    assert (grids["RGID"].str[:9] == grids["STREET"]).all()
    assert set(grids["RGID"].str[:6]) == {"441900", "442000"}
