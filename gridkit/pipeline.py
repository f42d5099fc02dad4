"""``gridkit run``: the whole pipeline from one TOML config.

For now the pipeline is the partition; later steps (census import, events, grouping, checks,
report) join it as they land. Relative paths in a config are resolved against the config
file's folder. With no config, the bundled sample district is used and the result written to
``out/sample.gpkg`` under the current directory.

Config (``data/samples/gridkit.toml`` is a complete example)::

    output = "out/district.gpkg"

    [partition]
    communities = "communities.gpkg"   # required
    roads = "roads.gpkg"               # optional: roads, water, buildings
    target_area = 10000                # and any other `gridkit partition` option
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from gridkit.console import emit_json, show_progress
from gridkit.errors import GridkitError
from gridkit.partition.cli import partition_to_geopackage, print_summary, stage_printer

SAMPLE_CONFIG = "gridkit.toml"
PATH_KEYS = {"communities", "roads", "water", "buildings"}


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


def load_config(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        raise GridkitError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise GridkitError(f"{path}: not valid TOML ({exc})") from None
    section = config.get("partition")
    if not isinstance(section, dict) or "communities" not in section:
        raise GridkitError(f"{path}: needs a [partition] section with communities = \"FILE\"")
    known = PATH_KEYS | {"layer", "roads_layer", "water_layer", "buildings_layer", "target_area",
                         "crs", "code_field", "name_field", "road_class_field",
                         "max_conflict_area"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise GridkitError(f"{path}: [partition] has unknown keys {', '.join(unknown)}; known: "
                           f"{', '.join(sorted(known))}")
    base = path.parent
    for key in PATH_KEYS & set(section):
        section[key] = base / section[key]
    return config


def run_pipeline(config_path: Path | None, output: Path | None, progress=None) -> dict:
    if config_path is None:
        config = load_config(sample_config())
        target = output or Path("out/sample.gpkg")
    else:
        config = load_config(config_path)
        if output is not None:
            target = output
        elif "output" in config:
            target = config_path.parent / config["output"]
        else:
            raise GridkitError(f"{config_path}: no output = \"FILE.gpkg\"; add it or use -o")
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    section = dict(config["partition"])
    communities = section.pop("communities")
    return partition_to_geopackage(communities, target, progress=progress, **section)


@click.command()
@click.argument("config", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="GeoPackage to write (default: the config's output; out/sample.gpkg for the "
                   "sample).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
def run(config, output, as_json):
    """Run the whole pipeline from a TOML config; with no CONFIG, on the bundled sample.

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
    else:
        print_summary(figures)
        click.echo(f"wrote {figures['output']}")
