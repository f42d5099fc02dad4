"""Reading any GDAL vector source and writing GeoPackages without ever damaging one.

Reads go through pyogrio with Arrow. Writes go to a temporary copy beside the target that
replaces it only when every layer is written, so a failed command leaves the previous file as
it was, and the layers a command does not write are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import tomllib
import warnings
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
from gridkit.errors import GridkitError
from gridkit.geometry import CURVE_MAX_GAP

RUN_LAYER = "gridkit_run"
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}

# ESRI DBF language driver ids that mean a Chinese code page.
_DBF_CHINESE_LDIDS = {0x4D, 0x7A}  # 936 GBK, and 0x7A which ArcGIS also writes for 936


def layers_of(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.exists():
        raise GridkitError(f"{path}: no such file")
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError) as exc:
        raise GridkitError(f"{path}: GDAL cannot read it as a vector source ({exc})") from None


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
    """'utf-8' when the first bytes of a file decode as UTF-8, else 'gb18030' (China's
    superset of GBK, what Excel and ArcGIS write there)."""
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
    layer_option: str = "--layer",
    crs_option: str = "--crs",
) -> gpd.GeoDataFrame:
    """Read one layer of any GDAL vector source as a GeoDataFrame with a CRS.

    ``what`` names the input in messages ("communities", "roads", ...), and the options are
    the ones that fix a missing layer name or CRS. Data without a CRS is refused unless
    ``crs`` names the one it is in.
    """
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_geoparquet(path, what)
    else:
        layer = _choose_layer(path, layer, layer_option)
        frame = _read_gdal(path, layer)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise GridkitError(f"{path} ({what}): layer {layer!r} has no geometries; give a "
                           "spatial file (GeoPackage, Shapefile, GeoJSON, ...)")
    if frame.empty:
        raise GridkitError(f"{path} ({what}): layer {layer!r} has no features")
    if frame.crs is None:
        if crs is None:
            raise GridkitError(
                f"{path} ({what}) has no CRS (no .prj or SRS): name it with {crs_option}, "
                f"e.g. {crs_option} EPSG:4490"
            )
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
        raise GridkitError(f"{path}: no such {what} file") from None
    except tomllib.TOMLDecodeError as exc:
        raise GridkitError(f"{path}: not valid TOML ({exc})") from None


def refuse_overwriting_inputs(output: str | Path, inputs: list) -> None:
    """A command must never write its result over one of its own input files."""
    target = Path(output).resolve()
    for source in inputs:
        if source is not None and Path(source).resolve() == target:
            raise GridkitError(f"{output} is also an input: writing there would replace the "
                               "input data; choose another output file")


def _choose_layer(path: Path, layer: str | None, option: str) -> str | None:
    names = layers_of(path)
    if layer is None:
        if len(names) > 1:
            raise GridkitError(
                f"{path} has {len(names)} layers ({', '.join(names)}): name one with {option}"
            )
        return names[0] if names else None
    if layer not in names:
        raise GridkitError(
            f"{path} has no layer {layer!r}; its layers are: {', '.join(names) or 'none'}"
        )
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
        raise GridkitError(f"{path}: GDAL cannot read layer {layer!r} ({exc})") from None
    except UnicodeDecodeError:
        raise GridkitError(
            f"{path}: field names or values are not valid text in the file's encoding (a "
            "Shapefile cuts field names at 10 bytes, which can split a Chinese character); "
            "rename the fields to at most 3 Chinese or 10 Latin characters, or add a .cpg "
            "naming the encoding"
        ) from None
    if info.get("driver") == "ESRIJSON" and isinstance(frame, gpd.GeoDataFrame):
        _fill_esri_curves(path, frame, info.get("crs"))
    return frame


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


def _curve_gap(crs: str | None) -> float:
    """CURVE_MAX_GAP in the layer's units: metres, or degrees for geographic data."""
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
    gap = _curve_gap(crs)
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
    curves = esri_curve_geometries(path, _curve_gap(crs))
    found = [k for k in missing if k in curves]
    if found:
        column = frame.geometry.name
        values = frame[column].to_numpy().copy()
        values[found] = [curves[k] for k in found]
        frame[column] = gpd.GeoSeries(values, index=frame.index, crs=frame.crs)


