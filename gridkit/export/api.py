"""``gridkit export`` as a library: :class:`ExportOptions` and :func:`export_geopackage`.

Read the layers, cut them to the changes since an earlier export if asked, write them in the
chosen format (to a temporary place that replaces DEST when complete) and record what was
handed over in OUT.gpkg.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gridkit.errors import FileError, GridkitError, InputError, mention
from gridkit.export import history
from gridkit.export.delta import changes_since
from gridkit.export.fingerprint import feature_keys, key_fingerprints
from gridkit.export.layer import Layer
from gridkit.export.source import KEYS, check_source, choose_layers, read_export_layer
from gridkit.export.summary import export_figures, folder_manifest, manifest_row
from gridkit.export.target import MANIFEST, check_dest, staged
from gridkit.export.writers import Format, WriteContext, Written, formats
from gridkit.io import run_record
from gridkit.options import PATH, option, record
from gridkit.result import StepResult
from gridkit.store import created_by_gridkit

__all__ = ["ExportOptions", "export_geopackage", "export_layers", "list_runs"]

Progress = Callable[[str], None] | None


FORMATS = "gpkg|shp|geojson|csv|parquet"

@dataclass
class ExportOptions:
    """Options of ``gridkit export``.

    Parameters
    ----------
    format : str
        ``gpkg``, ``shp``, ``geojson``, ``csv`` or ``parquet``. ``--to``.
    dest : pathlib.Path
        The file (gpkg) or folder (the others) to write; replaced only when complete. The
        ``DEST`` argument.
    layers : list of str, optional
        Layers to export; an item may list several, comma-separated. Default: every data
        layer (shp: every spatial one; with ``since``: the ones with a feature key).
        ``--layers``.
    encoding : str, optional
        Text encoding: shp ``gbk`` (default) or ``utf-8``; csv ``utf-8`` (default, with a
        BOM) or ``gbk``. ``--encoding``.
    since : str, optional
        Export only what changed since this export run (its number, ``last`` or its TIME).
        ``--since``.
    record : bool
        Record this export in the source GeoPackage (``--no-record`` turns it off).

    Examples
    --------
    >>> ExportOptions("shp", Path("handoff/shp"), encoding="utf-8").record
    True
    """

    format: str | None = option(
        None, flag="--to", metavar=FORMATS, toml=False,
        help="Format: gpkg (one GeoPackage file, styled for QGIS, Chinese field "
             "descriptions), shp, geojson (WGS 84), csv (with coordinates) or parquet "
             "(GeoParquet): a folder DEST with one file per layer.")
    dest: Path | None = option(None, flag="DEST", argument=True, type=PATH, required=False,
                               toml=False)
    layers: list[str] | None = option(
        None, multiple=True, metavar="NAMES", toml=False,
        help="Layers to export, comma-separated or repeated. Default: every data layer (shp: "
             "every spatial one; --since: the ones with a feature key).")
    encoding: str | None = option(
        None, toml=False,
        help="Text encoding: shp gbk (default) or utf-8, with a .cpg; csv utf-8 (default, "
             "with a BOM for Excel) or gbk.")
    since: str | None = option(
        None, metavar="RUN", toml=False,
        help="Export only what changed since export RUN (its number from --list-runs, "
             "'last', or its TIME): new and changed features with CHANGE=new/changed, "
             "retired keys with CHANGE=retired.")
    record: bool = option(
        True, flag="--no-record", is_flag=True, flag_value=False, toml=False, record=False,
        help="Do not record this export in OUTPUT (OUTPUT stays untouched; a later --since "
             "cannot refer to it).")


def export_geopackage(gpkg: str | Path, options: ExportOptions,
                      progress: Progress = None) -> StepResult:
    """Export layers of ``gpkg`` (a gridkit GeoPackage) as ``options`` say.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage to export from; only the export's record is added to it.
    options : ExportOptions
        Format, destination, layers, encoding, baseline run.
    progress : callable, optional
        Called with the name of each stage.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit export --json`` prints (dest, format, layers with their
        feature counts, run, warnings); ``qa``: empty (an export finds no issues).

    Raises
    ------
    GridkitError
        No format or DEST, an unknown format or encoding, an unreadable source, a DEST that
        is not an earlier export, a ``since`` run that is not recorded.

    Examples
    --------
    >>> result = export_geopackage("out/district.gpkg",
    ...                            ExportOptions("shp", Path("handoff/shp")))  # doctest: +SKIP
    >>> result["layers"]["unit_grid"]["features"]  # doctest: +SKIP
    412
    """
    source = Path(gpkg)
    fmt, dest, encoding = _target(options, source)
    check_source(source)
    check_dest(dest, fmt.kind, fmt.name, source)
    given = [n.strip() for item in options.layers or () for n in item.split(",") if n.strip()]
    names = choose_layers(source, given or None, spatial_only=fmt.spatial_only,
                          keyed_only=options.since is not None)
    baseline = history.resolve_run(source, options.since) if options.since else None
    # gridkit writes only into files it made: an export of someone else's GeoPackage is not
    # recorded in it (and so cannot be a --since baseline later).
    foreign = options.record and not created_by_gridkit(source)
    run = history.next_run(source) if options.record and not foreign else None
    parameters = record(options, format=fmt.name, layers=names, encoding=encoding,
                        since=baseline.run if baseline else None)
    # The gridkit_run row is made now so that its TIME is the one the export records.
    run_row = run_record("export", parameters, [])
    time = str(run_row["TIME"].iloc[0])

    layers, tracked, counts = [], {}, {}
    for name in names:
        _say(progress, f"reading {name}")
        layer = read_export_layer(source, name)
        if name in KEYS:
            layer, tracked[name], counts[name] = _track(source, layer, KEYS[name], baseline)
        layers.append(layer)

    manifest = [manifest_row(source, layer, counts.get(layer.name), run, baseline, time)
                for layer in layers]
    # counts are only made against a baseline
    since = baseline.run if baseline else None
    notes = [f"{name}: export run {since} did not hand this layer over; every feature "
             "is sent as new" for name, c in counts.items() if c and not c["recorded"]]
    if foreign:
        notes.append(f"{source.name} was not made by gridkit, so this export is not recorded "
                     "in it (gridkit does not write into others' files); --since cannot "
                     "refer to it later")
    _say(progress, f"writing {fmt.name}")
    written = _write(layers, fmt, dest, encoding, manifest, partial(
        folder_manifest, source, fmt.name, encoding, run, baseline, time, manifest),
        incremental=baseline is not None)

    if run is not None:
        _say(progress, f"recording run {run} in {source.name}")
        summary = [{"RUN": run, "TIME": time, "FORMAT": fmt.name, "DEST": str(dest),
                    "LAYER": row["LAYER"], "KEYFIELD": row["KEYFIELD"],
                    "FEATURES": row["FEATURES"], "SINCE": row["SINCE"], "NEW": row["NEW"],
                    "CHANGED": row["CHANGED"], "RETIRED": row["RETIRED"]} for row in manifest]
        try:
            history.record_export(source, run, summary, tracked, run_row)
        except (GridkitError, OSError, DataSourceError, DataLayerError) as exc:
            raise FileError(f"{dest} was written, but recording the export in {source} "
                            f"failed ({exc}); export again, or add {mention(record=False)}",
                            file=source) from None
    written.warnings[:0] = notes
    return StepResult(export_figures(source, dest, fmt.name, encoding, run, baseline, time,
                                     manifest, written))


def export_layers(layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame | Layer],
                  options: ExportOptions, *, name: str = "memory",
                  progress: Progress = None) -> StepResult:
    """Export layers held in memory as ``options`` say, as the command exports a GeoPackage's.

    The same writers, field names (Shapefile's 10-byte cuts and ``field_names.csv``), styles,
    encodings and DEST rules as :func:`export_geopackage`; with no GeoPackage there is no
    export history, so ``since`` is refused and nothing is recorded (``run`` is None).

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame, pandas.DataFrame or Layer
        Layer name (as in a gridkit GeoPackage: ``unit_grid``, ``component``, ...) → its
        features; a DataFrame is an attribute table.
    options : ExportOptions
        Format, DEST, which of ``layers`` (default all; shp: the spatial ones), encoding.
    name : str
        The source named in the manifest and figures.
    progress : callable, optional
        Called with the name of each stage.

    Returns
    -------
    StepResult
        ``figures`` as ``gridkit export --json`` prints them (dest, format, outputs,
        counts, layers with their files, warnings); ``qa`` empty.

    Raises
    ------
    GridkitError
        No format or DEST, an unknown format, encoding or layer, ``since`` given, a DEST
        that is not an earlier export.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> grids = gpd.GeoDataFrame({"BGID": ["310116001001001"], "COMMUNITY": "310116001001"},
    ...                          geometry=[shapely.box(0, 0, 100, 100)], crs=4549)
    >>> dest = pathlib.Path(tempfile.mkdtemp()) / "shp"
    >>> result = export_layers({"unit_grid": grids}, ExportOptions("shp", dest))
    >>> result["counts"], sorted(p.name for p in dest.iterdir())[:3]
    ({'unit_grid': 1}, ['field_names.csv', 'gridkit_export.json', 'unit_grid.cpg'])
    """
    from gridkit.export.layer import layer_of_frame
    from gridkit.io import run_time

    fmt, dest, encoding = _target(options, name)
    if options.since is not None:
        raise InputError(f"{mention(since=options.since)}: layers in memory have no export "
                         "history; export the GeoPackage (export_geopackage) to send only "
                         "changes", parameter="since")
    source = Path(name)
    check_dest(dest, fmt.kind, fmt.name, source)
    given = [n.strip() for item in options.layers or () for n in item.split(",") if n.strip()]
    for missing in [n for n in given if n not in layers]:
        raise InputError(f"{mention('layers')}: no layer {missing!r} given; the layers are: "
                         f"{', '.join(layers) or 'none'}", parameter="layers")
    chosen = [layer_of_frame(n, layers[n]) if not isinstance(layers[n], Layer) else layers[n]
              for n in (given or list(layers))]
    if not given and fmt.spatial_only:
        chosen = [layer for layer in chosen if layer.spatial]
    if not chosen:
        raise InputError(f"{name} has no data layers to export", parameter="layers")
    time = run_time().isoformat(timespec="seconds")
    manifest = [manifest_row(source, layer, None, None, None, time) for layer in chosen]
    _say(progress, f"writing {fmt.name}")
    written = _write(chosen, fmt, dest, encoding, manifest, partial(
        folder_manifest, source, fmt.name, encoding, None, None, time, manifest))
    return StepResult(export_figures(source, dest, fmt.name, encoding, None, None, time,
                                     manifest, written))


def _target(options: ExportOptions, source: str | Path) -> tuple[Format, Path, str]:
    """The format, DEST and encoding ``options`` ask for, checked."""
    if not options.format or options.dest is None:
        raise InputError(f"give `format=FORMAT` and DEST, e.g. gridkit export {source} --to "
                         f"gpkg handoff.gpkg (formats: {FORMATS.replace('|', ', ')})",
                         parameter="format")
    fmt = _format(options.format.lower())
    return fmt, Path(options.dest), _encoding(fmt, options.encoding)


def _write(layers: list[Layer], fmt: Format, dest: Path, encoding: str, manifest: list[dict],
           folder_json: Callable[[Written], dict], *, incremental: bool = False) -> Written:
    """Write ``layers`` in ``fmt`` to a temporary place that then replaces ``dest``.

    ``folder_json(written)`` is the manifest a folder export holds.
    """
    context = WriteContext(encoding=encoding, incremental=incremental, manifest=manifest)
    try:
        with staged(dest, fmt.kind) as temporary:
            written = fmt.write(layers, temporary, context)
            if fmt.kind == "file":  # the writer saw the temporary name
                written.files = {name: [dest.name] for name in written.files}
            else:
                (temporary / MANIFEST).write_text(json.dumps(
                    folder_json(written), ensure_ascii=False, indent=2), encoding="utf-8")
    except GridkitError:  # a writer's own (a FileError is an OSError too): as it is
        raise
    except (OSError, DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FileError(f"{dest}: cannot write the export ({reason}); nothing was "
                        "replaced", file=dest) from None
    return written


def _format(name: str) -> Format:
    known = formats()
    if name not in known:
        raise InputError(f"{mention(format=name)}: unknown format; choose one of "
                         f"{', '.join(known)}", parameter="format")
    return known[name]


def _encoding(fmt: Format, encoding: str | None) -> str:
    if encoding is None:
        return fmt.encodings[0] if fmt.encodings else "utf-8"
    value = encoding.lower().replace("_", "-")
    value = {"utf8": "utf-8", "cp936": "gbk", "gb2312": "gbk"}.get(value, value)
    if not fmt.encodings:
        raise InputError(f"{mention('encoding')}: {mention(format=fmt.name)} is always UTF-8; "
                         f"{mention('encoding')} applies to shp and csv", parameter="encoding")
    if value not in fmt.encodings:
        raise InputError(f"{mention(encoding=encoding)}: choose {' or '.join(fmt.encodings)}",
                         parameter="encoding")
    return value


def _track(source: Path, layer: Layer, key: str, baseline: history.ExportRun | None,
           ) -> tuple[Layer, history.Tracked, dict | None]:
    """Fingerprint ``layer`` by ``key``; with a baseline, cut it to what changed since."""
    if key not in layer.fields:
        raise InputError(f"{source}: layer {layer.name} has no {key} field, its feature key; "
                         "was it written by gridkit?")
    keys = feature_keys(layer, key)
    fingerprints = key_fingerprints(layer, key)
    first = pd.Series(range(len(keys))).groupby(keys, sort=False).first()
    wkb = layer.geometry.to_pylist() if layer.geometry is not None else [None] * len(keys)
    fingerprints["WKB"] = [wkb[first[k]] for k in fingerprints["KEY"]]
    tracked = history.Tracked(key, fingerprints)
    if baseline is None:
        return layer, tracked, None
    previous = history.state_at(source, layer.name, baseline)
    cut, counts = changes_since(layer, key, keys, fingerprints, previous,
                                partial(history.last_geometries, source, layer.name))
    counts["recorded"] = previous is not None
    return cut, tracked, counts


def _say(progress: Progress, stage: str) -> None:
    if progress is not None:
        progress(stage)


def list_runs(source: str | Path) -> dict:
    """The exports recorded in ``source``, for ``--list-runs`` and ``--since``.

    Parameters
    ----------
    source : str or pathlib.Path
        A gridkit GeoPackage.

    Returns
    -------
    dict
        ``source`` and ``runs``: one entry per export (run, time, format, dest, since,
        layers with their feature counts).

    Raises
    ------
    GridkitError
        When ``source`` cannot be read as a GeoPackage.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.gpkg"
    >>> gpd.GeoDataFrame({"BGID": ["310116001001001"]}, crs=4549,
    ...     geometry=[shapely.box(0, 0, 100, 100)]).to_file(path, layer="unit_grid")
    >>> list_runs(path)["runs"]
    []
    """
    source = Path(source)
    check_source(source)
    return {"source": str(source), "runs": [r.as_dict() for r in history.export_runs(source)]}
