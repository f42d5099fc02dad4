"""Errors as a library user meets them (ValueError/OSError naming the parameter as passed in
Python) and as the ``gridkit`` command shows them (the flag, one line, exit 2)."""

from __future__ import annotations

import pickle
import warnings

import click
import pytest
from click.testing import CliRunner
from conftest import invoke
from test_census_support import HEADER, district, good_rows

from gridkit.components.gpkg import load_grids
from gridkit.components.importer import ImportOptions, import_census
from gridkit.console import GridkitGroup, cli_message, error_line
from gridkit.crs import parse_crs
from gridkit.errors import (
    CheckFailed,
    FileError,
    GridkitError,
    GridkitWarning,
    InputError,
    mention,
)
from gridkit.io import read_vector, write_geopackage
from gridkit.records.coords import parse_source_crs
from gridkit.sources import read_source


def write_csv(path, header, rows):
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_classes_are_value_and_os_errors_with_their_exit_codes():
    bad = InputError("`crs='x'` is not a CRS", parameter="crs")
    gone = FileError("a.csv: no such file", file="a.csv")
    assert isinstance(bad, ValueError) and isinstance(bad, GridkitError)
    assert isinstance(gone, OSError) and isinstance(gone, GridkitError)
    assert not isinstance(gone, ValueError) and not isinstance(bad, OSError)
    assert (bad.exit_code, gone.exit_code, CheckFailed("x").exit_code) == (2, 2, 1)
    # OSError's own str would be "[Errno None] None: 'a.csv'" once filename is set
    assert str(gone) == "a.csv: no such file" and gone.filename == "a.csv"
    assert (bad.parameter, bad.file, bad.row, bad.field) == ("crs", None, None, None)


def test_errors_keep_what_they_name_across_processes():
    error = InputError("t.csv: bad", parameter="header_row", file="t.csv", row=3, field="X")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InputError and str(back) == "t.csv: bad"
    assert (back.parameter, back.file, back.row, back.field) == ("header_row", "t.csv", 3, "X")
    gone = pickle.loads(pickle.dumps(FileError("a.gpkg: cannot write", file="a.gpkg")))
    assert str(gone) == "a.gpkg: cannot write" and gone.filename == "a.gpkg"


@pytest.mark.parametrize("message, command, shown", [
    ("`header_row=3` is past the end", "", "--header-row 3 is past the end"),
    ("`crs='EPSG:4549'`", "", "--crs EPSG:4549"),
    ("name it with `crs`", "", "name it with --crs"),
    ("give `maps={'X': 'COLUMN', 'Y': 'COLUMN'}`", "", "give --map X=COLUMN --map Y=COLUMN"),
    ("`maps=['OBJNAME=设施类型']`", "", "--map OBJNAME=设施类型"),
    ("add `recode=True`", "", "add --recode"),
    ("add `record=False`", "", "add --no-record"),
    ("give `header_row=N`", "", "give --header-row N"),
    ("`scheduler`/`workers` need Dask", "", "--scheduler/--workers need Dask"),
    ("`tolerance='x'`: give metres", "gridkit census import", "--dup-tolerance x: give metres"),
    ("`tolerance=30`: give metres", "gridkit census accuracy", "--tolerance 30: give metres"),
    # not a parameter mention: left as written
    ("run `gridkit partition COMMUNITIES -o out.gpkg` first", "",
     "run `gridkit partition COMMUNITIES -o out.gpkg` first"),
    ("layer `event` is empty", "", "layer `event` is empty"),
    ("`nonsense=1`", "", "`nonsense=1`"),
])
def test_the_cli_shows_each_parameter_as_its_flag(message, command, shown):
    assert cli_message(message, command) == shown


def test_mention_writes_what_the_cli_reads_back():
    for text, flag in [(mention(header_row=3), "--header-row 3"),
                       (mention(crs="gcj02"), "--crs gcj02"),
                       (mention("code_field"), "--code-field"),
                       (mention(x="经度", y="纬度"), "--x 经度 --y 纬度")]:
        assert cli_message(text) == flag
    assert error_line(InputError(f"{mention(workers=0)}: give at least 1")) == \
        "gridkit: error: --workers 0: give at least 1"


@pytest.mark.parametrize("parse", [parse_crs, parse_source_crs])
def test_a_bad_crs_names_the_crs_parameter(parse):
    with pytest.raises(ValueError) as caught:
        parse("高德坐标")
    assert caught.value.parameter == "crs"
    assert str(caught.value).startswith("`crs='高德坐标'` is not a CRS")
    assert "--" not in str(caught.value)


