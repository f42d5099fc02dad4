"""Incremental hand-off: fingerprints recorded per export, --since RUN sends new, changed and
retired features, and the intervals remember every earlier export."""

from __future__ import annotations

import hashlib

import pandas as pd
import pyogrio
import pytest
import shapely
from test_export_support import district, edit_layer, source_rows

from gridkit.errors import GridkitError
from gridkit.export import ExportOptions, export, list_runs


def full(source, dest, **options):
    return export(source, ExportOptions("gpkg", dest, **options))


def since(source, dest, run, fmt="gpkg", **options):
    return export(source, ExportOptions(fmt, dest, since=str(run), **options))


def by_change(path, layer):
    rows, shapes, _ = source_rows(path, layer)
    out = {}
    for row, shape in zip(rows, shapes, strict=True):
        out.setdefault(row["CHANGE"], []).append((row, shape))
    return out


def changes(source):
    """What a week of work does to the district: returns the keys touched."""
    changed_grid = []

    def grids(frame, shapes):
        # The first grid of the normal band becomes dense (which one it is depends on the cut).
        bgid = frame.loc[frame["DENSITY"] != "dense", "BGID"].sort_values().iloc[0]
        frame.loc[frame["BGID"] == bgid, "DENSITY"] = "dense"
        changed_grid.append(bgid)
        return frame, shapes

    def components(frame, shapes):
        codes = list(frame["OBJCODE"])
        gone = codes[10:12]
        renamed, moved = codes[20], codes[21]
        frame.loc[frame["OBJCODE"] == renamed, "NOTE"] = "已更换为球墨铸铁井盖"
        position = codes.index(moved)
        shapes[position] = shapely.Point(shapes[position].x + 0.5, shapes[position].y)
        frame["SRCROW"] = frame["SRCROW"] + 1000  # re-imported from a re-sorted file
        keep = ~frame["OBJCODE"].isin(gone)
        shapes = [s for s, k in zip(shapes, keep, strict=True) if k]
        frame = frame[keep].reset_index(drop=True)
        new = frame.iloc[[0]].copy()
        new["OBJCODE"] = "3101160101999999"
        new["OBJNAME"] = "上水井盖"
        frame = pd.concat([frame, new], ignore_index=True)
        return frame, [*shapes, shapely.Point(624500.25, 3398500.75)]

    def events(frame, shapes):
        frame = frame.iloc[1:].reset_index(drop=True)
        return frame, shapes[1:]

    before = {layer: source_rows(source, layer) for layer in ("component", "event")}
    edit_layer(source, "unit_grid", grids)
    edit_layer(source, "component", components)
    edit_layer(source, "event", events)
    codes = [r["OBJCODE"] for r in before["component"][0]]
    return {"gone": codes[10:12], "gone_shapes": list(before["component"][1][10:12]),
            "renamed": codes[20], "moved": codes[21],
            "event_gone": before["event"][0][0]["EVTID"], "grid": changed_grid[0]}


def test_since_sends_new_changed_and_retired(tmp_path):
    source = district(tmp_path)
    first = full(source, tmp_path / "all.gpkg")
    assert first["run"] == 3  # after the pipeline's partition and group rows
    touched = changes(source)
    report = since(source, tmp_path / "delta.gpkg", first["run"])
    layers = report["layers"]
    assert report["since"]["run"] == 3 and report["run"] == 4
    assert set(layers) == {"community", "unit_grid", "responsibility_grid", "component",
                           "event"}
    assert layers["community"] == {"features": 0, "files": ["delta.gpkg"], "new": 0,
                                   "changed": 0, "retired": 0}
    assert (layers["unit_grid"]["new"], layers["unit_grid"]["changed"],
            layers["unit_grid"]["retired"]) == (0, 1, 0)
    assert (layers["component"]["new"], layers["component"]["changed"],
            layers["component"]["retired"]) == (1, 2, 2)
    assert (layers["event"]["new"], layers["event"]["changed"],
            layers["event"]["retired"]) == (0, 0, 1)

    grid = by_change(tmp_path / "delta.gpkg", "unit_grid")
    assert [r["BGID"] for r, _ in grid["changed"]] == [touched["grid"]]
    assert grid["changed"][0][0]["DENSITY"] == "dense"

    comp = by_change(tmp_path / "delta.gpkg", "component")
    assert [r["OBJCODE"] for r, _ in comp["new"]] == ["3101160101999999"]
    assert {r["OBJCODE"] for r, _ in comp["changed"]} == {touched["renamed"], touched["moved"]}
    renamed = next(r for r, _ in comp["changed"] if r["OBJCODE"] == touched["renamed"])
    assert renamed["NOTE"] == "已更换为球墨铸铁井盖" and renamed["MAJOR"].startswith("0")
    retired = sorted(comp["retired"], key=lambda item: item[0]["OBJCODE"])
    assert [r["OBJCODE"] for r, _ in retired] == sorted(touched["gone"])
    assert all(r["OBJNAME"] is None and r["BGID"] is None for r, _ in retired)
    for (_, shape), old in zip(retired, sorted(zip(touched["gone"], touched["gone_shapes"],
                                                         strict=True)),
                               strict=True):
        assert shape.equals_exact(old[1], 0)  # the geometry it last had

    # Nothing changed since the delta: an empty hand-over; the full export still differs.
    assert since(source, tmp_path / "none.gpkg", "last")["counts"] == dict.fromkeys(layers, 0)
    again = since(source, tmp_path / "again.gpkg", 3, record=False)
    assert again["layers"]["component"]["changed"] == 2


