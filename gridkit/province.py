"""What a province run leaves beside the county GeoPackages.

The GeoParquet dataset, the border check and the province summary (``province.json`` and
``province.html``).

The dataset is one folder per layer, one sub-folder per county in the hive layout
(``parquet/<layer>/county=<code>/part-0.parquet``) that dask-geopandas, DuckDB and
Spark/Sedona read as one table with a ``county`` column. Geometry layers are GeoParquet 1.0
(WKB, the layer's CRS as PROJJSON).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from html import escape
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from gridkit.io import layers_of, publish_mode

SUMMARY_JSON = "province.json"
SUMMARY_HTML = "province.html"
GAP_WIDTH = 1.0  # metres: a hole between counties' grids narrower than this is a gap
BATCH_ROWS = 65_536  # rows per Arrow batch: a county's layer is streamed, never held whole


def county_summary(code: str, name: str, figures: dict) -> dict:
    """The few numbers of one county's pipeline figures that the province summary shows.

    The figures are :func:`gridkit.pipeline.run_pipeline`'s.

    Parameters
    ----------
    code, name : str
        The county's six-digit code and name.
    figures : dict
        The pipeline's figures.

    Returns
    -------
    dict
        ``code``, ``name``, ``gpkg``, ``report`` (file names relative to the output folder),
        counts of unit grids, responsibility grids, components, events and QA issues, the
        census balance and the spot-check verdict (``None`` without one).
    """
    partition = figures["partition"]
    out = {"code": code, "name": name, "gpkg": Path(figures["output"]).name,
           "report": Path(figures["report"]["output"]).name if "report" in figures else None,
           "communities": partition["communities"], "streets": partition["streets"],
           "unit_grids": partition["unit_grids"],
           "responsibility_grids": figures.get("group", {}).get("responsibility_grids"),
           "verdict": None}
    for step in ("census", "events"):
        if step in figures:
            f = figures[step]
            out[step] = {"rows": f["rows"], "accepted": f["accepted"],
                         "rejected": f["rejected"], "balanced": f["rows"] == f["accepted"]
                         + f["rejected"]}
    if "check" in figures:
        out["check"] = {"errors": figures["check"].get("errors", 0),
                        "warnings": figures["check"].get("warnings", 0)}
    accuracy = figures.get("spotcheck", {}).get("accuracy")
    if accuracy:
        out["verdict"] = accuracy["verdict"]
        out["accuracy"] = accuracy["overall"]["accuracy"]["estimate"]
    return out


# -- the GeoParquet dataset ---------------------------------------------------------------------

def _geo_metadata(meta: dict, geometry: str, crs: str | None) -> bytes:
    import pyproj

    column = {"encoding": "WKB", "geometry_types": []}
    if crs:
        column["crs"] = pyproj.CRS.from_user_input(crs).to_json_dict()
    return json.dumps({"version": "1.0.0", "primary_column": geometry,
                       "columns": {geometry: column}}).encode()


def _write_layer(gpkg: Path, layer: str, target: Path) -> int:
    """Stream one GeoPackage layer into one Parquet file; the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    with pyogrio.open_arrow(gpkg, layer=layer, batch_size=BATCH_ROWS,
                            use_pyarrow=True) as (meta, reader):
        source = meta.get("geometry_name") or "wkb_geometry"
        geometry = meta["geometry_type"] is not None and source in reader.schema.names
        fields = []
        for f in reader.schema:
            if geometry and f.name == source:
                # GDAL tags it as a geoarrow extension; GeoParquet wants plain WKB binary.
                fields.append(pa.field("geometry", pa.binary()))
            else:
                fields.append(f.remove_metadata())
        schema = pa.schema(fields)
        if geometry:
            schema = schema.with_metadata(
                {b"geo": _geo_metadata(meta, "geometry", meta.get("crs"))})
        with pq.ParquetWriter(target, schema) as writer:
            for batch in reader:
                columns = [column.storage if isinstance(column, pa.ExtensionArray) else column
                           for column in batch.columns]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
                rows += batch.num_rows
    return rows