def _read_geoparquet(path: Path, what: str) -> gpd.GeoDataFrame:
    """GeoParquet through pyarrow: the GDAL that pyogrio's wheels bundle has no Parquet
    driver."""
    if not path.exists():
        raise GridkitError(f"{path}: no such file")
    try:
        frame = gpd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise GridkitError(f"{path} ({what}): not a GeoParquet file ({exc})") from None
    except NotImplementedError:  # curved WKB, which the GeoParquet spec does not allow
        raise GridkitError(f"{path} ({what}): holds curved geometries, which GeoParquet does "
                           "not allow; write it as a GeoPackage (curves are linearised on "
                           "read) or linearise it") from None
    frame.index = pd.RangeIndex(len(frame))
    return frame


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file, and of a Shapefile's sidecars with it."""
    path = Path(path)
    digest = hashlib.sha256()
    members = [path]
    if path.suffix.lower() == ".shp":
        members = sorted(p for p in path.parent.glob(path.stem + ".*") if p.is_file())
    for member in members:
        with open(member, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_record(command: str, parameters: dict, inputs: list[str | Path]) -> pd.DataFrame:
    """One ``gridkit_run`` row: time, version, command line, parameters and input checksums."""
    checksums = {str(p): file_checksum(p) for p in inputs if p is not None}
    return pd.DataFrame(
        {
            "TIME": [datetime.now(UTC).isoformat(timespec="seconds")],
            "VERSION": [__version__],
            "COMMAND": [command],
            "ARGV": [" ".join(sys.argv)],
            "PARAMETERS": [json.dumps(parameters, ensure_ascii=False, sort_keys=True,
                                      default=str)],
            "INPUTS": [json.dumps(checksums, ensure_ascii=False, sort_keys=True)],
        }
    )


@dataclass
class ArrowLayer:
    """A layer as an Arrow table with a WKB geometry column (or none), for
    :func:`write_geopackage`: written by ``pyogrio.write_arrow``, without pandas, which is what
    millions of rows need."""

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
    """Put the finished folder ``staging`` in the place of ``target``: two renames, and the
    earlier folder put back if the second one fails, so ``target`` is never half-written."""
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
    """Write ``layers`` (replacing those names, keeping others), remove the ``drop`` layers
    and append ``run``, atomically."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise GridkitError(f"{path}: the output must be a GeoPackage (.gpkg)")
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GridkitError(f"{path}: cannot create folder {directory} ({exc.strerror})") \
            from None
    if path.exists():
        try:
            layers_of(path)
        except GridkitError:
            raise GridkitError(f"{path}: the output exists but is not a GeoPackage GDAL can "
                               "open; choose another output path") from None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".gpkg", dir=directory)
    os.close(handle)
    temporary = Path(temporary)
    try:
        if path.exists():
            shutil.copyfile(path, temporary)
        else:
            temporary.unlink()
        if drop and temporary.exists():
            drop_layers(temporary, set(drop) & set(layers_of(temporary)))
        for name, frame in layers.items():
            _write_layer(temporary, name, frame)
        if run is not None:
            exists = temporary.exists() and RUN_LAYER in layers_of(temporary)
            pyogrio.write_dataframe(run, temporary, layer=RUN_LAYER, driver="GPKG",
                                    append=exists)
        publish_mode(temporary, path)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def drop_layers(path: Path, names: set[str]) -> None:
    """Delete layers from a GeoPackage: each table, its spatial index and its metadata rows.

    pyogrio cannot delete a layer; the GeoPackage standard says what a layer consists of, so
    SQLite can. Only ever called on the temporary copy.
    """
    if not names:
        return
    meta = ["gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents",
            "gpkg_data_columns", "gpkg_metadata_reference"]
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        for name in sorted(names):
            for column in (row[0] for row in db.execute(
                    "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                    (name,))):
                db.execute(f'DROP TABLE IF EXISTS "rtree_{name}_{column}"')
            db.execute(f'DROP TABLE IF EXISTS "{name}"')
            for table in meta:
                if table in tables:
                    db.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")


# SQLite settings for bulk writes: a bigger page cache (the R-tree build lives in it) and no
# fsync per transaction, which is safe here because a write only ever goes to a temporary
# copy that replaces the target after it is complete.
_BULK_SQLITE = {"OGR_SQLITE_CACHE": "512", "OGR_SQLITE_SYNCHRONOUS": "OFF"}


def _write_layer(path: Path, name: str, frame: pd.DataFrame | ArrowLayer) -> None:
    if isinstance(frame, ArrowLayer):
        geometry = frame.geometry_name if frame.geometry_type else None
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
        if len(kinds) == 1:
            kwargs["geometry_type"] = kinds.pop()
        elif not kinds or len(kinds) > 1:
            kwargs["geometry_type"] = "Unknown"
        kwargs["promote_to_multi"] = False
    pyogrio.write_dataframe(frame, path, **kwargs)


def merge_qa(path: str | Path, command: str, new: gpd.GeoDataFrame,
             stale: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """The ``qa_issue`` layer after ``command`` reports ``new``: its earlier rows (and those
    of the ``stale`` commands, whose results it invalidates) replaced, others kept."""
    new = new.assign(COMMAND=command)
    path = Path(path)
    if not path.exists() or "qa_issue" not in layers_of(path):
        return new
    old = pyogrio.read_dataframe(path, layer="qa_issue", use_arrow=True)
    if "COMMAND" in old:
        old = old[~old["COMMAND"].isin({command, *stale})]
    if old.empty:
        return new
    old = old.to_crs(new.crs) if old.crs is not None and new.crs is not None else old
    return gpd.GeoDataFrame(pd.concat([old, new], ignore_index=True), crs=new.crs)
