"""Options of gridkit's steps, each written once.

A step's options are one dataclass (``GroupOptions``, ``PartitionOptions``, ...) whose fields
are made with :func:`option`. From those fields come:

- the click options of the step's command (:func:`click_options`), which hand the command
  one options object instead of a keyword per flag;
- the keys of the step's ``gridkit run`` section and their types (:func:`toml_types`), and
  the options object built from a checked section (:func:`from_section`);
- the parameters recorded in the ``gridkit_run`` layer (:func:`record`).

Options several commands share (``--json``, ``--crs``, ``--layer``, ``--scheduler`` and
``--workers``, the catalog options, the progress line) are defined here once.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class ToyOptions:
...     size: float = option(10.0, help="Cell size, m.", type=float)
...     label: str | None = option(None, help="A label.", record=False)
>>> toml_types(ToyOptions)
{'size': (<class 'int'>, <class 'float'>), 'label': <class 'str'>}
>>> record(ToyOptions(size=5.0))
{'size': 5.0}
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gridkit.distributed import cluster_options

__all__ = ["OptionSpec", "catalog_field", "catalog_options", "click_options", "cluster_options",
           "crs_field", "extend_field", "from_section", "json_option", "layer_field", "option",
           "record", "spec_of", "toml_types"]

# The key of an option's spec in a dataclass field's metadata.
SPEC = "gridkit.option"


@dataclass(frozen=True)
class OptionSpec:
    """How one field of an options dataclass appears on the command line, in TOML, in the record.

    Parameters
    ----------
    flags : tuple of str
        Click's declarations, e.g. ``("--key-areas",)`` or ``("-o", "--output")``; for an
        argument, its metavar (``("FILES",)``). Empty: the field is not on the command line.
    help : str
        The option's help text.
    type : click.ParamType or type, optional
        Click's type; ``None`` lets click choose (text).
    toml : str or None
        The key in the step's ``gridkit run`` section; ``None``: not settable there.
    record : str or None
        The key in the ``gridkit_run`` row's parameters; ``None``: not recorded.
    argument : bool
        A positional argument rather than an option.
    click : dict
        Further keyword arguments for :func:`click.option` / :func:`click.argument`
        (``is_flag``, ``multiple``, ``metavar``, ``show_default``, ``nargs``, ...).
    kind : type or tuple of type, optional
        The TOML type, when it is not the one the field's annotation gives (``list`` of
        file paths, ``(int, float)`` for a number).
    """

    flags: tuple[str, ...]
    help: str = ""
    type: Any = None
    toml: str | None = None
    record: str | None = None
    argument: bool = False
    click: dict = dataclasses.field(default_factory=dict)
    kind: Any = None


def option(default: Any = None, *, help: str = "", flag: str | tuple[str, ...] | None = "",
           type: Any = None, toml: str | bool | None = True, record: str | bool = True,
           argument: bool = False, kind: Any = None, factory: Callable | None = None,
           **click_kwargs: Any) -> Any:
    """A dataclass field that is also a command-line option, a TOML key and a run parameter.

    Parameters
    ----------
    default : object
        The field's default (and the option's).
    help : str
        Help text, shown by ``gridkit CMD --help``.
    flag : str or tuple of str or None
        The flag(s), e.g. ``"--key-areas"``; ``""`` (default) derives ``--field-name`` from
        the field's name; ``None`` keeps the field off the command line.
    type : click.ParamType or type, optional
        Click's type for the option.
    toml : str or bool or None
        ``True``: the field's name is its TOML key; a string names another key; ``False`` or
        ``None``: not in the config.
    record : str or bool
        ``True``: recorded under the field's name; a string: under that key; ``False``: not
        recorded in ``gridkit_run``.
    argument : bool
        A positional argument (``flag`` is then its metavar).
    kind : type or tuple of type, optional
        TOML type when the annotation does not say it (see :class:`OptionSpec`).
    factory : callable, optional
        A default factory (for mutable defaults) instead of ``default``.
    **click_kwargs
        Passed to :func:`click.option` (``is_flag``, ``multiple``, ``metavar``, ...).

    Returns
    -------
    dataclasses.Field
        To be assigned to a field of an options dataclass.

    Examples
    --------
    >>> from dataclasses import dataclass, fields
    >>> @dataclass(frozen=True)
    ... class Options:
    ...     dense: str = option("10-16", help="Unit grids per responsibility grid.")
    >>> spec_of(fields(Options)[0]).flags
    ('--dense',)
    """
    spec = OptionSpec(
        flags=(flag,) if isinstance(flag, str) else tuple(flag or ()),
        help=help, type=type, argument=argument, click=click_kwargs, kind=kind,
        toml=toml if isinstance(toml, str) else ("" if toml else None),
        record=record if isinstance(record, str) else ("" if record else None))
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={SPEC: spec})
    return dataclasses.field(default=default, metadata={SPEC: spec})


def spec_of(field: dataclasses.Field) -> OptionSpec:
    """The :class:`OptionSpec` of ``field`` with its defaults filled from the field's name.

    Parameters
    ----------
    field : dataclasses.Field
        A field of an options dataclass, made with :func:`option`.

    Returns
    -------
    OptionSpec
        ``flags`` ``("--field-name",)`` when none was given, ``toml`` and ``record`` the
        field's name where they were ``True``.

    Raises
    ------
    TypeError
        When the field was not made with :func:`option`.
    """
    spec = field.metadata.get(SPEC)
    if spec is None:
        raise TypeError(f"{field.name}: an options field must be made with gridkit.options."
                        "option()")
    flags = spec.flags
    if flags == ("",):
        flags = (field.name.upper(),) if spec.argument else ("--" + field.name.replace("_", "-"),)
    return dataclasses.replace(
        spec, flags=flags, toml=field.name if spec.toml == "" else spec.toml,
        record=field.name if spec.record == "" else spec.record)


def _specs(cls: type) -> list[tuple[dataclasses.Field, OptionSpec]]:
    return [(f, spec_of(f)) for f in dataclasses.fields(cls)]


def click_options(cls: type) -> Callable[[Callable], Callable]:
    r"""A decorator giving a click command the options of ``cls``, passed as one object.

    The command's function receives ``options=cls(...)`` in place of one keyword per
    option; options appear in ``--help`` in the order of the dataclass's fields.

    Parameters
    ----------
    cls : type
        An options dataclass whose fields are made with :func:`option`.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Options:
    ...     size: float = option(10.0, help="Cell size, m.", type=float)
    >>> @click.command()
    ... @click_options(Options)
    ... def cells(options):
    ...     click.echo(options.size)
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(cells, ["--size", "25"]).output
    '25.0\n'
    """
    specs = [(f, s) for f, s in _specs(cls) if s.flags]

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def command(*args, **kwargs):
            values = {f.name: kwargs.pop(f.name) for f, _ in specs}
            for name, value in values.items():
                if isinstance(value, tuple) and _annotation(cls, name) is list:
                    values[name] = list(value)
            return function(*args, options=cls(**values), **kwargs)

        for field, spec in reversed(specs):
            if spec.argument:
                named = {} if spec.flags[0] == field.name.upper() else {"metavar": spec.flags[0]}
                command = click.argument(field.name, type=spec.type, **named,
                                         **spec.click)(command)
                continue
            settings = dict(spec.click)
            # No default where click's own (none, an unset flag) is the field's.
            if not settings.get("multiple") and field.default not in (
                    dataclasses.MISSING, None) and not (settings.get("is_flag")
                                                        and field.default is False):
                settings.setdefault("default", field.default)
            command = click.option(*spec.flags, field.name, type=spec.type, help=spec.help,
                                   **settings)(command)
        return command

    return decorate


def _annotation(cls: type, name: str) -> Any:
    """The field's type with ``None`` taken out of a union: ``Path | None`` → ``Path``."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else tuple(args)
    return typing.get_origin(hint) or hint