def test_intervals_remember_each_export(tmp_path):
    source = district(tmp_path)
    first = full(source, tmp_path / "a.gpkg", layers=["unit_grid"])["run"]

    def set_density(value):
        def edit(frame, shapes):
            frame.loc[frame["BGID"] == "310116001001001", "DENSITY"] = value
            return frame, shapes
        return edit

    original = source_rows(source, "unit_grid")[0][0]["DENSITY"]
    other = "dense" if original != "dense" else "sparse"
    edit_layer(source, "unit_grid", set_density(other))
    second = since(source, tmp_path / "b.gpkg", first, layers=["unit_grid"])["run"]
    edit_layer(source, "unit_grid", set_density(original))
    # Back to what the first export handed over: nothing to send against it, one change
    # against the second.
    assert since(source, tmp_path / "c.gpkg", first, layers=["unit_grid"],
                 record=False)["counts"] == {"unit_grid": 0}
    assert since(source, tmp_path / "d.gpkg", second, layers=["unit_grid"],
                 record=False)["layers"]["unit_grid"]["changed"] == 1
    # A layer the baseline did not hand over comes in full, as new.
    component = since(source, tmp_path / "e.gpkg", first, layers=["component"], record=False)
    assert component["layers"]["component"]["new"] == 240
    assert component["warnings"] == [f"component: export run {first} did not hand this "
                                     "layer over; every feature is sent as new"]


def test_runs_listing_time_and_errors(tmp_path):
    source = district(tmp_path)
    assert list_runs(source)["runs"] == []
    with pytest.raises(GridkitError, match="no recorded export yet; make a full export"):
        since(source, tmp_path / "x.gpkg", "last")
    report = export(source, ExportOptions("shp", tmp_path / "shp", encoding="utf-8"))
    runs = list_runs(source)["runs"]
    assert [r["run"] for r in runs] == [report["run"]]
    assert runs[0]["format"] == "shp" and runs[0]["layers"]["component"]["features"] == 240
    run_rows = pyogrio.read_dataframe(source, layer="gridkit_run")
    assert list(run_rows["COMMAND"])[-1] == "export" and len(run_rows) == report["run"]
    by_time = since(source, tmp_path / "t.gpkg", runs[0]["time"][:16], record=False)
    assert by_time["since"]["run"] == report["run"]
    with pytest.raises(GridkitError, match=r"`since='99'`: .* has no export run 99; recorded "
                                           r"exports: 3 \(see gridkit export .* --list-runs\)"):
        since(source, tmp_path / "x.gpkg", 99)
    with pytest.raises(GridkitError, match="`since='1999-01-01'`: no export"):
        since(source, tmp_path / "x.gpkg", "1999-01-01")
    with pytest.raises(GridkitError, match="qa_issue has no feature key"):
        since(source, tmp_path / "x.gpkg", "last", layers=["qa_issue"])


def test_no_record_leaves_the_source_alone_and_delta_goes_to_any_format(tmp_path):
    source = district(tmp_path)
    full(source, tmp_path / "a.gpkg", layers=["event"])
    changes(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    report = since(source, tmp_path / "delta-shp", "last", fmt="shp", layers=["event"],
                   encoding="utf-8", record=False)
    assert report["run"] is None
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest
    back = pyogrio.read_dataframe(tmp_path / "delta-shp" / "event.shp")
    assert list(back["CHANGE"]) == ["retired"] and back.geometry.notna().all()
    csv = since(source, tmp_path / "delta-csv", "last", fmt="csv", layers=["event"],
                record=False)
    assert csv["counts"] == {"event": 1}
    # An empty delta has the columns and file names of a full export.
    full(source, tmp_path / "b.gpkg", layers=["unit_grid", "component"])
    empty = since(source, tmp_path / "empty-csv", "last", fmt="csv", record=False,
                  layers=["unit_grid"])
    header = (tmp_path / "empty-csv" / "unit_grid.csv").read_text("utf-8-sig").split(",")
    assert empty["counts"] == {"unit_grid": 0} and '"WKT"' in header
    shp = since(source, tmp_path / "empty-shp", "last", fmt="shp", record=False,
                layers=["component"])
    assert shp["layers"]["component"]["files"] == ["component_point.shp"]
