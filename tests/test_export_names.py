"""Shapefile field names: the fixed table, byte limits in GBK and UTF-8, unique suffixes."""

from __future__ import annotations

import pytest

from gridkit.export.shpnames import FIXED, shapefile_names
from gridkit.export.source import ORDER
from gridkit.export.writers.text import GBK_FALLBACK

# Every field gridkit writes (SPEC plus the acceptance layers), by layer.
GRIDKIT_FIELDS = {
    "community": ["CODE", "NAME", "STREET", "AREA", "UNITS", "TARGET"],
    "unit_grid": ["BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY", "BLDG_AREA"],
    "responsibility_grid": ["RGID", "STREET", "DENSITY", "BAND", "UNITS", "WORKLOAD", "AREA"],
    "component": ["OBJCODE", "OBJNAME", "MAJOR", "MINOR", "DEPTCODE1", "DEPTNAME1",
                  "DEPTCODE2", "DEPTNAME2", "DEPTCODE3", "DEPTNAME3", "BGID", "OBJSTATE",
                  "ORDATE", "CHDATE", "DATASOURCE", "NOTE", "PICTURE", "SRCROW", "CHANGE"],
    "event": ["EVTID", "EVTCODE", "EVTNAME", "MAJOR", "MINOR", "BGID", "STREET", "COMMUNITY",
              "TIME", "SRCROW", "CHANGE"],
    "spotcheck_result": ["BGID", "STREET", "COMMUNITY", "DENSITY", "STRATUM", "WEIGHT",
                         "CHECKED", "CORRECT", "WRONG_CLASS", "WRONG_POSITION",
                         "WRONG_ATTRIBUTE", "NOT_FOUND", "MISSING", "ACCURACY", "ACC_LOW",
                         "ACC_HIGH", "COMPLETENESS", "COMP_LOW", "COMP_HIGH", "VERDICT",
                         "REWORK", "METHOD", "PLAN_ID"],
    "spotcheck_stratum": ["STRATUM", "STREET", "DENSITY", "GRIDS", "COMPONENTS", "SAMPLE",
                          "SAMPLE_COMPONENTS", "MEAN_COMPONENTS", "S2"],
    "spotcheck_plan": ["BGID", "COMMUNITY", "STREET", "DENSITY", "STRATUM", "STRATUM_GRIDS",
                       "STRATUM_SAMPLE", "WEIGHT", "COMPONENTS", "DRAW", "SEED", "PLAN_ID"],
}


@pytest.mark.parametrize("layer", sorted(GRIDKIT_FIELDS))
def test_gridkit_names_fit_and_only_long_ones_change(layer):
    fields = GRIDKIT_FIELDS[layer]
    names = shapefile_names(fields, "gbk")
    assert all(len(short.encode("gbk")) <= 10 for short in names.values())
    assert len({short.lower() for short in names.values()}) == len(fields)
    for field, short in names.items():
        assert short == (FIXED[field] if len(field) > 10 else field)


def test_fixed_table_is_short_unique_and_ascii():
    assert all(len(v) <= 10 and v.isascii() for v in FIXED.values())
    assert len(set(FIXED.values())) == len(FIXED)
    assert all(len(k) > 10 for k in FIXED)


def test_cjk_names_are_cut_by_bytes_of_the_encoding():
    fields = ["养护单位联系电话", "照片"]
    assert shapefile_names(fields, "gbk") == {"养护单位联系电话": "养护单位联", "照片": "照片"}
    # GBK takes 2 bytes a character (5 fit), UTF-8 3 (3 fit): never half of one.
    assert shapefile_names(fields, "utf-8") == {"养护单位联系电话": "养护单", "照片": "照片"}


def test_clashes_get_numbered_suffixes_in_field_order():
    fields = ["DEPARTMENT_NAME", "DEPARTMENT_CODE", "DEPARTMENT", "DEPARTMENT_X"]
    assert shapefile_names(fields, "gbk") == {
        "DEPARTMENT_NAME": "DEPARTME_1", "DEPARTMENT_CODE": "DEPARTME_2",
        "DEPARTMENT": "DEPARTMENT", "DEPARTMENT_X": "DEPARTME_3"}


def test_case_insensitive_clash_and_determinism():
    fields = ["Name", "NAME", "description_of_site", "DESCRIPTION_OF_ROAD"]
    first = shapefile_names(fields, "utf-8")
    assert first == shapefile_names(list(fields), "utf-8")
    assert len({v.lower() for v in first.values()}) == 4
    assert first["Name"] == "Name" and first["NAME"] == "NAME_1"


def test_cjk_clash_suffix_stays_within_bytes():
    fields = ["部件所在道路名称", "部件所在道路编码"]
    names = shapefile_names(fields, "gbk")
    assert names == {"部件所在道路名称": "部件所在道", "部件所在道路编码": "部件所在_1"}
    assert all(len(v.encode("gbk")) <= 10 for v in names.values())


def test_known_layers_and_fallbacks_are_consistent():
    assert ORDER.index("component") < ORDER.index("gridkit_run")
    assert all(len(k) == 1 for k in map(chr, GBK_FALLBACK))
    for replacement in GBK_FALLBACK.values():
        replacement.encode("gbk")