def toml_types(cls: type) -> dict[str, Any]:
    """The keys a ``gridkit run`` section of this step takes, with the type each must have.

    Parameters
    ----------
    cls : type
        An options dataclass.

    Returns
    -------
    dict
        TOML key → ``Path`` (a file path resolved against the config's folder), ``str``,
        ``bool``, ``int``, ``(int, float)`` (a number) or ``list`` (a list of file paths).
    """
    types_: dict[str, Any] = {}
    for field, spec in _specs(cls):
        if spec.toml is None:
            continue
        kind = spec.kind or _annotation(cls, field.name)
        types_[spec.toml] = (int, float) if kind is float else kind
    return types_


def from_section(cls: type, section: dict, **values: Any) -> Any:
    """The options object of a checked ``gridkit run`` section.

    Parameters
    ----------
    cls : type
        The step's options dataclass.
    section : dict
        TOML key → value, checked and paths resolved (:func:`gridkit.pipeline.check_config`).
    **values
        Fields set from elsewhere (they win over the section).

    Returns
    -------
    object
        ``cls(...)``, defaults where the section is silent.
    """
    by_key = {spec.toml: field.name for field, spec in _specs(cls) if spec.toml is not None}
    fields_ = {by_key[key]: value for key, value in section.items() if key in by_key}
    return cls(**{**fields_, **values})


