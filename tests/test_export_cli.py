"""The command line: one JSON object with --json, one-line errors with exit 2 and a fix,
never a traceback, and a failed export never in place of a good one."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from test_export_support import district, edit_layer

from gridkit.console import GridkitGroup
from gridkit.export import ExportOptions
from gridkit.export import export as export_layers
from gridkit.export.cli import export


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return district(tmp_path_factory.mktemp("cli"))


def gridkit(*args):
    """Run ``gridkit export ...`` as the main group will (the lead registers it there)."""
    group = GridkitGroup()
    group.add_command(export)
    return CliRunner().invoke(group, ["export", *map(str, args)])


def one_line_error(result, *parts):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridkit: error: "), result.output
    for part in parts:
        assert part in lines[0], lines[0]


def test_help_has_examples():
    result = CliRunner().invoke(export, ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--to gpkg handoff/district.gpkg" in result.output
    assert "--since last" in result.output


def test_json_is_one_object(source, tmp_path):
    result = gridkit(source, "--to", "geojson", tmp_path / "web", "--layers",
                     "unit_grid,component", "--layers", "event", "--json", "--no-record")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["format"] == "geojson"
    assert report["counts"] == {"unit_grid": 1416, "component": 240, "event": 120}
    assert str(tmp_path / "web" / "component.geojson") in report["outputs"]
    assert all((tmp_path / "web" / name).name in {p.split("/")[-1] for p in report["outputs"]}
               for name in ("gridkit_export.json",))
    manifest = json.loads((tmp_path / "web" / "gridkit_export.json").read_text("utf-8"))
    assert manifest["layers"]["event"]["files"] == ["event.geojson"]


def test_text_summary_and_list_runs(tmp_path):
    source = district(tmp_path)
    result = gridkit(source, "--to", "csv", tmp_path / "csv", "--layers", "community")
    assert result.exit_code == 0, result.output
    assert "community" in result.output and "--since 3" in result.output
    listed = gridkit(source, "--list-runs")
    assert listed.exit_code == 0 and "csv" in listed.output and "community 34" in listed.output
    runs = json.loads(gridkit(source, "--list-runs", "--json").output)["runs"]
    assert runs[0]["run"] == 3 and runs[0]["layers"]["community"]["key"] == "CODE"


@pytest.mark.parametrize("args, parts", [
    (["--to", "kml", "{tmp}/k"], ["--to kml: unknown format", "gpkg, shp, geojson, csv"]),
    (["--to", "shp", "{tmp}/s", "--layers", "roads"], ["no layer 'roads'", "unit_grid"]),
    (["--to", "shp", "{tmp}/s", "--encoding", "big5"], ["--encoding big5", "gbk or utf-8"]),
    (["--to", "geojson", "{tmp}/g", "--encoding", "gbk"], ["always UTF-8"]),
    (["--to", "gpkg", "{tmp}/g.gpkg", "--since", "12"], ["--since 12", "no recorded export"]),
    (["--to", "shp", "{tmp}/x.shp"], ["writes a folder", "give a folder path"]),
    (["{tmp}"], ["give --to FORMAT and DEST"]),
])
def test_bad_usage_is_one_line(source, tmp_path, args, parts):
    one_line_error(gridkit(source, *[a.format(tmp=tmp_path) for a in args]), *parts)


def test_dest_that_is_not_what_the_format_needs(source, tmp_path):
    (tmp_path / "folder").mkdir()
    one_line_error(gridkit(source, "--to", "gpkg", tmp_path / "folder"), "is a folder")
    (tmp_path / "notes.txt").write_text("x")
    one_line_error(gridkit(source, "--to", "csv", tmp_path / "notes.txt"), "is a file")
    (tmp_path / "other.gpkg").write_bytes(source.read_bytes())
    one_line_error(gridkit(source, "--to", "gpkg", tmp_path / "other.gpkg"),
                   "is not an earlier gridkit export")
    one_line_error(gridkit(source, "--to", "gpkg", source), "is (or holds) the source")
    one_line_error(gridkit(source, "--to", "csv", tmp_path), "holds other files")
    one_line_error(gridkit(tmp_path / "missing.gpkg", "--to", "csv", tmp_path / "c"),
                   "missing.gpkg: no such file")


def test_failed_export_leaves_the_previous_one(tmp_path, monkeypatch):
    source = district(tmp_path)
    dest = tmp_path / "handoff"
    assert gridkit(source, "--to", "shp", dest, "--layers", "component").exit_code == 0
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in dest.iterdir()}

    def rare(frame, shapes):
        frame.loc[frame.index[5], "OBJNAME"] = "䶮"
        return frame, shapes

    edit_layer(source, "component", rare)
    one_line_error(gridkit(source, "--to", "shp", dest, "--layers", "component"),
                   "component feature 6 field OBJNAME", "--encoding utf-8")
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in dest.iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    # A GeoPackage export that breaks half-way (here: while adding styles) leaves the last
    # good file and no temporary one.
    good = tmp_path / "handoff.gpkg"
    export_layers(source, ExportOptions("gpkg", good, layers=["unit_grid"], record=False))
    digest = hashlib.sha256(good.read_bytes()).hexdigest()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("gridkit.export.writers.gpkg.add_styles", broken)
    result = gridkit(source, "--to", "gpkg", good, "--no-record")
    assert result.exit_code == 2 and "disk full" in result.output
    assert hashlib.sha256(good.read_bytes()).hexdigest() == digest
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
