"""What an export reports.

The per-layer manifest rows (the GeoPackage's ``gridkit_export`` table), the folder manifest
(``gridkit_export.json``) and the figures ``--json`` prints.
"""

from __future__ import annotations

from pathlib import Path

from gridkit import __version__
from gridkit.export.history import ExportRun
from gridkit.export.layer import Layer
from gridkit.export.source import KEYS
from gridkit.export.writers import Written


def manifest_row(source: Path, layer: Layer, counts: dict | None, run: int | None,
                 baseline: ExportRun | None, time: str) -> dict:
    """The ``gridkit_export`` row of one exported layer: features, key, counts, source, run."""
    counts = counts or {}
    return {"LAYER": layer.name, "FEATURES": len(layer), "KEYFIELD": KEYS.get(layer.name),
            "NEW": counts.get("new"), "CHANGED": counts.get("changed"),
            "RETIRED": counts.get("retired"), "SOURCE": str(source), "RUN": run,
            "SINCE": baseline.run if baseline else None, "TIME": time, "VERSION": __version__}


def folder_manifest(source: Path, fmt: str, encoding: str, run: int | None,
                    baseline: ExportRun | None, time: str, manifest: list[dict],
                    written: Written) -> dict:
    """The ``gridkit_export.json`` of a folder export: format, source, run, files per layer."""
    return {
        "gridkit": __version__, "format": fmt, "source": str(source), "time": time,
        "run": run, "since": baseline.run if baseline else None, "encoding": encoding,
        "layers": {row["LAYER"]: {"files": written.files.get(row["LAYER"], []),
                                  "features": row["FEATURES"], "key": row["KEYFIELD"],
                                  "new": row["NEW"], "changed": row["CHANGED"],
                                  "retired": row["RETIRED"]} for row in manifest},
        "files": written.extra,
    }


def export_figures(source: Path, dest: Path, fmt: str, encoding: str, run: int | None,
                   baseline: ExportRun | None, time: str, manifest: list[dict],
                   written: Written) -> dict:
    """The figures ``gridkit export --json`` prints."""
    outputs = [str(dest)] if dest.is_file() else sorted(str(p) for p in dest.iterdir())
    layers = {}
    for row in manifest:
        entry = {"features": row["FEATURES"], "files": written.files.get(row["LAYER"], [])}
        if baseline is not None:
            entry |= {"new": row["NEW"], "changed": row["CHANGED"], "retired": row["RETIRED"]}
        layers[row["LAYER"]] = entry
    return {
        "source": str(source), "format": fmt, "dest": str(dest),
        "encoding": encoding if fmt in ("shp", "csv") else "utf-8",
        "outputs": outputs,
        "counts": {row["LAYER"]: row["FEATURES"] for row in manifest},
        "layers": layers,
        "since": None if baseline is None else {"run": baseline.run, "time": baseline.time},
        "run": run, "time": time, "warnings": written.warnings,
    }
