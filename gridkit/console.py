"""What every command shares on the terminal: one-line errors, JSON output, quiet pipes.

Kept free of command imports so that any command module can use it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps

import click

from gridkit.errors import GridkitError


class GridkitGroup(click.Group):
    """Turns a GridkitError or a usage mistake anywhere below into one line on stderr and
    its exit code (2 for bad usage or input, 1 for a failed check)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GridkitError as exc:
            click.echo(f"gridkit: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(exc)

    def make_context(self, *args, **kwargs) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:  # the group's own options, parsed before invoke
            _usage_error(exc)


def _usage_error(exc: click.UsageError) -> None:
    where = exc.ctx.command_path if exc.ctx is not None else "gridkit"
    click.echo(f"gridkit: error: {exc.format_message()} (see '{where} --help')", err=True)
    sys.exit(exc.exit_code)


def one_line_errors(function: Callable) -> Callable:
    """The same one-line errors for a command run on its own, outside a GridkitGroup."""
    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except GridkitError as exc:
            click.echo(f"gridkit: error: {exc}", err=True)
            click.get_current_context().exit(exc.exit_code)

    return wrapper


def emit_json(payload: dict) -> None:
    """The one JSON object a ``--json`` command prints on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def show_progress() -> bool:
    """Progress bars only on a terminal: pipes and CI stay quiet."""
    return sys.stderr.isatty()
