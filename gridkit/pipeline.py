"""``gridkit run``: the whole pipeline from one TOML config.

For now the pipeline is the partition and the responsibility grouping; later steps (census
import, events, checks, report) join it as they land. Relative paths in a config are
resolved against the config file's folder. With no config, the bundled sample district is
used and the result written to ``out/sample.gpkg`` under the current directory.

Config (``data/samples/gridkit.toml`` is a complete example)::

    output = "out/district.gpkg"

    [partition]
    communities = "communities.gpkg"   # required
    roads = "roads.gpkg"               # optional: roads, water, buildings
    target_area = 10000                # and any other `gridkit partition` option

    [group]                            # optional: responsibility grids
    key_areas = "key_areas.gpkg"
    dense = "10-16"
    sparse = "20-30"
"""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, show_progress
from gridkit.errors import GridkitError
from gridkit.io import read_toml
from gridkit.partition.cli import partition_to_geopackage, print_summary, stage_printer
from gridkit.responsibility.cli import group_geopackage

SAMPLE_CONFIG = "gridkit.toml"

# Every key a section takes, with the type it must have; paths are resolved against the
# config file's folder.
SECTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "partition": {
        "communities": Path, "roads": Path, "water": Path, "buildings": Path, "layer": str,
        "roads_layer": str, "water_layer": str, "buildings_layer": str,
        "target_area": (int, float), "crs": str, "code_field": str, "name_field": str,
        "road_class_field": str, "max_conflict_area": (int, float),
    },
    "group": {
        "key_areas": Path, "key_areas_layer": str, "crs": str, "dense": str, "sparse": str,
        "dense_threshold": (int, float), "weights": Path,
    },
}
TOP_LEVEL = {"output": Path, **{name: dict for name in SECTIONS}}


def sample_config() -> Path:
    """The bundled sample's config: in ./data/samples, or beside the installed package."""
    here = Path("data/samples") / SAMPLE_CONFIG
    if here.exists():
        return here
    repo = Path(__file__).resolve().parents[1] / "data" / "samples" / SAMPLE_CONFIG
    if repo.exists():
        return repo
    raise GridkitError("no CONFIG given and the bundled sample (data/samples/gridkit.toml) is "
                       "not here: run from the gridkit checkout or give a config file")


def _typed(path: Path, where: str, key: str, value, kind):
    """``value`` checked against ``kind``; Path values are resolved against the config."""
    if kind is Path:
        if not isinstance(value, str) or not value.strip():
            raise GridkitError(f"{path}: {where}{key} must be a file path in quotes, "
                               f"not {value!r}")
        return path.parent / value
    expected = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, expected):
        names = " or ".join(dict.fromkeys(
            "a number" if t in (int, float) else "text in quotes" if t is str else "a [section]"
            for t in expected))
        raise GridkitError(f"{path}: {where}{key} must be {names}, not {value!r}")
    return value


def load_config(path: Path) -> dict:
    raw = read_toml(path, "config")
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise GridkitError(f"{path}: unknown key {', '.join(unknown)}; a config has "
                           f"{', '.join(TOP_LEVEL)}")
    config = {key: _typed(path, "", key, value, TOP_LEVEL[key]) for key, value in raw.items()}
    for name, keys in SECTIONS.items():
        section = config.get(name, {})
        unknown = sorted(set(section) - set(keys))
        if unknown:
            raise GridkitError(f"{path}: [{name}] has unknown keys {', '.join(unknown)}; "
                               f"known: {', '.join(keys)}")
        config[name] = {key: _typed(path, f"[{name}] ", key, value, keys[key])
                        for key, value in section.items()}
    if "communities" not in config["partition"]:
        raise GridkitError(f"{path}: needs a [partition] section with communities = \"FILE\"")
    return config


def run_pipeline(config_path: Path | None, output: Path | None, progress=None) -> dict:
    path = config_path or sample_config()
    config = load_config(path)
    if output is not None:
        target = output
    elif "output" in config:
        target = config["output"]
    elif config_path is None:
        target = Path("out/sample.gpkg")
    else:
        raise GridkitError(f"{config_path}: no output = \"FILE.gpkg\"; add it or use -o")
    target = target.absolute()
    section = dict(config["partition"])
    communities = section.pop("communities")
    figures = {"output": str(target),
               "partition": partition_to_geopackage(communities, target, progress=progress,
                                                    **section)}
    if "group" in config:
        figures["group"] = group_geopackage(target, **config["group"])
    return figures


@click.command()
@click.argument("config", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="GeoPackage to write (default: the config's output; out/sample.gpkg for the "
                   "sample).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
def run(config, output, as_json):
    """Run the whole pipeline from a TOML config; with no CONFIG, on the bundled sample.

    Steps: partition into unit grids, then (with a [group] section) responsibility grids.

    \b
    Example:
        gridkit run                      # the sample district → out/sample.gpkg
        gridkit run city.toml -o out/city.gpkg
    """
    say, status = stage_printer(show_progress() and not as_json)
    try:
        figures = run_pipeline(config, output, progress=say)
    finally:
        if status is not None:
            status.stop()
    if as_json:
        emit_json(figures)
        return
    print_summary(figures["partition"])
    if "group" in figures:
        from gridkit.responsibility.cli import print_group_summary

        print_group_summary(figures["group"])
    click.echo(f"wrote {figures['output']}")
