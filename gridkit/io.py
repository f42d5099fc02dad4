"""Reading any GDAL vector source and writing GeoPackages without ever damaging one.

Reads go through pyogrio with Arrow. Writes go through :mod:`gridkit.store`: one SQLite
transaction per command, in place, so a failed or interrupted command leaves the file as it
was, and the layers a command does not write are kept. Folders (a spot-check plan, an export)
are built beside their target and swapped in by :func:`replace_folder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
from pyogrio.errors import DataLayerError, DataSourceError

from gridkit import __version__
from gridkit.curves import CurveError, esri_curve_geometries, linearise_wkb
from gridkit.errors import FileError, InputError, mention, parameter_name
from gridkit.geometry import CURVE_MAX_GAP

RUN_LAYER = "gridkit_run"
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}

# The time and command line a run records, when fixed by :func:`stamped_run`.
_RUN_STAMP: ContextVar[tuple[datetime, str] | None] = ContextVar("gridkit_run_stamp",
                                                                  default=None)

# ESRI DBF language driver ids that mean a Chinese code page.
_DBF_CHINESE_LDIDS = {0x4D, 0x7A}  # 936 GBK, and 0x7A which ArcGIS also writes for 936


def layers_of(path: str | Path) -> list[str]:
    """Every layer of ``path``, tables included."""
    return [str(name) for name, _ in _listed(path)]


def _listed(path: str | Path):
    """``pyogrio.list_layers`` (name, geometry type) with a one-line error for the user."""
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file", file=path)
    try:
        return pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise FileError(f"{path}: GDAL cannot read it as a vector source ({exc})",
                        file=path) from None


def shapefile_encoding(path: Path) -> str | None:
    """The DBF encoding to force, or None to let GDAL decide (.cpg present, or ASCII)."""
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()),
               None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()[: 4 << 20]
    if len(raw) > 29 and raw[29] in _DBF_CHINESE_LDIDS:
        return "GB18030"
    return utf8_or_gb18030(raw).upper()


def utf8_or_gb18030(sample: bytes) -> str:
    """'utf-8' when the first bytes of a file decode as UTF-8, else 'gb18030'.

    GB18030 is China's superset of GBK, what Excel and ArcGIS write there.
    """
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut inside a character is not a reason to call UTF-8 text GBK.
        if exc.start < len(sample) - 4:
            return "gb18030"
    return "utf-8"


def read_vector(
    path: str | Path,
    *,
    layer: str | None = None,
    what: str = "input",
    crs: pyproj.CRS | None = None,
    layer_option: str = "layer",
    crs_option: str = "crs",
) -> gpd.GeoDataFrame:
    """Read one layer of any GDAL vector source as a GeoDataFrame with a CRS.

    ``what`` names the input in messages ("communities", "roads", ...); ``layer_option`` and
    ``crs_option`` are the caller's parameters that fix a missing layer name or CRS (e.g.
    ``"roads_layer"``; a flag spelling such as ``"--roads-layer"`` is taken too). Data
    without a CRS is refused unless ``crs`` names the one it is in.

    Raises
    ------
    FileError
        The file is missing or GDAL cannot read it.
    InputError
        The layer is not one of the file's, has no geometries or features, or has no CRS
        and ``crs`` is None.
    """
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_geoparquet(path, what)
    else:
        layer = choose_layer(path, layer, parameter_name(layer_option))
        frame = _read_gdal(path, layer)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(f"{path} ({what}): layer {layer!r} has no geometries; give a "
                         "spatial file (GeoPackage, Shapefile, GeoJSON, ...)", file=path)
    if frame.empty:
        raise InputError(f"{path} ({what}): layer {layer!r} has no features", file=path)
    if frame.crs is None:
        if crs is None:
            name = parameter_name(crs_option)
            raise InputError(
                f"{path} ({what}) has no CRS (no .prj or SRS): name it with {mention(name)}, "
                f"e.g. {mention(**{name: 'EPSG:4490'})}", parameter=name, file=path)
        frame = frame.set_crs(crs)
    frame.attrs["source"] = str(path)
    frame.attrs["layer"] = layer
    return frame


def read_toml(path: str | Path, what: str) -> dict:
    """A TOML file's contents, or a one-line error naming the file (``what`` it is for)."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise FileError(f"{path}: no such {what} file", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        # A Windows path typed as copied ("D:\数据\社区.shp") is the usual cause.
        hint = ("; write Windows paths with / (\"D:/数据/社区.shp\") or in single quotes "
                "('D:\\数据\\社区.shp')" if "'\\'" in str(exc) or "escape" in str(exc)
                else "")
        raise InputError(f"{path}: not valid TOML ({exc}){hint}", file=path) from None


