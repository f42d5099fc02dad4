"""What every command shares on the terminal: one-line errors, JSON output, quiet pipes.

Kept free of command imports so that any command module can use it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

import click

from gridkit.errors import GridkitError


class GridkitGroup(click.Group):
    """A click group that turns a GridkitError or a usage mistake below it into one line.

    The line goes to stderr with its exit code: 2 for bad usage or input, 1 for a failed check.
    """

    def invoke(self, ctx: click.Context):
        """Run the command; at the top level Ctrl-C exits 130 and SIGTERM 143, with one line."""
        if ctx.parent is None:
            return _interruptible(lambda: self._invoke(ctx))
        return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GridkitError as exc:
            if SIGNALLED:  # the error is the interrupt, seen through a library
                raise KeyboardInterrupt from None
            click.echo(f"gridkit: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(exc)

    def make_context(self, *args, **kwargs) -> click.Context:
        """Parse the group's own options; a usage mistake there is one line too."""
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:  # the group's own options, parsed before invoke
            _usage_error(exc)


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that every ``finally`` and rollback runs."""


# The signal that stopped the command: an interrupt raised inside a library's callback (a
# GDAL write pulling Arrow batches) comes back as that library's error, not as itself.
SIGNALLED: list[str] = []
AS_PROGRAM = False  # set by gridkit.entry: the process is the gridkit program itself


def _terminate(signum, frame) -> None:
    SIGNALLED.append("SIGTERM")
    raise Terminated()


def _ctrl_c(signum, frame) -> None:
    SIGNALLED.append("Ctrl-C")
    raise KeyboardInterrupt


INTERRUPTED = ("interrupted ({how}): nothing was written; the previous output is intact")


def _interruptible(call: Callable):
    """Run a command so that Ctrl-C exits 130 and SIGTERM 143, each with one line.

    Every write is a transaction that was rolled back (or a stage that was removed).
    """
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        previous = signal.signal(signal.SIGTERM, _terminate), \
            signal.signal(signal.SIGINT, _ctrl_c)
    try:
        return call()
    except (KeyboardInterrupt, Terminated, Exception) as exc:
        if not SIGNALLED and not isinstance(exc, KeyboardInterrupt | Terminated):
            raise
        how = SIGNALLED[0] if SIGNALLED else (
            "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C")
        click.echo(f"gridkit: {_interrupted(how)}", err=True)
        code = 143 if how == "SIGTERM" else 130
        if AS_PROGRAM:
            # Every rollback and clean-up has run on the way here; leave now, so that the
            # interpreter's shutdown (thread joins) cannot be interrupted a second time.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


def _interrupted(how: str) -> str:
    """The one line for an interrupt.

    Nothing written, or (stopped after a commit, while printing) what was written whole.
    """
    from gridkit.store import COMMITTED

    if COMMITTED:
        names = ", ".join(dict.fromkeys(str(p) for p in COMMITTED))
        return (f"interrupted ({how}): {names} was written before it, complete; only the "
                "summary was cut short")
    return INTERRUPTED.format(how=how)


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


@contextmanager
def status_line(title: str, enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A rich status line ``TITLE: stage`` on stderr while the block runs.

    Yields the progress callback the library functions take, or None when ``enabled`` is
    false (pipes, CI, ``--json``: nothing is printed).
    """
    if not enabled:
        yield None
        return
    from rich.console import Console

    status = Console(stderr=True).status(title)
    status.start()
    try:
        yield lambda stage: status.update(f"{title}: {stage}")
    finally:
        status.stop()
