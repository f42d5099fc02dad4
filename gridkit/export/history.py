"""What earlier exports handed over, kept in OUT.gpkg so that ``--since RUN`` sends the difference.

Two tables, written through :func:`gridkit.io.write_geopackage` (atomically, with a
``gridkit_run`` row for the export):

``gridkit_export_run``: one row per export and layer: RUN (the export's row number in
``gridkit_run``), TIME, FORMAT, DEST, LAYER, KEYFIELD (the feature key when the layer's
fingerprints were recorded), FEATURES (written), SINCE, NEW, CHANGED, RETIRED.

``gridkit_export_state``: the fingerprint of every feature key, stored as intervals so that an
unchanged feature costs one row however many exports see it: LAYER, KEY, HASH, FIRST_RUN,
LAST_RUN (null while the state is current) and WKB (its geometry, to give a retired feature
the shape it last had). A key had HASH at every recording export R of its layer with
FIRST_RUN <= R <= LAST_RUN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyogrio

from gridkit.errors import InputError, mention
from gridkit.io import RUN_LAYER, ArrowLayer, layers_of, write_geopackage

RUN_TABLE = "gridkit_export_run"
STATE_TABLE = "gridkit_export_state"
RUN_FIELDS = {"RUN": pa.int64(), "TIME": pa.string(), "FORMAT": pa.string(),
              "DEST": pa.string(), "LAYER": pa.string(), "KEYFIELD": pa.string(),
              "FEATURES": pa.int64(), "SINCE": pa.int64(), "NEW": pa.int64(),
              "CHANGED": pa.int64(), "RETIRED": pa.int64()}
STATE_FIELDS = {"LAYER": pa.string(), "KEY": pa.string(), "HASH": pa.int64(),
                "FIRST_RUN": pa.int64(), "LAST_RUN": pa.int64(), "WKB": pa.binary()}


@dataclass
class ExportRun:
    """One earlier export as ``gridkit_export_run`` records it.

    Attributes
    ----------
    run : int
        The export's row number in ``gridkit_run``.
    time : str
        When it ran (ISO 8601).
    format : str
        The output format.
    dest : str
        Where it wrote.
    since : int or None
        The run it was the difference from, None for a full export.
    layers : dict of str to dict
        Per layer: ``key`` (the key field when fingerprints were recorded), features, counts.
    """

    run: int
    time: str
    format: str
    dest: str
    since: int | None
    layers: dict[str, dict] = field(default_factory=dict)

    def recorded(self, layer: str) -> bool:
        """Whether this export recorded ``layer``'s fingerprints (for a later ``since``)."""
        return bool(self.layers.get(layer, {}).get("key"))

    def as_dict(self) -> dict:
        """The run as a plain dict (``--list-runs --json``)."""
        return {"run": self.run, "time": self.time, "format": self.format, "dest": self.dest,
                "since": self.since, "layers": self.layers}


def _read(path: Path, table: str, fields: dict, layer: str | None = None) -> pd.DataFrame:
    """``table`` as a frame of ``fields`` (only ``layer``'s rows when given)."""
    if table not in layers_of(path):
        return pd.DataFrame({name: pd.Series(dtype=_dtype(kind)) for name, kind in
                             fields.items()})
    where = None if layer is None else "LAYER = '{}'".format(layer.replace("'", "''"))
    _, data = pyogrio.read_arrow(path, layer=table, columns=list(fields), where=where)
    # Nullable integers stay exact: a 64-bit HASH must never pass through float.
    exact = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}.get
    return pd.DataFrame({name: data.column(name).to_pandas(types_mapper=exact)
                         .astype(_dtype(kind)) for name, kind in fields.items()})


def _dtype(kind: pa.DataType) -> str:
    return "Int64" if kind == pa.int64() else "object"


def export_runs(path: Path) -> list[ExportRun]:
    """Every recorded export of ``path``, oldest first."""
    rows = _read(path, RUN_TABLE, RUN_FIELDS)
    runs: dict[int, ExportRun] = {}
    for row in rows.itertuples(index=False):
        run = runs.setdefault(int(row.RUN), ExportRun(
            int(row.RUN), row.TIME, row.FORMAT, row.DEST,
            None if pd.isna(row.SINCE) else int(row.SINCE)))
        run.layers[row.LAYER] = {
            "features": int(row.FEATURES),
            "key": None if pd.isna(row.KEYFIELD) else str(row.KEYFIELD),
            **{name.lower(): None if pd.isna(value) else int(value)
               for name, value in (("NEW", row.NEW), ("CHANGED", row.CHANGED),
                                   ("RETIRED", row.RETIRED))}}
    return [runs[number] for number in sorted(runs)]


def resolve_run(path: Path, spec: str) -> ExportRun:
    """The export ``--since`` names: its run number, ``last``, or its TIME (or a prefix)."""
    runs = export_runs(path)
    listing = f"see gridkit export {path} --list-runs"
    if not runs:
        raise InputError(f"{mention(since=spec)}: {path} has no recorded export yet; make a "
                         f"full export first (without {mention('since')}), then hand over "
                         "changes since it", parameter="since")
    text = spec.strip()
    if text.lower() in ("last", "latest"):
        chosen = runs[-1]
    elif text.isdigit():
        chosen = next((r for r in runs if r.run == int(text)), None)
        if chosen is None:
            raise InputError(f"{mention(since=spec)}: {path} has no export run {text}; recorded "
                             f"exports: {', '.join(str(r.run) for r in runs)} ({listing})",
                             parameter="since")
    else:
        matches = [r for r in runs if r.time == text] or \
                  [r for r in runs if r.time.startswith(text)]
        if not matches:
            raise InputError(f"{mention(since=spec)}: no export of {path} ran at that time; give "
                             f"a run number or TIME ({listing})", parameter="since")
        if len(matches) > 1:
            raise InputError(f"{mention(since=spec)}: exports "
                             f"{', '.join(str(r.run) for r in matches)}"
                             f" all match; give the run number ({listing})", parameter="since")
        chosen = matches[0]
    _check_run_row(path, chosen)
    return chosen