def refuse_overwriting_inputs(output: str | Path, inputs: list) -> None:
    """A command must never write its result over one of its own input files."""
    target = Path(output).resolve()
    for source in inputs:
        if source is not None and Path(source).resolve() == target:
            raise InputError(f"{output} is also an input: writing there would replace the "
                             "input data; choose another output file", parameter="output",
                             file=output)


def feature_layers(path: str | Path) -> list[str]:
    """The layers of ``path`` that hold features: spatial layers, or every table when none is.

    A GeoPackage saved by QGIS carries non-spatial tables beside its features (``layer_styles``,
    attribute tables); they are not candidates when a command reads "the" layer of a file.
    """
    listed = _listed(path)
    spatial = [str(name) for name, kind in listed if kind is not None]
    return spatial or [str(name) for name, _ in listed if str(name) != "layer_styles"]


def choose_layer(path: Path, layer: str | None, option: str = "layer") -> str | None:
    """The layer to read: ``layer`` when given, else the file's only feature layer.

    ``layer`` may name any table of the file; a file of several feature layers needs the
    caller's parameter ``option``.
    """
    option = parameter_name(option)
    if layer is None:
        names = feature_layers(path)
        if len(names) > 1:
            raise InputError(
                f"{path} has {len(names)} layers ({', '.join(names)}): name one with "
                f"{mention(option)}", parameter=option, file=path)
        return names[0] if names else None
    names = layers_of(path)
    if layer not in names:
        raise InputError(
            f"{path} has no layer {layer!r}; its layers are: {', '.join(names) or 'none'}",
            parameter=option, file=path)
    return layer


def _read_gdal(path: Path, layer: str | None):
    """One layer through pyogrio, its index the feature ids.

    - A layer whose FID is also an attribute field (Esri JSON from ArcGIS: OBJECTID) is read
      with that field as the index: asking pyogrio's Arrow read for the FID as index there
      fails with "Index data must be 1-dimensional".
    - Curved geometries (GeoPackage CurvePolygon, CompoundCurve, MultiSurface, ...) are not
      WKB that shapely reads, so such a layer's WKB is read raw and linearised by
      :mod:`gridkit.curves` (within CURVE_TOLERANCE of the true arc, see
      :mod:`gridkit.geometry`); a geometry even that cannot read is left empty, for the
      caller to report.
    - Esri JSON true curves, which GDAL reads as no geometry, are linearised by
      :mod:`gridkit.esri_curves` to the same tolerance.
    """
    encoding = shapefile_encoding(path)
    try:
        with warnings.catch_warnings():
            # GDAL's note on 3D parts in a 2D container: Z is dropped and reported later.
            warnings.filterwarnings("ignore", "Sub-geometry", RuntimeWarning)
            frame, info = _read_layer(path, layer, encoding)
    except (DataSourceError, DataLayerError) as exc:
        raise FileError(f"{path}: GDAL cannot read layer {layer!r} ({exc})", file=path) from None
    except UnicodeDecodeError:
        from gridkit.sources.dbf import cpg_encoding  # gridkit.sources reads through this module

        declared = cpg_encoding(path) if path.suffix.lower() == ".shp" else None
        if declared is not None and _cpg_lies(path.with_suffix(".dbf"), declared[1]):
            # ArcGIS's GBK under a UTF-8 .cpg, not a name cut at 10 bytes
            cpg, named = declared
            other = "GBK" if named == "utf-8" else "UTF-8"
            raise InputError(
                f"{cpg} says {named.upper()}, but the field names or values of {path.name} are "
                f"not {named.upper()} text; write {other} in {cpg.name} (or delete it and "
                "gridkit decides from the values)", file=cpg) from None
        raise InputError(
            f"{path}: field names or values are not valid text in the file's encoding (a "
            "Shapefile cuts field names at 10 bytes, which can split a Chinese character); "
            "rename the fields to at most 3 Chinese or 10 Latin characters, or add a .cpg "
            "naming the encoding", file=path
        ) from None
    if info.get("driver") == "ESRIJSON" and isinstance(frame, gpd.GeoDataFrame):
        _fill_esri_curves(path, frame, info.get("crs"))
    return frame


