"""Options written once (gridkit.options): the flags, TOML keys and run parameters each step's
options dataclass gives, checked against the command-line contract they replaced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gridkit.cli import main
from gridkit.errors import GridkitError
from gridkit.options import click_options, from_section, option, record, toml_types
from gridkit.pipeline import SECTIONS, load_config

# Every command's arguments and long flags as they were before the options were generated
# (SPEC.md is a contract: none may go, none may change its name).
FLAGS = {
    "census accuracy": (["OUTPUT"], ["--catalog", "--check", "--completeness-target",
                                     "--confidence", "--crs", "--extend", "--json", "--layer",
                                     "--map", "--plan", "--resurvey", "--search", "--sheet",
                                     "--strict", "--target", "--tolerance", "--x", "--y"]),
    "census check": (["OUTPUT"], ["--catalog", "--dup-tolerance", "--extend", "--json",
                                  "--min-expected", "--sparse-ratio"]),
    "census import": (["FILES"], ["--allow-duplicates", "--catalog", "--crs",
                                  "--dup-tolerance", "--extend", "--header-row", "--json",
                                  "--layer", "--map", "--mode", "--output", "--sheet", "--x",
                                  "--y"]),
    "census sample": (["OUTPUT"], ["--confidence", "--expected", "--grids", "--icc", "--json",
                                   "--margin", "--min-per-stratum", "--output", "--seed"]),
    "codes check": (["FILE"], ["--catalog", "--extend", "--json", "--layer", "--max-issues"]),
    "codes list": ([], ["--catalog", "--events", "--extend", "--json"]),
    "codes show": (["CODE"], ["--catalog", "--extend", "--json"]),
    "events import": (["FILES"], ["--allow-duplicates", "--crs", "--header-row", "--json",
                                  "--layer", "--map", "--mode", "--output", "--sheet"]),
    "export": (["OUTPUT", "DEST"], ["--encoding", "--json", "--layers", "--list-runs",
                                    "--no-record", "--since", "--to"]),
    "grids adopt": (["GRIDS"], ["--area", "--code-field", "--communities",
                                "--communities-layer", "--crs", "--json", "--layer",
                                "--output", "--recode", "--repair", "--repair-area",
                                "--target-area"]),
    "grids check": (["GRIDS"], ["--code-field", "--communities", "--communities-layer",
                                "--crs", "--json", "--layer", "--output", "--target-area"]),
    "group": (["OUTPUT"], ["--crs", "--dense", "--dense-threshold", "--json", "--key-areas",
                           "--key-areas-layer", "--min-shared-edge", "--scheduler", "--sparse",
                           "--weights", "--workers"]),
    # --key-areas/--key-areas-layer: added by issue 14 (key areas keep grids of the target).
    "partition": (["COMMUNITIES"], ["--area", "--buildings", "--buildings-layer",
                                    "--code-field", "--crs", "--cutting", "--json",
                                    "--key-areas", "--key-areas-layer", "--layer",
                                    "--max-conflict-area", "--name-field", "--output",
                                    "--parcels", "--parcels-layer", "--road-class-field",
                                    "--roads", "--roads-layer", "--scheduler",
                                    "--target-area", "--update", "--water", "--water-layer",
                                    "--workers"]),
    "report": (["SOURCE"], ["--json", "--lang", "--output", "--png"]),
    "run": (["CONFIG"], ["--json", "--output", "--scheduler", "--workers"]),
}

# The keys of each `gridkit run` section before they were generated, with their types.
NUMBER = (int, float)
TOML = {
    "partition": {"communities": Path, "roads": Path, "water": Path, "buildings": Path,
                  "layer": str, "roads_layer": str, "water_layer": str,
                  "buildings_layer": str, "parcels": Path, "parcels_layer": str,
                  "key_areas": Path, "key_areas_layer": str,
                  "cutting": str, "target_area": NUMBER, "crs": str, "code_field": str,
                  "name_field": str, "road_class_field": str, "max_conflict_area": NUMBER},
    "grids": {"grids": Path, "layer": str, "code_field": str, "communities": Path,
              "communities_layer": str, "target_area": NUMBER, "crs": str, "repair": bool,
              "repair_area": NUMBER, "recode": bool, "area": Path},
    "group": {"key_areas": Path, "key_areas_layer": str, "crs": str, "dense": str,
              "sparse": str, "dense_threshold": NUMBER, "weights": Path,
              "min_shared_edge": NUMBER},
    "census": {"files": list, "crs": str, "sheet": str, "layer": str, "mode": str,
               "allow_duplicates": bool, "header_row": int, "x": str, "y": str, "map": list},
    "events": {"files": list, "crs": str, "sheet": str, "layer": str, "mode": str,
               "allow_duplicates": bool, "header_row": int, "x": str, "y": str, "map": list},
    "check": {},
    "spotcheck": {"seed": int, "margin": NUMBER, "sheet": Path, "target": NUMBER},
    "report": {"lang": str},
}


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def test_every_command_keeps_its_arguments_and_flags():
    found = {}
    for name, command in _commands(main):
        arguments = [p.name.upper() for p in command.params if isinstance(p, click.Argument)]
        flags = sorted(o for p in command.params if isinstance(p, click.Option)
                       for o in p.opts if o.startswith("--") and o != "--help")
        found[name] = (arguments, flags)
    assert found == FLAGS


def test_every_run_section_keeps_its_keys_and_types():
    # "map" is a list of texts now (list[str]); before, it was read as a list of paths.
    generated = {name: {key: (list if kind == list[str] else kind)
                        for key, kind in keys.items()} for name, keys in SECTIONS.items()}
    assert generated == TOML


@dataclass(frozen=True)
class CellOptions:
    size: float = option(10.0, type=float, help="Cell size, m.")
    names: list[str] = option(factory=list, multiple=True, toml="name", help="Names.")
    source: Path | None = option(None, type=click.Path(path_type=Path), record=False,
                                 help="A file.")
    quiet: bool = option(False, is_flag=True, toml=False, help="Say less.")


def test_one_dataclass_gives_flags_toml_keys_and_record():
    seen = []

    @click.command()
    @click_options(CellOptions)
    def cells(options):
        seen.append(options)

    done = CliRunner().invoke(cells, ["--size", "2.5", "--names", "a", "--names", "b",
                                      "--source", "x.gpkg", "--quiet"])
    assert done.exit_code == 0, done.output
    assert seen == [CellOptions(2.5, ["a", "b"], Path("x.gpkg"), True)]
    assert toml_types(CellOptions) == {"size": (int, float), "name": list, "source": Path}
    assert from_section(CellOptions, {"name": ["c"], "size": 4}) == CellOptions(4, ["c"])
    assert record(seen[0]) == {"size": 2.5, "names": ["a", "b"], "quiet": True}
    assert record(seen[0], size="computed")["size"] == "computed"
    defaults = CliRunner().invoke(cells, [])
    assert defaults.exit_code == 0 and seen[-1] == CellOptions()


def test_a_map_in_the_config_stays_text(tmp_path):
    config = tmp_path / "gridkit.toml"
    config.write_text('[partition]\ncommunities = "c.gpkg"\n[events]\nfiles = ["e.csv"]\n'
                      'map = ["EVTID=编号"]\n', encoding="utf-8")
    events = load_config(config)["events"]
    assert events["map"] == ["EVTID=编号"]
    assert events["files"] == [tmp_path / "e.csv"]
    config.write_text('[partition]\ncommunities = "c.gpkg"\n[census]\nfiles = ["e.csv"]\n'
                      "map = [1]\n", encoding="utf-8")
    with pytest.raises(GridkitError, match=r"\[census\] map must be a list of texts"):
        load_config(config)


def test_group_records_its_options_as_before(tmp_path):
    from gridkit.responsibility import GroupOptions

    options = GroupOptions(dense="8-12", weights=None)
    assert record(options, weights=str(options.weights or "default"), workload="area") == {
        "dense": "8-12", "sparse": "20-30", "dense_threshold": 2.0, "key_areas_layer": None,
        "weights": "default", "workload": "area", "min_shared_edge": 3.0}
    # Paths are recorded as text, so that the row's JSON reads the same on every system.
    assert record(GroupOptions(weights=tmp_path / "w.toml"))["weights"] == str(tmp_path / "w.toml")


def test_gridkit_run_has_its_options_class_too():
    from gridkit.pipeline import TOP_LEVEL, RunOptions

    # The top-level key of a config is the option -o/--output; CONFIG is not a TOML key.
    assert toml_types(RunOptions) == {"output": Path}
    assert TOP_LEVEL == {"output": Path, **{name: dict for name in SECTIONS}}
    # gridkit run records no gridkit_run row of its own: each step records its own.
    assert record(RunOptions(Path("city.toml"), Path("out/city.gpkg"))) == {}
    seen = []

    @click.command()
    @click_options(RunOptions)
    def run(options):
        seen.append(options)

    assert CliRunner().invoke(run, ["city.toml", "-o", "out/c.gpkg"]).exit_code == 0
    assert seen == [RunOptions(Path("city.toml"), Path("out/c.gpkg"))]
    assert CliRunner().invoke(run, []).exit_code == 0 and seen[-1] == RunOptions()
