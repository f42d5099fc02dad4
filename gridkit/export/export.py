"""``gridkit export``: read the layers, cut them to the changes since an earlier export if
asked, write them in the chosen format (to a temporary place that replaces DEST when
complete) and record what was handed over in OUT.gpkg."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gridkit.errors import FileError, GridkitError, InputError, mention
from gridkit.export import history
from gridkit.export.delta import changes_since
from gridkit.export.fingerprint import feature_keys, key_fingerprints
from gridkit.export.layer import Layer
from gridkit.export.source import KEYS, check_source, choose_layers, read_layer
from gridkit.export.summary import figures, folder_manifest, manifest_row
from gridkit.export.target import MANIFEST, check_dest, staged
from gridkit.export.writers import Format, WriteContext, formats
from gridkit.io import run_record
from gridkit.store import created_by_gridkit

Progress = Callable[[str], None] | None


@dataclass
class ExportOptions:
    format: str
    dest: Path
    layers: list[str] | None = None
    encoding: str | None = None
    since: str | None = None
    record: bool = True


def export(source: str | Path, options: ExportOptions, progress: Progress = None) -> dict:
    """Export layers of ``source`` (OUT.gpkg) as ``options`` say; returns the figures."""
    source, dest = Path(source), Path(options.dest)
    fmt = _format(options.format)
    encoding = _encoding(fmt, options.encoding)
    check_source(source)
    check_dest(dest, fmt.kind, fmt.name, source)
    names = choose_layers(source, options.layers, spatial_only=fmt.spatial_only,
                          keyed_only=options.since is not None)
    baseline = history.resolve_run(source, options.since) if options.since else None
    # gridkit writes only into files it made: an export of someone else's GeoPackage is not
    # recorded in it (and so cannot be a --since baseline later).
    foreign = options.record and not created_by_gridkit(source)
    run = history.next_run(source) if options.record and not foreign else None
    parameters = {"format": fmt.name, "dest": str(dest), "layers": names,
                  "encoding": encoding, "since": baseline.run if baseline else None}
    # The gridkit_run row is made now so that its TIME is the one the export records.
    run_row = run_record("export", parameters, [])
    time = str(run_row["TIME"].iloc[0])

    layers, tracked, counts = [], {}, {}
    for name in names:
        _say(progress, f"reading {name}")
        layer = read_layer(source, name)
        if name in KEYS:
            layer, tracked[name], counts[name] = _track(source, layer, KEYS[name], baseline)
        layers.append(layer)

    manifest = [manifest_row(source, layer, counts.get(layer.name), run, baseline, time)
                for layer in layers]
    notes = [f"{name}: export run {baseline.run} did not hand this layer over; every feature "
             "is sent as new" for name, c in counts.items() if c and not c["recorded"]]
    if foreign:
        notes.append(f"{source.name} was not made by gridkit, so this export is not recorded "
                     "in it (gridkit does not write into others' files); --since cannot "
                     "refer to it later")
    context = WriteContext(encoding=encoding, incremental=baseline is not None,
                           manifest=manifest)
    _say(progress, f"writing {fmt.name}")
    try:
        with staged(dest, fmt.kind) as temporary:
            written = fmt.write(layers, temporary, context)
            if fmt.kind == "file":  # the writer saw the temporary name
                written.files = {name: [dest.name] for name in written.files}
            else:
                (temporary / MANIFEST).write_text(json.dumps(
                    folder_manifest(source, fmt.name, encoding, run, baseline, time, manifest,
                                     written), ensure_ascii=False, indent=2), encoding="utf-8")
    except GridkitError:  # a writer's own (a FileError is an OSError too): as it is
        raise
    except (OSError, DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FileError(f"{dest}: cannot write the export ({reason}); nothing was "
                        "replaced", file=dest) from None

    if run is not None:
        _say(progress, f"recording run {run} in {source.name}")
        summary = [{"RUN": run, "TIME": time, "FORMAT": fmt.name, "DEST": str(dest),
                    "LAYER": row["LAYER"], "KEYFIELD": row["KEYFIELD"],
                    "FEATURES": row["FEATURES"], "SINCE": row["SINCE"], "NEW": row["NEW"],
                    "CHANGED": row["CHANGED"], "RETIRED": row["RETIRED"]} for row in manifest]
        try:
            history.record(source, run, summary, tracked, run_row)
        except (GridkitError, OSError, DataSourceError, DataLayerError) as exc:
            raise FileError(f"{dest} was written, but recording the export in {source} "
                            f"failed ({exc}); export again, or add {mention(record=False)}",
                            file=source) from None
    written.warnings[:0] = notes
    return figures(source, dest, fmt.name, encoding, run, baseline, time, manifest, written)


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
    """The exports recorded in ``source``, for ``--list-runs`` and ``--since``."""
    source = Path(source)
    check_source(source)
    return {"source": str(source), "runs": [r.as_dict() for r in history.export_runs(source)]}
