"""What every command shares on the terminal: one-line errors, JSON output, quiet pipes.

Kept free of command imports so that any command module can use it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from functools import wraps

import click

from gridkit.errors import GridkitError


class GridkitGroup(click.Group):
    """Turns a GridkitError or a usage mistake anywhere below into one line on stderr and
    its exit code (2 for bad usage or input, 1 for a failed check)."""

    def invoke(self, ctx: click.Context):
        if ctx.parent is None:
            return _interruptible(lambda: self._invoke(ctx))
        return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
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


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that every ``finally`` and rollback runs."""


def _terminate(signum, frame) -> None:
    raise Terminated()


INTERRUPTED = ("interrupted ({how}): nothing was written; the previous output is intact")


def _interruptible(call: Callable):
    """Run a command so that Ctrl-C exits 130 and SIGTERM 143, each with one line: every
    write is a transaction that was rolled back (or a stage that was removed)."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return call()
    except KeyboardInterrupt:
        click.echo(f"gridkit: {INTERRUPTED.format(how='Ctrl-C')}", err=True)
        sys.exit(130)
    except Terminated:
        click.echo(f"gridkit: {INTERRUPTED.format(how='SIGTERM')}", err=True)
        sys.exit(143)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


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
