"""The ``gridkit`` command line: a thin layer over the library.

Every command turns options into a library call, prints a summary (or one JSON object with
``--json``) and maps user mistakes to a one-line message and exit code 2.
"""

from __future__ import annotations

import json
import sys

import click

from gridkit import __version__
from gridkit.errors import GridkitError


class GridkitGroup(click.Group):
    """Turns a GridkitError anywhere below into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GridkitError as exc:
            click.echo(f"gridkit: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def emit_json(payload: dict) -> None:
    """The one JSON object a ``--json`` command prints on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def show_progress() -> bool:
    """Progress bars only on a terminal: pipes and CI stay quiet."""
    return sys.stderr.isatty()


@click.group(cls=GridkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridkit")
def main() -> None:
    """gridkit: unit grids, responsibility grids and component census for urban grid
    management (网格化城市管理).

    \b
    Example, the whole pipeline on the bundled sample district:
        gridkit run
    """


def _register() -> None:
    from gridkit.partition.cli import partition
    from gridkit.pipeline import run

    main.add_command(partition)
    main.add_command(run)
    try:
        from gridkit.codes.cli import codes
    except ImportError:
        return
    main.add_command(codes)


_register()
