"""`gridkit report` without a browser: the command, its figures, the packed map data (decoded
here as the page's script decodes it), escaping, languages, errors and safe writes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import SAMPLES
from test_report_support import COMPONENTS, EVENTS, EVIL, full_gpkg, minimal_gpkg, report
from test_report_support import sample_gpkg as sample

from gridkit.errors import GridkitError
from gridkit.io import write_geopackage
from gridkit.report import build_report, mapdata
from gridkit.report.encode import SHAPE_STEP, Blob, encode_column, encode_points, simplify
from gridkit.report.figures import interval_columns

KINDS = {"u1": "<u1", "u2": "<u2", "u4": "<u4", "i4": "<i4", "f4": "<f4", "f8": "<f8"}


def decode(html: str) -> tuple[dict, dict]:
    """The map's document and typed arrays, unpacked the way map.js unpacks them: the opening
    stream's document, each later layer's detail merged into its spec."""
    header = json.loads(re.search(r'id="gk-header">(.*?)</script>', html).group(1))
    # The streams come in pieces (gk-data-0, gk-data-1, …) numbered through the page.
    pieces = re.findall(r'id="gk-data-(\d+)">(.*?)</script>', html, re.S)
    assert [int(k) for k, _ in pieces] == list(range(header["pieces"]))
    arrays, documents = {}, {}
    for stream in header["streams"]:
        first, count = stream["pieces"]
        raw = gzip.decompress(base64.b64decode("".join(
            piece for _, piece in pieces[first:first + count])))
        arrays |= {name: np.frombuffer(raw, dtype=KINDS[kind], count=count, offset=offset)
                   for name, (kind, offset, count) in stream["arrays"].items()}
        start, length = stream["json"]
        documents[stream["name"]] = json.loads(raw[start:start + length].decode("utf-8"))
    doc = documents.pop("map")
    for layer in doc["layers"]:
        if "stream" in layer:
            layer.update(documents.pop(layer["stream"])["layer"])
    assert not documents
    return doc, arrays


def column_values(spec: dict, arrays: dict) -> list:
    if spec["enc"] == "plain":
        return spec["values"]
    if spec["enc"] == "num":
        return arrays[spec["arr"]].tolist()
    if spec["enc"] == "dict":
        return [spec["values"][i] for i in arrays[spec["arr"]]]
    heads, tails = arrays[spec["arr"]], arrays[spec["tail"]]
    return [None if h >= len(spec["values"]) else spec["values"][h] + f"{t:0{spec['width']}d}"
            for h, t in zip(heads, tails, strict=True)]


def shape_rings(geom: dict, arrays: dict, origin, step: float) -> list[list[np.ndarray]]:
    """Per feature, its rings in map metres (delta-decoded, origin added back)."""
    features, rings = arrays[geom["features"]], arrays[geom["rings"]]
    xy = arrays[geom["xy"]].reshape(-1, 2).astype(np.int64)
    out = []
    for f in range(geom["n"]):
        parts = []
        for r in range(features[f], features[f + 1]):
            ring = np.cumsum(xy[rings[r]:rings[r + 1]], axis=0) * step + np.asarray(origin)
            parts.append(ring)
        out.append(parts)
    return out


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    gpkg = full_gpkg(folder)
    before = hashlib.sha256(gpkg.read_bytes()).hexdigest()
    html = folder / "report.html"
    done = report(gpkg, "-o", html, "--json")
    assert done.returncode == 0, done.stderr
    return {"gpkg": gpkg, "html": html, "json": json.loads(done.stdout), "before": before,
            "text": html.read_text(encoding="utf-8")}


def test_command_writes_one_page_and_reports_its_figures(full):
    figures = full["json"]
    assert figures["output"] == str(full["html"])
    assert figures["bytes"] == full["html"].stat().st_size
    assert figures["counts"]["unit_grid"] == 1491
    assert figures["counts"]["responsibility_grid"] == 71
    assert figures["components"]["count"] == COMPONENTS
    assert sum(figures["components"]["by_major"].values()) == COMPONENTS
    assert figures["events"]["count"] == EVENTS
    assert figures["unit_grids"]["in_band"] == 1.0
    # 70 of 71: the town's landscape belt (a key area, open land along the river, so larger
    # unit grids) holds 9 dense unit grids, one short of the dense band 10-16; group reports
    # it as a band violation.
    assert figures["responsibility_grids"]["in_band"] == pytest.approx(70 / 71)
    assert figures["spotcheck"]["verdict"] == "pass"
    assert figures["qa"]["warning"] > 0
    # Read-only on its input.
    assert hashlib.sha256(full["gpkg"].read_bytes()).hexdigest() == full["before"]


def test_page_is_self_contained(full):
    text = full["text"]
    # Nothing that could load: no URLs to fetch, no external scripts, styles, fonts, tiles.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "@import" not in text and "@font-face" not in text
    # The only url() are the charts' references to their own clip paths in the page.
    assert re.findall(r"url\((.)", text) == ["#"] * text.count("url(")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    for anchor in ("overview", "map", "unit-areas", "responsibility", "component", "event",
                   "qa", "spotcheck", "runs"):
        assert f'<section id="{anchor}">' in text
    assert text.count("<svg") >= 8


def test_user_text_is_escaped_everywhere(full):
    text = full["text"]
    # Only the page's own script elements: the header, the map data (one piece per stream at
    # this size: the opening layers, unit grids, buildings, events, components), a script
    # handing each piece on, the map library with its glue; the names arrive as text, escaped
    # by Jinja2 in the page and by matplotlib in the charts.
    header = json.loads(re.search(r'id="gk-header">(.*?)</script>', text).group(1))
    assert header["pieces"] == len(header["streams"]) == 5
    assert text.count("<script") == 2 + 2 * 5
    assert "<img" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "&#39;q&#39;" in text
    svgs = re.findall(r"<svg.*?</svg>", text, re.S)
    assert any("&lt;script&gt;alert(" in chart for chart in svgs)
    assert not any("<script" in chart or "<img" in chart for chart in svgs)
    # The header JSON cannot close its element either.
    header = re.search(r'id="gk-header">(.*?)</script>', text).group(1)
    assert "<" not in header and ">" not in header


def test_map_data_decodes_to_the_layers(full):
    doc, arrays = decode(full["text"])
    ids = [layer["id"] for layer in doc["layers"]]
    # Bottom to top: the partition's inputs as context, then the grids, then what is on them.
    assert ids == ["context_water", "context_building", "context_road", "responsibility_grid",
                   "unit_grid", "community", "spotcheck_result", "qa_issue", "event",
                   "component"]
    layer = {spec["id"]: spec for spec in doc["layers"]}
    grids = pyogrio.read_dataframe(full["gpkg"], layer="unit_grid")
    unit = layer["unit_grid"]
    columns = {c["name"]: c for c in unit["columns"]}
    assert column_values(columns["BGID"], arrays) == grids["BGID"].tolist()
    assert column_values(columns["RGID"], arrays) == grids["RGID"].tolist()
    counts = column_values(columns["COMPONENTS"], arrays)
    assert sum(counts) == COMPONENTS
    # Shapes come back within the 0.5 m simplification plus the 0.1 m quantisation.
    rings = shape_rings(unit["geom"], arrays, doc["origin"], doc["step"])
    simplified = simplify(grids.geometry.to_numpy(), coverage=True)
    for k in (0, 700, len(grids) - 1):
        ring = shapely.LinearRing(rings[k][0])
        assert shapely.hausdorff_distance(ring, simplified[k].exterior) <= SHAPE_STEP
        assert shapely.hausdorff_distance(ring, grids.geometry.iloc[k].exterior) <= 0.5 + 0.1
    # Community names survive byte for byte (they are shown with textContent).
    community = {c["name"]: c for c in layer["community"]["columns"]}
    assert EVIL in column_values(community["NAME"], arrays)
    # Hole rings (kind 3) follow their polygon's exterior (kind 1).
    kinds = arrays[layer["context_water"]["geom"]["kinds"]]
    assert set(kinds.tolist()) <= {0, 1, 3} and 1 in kinds


def test_map_opens_on_the_grids_with_points_off_and_errors_in_the_error_colour(full):
    doc, _ = decode(full["text"])
    visible = {spec["id"]: spec["visible"] for spec in doc["layers"]}
    assert visible["unit_grid"] and visible["responsibility_grid"] and visible["community"]
    assert not visible["component"] and not visible["event"]
    qa = next(spec for spec in doc["layers"] if spec["id"] == "qa_issue")
    assert qa["strokeBy"] == {"by": "SEVERITY", "colours": {"error": "#d62728",
                                                            "warning": "#f0a202"}}
    assert qa["fill"]["colours"]["error"] == "#d62728"


def test_context_layers_come_from_the_partition(full):
    """partition stores the roads, water and buildings it cut along; the map draws them."""
    layers = dict(pyogrio.list_layers(full["gpkg"]))
    roads = pyogrio.read_dataframe(SAMPLES / "roads.gpkg")
    assert layers["context_road"] == "LineString"
    context = pyogrio.read_dataframe(full["gpkg"], layer="context_road")
    assert len(context) == len(roads) and context["NAME"].tolist() == roads["NAME"].tolist()
    assert pyogrio.read_info(full["gpkg"], layer="context_road")["crs"] == "EPSG:4549"
    buildings = pyogrio.read_info(SAMPLES / "buildings.gpkg")["features"]
    assert pyogrio.read_info(full["gpkg"], layer="context_building")["features"] == buildings
    doc, _ = decode(full["text"])
    spec = next(s for s in doc["layers"] if s["id"] == "context_building")
    assert spec["n"] == buildings and spec["title"] == "建筑（底图）"


def test_names_beside_codes_and_the_district_in_the_title(full):
    text = full["text"]
    community = pyogrio.read_dataframe(full["gpkg"], layer="community", read_geometry=False)
    # The partition keeps the input's STREET_NAME; the page shows it beside the street code.
    assert community["STREET_NAME"].tolist()[:2] == ["东林街道", "东林街道"]
    assert "310116001 东林街道" in text and "310116101 朱泾镇" in text
    doc, _ = decode(text)
    assert doc["streets"]["310116002"] == "罗星街道"
    assert doc["communities"]["310116001002"] == "万浦居委会"
    # The title names the district (province + county), not the file.
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    assert title.startswith("上海市 310116") and "full" not in title


def test_chinese_labels_for_rules_and_spot_check_fields(full):
    text = full["text"]
    qa = text[text.index('<section id="qa">'):text.index('<section id="spotcheck">')]
    assert "标识码与部件类别不符" in qa and "社区之间有缝隙" in qa  # objcode-class, admin_gap
    spot = text[text.index('<section id="spotcheck">'):text.index('<section id="runs">')]
    for header in ("准确率", "准确率下限", "准确率上限", "结论", "核查数", "层级"):
        assert f">{header}</th>" in spot, header
    assert ">通过<" in spot and ">未通过<" in spot
    # The map's click panel names rules the same way (the registry's label, its id beside it).
    doc, _ = decode(text)
    assert doc["ruleLabels"]["objcode-class"] == "标识码与部件类别不符"
    assert "社区之间有缝隙" in doc["ruleLabels"].values()


def test_a_repeated_qa_issue_is_counted_once(full, tmp_path):
    gpkg = tmp_path / "repeated.gpkg"
    shutil.copyfile(full["gpkg"], gpkg)
    qa = pyogrio.read_dataframe(gpkg, layer="qa_issue")
    again = qa[qa["RULE"] == "objcode-class"].assign(COMMAND="census import")
    assert len(again) == 1
    write_geopackage(gpkg, {"qa_issue": pd.concat([qa, again], ignore_index=True)})
    result = build_report(gpkg, tmp_path / "r.html")
    before = full["json"]["qa"]
    assert result["figures"]["qa"]["error"] == before["error"]
    assert result["figures"]["qa"]["count"] == len(qa) and result["figures"]["qa"]["repeats"] == 1


def test_the_map_is_drawn_before_the_data_it_does_not_show_at_the_opening(full):
    """The opening layers' stream comes before the map script; unit grids and buildings (near
    zooms) and the points (off at the opening, inflated only when turned on) after it."""
    text = full["text"]
    header = json.loads(re.search(r'id="gk-header">(.*?)</script>', text).group(1))
    streams = {s["name"]: s for s in header["streams"]}
    assert list(streams) == ["map", "unit_grid", "context_building", "event", "component"]
    assert [s["eager"] for s in streams.values()] == [True, True, True, False, False]
    glue = text.index("gridkitReport")
    assert text.index('id="gk-data-0"') < glue < text.index(
        f'id="gk-data-{streams["unit_grid"]["pieces"][0]}"')
    # The opening document names each later layer (title, style, fields) without its data.
    raw = gzip.decompress(base64.b64decode(re.search(r'id="gk-data-0">(.*?)</script>',
                                                     text).group(1)))
    start, length = streams["map"]["json"]
    opening = {spec["id"]: spec for spec in json.loads(raw[start:start + length])["layers"]}
    assert "geom" not in opening["component"] and "columns" not in opening["component"]
    assert opening["component"]["stream"] == "component" and opening["component"]["classes"]
    assert "COMPONENTS" in opening["unit_grid"]["fields"]
    assert "geom" in opening["responsibility_grid"]
    assert not any(name.startswith("component.") for name in streams["map"]["arrays"])


def test_points_decode_with_their_codes(full):
    doc, arrays = decode(full["text"])
    layer = doc["layers"][-1]
    geom = layer["geom"]
    assert geom["n"] == COMPONENTS and layer["n"] == COMPONENTS
    components = pyogrio.read_dataframe(full["gpkg"], layer="component")
    columns = {c["name"]: c for c in layer["columns"]}
    codes = column_values(columns["OBJCODE"], arrays)
    assert columns["OBJCODE"]["enc"] == "split" and sorted(codes) == \
        sorted(components["OBJCODE"])
    # Positions within half a quantisation step, in tile order with tile offsets.
    order = {code: k for k, code in enumerate(components["OBJCODE"])}
    rows = np.array([order[c] for c in codes])
    x = geom["origin"][0] + arrays[geom["x"]] * geom["step"]
    y = geom["origin"][1] + arrays[geom["y"]] * geom["step"]
    assert np.abs(x - components.geometry.x.to_numpy()[rows]).max() <= geom["step"] / 2 + 1e-6
    assert np.abs(y - components.geometry.y.to_numpy()[rows]).max() <= geom["step"] / 2 + 1e-6
    starts = arrays[geom["starts"]]
    assert starts[0] == 0 and starts[-1] == COMPONENTS and np.all(np.diff(starts) >= 0)
    classes = [c["code"] for c in layer["classes"]]
    majors = [classes[k] for k in arrays[layer["cls"]]]
    assert majors == [c[6:8] for c in codes]


def test_minimal_geopackage_gives_a_report(tmp_path):
    gpkg = minimal_gpkg(tmp_path)
    result = build_report(gpkg, tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="responsibility">' not in text
    assert '<section id="component">' not in text
    assert result["figures"]["points"] == {}
    doc, _ = decode(text)
    assert [layer["id"] for layer in doc["layers"]] == ["unit_grid", "community"]


def test_english_labels(tmp_path):
    gpkg = sample(tmp_path)
    done = report(gpkg, "-o", tmp_path / "en.html", "--lang", "en")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "en.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Unit grid areas" in text
    assert "单元网格面积" not in text
    doc, _ = decode(text)
    assert doc["strings"]["fit"] == "Whole district"
    assert "gap between communities" in doc["ruleLabels"].values()


def one_line(done, *fragments: str) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridkit: error:"), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_bad_input_is_one_line_naming_the_file_and_the_fix(tmp_path):
    one_line(report(tmp_path / "none.gpkg"), "none.gpkg", "no such file")
    text = tmp_path / "notes.gpkg"
    text.write_text("not a geopackage")
    one_line(report(text), "notes.gpkg", "not a GeoPackage")
    partial = tmp_path / "partial.gpkg"
    community = pyogrio.read_dataframe(sample(tmp_path), layer="community")
    pyogrio.write_dataframe(community, partial, layer="community")
    one_line(report(partial), "partial.gpkg", "no unit_grid layer", "gridkit partition")
    gpkg = sample(tmp_path)
    one_line(report(gpkg, "-o", gpkg), "input GeoPackage")
    one_line(report(gpkg, "--lang", "fr"), "--lang")


def test_help_has_an_example():
    done = report("--help")
    assert done.returncode == 0
    assert "Example:" in done.stdout and "gridkit report out/sample.gpkg" in done.stdout


def test_a_failed_write_keeps_the_previous_report(tmp_path, monkeypatch):
    gpkg = sample(tmp_path)
    target = tmp_path / "report.html"
    target.write_text("previous report")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gridkit.report.build.os.replace", broken)
    with pytest.raises(GridkitError, match="previous file, if any, is unchanged"):
        build_report(gpkg, target)
    assert target.read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "sample.gpkg"]


def test_default_output_is_beside_the_geopackage(tmp_path):
    gpkg = sample(tmp_path)
    done = report(gpkg)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sample.html").exists()
    assert "sample.html" in done.stdout


def test_png_maps(full, tmp_path):
    done = report(full["gpkg"], "-o", tmp_path / "r.html", "--png", tmp_path / "maps",
                  "--json")
    assert done.returncode == 0, done.stderr
    names = sorted(Path(p).name for p in json.loads(done.stdout)["png"])
    charts = [n for n in names if n.startswith("chart_")]
    assert [n for n in names if n not in charts] == [
        "components.png", "events.png", "overview.png", "qa.png", "spotcheck.png",
        "unit_area.png"]
    # The page's charts, the same drawings as its inline SVGs.
    assert len(charts) == full["text"].count('<svg class="chart"') and len(charts) >= 8
    for name in names:
        data = (tmp_path / "maps" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > (5_000 if name in charts else 20_000)


def test_large_point_layers_keep_core_fields_only(full, tmp_path, monkeypatch):
    monkeypatch.setattr(mapdata, "FULL_DETAIL", 1000)
    result = build_report(full["gpkg"], tmp_path / "r.html")
    assert "SRCROW" in result["map_omitted_fields"]["component"]
    doc, _ = decode((tmp_path / "r.html").read_text(encoding="utf-8"))
    names = {c["name"] for c in doc["layers"][-1]["columns"]}
    assert {"OBJCODE", "BGID", "OBJSTATE", "OBJNAME"} <= names and "SRCROW" not in names


def test_column_encodings_round_trip():
    blob = Blob()
    cases = {
        "few": ["完好", "破损", None] * 100,
        "codes": [f"310116001001{k:03d}" for k in range(300)],
        "free": [f"note {k} <&>" for k in range(300)],
        "ints": list(range(300)),
        "floats": [k / 7 for k in range(299)] + [float("nan")],
    }
    specs = {name: encode_column(name, values, blob, "t") for name, values in cases.items()}
    assert {name: spec["enc"] for name, spec in specs.items()} == {
        "few": "dict", "codes": "split", "free": "plain", "ints": "num", "floats": "num"}
    header, payload = blob.pack({})
    raw = gzip.decompress(base64.b64decode(payload))
    arrays = {name: np.frombuffer(raw, dtype=KINDS[kind], count=count, offset=offset)
              for name, (kind, offset, count) in header["arrays"].items()}
    for name, values in cases.items():
        decoded = column_values(specs[name], arrays)
        if name == "floats":
            assert np.allclose(decoded[:-1], values[:-1]) and np.isnan(decoded[-1])
        else:
            assert decoded == values


def test_points_without_position_stay_off_the_map():
    blob = Blob()
    x = np.array([1.0, np.nan, 5000.0, 7.0])
    y = np.array([2.0, 3.0, np.nan, 9.0])
    encoded = encode_points(x + 600_000, y + 3_400_000, blob, "p")
    assert encoded.valid == 2 and sorted(encoded.order.tolist()) == [0, 3]


def test_interval_fields_are_found_by_name():
    columns = ["BGID", "ACCURACY", "ACC_LOW", "ACC_HIGH", "COMPLETENESS", "COMP_LOW",
               "COMP_HIGH", "RATE", "RATE_LO", "RATE_HI"]
    assert interval_columns(columns) == [("ACCURACY", "ACC_LOW", "ACC_HIGH"),
                                         ("COMPLETENESS", "COMP_LOW", "COMP_HIGH"),
                                         ("RATE", "RATE_LO", "RATE_HI")]
