"""Every code kind: parse, build, explain, and what is wrong."""

from __future__ import annotations

import pytest

from gridkit.codes import (
    CodeError,
    component_code_problem,
    event_code_problem,
    explain_code,
    make_bgid,
    make_component_code,
    make_event_code,
    national_catalog,
    parse_bgid,
    parse_community_code,
    parse_component_code,
    parse_county_code,
    parse_event_code,
    parse_street_code,
)


def test_community_and_bgid():
    community = parse_community_code("320582110152")
    assert community.street_code == "320582110" and community.street_kind == "town"
    assert make_bgid("320582110152", 102) == "320582110152102"
    parsed, serial = parse_bgid("320582110152102")
    assert parsed.code == "320582110152" and serial == 102
    with pytest.raises(CodeError, match="15 digits"):
        parse_bgid("32058211015210")


def test_county_and_street():
    assert parse_county_code("310116") == "310116"
    assert parse_street_code("310116001") == ("310116", "001")
    with pytest.raises(CodeError, match="prefecture"):
        parse_county_code("320500")
    with pytest.raises(CodeError, match="province"):
        parse_county_code("990101")
    with pytest.raises(CodeError, match="street/town"):
        parse_street_code("310116900")


def test_component_code():
    catalog = national_catalog()
    code = parse_component_code("3205820102048188", catalog)
    assert (code.county, code.major, code.minor, code.serial) == ("320582", "01", "02", "048188")
    assert make_component_code("320582", "1", "2", 48188, catalog) == "3205820102048188"
    # Spreadsheets turn codes into floats.
    assert parse_component_code("3205820102048188.0").code == "3205820102048188"


@pytest.mark.parametrize(
    ("code", "fault"),
    [
        ("320582010204818", "15 digits"),
        ("32058201020481８", "other than digits"),
        ("3205820199048188", "minor class 99"),
        ("3205820902048188", "major class 09"),
        ("3205820102000000", "serial 000000"),
        ("3205000102048188", "prefecture"),
        ("", "empty"),
    ],
)
def test_component_code_faults(code, fault):
    assert fault in component_code_problem(code, national_catalog())


def test_make_component_code_refuses_bad_serial():
    with pytest.raises(CodeError):
        make_component_code("320582", "01", "02", 1_000_000)


def test_event_code():
    events = national_catalog("event")
    assert parse_event_code("0505", events).code == "0505"
    assert make_event_code(5, 5, events) == "0505"
    assert "not in" in event_code_problem("0798", events)
    assert "4 digits" not in (event_code_problem("0102", events) or "")
    assert "needs 4" in event_code_problem("102", events)


@pytest.mark.parametrize(
    ("code", "kind", "valid"),
    [
        ("3205820102048188", "component", True),
        ("320582110152102", "unit grid", True),
        ("320582110152", "community", True),
        ("320582110", "street", True),
        ("320582", "county", True),
        ("0102", "class", True),
        ("01", "major class", True),
        ("3205820199048188", "component", False),
        ("32058211015", "unknown", False),
        ("abc", "unknown", False),
    ],
)
def test_explain_detects_kind(code, kind, valid):
    ex = explain_code(code)
    assert ex.kind == kind
    assert ex.valid is valid
    assert bool(ex.problems) is not valid


def test_explain_names_parts():
    ex = explain_code("3205820102048188")
    meanings = {p["part"]: p["meaning"] for p in ex.parts}
    assert "江苏省" in meanings["county"]
    assert meanings["component minor"].startswith("污水井盖")
    both = {p["part"]: p["meaning"] for p in explain_code("0102").parts}
    assert both["event minor"].startswith("暴露垃圾")
    spaced = explain_code("320582 0102 048188")
    assert spaced.valid and spaced.notes


@pytest.mark.parametrize("county", ["441900", "442000", "460400"])
def test_cities_without_counties_stand_as_counties_at_every_level(county):
    # The national statistical division codes list their towns under the city code.
    assert parse_county_code(county) == county
    assert parse_street_code(f"{county}003") == (county, "003")
    community = parse_community_code(f"{county}003001")
    assert community.county == county and community.street_kind == "street"
    assert make_bgid(f"{county}003001", 1) == f"{county}003001001"
    assert parse_bgid(f"{county}003001001")[0].county == county
    code = make_component_code(county, "01", "02", 7, national_catalog())
    assert code == f"{county}0102000007" and parse_component_code(code).county == county
    explained = explain_code(f"{county}003001")
    assert explained.valid and "without counties" in explained.parts[0]["meaning"]


def test_other_prefectures_and_provinces_stay_refused():
    with pytest.raises(CodeError, match="441800 is a prefecture, not a county"):
        parse_community_code("441800003001")  # 清远 has districts and counties
    with pytest.raises(CodeError, match="440000 is a province"):
        parse_county_code("440000")
    assert component_code_problem("4418000102000007") is not None