def _cpg_lies(dbf: Path, encoding: str) -> bool:
    """Whether a DBF's text is not in the encoding its .cpg names.

    Unlike a field name cut at 10 bytes (its last character broken, the rest of the file in
    the encoding), the values or the middle of a name do not decode.
    """
    try:
        raw = dbf.read_bytes()
    except OSError:
        return False
    header = int.from_bytes(raw[8:10], "little")
    try:
        raw[header:header + (4 << 20)].decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < min(len(raw) - header, 4 << 20) - 4:
            return True
    for start in range(32, header - 1, 32):
        name = raw[start:start + 11].split(b"\0", 1)[0]
        try:
            name.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                return True
    return False


def _read_layer(path: Path, layer: str | None, encoding: str | None):
    """(frame, layer info): Arrow where it can, the curve and FID fallbacks where not."""
    info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    fid_field = info.get("fid_column") or ""
    own_fid = fid_field in set(info["fields"])
    kwargs = {"layer": layer, "fid_as_index": not own_fid, "encoding": encoding}
    try:
        frame = pyogrio.read_dataframe(path, use_arrow=True, **kwargs)
    except NotImplementedError:  # "Nonlinear geometry types are not currently supported"
        frame = _read_curved(path, kwargs, info.get("crs"))
    if own_fid and fid_field in frame:
        frame.index = pd.Index(frame[fid_field].to_numpy(), name=fid_field)
    return frame, info


def curve_gap(crs: str | None) -> float:
    """CURVE_MAX_GAP in the layer's units: metres, or degrees for geographic data.

    Parameters
    ----------
    crs : str or None
        The layer's CRS as GDAL gives it (None: assumed metric).

    Returns
    -------
    float
        The longest chord of a linearised arc, in the layer's units.

    Examples
    --------
    >>> curve_gap("EPSG:4547")
    5.0
    """
    try:
        geographic = crs is not None and pyproj.CRS(crs).is_geographic
    except pyproj.exceptions.CRSError:
        geographic = False
    return CURVE_MAX_GAP / 111_320 if geographic else CURVE_MAX_GAP


def _read_curved(path: Path, kwargs: dict, crs: str | None) -> gpd.GeoDataFrame:
    """A layer holding curves: attributes as usual, geometries from raw WKB, linearised."""
    frame = pyogrio.read_dataframe(path, use_arrow=True, read_geometry=False, **kwargs)
    _, table = pyogrio.read_arrow(path, layer=kwargs["layer"], columns=[],
                                  encoding=kwargs["encoding"])
    wkb = table.column(table.num_columns - 1).to_pylist()
    gap = curve_gap(crs)
    geoms = []
    for data in wkb:
        try:
            geoms.append(linearise_wkb(data, gap))
        except CurveError:
            geoms.append(None)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=crs)


def _fill_esri_curves(path: Path, frame: gpd.GeoDataFrame, crs: str | None) -> None:
    missing = np.flatnonzero(frame.geometry.isna().to_numpy())
    if len(missing) == 0:
        return
    curves = esri_curve_geometries(path, curve_gap(crs))
    found = [k for k in missing if k in curves]
    if found:
        column = frame.geometry.name
        values = frame[column].to_numpy().copy()
        values[found] = [curves[k] for k in found]
        frame[column] = gpd.GeoSeries(values, index=frame.index, crs=frame.crs)