def _check_run_row(path: Path, run: ExportRun) -> None:
    """The export record must still sit at its gridkit_run row.

    A file rebuilt from scratch (a new partition into a fresh file) keeps nothing a platform could
    be updated from.
    """
    if RUN_LAYER not in layers_of(path):
        rows = pd.DataFrame()
    else:
        rows = pyogrio.read_dataframe(path, layer=RUN_LAYER, read_geometry=False)
    if run.run > len(rows) or rows.iloc[run.run - 1].get("TIME") != run.time:
        raise InputError(f"{mention(since=run.run)}: {path}'s gridkit_run row {run.run} is not "
                         "that export any more (the file was rebuilt); make a full export",
                         parameter="since")


def next_run(path: Path) -> int:
    """The gridkit_run row number the export being made will get."""
    if RUN_LAYER not in layers_of(path):
        return 1
    return int(pyogrio.read_info(path, layer=RUN_LAYER)["features"]) + 1


def state_at(path: Path, layer: str, run: ExportRun) -> pd.DataFrame | None:
    """KEY and HASH of ``layer`` as export ``run`` handed it over (None: not recorded)."""
    if not run.recorded(layer):
        return None
    fields = {k: v for k, v in STATE_FIELDS.items() if k != "WKB"}
    state = _read(path, STATE_TABLE, fields, layer)
    live = (state["FIRST_RUN"] <= run.run) & \
           (state["LAST_RUN"].isna() | (state["LAST_RUN"] >= run.run))
    return state.loc[live.fillna(False).astype(bool), ["KEY", "HASH"]].reset_index(drop=True)


def last_geometries(path: Path, layer: str, keys: list[str]) -> dict[str, bytes | None]:
    """The geometry each key had in its latest recorded state."""
    state = _read(path, STATE_TABLE, STATE_FIELDS, layer)
    rows = state[state["KEY"].isin(keys)]
    rows = rows.sort_values("FIRST_RUN", kind="stable").drop_duplicates("KEY", keep="last")
    return dict(zip(rows["KEY"], rows["WKB"], strict=True))


@dataclass
class Tracked:
    """A layer's current fingerprints: KEY, HASH and one geometry (WKB) per key."""

    key: str
    fingerprints: pd.DataFrame  # KEY, HASH, WKB


def record_export(path: Path, run: int, summary: list[dict], tracked: dict[str, Tracked],
                  run_row: pd.DataFrame) -> None:
    """Append this export's rows and bring the fingerprint intervals up to ``run``.

    Its ``gridkit_run`` row goes in too; the summary carries that row's TIME.
    """
    runs = _read(path, RUN_TABLE, RUN_FIELDS)
    state = _read(path, STATE_TABLE, STATE_FIELDS)
    for name, current in tracked.items():
        previous = runs.loc[(runs["LAYER"] == name) & runs["KEYFIELD"].notna(), "RUN"]
        before = int(previous.max()) if len(previous) else None
        state = _advance(state, name, current.fingerprints, run, before)
    runs = pd.concat([runs, pd.DataFrame(summary, columns=list(RUN_FIELDS))],
                     ignore_index=True)
    write_geopackage(path, {RUN_TABLE: _arrow(runs, RUN_FIELDS),
                            STATE_TABLE: _arrow(state, STATE_FIELDS)},
                     run_row)


def _advance(state: pd.DataFrame, layer: str, current: pd.DataFrame, run: int,
             before: int | None) -> pd.DataFrame:
    pair = ["KEY", "HASH"]
    now = current[pair].astype({"HASH": "int64"}).drop_duplicates()
    open_rows = state.loc[(state["LAYER"] == layer) & state["LAST_RUN"].isna(), pair]
    open_rows = open_rows.astype({"HASH": "int64"}).reset_index()
    seen = open_rows.merge(now, on=pair, how="left", indicator=True)["_merge"] == "both"
    closing = open_rows.loc[~seen.to_numpy(), "index"]
    if before is None:  # never recorded before: nothing can be open, drop strays
        state = state.drop(index=closing)
    else:
        state.loc[closing, "LAST_RUN"] = before
    kept = open_rows.loc[seen.to_numpy(), pair]
    fresh = current.astype({"HASH": "int64"}).merge(kept, on=pair, how="left", indicator=True)
    fresh = fresh[fresh["_merge"] == "left_only"]
    added = pd.DataFrame({"LAYER": layer, "KEY": fresh["KEY"].to_numpy(dtype=object),
                          "HASH": pd.array(fresh["HASH"], dtype="Int64"),
                          "FIRST_RUN": pd.array([run] * len(fresh), dtype="Int64"),
                          "LAST_RUN": pd.array([None] * len(fresh), dtype="Int64"),
                          "WKB": fresh["WKB"].to_numpy(dtype=object)})
    if added.empty:
        return state.reset_index(drop=True)
    if state.empty:
        return added
    return pd.concat([state, added], ignore_index=True)


def _arrow(frame: pd.DataFrame, fields: dict) -> ArrowLayer:
    table = pa.Table.from_pandas(frame[list(fields)], schema=pa.schema(fields),
                                 preserve_index=False)
    return ArrowLayer(table, geometry_type=None)