def test_a_header_row_past_the_end_names_header_row_and_the_file(tmp_path):
    table = write_csv(tmp_path / "部件.csv", ["经度", "纬度"], [["121.3", "30.7"]])
    with pytest.raises(ValueError) as caught:
        read_source(table, header_row=9)
    error = caught.value
    assert isinstance(error, InputError) and error.parameter == "header_row"
    assert error.file == str(table)
    assert str(error) == f"{table}: `header_row=9` is past the end of the file"
    with pytest.raises(InputError, match=r"^`header_row=0`: rows count from 1$"):
        read_source(table, header_row=0)


def test_an_unreadable_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError) as caught:
        read_source(tmp_path / "missing.xlsx")
    assert isinstance(caught.value, FileError)
    assert caught.value.filename == str(tmp_path / "missing.xlsx")
    assert str(caught.value) == f"{tmp_path / 'missing.xlsx'}: no such file"
    junk = tmp_path / "communities.gpkg"
    junk.write_bytes(b"not a GeoPackage at all")
    with pytest.raises(FileError, match="GDAL cannot read it as a vector source"):
        read_vector(junk, what="communities")


def test_a_bad_output_path_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError) as caught:
        write_geopackage(tmp_path / "out.shp", {})
    assert caught.value.parameter == "output" and "must be a GeoPackage" in str(caught.value)
    blocker = tmp_path / "out"
    blocker.write_text("a file where a folder is needed")
    with pytest.raises(OSError) as caught:
        write_geopackage(blocker / "district.gpkg", {})
    assert isinstance(caught.value, FileError)
    assert f"cannot create folder {blocker}" in str(caught.value)
    assert blocker.read_text() == "a file where a folder is needed"


def test_missing_coordinate_columns_name_maps_in_python_and_map_on_the_command_line(tmp_path):
    out = district(tmp_path)
    no_xy = write_csv(tmp_path / "n.csv", ["部件名称", "地址"], [["路灯", "x"]])
    with pytest.raises(ValueError) as caught:
        import_census([no_xy], load_grids(out), ImportOptions(crs="wgs84"))
    assert caught.value.parameter == "maps" and caught.value.file == str(no_xy)
    assert "name them with `maps={'X': 'COLUMN', 'Y': 'COLUMN'}`" in str(caught.value)
    done = invoke(["census", "import", no_xy, "-o", out, "--crs", "wgs84"])
    assert done.returncode == 2
    line, = done.stderr.splitlines()
    assert line.startswith(f"gridkit: error: {no_xy}: no coordinates")
    assert line.endswith("name them with --map X=COLUMN --map Y=COLUMN")


def test_the_cli_shows_header_row_as_its_flag(tmp_path):
    out = district(tmp_path)
    table = tmp_path / "census.csv"
    table.write_text("\n".join(",".join(r) for r in [HEADER, *good_rows(2)]) + "\n",
                     encoding="utf-8")
    done = invoke(["census", "import", table, "-o", out, "--crs", "wgs84",
                   "--header-row", "9"])
    assert done.returncode == 2
    assert done.stderr == f"gridkit: error: {table}: --header-row 9 is past the end of the " \
                          "file\n"


def test_warnings_are_one_line_with_flags_on_the_command_line():
    @click.group(cls=GridkitGroup)
    def main() -> None:
        pass

    @main.command()
    def warn() -> None:
        for _ in range(2):  # each time, not once per place as Python's default filter does
            warnings.warn("the coordinates look like GCJ-02; give `crs='gcj02'`",
                          GridkitWarning, stacklevel=1)

    done = CliRunner().invoke(main, ["warn"])
    assert done.exit_code == 0
    assert done.stderr == "gridkit: warning: the coordinates look like GCJ-02; give --crs " \
                          "gcj02\n" * 2


def test_no_event_file_is_a_value_error_not_a_click_usage_error(tmp_path):
    from gridkit.events import EventImportOptions, import_events_geopackage

    with pytest.raises(ValueError) as caught:
        import_events_geopackage(tmp_path / "out.gpkg", EventImportOptions(files=[]))
    assert not isinstance(caught.value, click.ClickException)
    assert caught.value.parameter == "files" and not (tmp_path / "out.gpkg").exists()
    done = invoke(["events", "import", "-o", tmp_path / "out.gpkg"])
    assert (done.returncode, done.stderr) == (2, "gridkit: error: no event file given: give "
                                                 "at least one\n")


def test_a_command_s_own_options_name_their_flags():
    @click.group(cls=GridkitGroup)
    def main() -> None:
        pass

    @main.command()
    @click.option("--key-areas", "key_areas")
    @click.option("--dup-tolerance", "tolerance")
    def step(key_areas, tolerance) -> None:
        raise InputError(f"{mention(key_areas='k.gpkg')} has no polygons; "
                         f"{mention(tolerance=0.0)} is not a distance", parameter="key_areas")

    done = CliRunner().invoke(main, ["step"])
    assert done.exit_code == 2
    assert done.stderr == "gridkit: error: --key-areas k.gpkg has no polygons; " \
                          "--dup-tolerance 0.0 is not a distance\n"