def write_county_dataset(gpkg: Path, dataset: Path, code: str) -> dict[str, int]:
    """Every layer of one county's GeoPackage into ``dataset/<layer>/county=<code>/``.

    The county's parts are written to a staging folder and then moved in place, replacing
    that county's earlier parts only (other counties' are never touched).

    Parameters
    ----------
    gpkg : Path
        The county's GeoPackage.
    dataset : Path
        The province dataset's folder (``OUT_DIR/parquet``).
    code : str
        The county's six-digit code, the hive partition value.

    Returns
    -------
    dict
        Layer → rows written.
    """
    dataset.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".county-{code}.", dir=dataset))
    try:
        rows = {}
        for layer in sorted(layers_of(gpkg)):
            folder = staging / layer
            folder.mkdir()
            rows[layer] = _write_layer(gpkg, layer, folder / "part-0.parquet")
        publish_mode(staging, dataset)
        for layer in rows:
            final = dataset / layer / f"county={code}"
            final.parent.mkdir(exist_ok=True)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging / layer, final)
        # A layer the county no longer has must not linger from an earlier run.
        for stale in dataset.glob(f"*/county={code}"):
            if stale.parent.name not in rows:
                shutil.rmtree(stale)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rows


# -- county borders -----------------------------------------------------------------------------

def check_borders(out_dir: Path, codes: list[str], tolerance: float = 1e-3) -> dict:
    """Check that neighbouring counties' grids meet along their borders without gap or overlap.

    Reads, from each county's GeoPackage, only the unit grids on its outer border and checks
    them together. Runs on a worker.

    Parameters
    ----------
    out_dir : Path
        The province's output folder.
    codes : list of str
        Counties whose GeoPackage was written.
    tolerance : float
        Metres: the largest distance between the two sides of a border that still counts as
        one line (1 mm, the usual XY tolerance of a metric layer).

    Returns
    -------
    dict
        ``pairs`` (``[code, code, shared metres]``), ``overlap_m2`` (area covered by grids of
        two counties), ``gap_m2`` (holes between counties' grids), ``max_offset_m`` (the
        farthest a border vertex of one county lies from its neighbour's grids, among
        vertices within 1 m of them), ``t_junctions`` (edges whose end on the border is a
        vertex of one side only: a cut line ending there), ``border_grids``, ``valid`` and
        ``zones`` (the counties of each working CRS; borders between two zones are not
        compared: give every county's [partition] the same ``crs`` to have them checked).
    """
    groups: dict[str, tuple[list, list]] = {}
    for k, code in enumerate(codes):
        path = Path(out_dir) / f"{code}.gpkg"
        communities = pyogrio.read_dataframe(path, layer="community", columns=[])
        grids = pyogrio.read_dataframe(path, layer="unit_grid", columns=["BGID"])
        outline = shapely.boundary(shapely.coverage_union_all(communities.geometry.to_numpy()))
        on_border = shapely.intersects(grids.geometry.to_numpy(), outline)
        # Counties in another working CRS (another 3-degree zone) are compared among
        # themselves: metres of two zones cannot be compared.
        geoms, owner = groups.setdefault(grids.crs.to_wkt(), ([], []))
        geoms.append(grids.geometry.to_numpy()[on_border])
        owner.append(np.full(int(on_border.sum()), k))
    parts = [_check_group(np.concatenate(g), np.concatenate(o), codes, tolerance)
             for g, o in groups.values()]
    result = {"pairs": [p for part in parts for p in part["pairs"]],
              "overlap_m2": round(sum(p["overlap_m2"] for p in parts), 6),
              "gap_m2": round(sum(p["gap_m2"] for p in parts), 6),
              "max_offset_m": max((p["max_offset_m"] for p in parts), default=0.0),
              "t_junctions": sum(p["t_junctions"] for p in parts),
              "border_grids": sum(p["border_grids"] for p in parts),
              "valid": all(p["valid"] for p in parts),
              "zones": [sorted({codes[k] for k in np.concatenate(o)}) for _, o in
                        groups.values()]}
    return result