def _read_geoparquet(path: Path, what: str) -> gpd.GeoDataFrame:
    """GeoParquet through pyarrow.

    The GDAL that pyogrio's wheels bundle has no Parquet driver.
    """
    if not path.exists():
        raise FileError(f"{path}: no such file", file=path)
    try:
        frame = gpd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise FileError(f"{path} ({what}): not a GeoParquet file ({exc})", file=path) from None
    except NotImplementedError:  # curved WKB, which the GeoParquet spec does not allow
        raise InputError(f"{path} ({what}): holds curved geometries, which GeoParquet does "
                           "not allow; write it as a GeoPackage (curves are linearised on "
                         "read) or linearise it", file=path) from None
    frame.index = pd.RangeIndex(len(frame))
    return frame


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file, and of a Shapefile's sidecars with it.

    A folder source (an Esri File Geodatabase ``.gdb``, what ArcGIS offices send) is hashed
    over its files in name order, each name with its bytes.
    """
    path = Path(path)
    digest = hashlib.sha256()
    members = [path]
    if path.suffix.lower() == ".shp":
        members = sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())
    elif path.is_dir():
        members = sorted(p for p in path.rglob("*") if p.is_file())
    for member in members:
        if path.is_dir():
            digest.update(member.relative_to(path).as_posix().encode() + b"\0")
        with open(member, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_time() -> datetime:
    """Now (UTC), or the time fixed by :func:`stamped_run` for the run under way."""
    stamp = _RUN_STAMP.get()
    return stamp[0] if stamp else datetime.now(UTC)


@contextmanager
def stamped_run(time: datetime, argv: str) -> Iterator[None]:
    """Every record written inside takes ``time`` and the command line ``argv``.

    ``gridkit_run`` rows, the GeoPackage's ``last_change`` dates (GDAL's ``OGR_CURRENT_DATE``)
    and the report's date then no longer depend on when or in which process the writing
    happened: a province run gives each county the same file whichever worker wrote it.

    Parameters
    ----------
    time : datetime
        The run's start, timezone-aware (UTC).
    argv : str
        The command line that started the run.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> with stamped_run(datetime(2026, 1, 1, tzinfo=UTC), "gridkit run p.toml"):
    ...     run_time().year
    2026
    """
    token = _RUN_STAMP.set((time, argv))
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options(
        {"OGR_CURRENT_DATE": time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
        _RUN_STAMP.reset(token)


def run_record(command: str, parameters: dict, inputs: Sequence[str | Path]) -> pd.DataFrame:
    """One ``gridkit_run`` row: time, version, command line, parameters and input checksums."""
    checksums = {str(p): file_checksum(p) for p in inputs if p is not None}
    stamp = _RUN_STAMP.get()
    return pd.DataFrame(
        {
            "TIME": [run_time().isoformat(timespec="seconds")],
            "VERSION": [__version__],
            "COMMAND": [command],
            "ARGV": [stamp[1] if stamp else " ".join(sys.argv)],
            "PARAMETERS": [json.dumps(parameters, ensure_ascii=False, sort_keys=True,
                                      default=str)],
            "INPUTS": [json.dumps(checksums, ensure_ascii=False, sort_keys=True)],
        }
    )


@dataclass
class ArrowLayer:
    """A layer as an Arrow table with a WKB geometry column (or none), for :func:`write_geopackage`.

    Written by ``pyogrio.write_arrow``, without pandas, which is what millions of rows need.
    """

    table: object  # pyarrow.Table
    crs: str | None = None
    geometry_type: str | None = None  # "Point", "Unknown", ... (None: no geometry)
    geometry_name: str | None = "geometry"


def publish_mode(temporary: Path, target: Path) -> None:
    """Give a temporary file or folder the permissions its final name should have.

    mkstemp/mkdtemp create them private (0600/0700); an output replacing an earlier one keeps
    that one's mode, a new one gets the usual mode under the process umask.
    """
    if target.exists():
        mode = target.stat().st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = (0o777 if temporary.is_dir() else 0o666) & ~umask
    os.chmod(temporary, mode)
    if temporary.is_dir():
        for inner in temporary.rglob("*"):
            os.chmod(inner, (mode if inner.is_dir() else mode & 0o666))


def replace_folder(staging: Path, target: Path) -> None:
    """Put the finished folder ``staging`` in the place of ``target``.

    Two renames, and the earlier folder put back if the second one fails, so ``target`` is never
    half-written.
    """
    publish_mode(staging, target)
    if not target.exists():
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_geopackage(
    path: str | Path,
    layers: dict[str, pd.DataFrame | ArrowLayer],
    run: pd.DataFrame | None = None,
    *,
    drop: tuple[str, ...] = (),
) -> None:
    """Replace ``layers``, remove the ``drop`` layers and append ``run``, in one transaction.

    The other layers are kept. The transaction is :mod:`gridkit.store`'s, in place; nothing
    changes if it fails.

    A ``qa_issue`` frame made by :func:`merge_qa` replaces only its command's rows.

    Parameters
    ----------
    path : str or Path
        The GeoPackage (created when absent).
    layers : dict of str to DataFrame, GeoDataFrame or ArrowLayer
        The layers to write whole.
    run : DataFrame, optional
        The ``gridkit_run`` row (:func:`run_record`).
    drop : tuple of str
        Layers to remove.

    Raises
    ------
    FileError
        When ``path`` is not a GeoPackage or cannot be written.
    """
    from gridkit.store import transaction

    command = str(run["COMMAND"].iloc[0]) if run is not None and "COMMAND" in run else "write"
    with transaction(path, command) as tx:
        for name in drop:
            tx.drop_layer(name)
        for name, frame in layers.items():
            merge = frame.attrs.get(_QA_MERGE) if isinstance(frame, pd.DataFrame) else None
            if merge is not None:
                rows = frame.drop(columns="COMMAND", errors="ignore")
                rows.attrs = {}
                tx.replace_qa(merge[0], rows, stale=tuple(merge[1]))
            else:
                tx.replace_layer(name, frame)
        if run is not None:
            tx.record_run(run)


def drop_layers(path: Path, names: set[str]) -> None:
    """Delete layers from a GeoPackage (table, spatial index, metadata rows), atomically."""
    from gridkit.store import transaction

    with transaction(path, "drop") as tx:
        for name in sorted(names):
            tx.drop_layer(name)


# SQLite settings for GDAL's bulk writes into a stage file: a bigger page cache (the R-tree
# build lives in it) and no fsync per transaction, which is safe because a stage file is
# thrown away unless it is complete.
_BULK_SQLITE = {"OGR_SQLITE_CACHE": "512", "OGR_SQLITE_SYNCHRONOUS": "OFF"}
_QA_MERGE = "gridkit_qa_merge"


def write_layer(path: Path, name: str, frame: pd.DataFrame | ArrowLayer) -> None:
    """Write one layer into the (stage) GeoPackage ``path`` with GDAL.

    Parameters
    ----------
    path : Path
        A GeoPackage (created when absent); gridkit only ever gives a stage file.
    name : str
        The layer, replaced when present.
    frame : DataFrame, GeoDataFrame or ArrowLayer
        The rows.
    """
    _write_layer(path, name, frame)  # looked up at each call (tests inject failures there)


# Layers that hold any kind of geometry (SPEC: qa_issue "any"): declared GEOMETRY from the
# start, so that a later command's rows of another kind keep the table consistent for GDAL.
_ANY_GEOMETRY = {"qa_issue"}


_SINGLE_AND_MULTI = {frozenset({single, f"Multi{single}"}): f"Multi{single}"
                     for single in ("Point", "LineString", "Polygon")}


def _write_layer(path: Path, name: str, frame: pd.DataFrame | ArrowLayer) -> None:
    if isinstance(frame, ArrowLayer):
        geometry = frame.geometry_name if frame.geometry_type else None
        if geometry and name in _ANY_GEOMETRY:
            frame = ArrowLayer(frame.table, frame.crs, "Unknown", frame.geometry_name)
        before = {key: pyogrio.get_gdal_config_option(key) for key in _BULK_SQLITE}
        pyogrio.set_gdal_config_options(_BULK_SQLITE)
        try:
            pyogrio.write_arrow(frame.table, path, layer=name, driver="GPKG",
                                geometry_name=geometry, geometry_type=frame.geometry_type,
                                crs=frame.crs if geometry else None, append=False)
        finally:
            pyogrio.set_gdal_config_options(before)
        return
    kwargs: dict = {"layer": name, "driver": "GPKG"}
    if isinstance(frame, gpd.GeoDataFrame):
        kinds = set(frame.geom_type.dropna())
        kwargs["geometry_type"], kwargs["promote_to_multi"] = (
            ("Unknown", False) if name in _ANY_GEOMETRY else declared_geometry_type(kinds))
    pyogrio.write_dataframe(frame, path, **kwargs)


def declared_geometry_type(kinds: set[str]) -> tuple[str, bool]:
    """The geometry type a layer of features of ``kinds`` declares; whether to make them Multi.

    One type: that one. Single and multi parts of one type (a community with an exclave
    among single polygons): the Multi type, single parts promoted, so GDAL and the exports
    (one Shapefile per type of an "Unknown" layer) keep one layer. Else ``Unknown``.

    Parameters
    ----------
    kinds : set of str
        The features' geometry types (``Polygon``, ``MultiPolygon``, ...).

    Returns
    -------
    tuple of (str, bool)
        The type to declare, and whether single parts are to be promoted to Multi.

    Examples
    --------
    >>> declared_geometry_type({"Polygon", "MultiPolygon"})
    ('MultiPolygon', True)
    """
    if len(kinds) == 1:
        return next(iter(kinds)), False
    multi = _SINGLE_AND_MULTI.get(frozenset(kinds))
    return (multi, True) if multi else ("Unknown", False)


def merge_qa(path: str | Path, command: str, new: gpd.GeoDataFrame,
             stale: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """``command``'s new ``qa_issue`` rows, marked to replace that command's earlier rows.

    :func:`write_geopackage` replaces that command's rows (and those of the ``stale`` commands,
    whose results it invalidates) and keeps the other commands' rows: no read of the existing
    layer.

    ``path`` is kept for the callers written before the store; it is not read.
    """
    del path
    new = new.assign(COMMAND=command)
    new.attrs[_QA_MERGE] = (command, tuple(stale))
    return new