def record(options: Any, **values: Any) -> dict:
    """The parameters of a step's ``gridkit_run`` row.

    Parameters
    ----------
    options : dataclass instance
        The step's options.
    **values
        Parameters the step computed (the CRS it worked in, the workload source) or
        recorded in another form; they win over the options.

    Returns
    -------
    dict
        Record key → value (paths as text), for :func:`gridkit.io.run_record`.
    """
    parameters = {}
    for field, spec in _specs(type(options)):
        if spec.record is not None:
            value = getattr(options, field.name)
            parameters[spec.record] = str(value) if isinstance(value, Path) else value
    return {**parameters, **values}


def json_option(what: str = "figures") -> Callable[[Callable], Callable]:
    """``--json``: print one JSON object on stdout and nothing else there.

    Parameters
    ----------
    what : str
        What the object holds, for the help text.

    Returns
    -------
    callable
        A click decorator adding the ``as_json`` flag.
    """
    return click.option("--json", "as_json", is_flag=True,
                        help=f"Print one JSON object of {what} on stdout.")


def crs_field(help: str, **kwargs: Any) -> Any:
    """The ``--crs`` field of a step: the CRS of input data that does not declare one.

    Every ``--crs`` names the CRS that inputs without one are in (``EPSG:n`` or, for
    coordinate columns, ``wgs84``/``gcj02``/``bd09``/...); steps differ only in which
    inputs those are, which ``help`` says.

    Parameters
    ----------
    help : str
        The option's help text for this step.
    **kwargs
        Further :func:`option` arguments (``record=False`` to keep it out of the run record).

    Returns
    -------
    dataclasses.Field
        A ``crs: str | None`` field, TOML key ``crs``.
    """
    return option(None, flag="--crs", help=help, **kwargs)


def layer_field(of: str, flag: str = "", **kwargs: Any) -> Any:
    """A ``--layer``/``--X-layer`` field: the layer of a multi-layer input file.

    Parameters
    ----------
    of : str
        The input it belongs to, e.g. ``"--key-areas"``.
    flag : str
        The flag; default ``--field-name``.
    **kwargs
        Further :func:`option` arguments.

    Returns
    -------
    dataclasses.Field
        A ``str | None`` field.
    """
    return option(None, flag=flag, help=f"Layer of {of}, when the file has several.", **kwargs)


CATALOG_HELP = ("Local catalog (CSV/XLSX: code,name or 大类代码,大类名称,小类代码,小类名称); "
                "replaces the national one unless --extend.")
EXTEND_HELP = "Add the --catalog classes to the national catalog."


def catalog_field(**kwargs: Any) -> Any:
    """The ``--catalog`` field: a local class catalog file (text path).

    Parameters
    ----------
    **kwargs
        Further :func:`option` arguments; not in TOML unless ``toml=True``.

    Returns
    -------
    dataclasses.Field
        A ``str | None`` field.
    """
    kwargs.setdefault("toml", False)
    return option(None, type=click.Path(dir_okay=False), help=CATALOG_HELP, **kwargs)


def extend_field(**kwargs: Any) -> Any:
    """The ``--extend`` field: add the ``--catalog`` classes to the national ones.

    Parameters
    ----------
    **kwargs
        Further :func:`option` arguments; not in TOML unless ``toml=True``.

    Returns
    -------
    dataclasses.Field
        A ``bool`` field.
    """
    kwargs.setdefault("toml", False)
    return option(False, is_flag=True, help=EXTEND_HELP, **kwargs)


def catalog_options(command: Callable) -> Callable:
    """``--catalog`` and ``--extend`` on a click command without an options dataclass.

    Parameters
    ----------
    command : callable
        A click command function; it receives ``catalog_path`` and ``extend``.

    Returns
    -------
    callable
        The command with both options.
    """
    command = click.option("--extend", is_flag=True, help=EXTEND_HELP)(command)
    return click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False),
                        help=CATALOG_HELP)(command)