def _check_group(geoms: np.ndarray, owner: np.ndarray, codes: list[str],
                 tolerance: float) -> dict:
    """:func:`check_borders` for the border grids of counties in one CRS."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=1.0)
    other = owner[left] < owner[right]
    left, right = left[other], right[other]
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    # Within the tolerance: two sides drawn with different vertices are not exactly collinear.
    shared = shapely.length(shapely.intersection(
        shapely.boundary(geoms[left]), shapely.buffer(shapely.boundary(geoms[right]),
                                                      tolerance)))
    pairs: dict[tuple[int, int], float] = {}
    for a, b, length in zip(owner[left], owner[right], shared, strict=True):
        pairs[(a, b)] = pairs.get((a, b), 0.0) + float(length)
    # Thin holes in the union of the border grids are gaps between counties (the wide ones
    # are the counties' inner grids, not read here).
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union)
             for ring in part.interiors]
    holes = [h for h in holes if shapely.buffer(h, -GAP_WIDTH / 2).is_empty]
    offset, junctions = 0.0, 0
    for k in np.unique(owner):
        mine, theirs = geoms[owner == k], geoms[owner != k]
        if not len(theirs):
            continue
        points = shapely.points(np.unique(shapely.get_coordinates(mine), axis=0))
        edge = shapely.boundary(shapely.union_all(theirs))
        near = shapely.dwithin(points, edge, 1.0)
        if near.any():
            offset = max(offset, float(shapely.distance(points[near], edge).max()))
        their_vertices = shapely.multipoints(shapely.get_coordinates(theirs))
        junctions += int((near & ~shapely.dwithin(points, their_vertices, 1e-9)).sum())
    result = {"pairs": [[codes[a], codes[b], round(length, 2)]
                        for (a, b), length in sorted(pairs.items()) if length > 0],
              "overlap_m2": round(float(overlap.sum()), 6),
              "gap_m2": round(float(sum(h.area for h in holes)), 6),
              "max_offset_m": round(offset, 6), "t_junctions": junctions,
              "border_grids": int(len(geoms))}
    result["valid"] = (result["max_offset_m"] <= tolerance
                       and result["overlap_m2"] <= tolerance * sum(pairs.values())
                       and result["gap_m2"] <= tolerance * sum(pairs.values()))
    return result


# -- the summary --------------------------------------------------------------------------------

def write_summary(summary: dict, out_dir: Path) -> None:
    """Write ``province.json`` and ``province.html`` in ``out_dir``, each whole or not at all.

    One row per county: figures, verdict, a link to its report and GeoPackage.
    """
    text = json.dumps(summary, ensure_ascii=False, indent=1, default=str)
    _replace(out_dir / SUMMARY_JSON, text)
    _replace(out_dir / SUMMARY_HTML, summary_html(summary))


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    publish_mode(Path(temporary), path)
    os.replace(temporary, path)


def _number(value) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def summary_html(summary: dict) -> str:
    """The province summary as one self-contained HTML page."""
    rows = []
    for c in summary["counties"]:
        if "error" in c:
            rows.append(f"<tr class=bad><td>{escape(c['code'])}</td><td>{escape(c['name'])}"
                        f"</td><td colspan=7>failed: {escape(c['error'])}</td></tr>")
            continue
        census = c.get("census", {})
        events = c.get("events", {})
        check = c.get("check", {})
        verdict = c.get("verdict") or "no spot check"
        report = (f'<a href="{escape(c["report"])}">report</a> · ' if c.get("report") else "")
        rows.append(
            f"<tr><td>{escape(c['code'])}</td><td>{escape(c['name'])}</td>"
            f"<td>{_number(c['unit_grids'])}</td><td>{_number(c['responsibility_grids'])}</td>"
            f"<td>{_number(census.get('accepted'))}</td><td>{_number(census.get('rejected'))}"
            f"</td><td>{_number(events.get('accepted'))}</td>"
            f"<td>{_number(check.get('errors'))}</td>"
            f"<td class={'ok' if verdict == 'pass' else 'bad'}>{escape(verdict)}</td>"
            f'<td>{report}<a href="{escape(c["gpkg"])}">{escape(c["gpkg"])}</a></td></tr>')
    b = summary["borders"]
    borders = (f"{len(b['pairs'])} shared county borders, {b['border_grids']:,} border grids; "
               f"overlap {b['overlap_m2']:g} m², gaps {b['gap_m2']:g} m², largest offset "
               f"{b['max_offset_m'] * 1000:.2f} mm: "
               + ("the grids meet" if b["valid"] else "<b>the grids do not meet</b>")
               + (f"; the counties lie in {len(b['zones'])} 3° zones (working CRSs), borders "
                  "between zones are not compared: give every county the same crs"
                  if len(b.get("zones", [])) > 1 else ""))
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>gridkit province summary</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:nth-child(2){{text-align:left}}
.ok{{color:#1a7f37}}.bad{{color:#b42318}}</style></head><body>
<h1>Province summary 省级汇总</h1>
<p>{escape(summary['project'])} · {len(summary['counties'])} counties · {escape(summary['time'])}
· {summary['seconds']} s</p>
<table><tr><th>code</th><th>county</th><th>unit grids</th><th>resp. grids</th>
<th>components</th><th>rejected</th><th>events</th><th>check errors</th><th>verdict</th>
<th>files</th></tr>
{chr(10).join(rows)}
</table>
<p>County borders: {borders}.</p>
</body></html>
"""
