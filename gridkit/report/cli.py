"""``gridkit report``: the command over :func:`gridkit.report.build_report`."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, error_line
from gridkit.errors import GridkitError
from gridkit.report.i18n import LANGS


@click.command()
@click.argument("source", metavar="OUT.gpkg", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The HTML file to write (default: OUT.gpkg with .html).")
@click.option("--lang", type=click.Choice(LANGS), default="zh", show_default=True,
              help="Language of the labels: zh (中文) or en.")
@click.option("--png", "png_dir", type=click.Path(path_type=Path), metavar="DIR",
              help="Also write static PNG maps for documents into DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
@click.pass_context
def report(ctx: click.Context, source: Path, output: Path | None, lang: str,
           png_dir: Path | None, as_json: bool) -> None:
    """Write one self-contained HTML page about OUT.gpkg: an interactive map (unit and
    responsibility grids, components, events, QA issues), figures and tables.

    The page opens offline in any current browser: no network, no web fonts, no map
    tiles. OUT.gpkg is only read.

    \b
    Example:
        gridkit report out/sample.gpkg -o out/report.html --png out/maps
    """
    target = output if output is not None else source.with_suffix(".html")
    try:
        # lazy: the report's matplotlib and jinja2 cost every other command's start-up
        from gridkit.report.build import build_report

        figures = build_report(source, target, lang=lang, png_dir=png_dir)
    except GridkitError as exc:
        click.echo(error_line(exc), err=True)
        ctx.exit(exc.exit_code)
    if as_json:
        emit_json(json_summary(figures))
        return
    click.echo(f"wrote {figures['output']} ({figures['megabytes']:.1f} MB, "
               f"{figures['seconds']:.1f} s)")
    for path in figures["png"]:
        click.echo(f"wrote {path}")


def json_summary(result: dict) -> dict:
    """The ``--json`` object: where the report went, how big it is, and the key figures."""
    f = result["figures"]
    u = f["unit_areas"]
    summary = {
        "output": result["output"], "bytes": result["bytes"], "megabytes": result["megabytes"],
        "lang": result["lang"], "counts": result["layers"],
        "unit_grids": {"count": u["grids"], "target_area": u["target"],
                       "in_band": u["in_band"], "median_area": u["stats"].get("median")},
    }
    if f.get("responsibility"):
        r = f["responsibility"]
        summary["responsibility_grids"] = {"count": r["grids"], "in_band": r["in_band"]}
    for name, p in f.get("points", {}).items():
        summary[name + "s"] = {"count": p["count"], "on_map": p["on_map"],
                               "not_in_grid": p["not_in_grid"],
                               "by_major": {m["code"]: m["count"] for m in p["majors"]}}
    if f.get("qa") is not None:
        summary["qa"] = {"error": f["qa"]["error"], "warning": f["qa"]["warning"]}
    if f.get("spotcheck"):
        overall = f["spotcheck"].get("overall") or {}
        summary["spotcheck"] = {"verdict": overall.get("VERDICT"),
                                "grids": f["spotcheck"].get("grids")}
    summary["map_omitted_fields"] = result["map_omitted_fields"]
    summary["png"] = result["png"]
    summary["seconds"] = result["seconds"]
    return summary
