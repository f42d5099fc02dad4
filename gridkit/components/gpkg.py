"""The census commands' reads from and writes to OUT.gpkg, kept apart from the logic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyogrio

from gridkit.components.importer import COMMAND, ImportOptions, import_census
from gridkit.components.incremental import (
    INDEXES,
    layer_count,
    neighbourhood,
    probe,
    rows_per_file,
)
from gridkit.components.layers import arrow_layer, read_layer
from gridkit.components.locate import UnitGrids
from gridkit.components.reimport import check_same_content, check_same_rows
from gridkit.errors import FileError, InputError
from gridkit.io import layers_of, run_record
from gridkit.result import StepResult
from gridkit.store import transaction


def load_grids(output: Path) -> UnitGrids:
    """The unit grids of OUT.gpkg, or a one-line error telling the user to partition first."""
    if not output.exists():
        raise FileError(f"{output}: no such file; run `gridkit partition COMMUNITIES -o "
                        f"{output}` first to cut the unit grids components are located in",
                        file=output)
    if "unit_grid" not in layers_of(output):
        raise InputError(f"{output} has no unit_grid layer; run `gridkit partition "
                         f"COMMUNITIES -o {output}` first")
    frame = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    if frame.empty:
        raise InputError(f"{output}: the unit_grid layer is empty; run gridkit partition again")
    return UnitGrids(frame)


def import_to_geopackage(files: list[Path], output: Path, options: ImportOptions,
                         progress: Callable[[str], None] | None = None, *,
                         allow_duplicates: bool = False,
                         parameters: dict | None = None) -> StepResult:
    """Import ``files`` into OUT.gpkg (in one transaction); the figures and the QA issues.

    Rows already held under another file name are refused unless ``allow_duplicates``
    (:mod:`gridkit.components.reimport`). ``parameters``: what the ``gridkit_run`` row
    records (default: :func:`gridkit.components.api.run_parameters` of ``options``).

    An append to an existing component layer reads only the rows it can touch and writes only
    the new ones (:mod:`gridkit.components.incremental`); ``--mode replace`` and a first
    import write the layers whole.
    """
    output = Path(output)
    if not files:
        raise InputError("no census file given; e.g. `gridkit census import census.csv -o "
                         "out.gpkg --crs wgs84`", parameter="files")
    grids = load_grids(output)
    near = None
    if options.mode == "append" and layer_count(output, "component") > 0:
        if progress is not None:
            progress("finding the rows it touches")
        names, x, y, groups, codes, classes = probe(files, grids, options)
        if not allow_duplicates:
            check_same_content(output, list(files), names)
        tolerance = max([options.tolerance, *options.class_tolerance.values()])
        near = neighbourhood(output, names, x, y, groups, codes, tolerance)
        if not allow_duplicates and near.table is not None:
            check_same_rows(names, x, y, classes, near.table.slice(near.replaced),
                            ", ".join(str(f) for f in files))
        existing, existing_rejects = near.table, None
    else:
        existing = read_layer(output, "component")
        existing_rejects = read_layer(output, "component_reject")
    result = import_census(
        files, grids, options, existing=existing, existing_rejects=existing_rejects,
        progress=progress,
    )
    if progress is not None:
        progress("writing")
    if parameters is None:
        from gridkit.components.api import CensusImportOptions, run_parameters

        parameters = run_parameters(CensusImportOptions(
            [], crs=options.crs, sheet=options.sheet, layer=options.layer,
            header_row=options.header_row, mode=options.mode), options)
    figures = dict(result.figures)
    with transaction(output, COMMAND) as tx:
        if near is None:
            tx.replace_layer("component", arrow_layer(result.component_reader(), grids.crs,
                                                      result.geometry_type))
            tx.replace_layer("component_reject", arrow_layer(result.reject, grids.crs))
            tx.replace_qa(COMMAND, result.qa)
        else:
            names = sorted({f["file"] for f in figures["files"]})
            marks = ", ".join("?" * len(names))
            kept = len(near.fids)
            # The file's totals after the import, as for the components (the figures of this
            # import alone are rows/accepted/rejected).
            held = rows_per_file(output, "component_reject")
            figures["rejects"] = (sum(n for f, n in held.items() if f not in names)
                                  + result.figures["rejects"])
            tx.delete_rows("component", f"SRCFILE IN ({marks})", tuple(names))
            tx.append_rows("component", arrow_layer(_skip(result.component_reader(), kept),
                                                    grids.crs, result.geometry_type))
            tx.delete_rows("component_reject", f"SRCFILE IN ({marks})", tuple(names))
            tx.append_rows("component_reject", arrow_layer(result.reject, grids.crs))
            _replace_import_qa(tx, result.qa, names)
            figures["components"] = (layer_count(output, "component") - near.replaced
                                     + result.figures["components"] - kept)
            figures["incremental"] = {"rows_read": 0 if near.table is None
                                      else near.table.num_rows, "kept_read": kept}
        for layer, columns in INDEXES.items():
            for column in columns:
                tx.ensure_index(layer, column)
        tx.record_run(run_record(COMMAND, parameters, list(files)))
    figures["removed_stale_qa"] = tx.summary.removed_qa
    return StepResult({"output": str(output), **figures}, result.qa)


def _skip(reader: pa.RecordBatchReader, rows: int) -> pa.RecordBatchReader:
    """``reader`` without its first ``rows`` rows.

    Those are the kept components the import was given to check against, already in the layer.
    """
    def batches():
        left = rows
        for batch in reader:
            if left >= batch.num_rows:
                left -= batch.num_rows
                continue
            yield batch.slice(left)
            left = 0
    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _replace_import_qa(tx, qa, names: list[str]) -> None:
    """The import's duplicate issues after an append.

    The ones it found now replace the same issues found before and every earlier one naming a row of
    a file imported again; the others (between kept rows elsewhere) stay.
    """
    keys = sorted(set(qa["KEY"].astype(str))) if len(qa) else []
    conditions = ['"KEY" IN (SELECT value FROM json_each(?))']
    params: list = [json.dumps(keys, ensure_ascii=False)]
    for name in names:
        conditions += ['"KEY" LIKE ? ESCAPE \'\\\'', '"MESSAGE" LIKE ? ESCAPE \'\\\'']
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [f"{escaped}:%", f"%{escaped} row %"]
    tx.delete_rows("qa_issue", f'"COMMAND" = ? AND ({" OR ".join(conditions)})',
                   (COMMAND, *params))
    tx.append_rows("qa_issue", qa.assign(COMMAND=COMMAND))
    tx.derive(f"qa_issue:{COMMAND}", ("component",))
