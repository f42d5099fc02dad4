"""What every command shares on the terminal: one-line errors, JSON output, quiet pipes.

Kept free of command imports so that any command module can use it.
"""

from __future__ import annotations

import json
import sys

import click

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
