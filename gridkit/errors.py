"""Errors a user can cause, each naming what to fix and carrying its CLI exit code.

The messages speak to a library user: a parameter is named as it is passed in Python, in
backticks (```header_row=3```, ```crs```), the way osmnx names its parameters. The CLI shows
the same message with the flag instead (``--header-row 3``, ``--crs``): it rewrites the
backticked mentions in one place, :func:`gridkit.console.cli_message`. Build mentions with
:func:`mention` so that both spellings come out right.

``GridkitError``
    the base: anything gridkit refuses with a message (CLI exit 2).
``InputError`` (also a ``ValueError``)
    a parameter's value or an input file's content gridkit cannot use.
``FileError`` (also an ``OSError``)
    a file or folder that cannot be found, read or written.
``CheckFailed``
    a check or an acceptance that ran and failed (CLI exit 1).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CheckFailed", "FileError", "GridkitError", "GridkitWarning", "InputError", "mention",
           "parameter_name"]


class GridkitError(Exception):
    """Anything gridkit refuses, with a one-line message naming the fix.

    Parameters
    ----------
    message : str
        One line: the file (and row/field) at fault, what is wrong, and the fix. Parameters
        are mentioned in backticks as a library user passes them (see :func:`mention`).
    parameter : str, optional
        The library parameter the error is about (``"crs"``, ``"header_row"``), when one is.
    file : str or Path, optional
        The input or output file at fault.
    row : int, optional
        The row (1-based, as a spreadsheet counts) or feature at fault.
    field : str, optional
        The field or column at fault.

    Attributes
    ----------
    exit_code : int
        What the ``gridkit`` command exits with: 2 (bad usage or input).

    Examples
    --------
    >>> error = GridkitError("plan.toml: no such project file", file="plan.toml")
    >>> str(error), error.file, error.exit_code
    ('plan.toml: no such project file', 'plan.toml', 2)
    """

    exit_code = 2

    def __init__(self, message: str, *, parameter: str | None = None,
                 file: Any = None, row: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.file = None if file is None else str(file)
        self.row = row
        self.field = field

    def __reduce__(self):
        # Keep the attributes when the error crosses a process (a county's pipeline run by
        # a worker): the default pickles only ``args``.
        return (_rebuild, (type(self), self.args[0] if self.args else "", self.__dict__))


def _rebuild(cls: type, message: str, attributes: dict) -> GridkitError:
    error = cls.__new__(cls, message)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    if isinstance(error, OSError):
        error.filename = error.file  # not in __dict__: OSError keeps it in its own slot
    return error


class InputError(GridkitError, ValueError):
    r"""A parameter's value, or an input file's content, that gridkit cannot use (exit 2).

    Also a ``ValueError``: ``except ValueError`` in a notebook catches it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from gridkit.sources import read_source
    >>> events = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = events.write_text("经度,纬度\n121.3,30.7\n")
    >>> try:
    ...     read_source(events, header_row=0)
    ... except ValueError as error:
    ...     print(error.parameter, "|", error)
    header_row | `header_row=0`: rows count from 1
    """


class FileError(GridkitError, OSError):
    """A file or folder that cannot be found, read or written (exit 2).

    Also an ``OSError`` (like rasterio's ``RasterioIOError``); ``filename`` is the file.

    Examples
    --------
    >>> error = FileError("out/a.gpkg: cannot write (disk full)", file="out/a.gpkg")
    >>> isinstance(error, OSError), error.filename
    (True, 'out/a.gpkg')
    """

    def __init__(self, message: str, **where: Any) -> None:
        super().__init__(message, **where)
        self.filename = self.file

    def __str__(self) -> str:
        # OSError's own would print "[Errno None] None: FILE" once ``filename`` is set.
        return str(self.args[0]) if self.args else ""


class CheckFailed(GridkitError):
    """A check or an acceptance that ran and failed: the ``gridkit`` command exits 1.

    Examples
    --------
    >>> CheckFailed("out/a.gpkg: 3 component errors (see qa_issue)").exit_code
    1
    """

    exit_code = 1


def mention(*names: str, **values: Any) -> str:
    """A parameter mention for a message: ```name```, or ```name=value``` with the value's repr.

    The CLI shows it as the flag (``--name value``; see :func:`gridkit.console.cli_message`).

    Parameters
    ----------
    *names : str
        Parameters named without a value (``"crs"``).
    **values
        Parameters with the value to show: what the user gave, or a placeholder such as
        ``"COLUMN"``. A list or tuple is shown as the repeated flag on the command line.

    Returns
    -------
    str
        The mention, in backticks.

    Examples
    --------
    >>> mention(header_row=3)
    '`header_row=3`'
    >>> mention("crs")
    '`crs`'
    >>> mention(x="COLUMN", y="COLUMN")
    "`x='COLUMN', y='COLUMN'`"
    """
    parts = list(names) + [f"{name}={value!r}" for name, value in values.items()]
    return f"`{', '.join(parts)}`"


def parameter_name(option: str) -> str:
    """The library parameter for a name given either way.

    Either ``"--roads-layer"`` (a flag, as callers once passed it) or ``"roads_layer"``.

    Examples
    --------
    >>> parameter_name("--roads-layer"), parameter_name("crs")
    ('roads_layer', 'crs')
    """
    return option.lstrip("-").replace("-", "_") if option.startswith("--") else option


class GridkitWarning(UserWarning):
    """Something the user should know about a result that was still written.

    The ``gridkit`` command prints it as one ``gridkit: warning:`` line
    (:func:`gridkit.console.warnings_as_lines`); a notebook shows it as any Python warning.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("no Chinese font found", GridkitWarning)
    >>> caught[0].category.__name__, str(caught[0].message)
    ('GridkitWarning', 'no Chinese font found')
    """
