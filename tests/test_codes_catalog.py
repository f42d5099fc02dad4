"""The shipped catalog files: format, uniqueness, provenance."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

import pytest

from gridkit.codes import national_catalog, normalize_name
from gridkit.codes.catalog import GEOMETRIES, catalog_manifest, province_names

DATA = files("gridkit.codes").joinpath("data")
STATUSES = {"established", "probable", "uncertain"}
COLUMNS = ["code", "name_zh", "name_en", "geometry", "geometry_basis", "status", "source",
           "edition", "note"]


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(DATA.joinpath(name).read_text(encoding="utf-8"))))


@pytest.mark.parametrize("kind", ["component", "event"])
def test_catalog_file_format(kind):
    meta = catalog_manifest()["catalog"][kind]
    table = rows(meta["file"])
    assert list(table[0]) == COLUMNS
    codes = [r["code"] for r in table]
    assert len(codes) == len(set(codes)), "duplicate codes"
    names = [normalize_name(r["name_zh"]) for r in table]
    assert len(names) == len(set(names)), "a name used twice"
    sources = set(catalog_manifest()["source"])
    majors = {c for c in codes if len(c) == 2}
    for r in table:
        assert r["code"].isdigit() and len(r["code"]) in (2, 4), r
        assert "00" not in (r["code"][:2], r["code"][2:] or "xx"), r
        assert r["name_zh"].strip() == r["name_zh"] and r["name_zh"], r
        assert r["name_en"], r
        assert r["status"] in STATUSES, r
        assert set(r["source"].split(";")) <= sources, r
        assert r["edition"], r
        if len(r["code"]) == 4:
            assert r["code"][:2] in majors, r
            assert r["geometry"] in GEOMETRIES, r
        else:
            assert r["geometry"] == ""
        if r["status"] != "established":
            assert r["note"] or r["source"] in ("S2", "S4", "DOMAIN"), r


def test_component_catalog_has_the_six_national_majors():
    catalog = national_catalog("component")
    assert [(e.code, e.name) for e in catalog.majors()] == [
        ("01", "公用设施"), ("02", "道路交通"), ("03", "市容环境"),
        ("04", "园林绿化"), ("05", "房屋土地"), ("06", "其他设施"),
    ]
    assert catalog["0102"].name == "污水井盖"
    assert catalog["0405"].geometry == "polygon"
    assert catalog["0211"].geometry == "line"
    assert len(catalog.minors("01")) == 38


def test_event_catalog_majors():
    catalog = national_catalog("event")
    assert [e.name for e in catalog.majors()][:5] == ["市容环境", "宣传广告", "施工管理",
                                                    "突发事件", "街面秩序"]
    assert catalog["0505"].name == "机动车乱停放"
    assert catalog["06"].status == "uncertain"


def test_aliases_point_at_minor_classes():
    table = rows("aliases.csv")
    seen = set()
    for r in table:
        catalog = national_catalog(r["kind"])
        assert r["code"] in catalog and len(r["code"]) == 4, r
        key = (r["kind"], normalize_name(r["alias"]))
        assert key not in seen, r
        seen.add(key)
        assert key[1] not in catalog.name_index, f"alias {r['alias']} is already a class name"


def test_variant_table_and_provinces():
    table = rows("variants.csv")
    variants = [r["variant"] for r in table]
    assert len(variants) == len(set(variants))
    assert all(len(r["variant"]) == 1 == len(r["standard"]) != 0 for r in table)
    assert all(r["variant"] != r["standard"] for r in table)
    assert province_names()["32"] == "江苏省"
    assert len(province_names()) == 34
