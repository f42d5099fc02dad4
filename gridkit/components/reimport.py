"""Refusing to import rows the component layer already holds under another file name.

``--mode append`` replaces the components of a file imported again *under the same name*.
The same census under another name (the XLSX, then its CSV export; a copy renamed by date)
would be added beside the first and double every component. Two signs give it away:

* the file's bytes: its SHA-256 equals an input of an earlier ``census import`` (recorded in
  ``gridkit_run``) whose file still has components under another name;
* its rows: at least :data:`SHARE` of its accepted rows lie within a centimetre of a kept
  component of the same class, and most of those belong to one other file.

Either refuses the import with the fix: ``--mode replace`` (start the layer afresh) or
``--allow-duplicates`` (the rows really are new components, e.g. a second survey on purpose).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.components.incremental import rows_per_file
from gridkit.components.layers import GEOMETRY, wkb_points
from gridkit.errors import InputError
from gridkit.io import file_checksum

SHARE = 0.5
FIX = ("use `mode='replace'` to start the component layer afresh, import it under its first "
       "name to update those components, or add `allow_duplicates=True` if these really are "
       "other components")


def check_same_content(output: Path, files: list[Path], names: list[str]) -> None:
    """Refuse a file an earlier import brought in under another name.

    Only when that name still has components in ``output``; the bytes are compared.
    """
    earlier = _earlier_inputs(output)
    if not earlier:
        return
    held = rows_per_file(output, "component")
    for path, name in zip(files, names, strict=True):
        digest = file_checksum(path)
        for other, (time, other_digest) in earlier.items():
            base = Path(other).name
            if other_digest != digest or base == Path(path).name:
                continue
            count = sum(n for f, n in held.items() if f == base or f.startswith(base + ":"))
            if count:
                raise InputError(
                    f"{path}: the same content as {base}, imported {time} ({count:,} "
                    f"components still from it): importing it as {name} would hold every "
                    f"component twice; {FIX}", parameter="allow_duplicates", file=path)


def check_same_rows(names: list[str], x: np.ndarray, y: np.ndarray, classes: np.ndarray,
                    kept: pa.Table | None, label: str) -> None:
    """Refuse rows that mostly repeat one other file's kept components.

    A row repeats one when it has the same class and position (1 cm).
    """
    if kept is None or kept.num_rows == 0 or len(x) == 0:
        return
    kx, ky = wkb_points(kept.column(GEOMETRY).combine_chunks())
    kclass = pc.binary_join_element_wise(pc.fill_null(kept.column("MAJOR"), ""),
                                         pc.fill_null(kept.column("MINOR"), ""), "")
    old = pd.DataFrame({"xi": np.round(kx * 100), "yi": np.round(ky * 100),
                        "cls": kclass.to_numpy(zero_copy_only=False),
                        "file": kept.column("SRCFILE").to_numpy(zero_copy_only=False)})
    old = old.drop_duplicates(["xi", "yi", "cls"])
    new = pd.DataFrame({"xi": np.round(x * 100), "yi": np.round(y * 100), "cls": classes})
    hits = new.merge(old, on=["xi", "yi", "cls"], how="inner")
    hits = hits[~hits["file"].isin(names)]
    if len(hits) < max(1, SHARE * len(new)):
        return
    file, count = hits["file"].value_counts().index[0], int(hits["file"].value_counts().iloc[0])
    raise InputError(
        f"{label}: {len(hits):,} of its {len(new):,} rows ({len(hits) / len(new):.0%}) are "
        f"components already held, same class and position, {count:,} of them from {file}: "
        f"this looks like {file} again under another name; {FIX}",
        parameter="allow_duplicates")


def _earlier_inputs(output: Path) -> dict[str, tuple[str, str]]:
    """{input path: (time, sha256)} of the earlier census imports recorded in output."""
    db = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if "gridkit_run" not in tables:
            return {}
        found = {}
        for time, inputs in db.execute("SELECT TIME, INPUTS FROM gridkit_run WHERE COMMAND = "
                                       "'census import' ORDER BY fid"):
            try:
                for path, digest in json.loads(inputs or "{}").items():
                    found[path] = (time, digest)
            except ValueError:
                continue
        return found
    finally:
        db.close()
