"""`gridkit run` configs, and the safety rules every command follows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyogrio
import pytest
from conftest import invoke

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def gridkit(*args, cwd=None) -> subprocess.CompletedProcess:
    return invoke(args, cwd=cwd)


def one_line(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridkit: error:"), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[partition]\ncommunities = "{s}/communities.gpkg"\ntarget_area = "big"',
         "[partition] target_area must be a number, not 'big'"),
        ('[partition]\ncommunities = "{s}/communities.gpkg"\ncrs = 4549',
         "[partition] crs must be text in quotes"),
        ('outptu = "x.gpkg"\n[partition]\ncommunities = "{s}/communities.gpkg"',
         "unknown key outptu"),
        ('[partition]\ncommunities = ["a"]', "communities must be a file path"),
        ('[partition]\nroads = "r.gpkg"', "needs a [partition] section with communities"),
        ('[partition]\ncommunities = "{s}/communities.gpkg"\ntarget_aera = 1',
         "[partition] has unknown keys target_aera"),
        ('[partition]\ncommunities = "{s}/communities.gpkg"\n[group]\ndense = 10',
         "[group] dense must be text in quotes"),
        ("[partition\n", "not valid TOML"),
        ('[partition]\ncommunities = "{s}/communities.gpkg"\n[census]\ncrs = "gcj02"',
         "[census] needs files"),
        ('[partition]\ncommunities = "{s}/communities.gpkg"\n[events]\nfiles = "e.csv"',
         "[events] files must be a list of file paths"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path, body, fragment):
    config = tmp_path / "city.toml"
    config.write_text(body.replace("{s}", str(SAMPLES)), encoding="utf-8")
    one_line(gridkit("run", config, "-o", tmp_path / "o.gpkg"), "city.toml", fragment)
    assert not (tmp_path / "o.gpkg").exists()


def test_run_with_a_config_partitions_and_groups(tmp_path):
    config = tmp_path / "city.toml"
    config.write_text(
        f'output = "city.gpkg"\n[partition]\ncommunities = "{SAMPLES}/communities.gpkg"\n'
        f'target_area = 20000\n[group]\nsparse = "8-12"\n', encoding="utf-8")
    done = gridkit("run", config)
    assert done.returncode == 0, done.stderr
    assert f"wrote {tmp_path / 'city.gpkg'}" in done.stdout
    resp = pyogrio.read_dataframe(tmp_path / "city.gpkg", layer="responsibility_grid")
    assert set(resp["BAND"]) <= {"10-16", "8-12"}
    # Only the configured steps ran.
    assert "component" not in dict(pyogrio.list_layers(tmp_path / "city.gpkg"))
    assert not (tmp_path / "city.html").exists()


def test_output_over_an_input_is_refused(tmp_path):
    mine = tmp_path / "mine.gpkg"
    mine.write_bytes((SAMPLES / "communities.gpkg").read_bytes())
    before = mine.read_bytes()
    one_line(gridkit("partition", mine, "-o", mine), "is also an input")
    assert mine.read_bytes() == before


def test_new_partition_removes_layers_built_on_old_grids(tmp_path):
    out = tmp_path / "d.gpkg"
    assert gridkit("partition", SAMPLES / "communities.gpkg", "-o", out).returncode == 0
    assert gridkit("group", out).returncode == 0
    assert "responsibility_grid" in dict(pyogrio.list_layers(out))
    done = gridkit("partition", SAMPLES / "communities.gpkg", "-o", out, "--target-area",
                   "20000")
    assert done.returncode == 0 and "re-run gridkit group" in done.stdout
    assert "responsibility_grid" not in dict(pyogrio.list_layers(out))
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    assert set(qa["COMMAND"]) == {"partition"}
    assert gridkit("group", out).returncode == 0  # and the file is still a good GeoPackage


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["partion"], "No such command 'partion'"),
        (["partition", "x.gpkg", "--target-area", "abc"], "'abc' is not a valid float"),
        (["partition", "x.gpkg"], "Missing option '-o'"),
        (["--bogus"], "No such option '--bogus'"),
        (["partition", str(SAMPLES / "communities.gpkg"), "-o", "o.gpkg", "--target-area", "1"],
         "10000 is one hectare"),
    ],
)
def test_usage_mistakes_are_one_line(tmp_path, args, fragment):
    one_line(gridkit(*args, cwd=tmp_path), fragment)
