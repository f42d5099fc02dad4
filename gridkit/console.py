"""What every command shares on the terminal: one-line errors, JSON output, quiet pipes.

Kept free of command imports so that any command module can use it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from gridkit.errors import GridkitError, GridkitWarning

# The command-line flag of each library parameter an error message may name (in backticks,
# see gridkit.errors.mention): the one place where a parameter becomes a flag. A name the
# table lacks is left as written.
PARAMETER_FLAGS: dict[str, str] = {
    "allow_duplicates": "--allow-duplicates",
    "area": "--area",
    "area_layer": "--area-layer",
    "buildings_layer": "--buildings-layer",
    "catalog": "--catalog",
    "check": "--check",
    "code_field": "--code-field",
    "communities": "--communities",
    "communities_layer": "--communities-layer",
    "completeness_target": "--completeness-target",
    "confidence": "--confidence",
    "crs": "--crs",
    "cutting": "--cutting",
    "dense": "--dense",
    "dense_threshold": "--dense-threshold",
    "dup_tolerance": "--dup-tolerance",
    "encoding": "--encoding",
    "expected": "--expected",
    "extend": "--extend",
    "format": "--to",
    "grids": "--grids",
    "header_row": "--header-row",
    "icc": "--icc",
    "key_areas_layer": "--key-areas-layer",
    "lang": "--lang",
    "layer": "--layer",
    "layers": "--layers",
    "maps": "--map",
    "margin": "--margin",
    "max_conflict_area": "--max-conflict-area",
    "min_per_stratum": "--min-per-stratum",
    "min_shared_edge": "--min-shared-edge",
    "mode": "--mode",
    "name_field": "--name-field",
    "output": "-o",
    "parcels_layer": "--parcels-layer",
    "plan": "--plan",
    "png_dir": "--png",
    "recode": "--recode",
    "record": "--no-record",
    "repair": "--repair",
    "repair_area": "--repair-area",
    "resurvey": "--resurvey",
    "road_class_field": "--road-class-field",
    "roads_layer": "--roads-layer",
    "scheduler": "--scheduler",
    "search": "--search",
    "seed": "--seed",
    "sheet": "--sheet",
    "since": "--since",
    "sparse": "--sparse",
    "sparse_ratio": "--sparse-ratio",
    "target": "--target",
    "target_area": "--target-area",
    "tolerance": "--tolerance",
    "update": "--update",
    "water_layer": "--water-layer",
    "workers": "--workers",
    "x": "--x",
    "y": "--y",
}

# Where one command spells a parameter's flag its own way: the census commands' duplicate
# tolerance is ``tolerance``/``class_tolerance`` in the library and --dup-tolerance on the
# command line (``--tolerance`` is the spot-check match distance of census accuracy).
COMMAND_FLAGS: dict[str, dict[str, str]] = {
    "census import": {"tolerance": "--dup-tolerance", "class_tolerance": "--dup-tolerance"},
    "census check": {"tolerance": "--dup-tolerance", "class_tolerance": "--dup-tolerance"},
    "census sample": {"minimum": "--min-per-stratum", "plan_dir": "-o"},
    "census accuracy": {"accuracy": "--target", "completeness": "--completeness-target"},
}

_MENTION = re.compile(r"`([^`\n]+)`")


def cli_message(message: str, command: str = "",
                options: click.Command | None = None) -> str:
    """A library error message as the ``gridkit`` command shows it: parameters become flags.

    Each parameter mention (```header_row=3```, ```crs```) becomes its flag (``--header-row 3``,
    ``--crs``).

    Parameters
    ----------
    message : str
        The message of a :class:`~gridkit.errors.GridkitError`.
    command : str, optional
        The command that failed (``"census import"``), for its own spellings in
        :data:`COMMAND_FLAGS`.
    options : click.Command, optional
        That command: its own options name their flags first (:func:`command_flags`).

    Returns
    -------
    str
        The message with the flags of :data:`PARAMETER_FLAGS`; backticked text that is not
        a mention of a known parameter is left as it is.

    Examples
    --------
    >>> cli_message("events.csv: `header_row=3` is past the end of the file")
    'events.csv: --header-row 3 is past the end of the file'
    >>> cli_message("name them with `maps={'X': '经度', 'Y': '纬度'}` or `header_row=N`")
    'name them with --map X=经度 --map Y=纬度 or --header-row N'
    >>> cli_message("run `gridkit partition` first")
    'run `gridkit partition` first'
    """
    flags = {**PARAMETER_FLAGS, **_command_flags(command), **command_flags(options)}
    return _MENTION.sub(lambda match: _flags(match, flags), message)


def command_flags(command: click.Command | None) -> dict[str, str]:
    """The flag of each option of ``command``, by its parameter name.

    A command built on an options dataclass (:mod:`gridkit.options`) names its options after the
    library's parameters, so these need no entry in :data:`PARAMETER_FLAGS`.

    Parameters
    ----------
    command : click.Command or None
        The command; None gives no flags.

    Returns
    -------
    dict of str to str
        Parameter name → flag (the one :data:`PARAMETER_FLAGS` uses when it is one of the
        option's, else its first long flag).

    Examples
    --------
    >>> @click.command()
    ... @click.option("-o", "--output")
    ... @click.option("--roads-layer")
    ... def partition(output, roads_layer):
    ...     pass
    >>> command_flags(partition)
    {'output': '-o', 'roads_layer': '--roads-layer'}
    """
    flags: dict[str, str] = {}
    for param in command.params if command is not None else ():
        if isinstance(param, click.Option) and param.name and param.opts:
            known = PARAMETER_FLAGS.get(param.name)
            flags[param.name] = known if known in param.opts else next(
                (flag for flag in param.opts if flag.startswith("--")), param.opts[0])
    return flags


def _command_flags(command: str) -> dict[str, str]:
    words = f" {' '.join(command.split())} "
    return next((flags for name, flags in COMMAND_FLAGS.items() if f" {name} " in words), {})


def _mentioned(match: re.Match, known: dict[str, str]) -> list | None:
    """The (parameter, value expression or None) pairs of a mention, None for other text."""
    try:
        call = ast.parse(f"_({match.group(1)})", mode="eval").body
    except SyntaxError:  # prose or a command line in backticks, not a mention
        return None
    if not isinstance(call, ast.Call):
        return None
    named = [(arg.id, None) for arg in call.args if isinstance(arg, ast.Name)]
    named += [(kw.arg, kw.value) for kw in call.keywords]
    if len(named) != len(call.args) + len(call.keywords) or \
            any(name not in known for name, _ in named):
        return None
    return named


def _flags(match: re.Match, flags: dict[str, str]) -> str:
    named = _mentioned(match, flags)
    if named is None:
        return match.group(0)
    return " ".join(_flag(flags[name], value) for name, value in named)


def config_message(message: str, section: str, command: str = "") -> str:
    """A library error message as ``gridkit run`` shows it: parameters become config keys.

    A step of the pipeline takes its parameters from its ``[section]`` of the TOML file, so
    the fix names the key there, not the command's flag.

    Parameters
    ----------
    message : str
        The message of a :class:`~gridkit.errors.GridkitError` raised by the step.
    section : str
        The config section the step read (``"census"``).
    command : str, optional
        The step's command (``"census import"``), for its own spellings in
        :data:`COMMAND_FLAGS`.

    Returns
    -------
    str
        The message with each mention written as TOML in its section.

    Examples
    --------
    >>> config_message("census.xlsx: give `header_row=N`", "census")
    'census.xlsx: give header_row = N in [census]'
    >>> config_message("name them with `maps={'X': 'COLUMN', 'Y': 'COLUMN'}`", "events")
    'name them with map = ["X=COLUMN", "Y=COLUMN"] in [events]'
    """
    keys = {name: flag[2:].replace("-", "_")
            for name, flag in {**PARAMETER_FLAGS, **_command_flags(command)}.items()
            if flag.startswith("--")}

    def as_toml(match: re.Match) -> str:
        named = _mentioned(match, keys)
        if named is None:
            return match.group(0)
        return ", ".join(_toml(keys[name], value) for name, value in named) + \
            f" in [{section}]"

    return _MENTION.sub(as_toml, message)


class _Placeholder(str):
    """A mention's value written as a name (COLUMN, N): shown as it is."""


def _given(value: ast.expr) -> object:
    try:
        return ast.literal_eval(value)
    except ValueError:
        return _Placeholder(ast.unparse(value))


def _toml(key: str, value: ast.expr | None) -> str:
    given = key if value is None else _given(value)
    if value is None or isinstance(given, _Placeholder):
        return key if value is None else f"{key} = {given}"
    if isinstance(given, dict):  # maps={'X': '经度'}: map = ["X=经度"]
        given = [f"{field}={column}" for field, column in given.items()]
    return f"{key} = {json.dumps(given, ensure_ascii=False)}"


def _flag(flag: str, value: ast.expr | None) -> str:
    given = flag if value is None else _given(value)
    if value is None or isinstance(given, _Placeholder):
        return flag if value is None else f"{flag} {given}"
    if isinstance(given, bool):  # recode=True: --recode; record=False: --no-record
        return flag
    if isinstance(given, list | tuple):
        return " ".join(f"{flag} {item}" for item in given)
    if isinstance(given, dict):  # maps={'X': '经度'}: --map X=经度
        return " ".join(f"{flag} {key}={item}" for key, item in given.items())
    return f"{flag} {given}"


def error_line(exc: GridkitError, command: str = "",
               options: click.Command | None = None) -> str:
    """The one line ``gridkit`` prints on stderr for ``exc`` raised by ``command``.

    ``command`` is its path; ``options`` the command itself; flags stand in place of parameters.

    Examples
    --------
    >>> from gridkit.errors import InputError
    >>> error_line(InputError("`header_row=0`: rows count from 1", parameter="header_row"))
    'gridkit: error: --header-row 0: rows count from 1'
    """
    return f"gridkit: error: {cli_message(str(exc), command, options)}"


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Print each :class:`~gridkit.errors.GridkitWarning` raised in the block as one line.

    The line is ``gridkit: warning:`` on stderr (flags in place of parameters), every time it
    occurs; other warnings are shown as Python shows them.

    Examples
    --------
    >>> import warnings
    >>> from gridkit.errors import GridkitWarning
    >>> with warnings_as_lines():  # doctest: +SKIP
    ...     warnings.warn("no Chinese font found", GridkitWarning)
    gridkit: warning: no Chinese font found
    """
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            if issubclass(category, GridkitWarning):
                click.echo(f"gridkit: warning: {cli_message(str(message))}", err=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", GridkitWarning)
        yield


class GridkitGroup(click.Group):
    """A click group that turns a GridkitError or a usage mistake below it into one line.

    The line goes to stderr with its exit code (2 for bad usage or input, 1 for a failed check);
    each GridkitWarning becomes a ``gridkit: warning:`` line.
    """

    def invoke(self, ctx: click.Context):
        """Run the command; at the top level Ctrl-C exits 130 and SIGTERM 143, with one line."""
        if ctx.parent is None:
            with warnings_as_lines():
                return _interruptible(lambda: self._invoke(ctx))
        return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GridkitError as exc:
            if SIGNALLED:  # the error is the interrupt, seen through a library
                raise KeyboardInterrupt from None
            name = ctx.invoked_subcommand
            failed = self.get_command(ctx, name) if name else None
            click.echo(error_line(exc, f"{ctx.command_path} {name or ''}", failed), err=True)
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
# An interrupt Python swallowed (see _swallowed), raised again soon from SIGALRM.
_PENDING: list[type[BaseException]] = []
_AGAIN = 0.01  # seconds


def _swallowed(unraisable: Any) -> None:
    """``sys.unraisablehook`` while a command runs: raise a swallowed interrupt again.

    A signal handler runs wherever the main thread is, also inside a garbage collector's
    weakref callback or a ``__del__``; an exception raised there cannot propagate: Python
    prints "Exception ignored in ..." with a traceback and the command runs on, Ctrl-C lost.
    The interrupt is kept and raised again a moment later, from ordinary code (or, where
    there is no timer signal, when the command returns).
    """
    kind = type(unraisable.exc_value)
    if kind not in (KeyboardInterrupt, Terminated):
        sys.__unraisablehook__(unraisable)
        return
    _PENDING[:] = [kind]
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, _AGAIN)


def _raise_pending(signum, frame) -> None:
    if _PENDING:
        raise _PENDING.pop()()


def _interruptible(call: Callable):
    """Run a command so that Ctrl-C exits 130 and SIGTERM 143, each with one line.

    Every write is a transaction that was rolled back (or a stage that was removed).
    """
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        previous = signal.signal(signal.SIGTERM, _terminate), \
            signal.signal(signal.SIGINT, _ctrl_c)
        hook, sys.unraisablehook = sys.unraisablehook, _swallowed
        alarm = signal.signal(signal.SIGALRM, _raise_pending) \
            if hasattr(signal, "setitimer") else None
    try:
        result = call()
        if _PENDING:  # swallowed, and the command ended before it came back
            raise _PENDING.pop()()
        return result
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
            sys.unraisablehook = hook
            if alarm is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, alarm)
            _PENDING.clear()


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
            with warnings_as_lines():
                return function(*args, **kwargs)
        except GridkitError as exc:
            ctx = click.get_current_context()
            click.echo(error_line(exc, ctx.command_path, ctx.command), err=True)
            ctx.exit(exc.exit_code)

    return wrapper


def emit_json(payload: dict) -> None:
    """The one JSON object a ``--json`` command prints on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def step_figures(title: str, step: Callable[..., Any], as_json: bool, *args: Any,
                 **kwargs: Any) -> dict:
    """Run a step's file-level function under a status line and give its figures.

    The status line shows on a terminal only, never with ``--json``; with ``--json`` the
    figures are also printed as the command's one JSON object.

    Parameters
    ----------
    title : str
        What the status line says (the command's name).
    step : callable
        A file-level step (``step(*args, progress=..., **kwargs) -> StepResult``).
    as_json : bool
        The command's ``--json``.
    *args, **kwargs
        The step's arguments.

    Returns
    -------
    dict
        The step's figures.
    """
    with status_line(title, show_progress() and not as_json) as say:
        figures = step(*args, progress=say, **kwargs).figures
    if as_json:
        emit_json(figures)
    return figures


def print_table(title: str, rows: Iterable[tuple[str, str]]) -> None:
    """Print a command's summary on stdout: a two-column rich table without header.

    Parameters
    ----------
    title : str
        The table's title (what was written where).
    rows : iterable of (str, str)
        Figure name and its formatted value, in the order shown.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    Console(stderr=False).print(table)


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
