"""The spot-check plan: the sampling frame of OUT.gpkg, the drawn grids and their components.

**Frame.** Strata are street (the 9-digit STREET code) by density class (``dense``/``sparse``
after ``gridkit group``; one class ``all`` before). Streets are where the joint checks are
organised and where results are reported; density separates busy centres, where components
crowd and errors differ, from quiet areas. Every grid belongs to the frame, including grids
without census components: an omission (漏查) can only be found by checking those too.

**Plan.** The plan lives in two places with the same layers: OUT.gpkg (so ``gridkit census
accuracy OUT.gpkg`` finds it without being told) and the PLAN folder handed to the field teams
(``plan.gpkg`` there). Each sampled grid carries everything the estimator needs (its stratum,
the stratum's grid count N_h and sample size n_h), so a plan is self-contained.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from gridkit.acceptance.design import Design, DesignInputs, draw, plan_design
from gridkit.errors import FileError, GridkitError, mention
from gridkit.io import layers_of

NO_DENSITY = "all"
PLAN_LAYER = "spotcheck_plan"
STRATUM_LAYER = "spotcheck_stratum"
CHECKLIST_LAYER = "spotcheck_checklist"
PLAN_FIELDS = ("BGID", "COMMUNITY", "STREET", "DENSITY", "STRATUM", "STRATUM_GRIDS",
               "STRATUM_SAMPLE", "WEIGHT", "COMPONENTS", "DRAW", "SEED", "PLAN_ID")
PLAN_FILE = "plan.gpkg"


@dataclass
class Frame:
    """The sampling frame: every unit grid of OUT.gpkg in its stratum.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        BGID, COMMUNITY, STREET, DENSITY, STRATUM, COMPONENTS, sorted.
    strata : list of str
        Sorted stratum keys.
    stratum : numpy.ndarray
        The stratum number of each grid.
    unplaced : int
        Census components whose BGID is no unit grid's.
    """

    grids: gpd.GeoDataFrame  # BGID, COMMUNITY, STREET, DENSITY, STRATUM, COMPONENTS, sorted
    strata: list[str]  # sorted stratum keys
    stratum: np.ndarray  # stratum number of each grid
    unplaced: int  # census components whose BGID is no unit grid's

    def components_by_stratum(self) -> list[np.ndarray]:
        """Per stratum, the census component count of each of its grids."""
        counts = self.grids["COMPONENTS"].to_numpy()
        return [counts[self.stratum == h] for h in range(len(self.strata))]


def stratum_key(street: str, density: str) -> str:
    """The stratum of a grid: ``STREET/density``."""
    return f"{street}/{density}"


def require_layers(output: Path, *, command: str) -> list[str]:
    """Refuse a file without the unit_grid and component layers; their names otherwise."""
    if output.suffix.lower() != ".gpkg":
        raise GridkitError(f"{output}: give the GeoPackage that gridkit partition and gridkit "
                           "census import wrote (OUT.gpkg)")
    names = layers_of(output)
    if "unit_grid" not in names:
        raise GridkitError(f"{output} has no unit_grid layer: run gridkit partition first")
    if "component" not in names:
        raise GridkitError(f"{output} has no component layer: run gridkit census import "
                           f"before gridkit census {command}")
    return names


def read_frame(output: Path) -> Frame:
    """The frame of OUT.gpkg; GridkitError when its layers cannot serve."""
    require_layers(output, command="sample")
    grids = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    return frame_of(grids, partial(component_counts, output), str(output))


def frame_of(grids: gpd.GeoDataFrame, counts_of: Callable[[set[str]], tuple[pd.Series, int]],
             where: str = "unit_grid") -> Frame:
    """The frame of the unit grids ``grids``; ``counts_of(bgids)`` counts their components.

    ``where`` names the grids in errors (the GeoPackage, or ``unit_grid`` in memory).
    """
    if grids.empty:
        raise GridkitError(f"{where}: the unit_grid layer is empty; run gridkit partition")
    if "BGID" not in grids:
        raise GridkitError(f"{where}: unit_grid has no BGID field; run gridkit partition")
    bgid = grids["BGID"].astype(str)
    if bgid.duplicated().any():
        raise GridkitError(f"{where}: unit_grid BGID {bgid[bgid.duplicated()].iloc[0]} "
                           "appears twice; run gridkit partition again")
    street = (grids["STREET"] if "STREET" in grids else bgid.str[:9]).astype(str)
    community = (grids["COMMUNITY"] if "COMMUNITY" in grids else bgid.str[:12]).astype(str)
    density = (grids["DENSITY"].fillna(NO_DENSITY).astype(str).replace("", NO_DENSITY)
               if "DENSITY" in grids else pd.Series(NO_DENSITY, index=grids.index))
    counts, unplaced = counts_of(set(bgid))
    frame = gpd.GeoDataFrame({
        "BGID": bgid.to_numpy(), "COMMUNITY": community.to_numpy(),
        "STREET": street.to_numpy(), "DENSITY": density.to_numpy(),
    }, geometry=grids.geometry.to_numpy(), crs=grids.crs)
    frame["STRATUM"] = [stratum_key(s, d) for s, d in zip(frame["STREET"], frame["DENSITY"],
                                                          strict=True)]
    frame["COMPONENTS"] = frame["BGID"].map(counts).fillna(0).astype(np.int64)
    frame = frame.sort_values("BGID", kind="stable").reset_index(drop=True)
    strata = sorted(frame["STRATUM"].unique())
    number = {key: h for h, key in enumerate(strata)}
    return Frame(frame, strata, frame["STRATUM"].map(number).to_numpy(np.int64), unplaced)


def component_counts(output: Path, bgids: set[str]) -> tuple[pd.Series, int]:
    """Census components per BGID, and how many lie in no known grid."""
    return bgid_counts(read_columns(output, "component", ["BGID"])["BGID"], bgids)


def bgid_counts(column: pa.Array | pa.ChunkedArray, bgids: set[str]) -> tuple[pd.Series, int]:
    """Components per BGID of ``bgids`` in a BGID ``column``, and how many are in none of them."""
    import pyarrow.compute as pc

    counted = pc.value_counts(column.cast("string")).to_pylist()
    counts = {c["values"]: c["counts"] for c in counted if c["values"] in bgids}
    placed = sum(counts.values())
    return pd.Series(counts, dtype=np.int64), len(column) - placed


def read_columns(output: Path, layer: str, wanted: list[str]) -> dict:
    """Some attribute columns of a layer, without its geometry, as Arrow arrays."""
    info = pyogrio.read_info(output, layer=layer)
    fields = list(info["fields"])
    missing = [f for f in wanted if f not in fields]
    if missing:
        raise GridkitError(f"{output}: layer {layer} has no {', '.join(missing)} field; run "
                           f"the command that writes {layer} again")
    _, table = pyogrio.read_arrow(output, layer=layer, columns=wanted, read_geometry=False)
    return {name: table.column(name).combine_chunks() for name in wanted}


def read_components(output: Path, bgids: list[str], columns: list[str]) -> gpd.GeoDataFrame:
    """The census components of some grids, with their geometry, read by SQL in chunks."""
    fields = list(pyogrio.read_info(output, layer="component")["fields"])
    present = [c for c in columns if c in fields]
    parts = []
    for start in range(0, len(bgids), 400):
        chunk = bgids[start:start + 400]
        listed = ", ".join("'" + b.replace("'", "''") + "'" for b in chunk)
        parts.append(pyogrio.read_dataframe(output, layer="component", columns=present,
                                            where=f"BGID IN ({listed})", use_arrow=True))
    if not parts:
        frame = pyogrio.read_dataframe(output, layer="component", columns=present,
                                       max_features=0)
    else:
        frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    for column in columns:
        if column not in frame:
            frame[column] = None
    return frame


def grids_of_codes(output: Path, codes: list[str]) -> dict[str, str]:
    """The BGID of each of ``codes`` found anywhere in the component layer."""
    found: dict[str, str] = {}
    for start in range(0, len(codes), 400):
        listed = ", ".join("'" + c.replace("'", "''") + "'" for c in codes[start:start + 400])
        frame = pyogrio.read_dataframe(output, layer="component", columns=["OBJCODE", "BGID"],
                                       where=f"OBJCODE IN ({listed})", read_geometry=False)
        found.update(zip(frame["OBJCODE"].astype(str), frame["BGID"].astype(str), strict=True))
    return found


@dataclass
class Plan:
    """A drawn spot-check plan.

    Attributes
    ----------
    grids : geopandas.GeoDataFrame
        The plan's fields and geometry, one row per sampled grid, BGID order.
    strata : pandas.DataFrame
        One row per stratum.
    seed : int
        The random seed that drew it.
    plan_id : str
        Its identifier (in the checklist and the GeoPackage).
    design : Design, optional
        Known when just drawn, not when read back.
    """

    grids: gpd.GeoDataFrame  # PLAN_FIELDS + geometry, one row per sampled grid, BGID order
    strata: pd.DataFrame  # one row per stratum
    seed: int
    plan_id: str
    design: Design | None = None  # known when just drawn, not when read back

    @property
    def bgids(self) -> list[str]:
        """The sampled grids' BGIDs, in plan order."""
        return self.grids["BGID"].tolist()

    def stratum_numbers(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(stratum keys, stratum number of each sampled grid, N_h per stratum)."""
        keys = sorted(self.grids["STRATUM"].unique())
        number = {k: h for h, k in enumerate(keys)}
        sizes = self.grids.groupby("STRATUM")["STRATUM_GRIDS"].first()
        return (keys, self.grids["STRATUM"].map(number).to_numpy(np.int64),
                np.array([int(sizes[k]) for k in keys], dtype=np.int64))


def make_plan(frame: Frame, inputs: DesignInputs, seed: int) -> Plan:
    """Size the sample, draw it with ``seed`` and describe it."""
    design = plan_design(frame.strata, frame.components_by_stratum(), inputs)
    positions, order = draw(frame.stratum, design.sample, seed)
    chosen = frame.grids.iloc[positions].copy()
    h = frame.stratum[positions]
    chosen["STRATUM_GRIDS"] = design.grids[h]
    chosen["STRATUM_SAMPLE"] = design.sample[h]
    chosen["WEIGHT"] = design.grids[h] / design.sample[h]
    chosen["DRAW"] = order
    chosen["SEED"] = seed
    digest = hashlib.sha256(("|".join(sorted(chosen["BGID"])) + f"#{seed}").encode())
    plan_id = digest.hexdigest()[:12]
    chosen["PLAN_ID"] = plan_id
    chosen = chosen.sort_values("BGID", kind="stable").reset_index(drop=True)
    grids = gpd.GeoDataFrame(chosen[list(PLAN_FIELDS)], geometry=chosen.geometry.to_numpy(),
                             crs=frame.grids.crs)
    street, density = zip(*(k.split("/", 1) for k in frame.strata), strict=True) \
        if frame.strata else ((), ())
    mean = np.divide(design.components, design.grids, out=np.zeros(len(design.grids)),
                     where=design.grids > 0)
    strata = pd.DataFrame({
        "STRATUM": frame.strata, "STREET": list(street), "DENSITY": list(density),
        "GRIDS": design.grids, "COMPONENTS": design.components, "SAMPLE": design.sample,
        "SAMPLE_COMPONENTS": [int(chosen.loc[chosen["STRATUM"] == k, "COMPONENTS"].sum())
                              for k in frame.strata],
        "MEAN_COMPONENTS": np.round(mean, 2), "S2": np.round(design.s2, 4),
    })
    return Plan(grids, strata, seed, plan_id, design)


def plan_source(output: Path, plan: Path | None) -> Path:
    """The GeoPackage holding the plan: PLAN/plan.gpkg, a plan .gpkg, or OUT.gpkg."""
    if plan is None:
        return output
    if plan.is_dir():
        inner = plan / PLAN_FILE
        if not inner.exists():
            raise GridkitError(f"{plan}: no {PLAN_FILE} in this folder; give the folder "
                               "gridkit census sample -o wrote")
        return inner
    if not plan.exists():
        raise FileError(f"{mention(plan=str(plan))}: no such file or folder", parameter="plan",
                        file=plan)
    return plan


def read_plan(source: Path, *, given: bool) -> Plan:
    """The plan stored in ``source``; ``given`` says whether the user named it with --plan."""
    if source.suffix.lower() != ".gpkg" or PLAN_LAYER not in layers_of(source):
        if given:
            raise GridkitError(f"{source}: no {PLAN_LAYER} layer; give the PLAN folder that "
                               "gridkit census sample -o wrote")
        raise GridkitError(f"{source} has no spot-check plan ({PLAN_LAYER}): run gridkit "
                           f"census sample {source} -o PLAN first, or give `plan=PLAN`",
                           parameter="plan")
    grids = pyogrio.read_dataframe(source, layer=PLAN_LAYER, use_arrow=True)
    strata = (pyogrio.read_dataframe(source, layer=STRATUM_LAYER, read_geometry=False)
              if STRATUM_LAYER in layers_of(source) else pd.DataFrame())
    return plan_of(grids, strata, str(source))


def plan_of(grids: gpd.GeoDataFrame, strata: pd.DataFrame | None = None,
            where: str = PLAN_LAYER) -> Plan:
    """The plan of a ``spotcheck_plan`` layer (and its ``spotcheck_stratum`` table), checked.

    ``where`` names it in errors (the GeoPackage, or the layer in memory).
    """
    missing = [f for f in PLAN_FIELDS if f not in grids]
    if missing or grids.empty:
        raise GridkitError(f"{where}: layer {PLAN_LAYER} lacks {', '.join(missing) or 'rows'};"
                           " run gridkit census sample again")
    grids = grids.copy()
    grids["BGID"] = grids["BGID"].astype(str)
    for column in ("STRATUM_GRIDS", "STRATUM_SAMPLE", "COMPONENTS", "DRAW", "SEED"):
        grids[column] = grids[column].astype(np.int64)
    counts = grids.groupby("STRATUM")["BGID"].count()
    declared = grids.groupby("STRATUM")["STRATUM_SAMPLE"].first()
    bad = counts[counts != declared.reindex(counts.index)]
    if grids["BGID"].duplicated().any() or len(bad):
        raise GridkitError(f"{where}: layer {PLAN_LAYER} was edited (grids and stratum sizes "
                           "disagree); run gridkit census sample again rather than editing it")
    grids = grids.sort_values("BGID", kind="stable").reset_index(drop=True)
    return Plan(grids, strata if strata is not None else pd.DataFrame(),
                int(grids["SEED"].iloc[0]), str(grids["PLAN_ID"].iloc[0]))


@dataclass
class Census:
    """The census components of the sampled grids, as the accuracy figures need them."""

    objcode: np.ndarray  # text
    objname: np.ndarray
    klass: np.ndarray  # 4-digit class code (MAJOR + MINOR), "" when unknown
    grid: np.ndarray  # index into plan.grids
    x: np.ndarray  # a point on the component, in the GeoPackage CRS
    y: np.ndarray
    crs: pyproj.CRS
    source: Path

    def __len__(self) -> int:
        return len(self.objcode)


def read_census(output: Path, plan: Plan) -> Census:
    """The components of OUT.gpkg lying in the plan's grids (by their BGID)."""
    require_layers(output, command="accuracy")
    return census_of(read_components(output, plan.bgids, CENSUS_FIELDS), plan, output)


CENSUS_FIELDS = ["OBJCODE", "OBJNAME", "MAJOR", "MINOR", "BGID"]


def census_of(frame: gpd.GeoDataFrame, plan: Plan, source: Path) -> Census:
    """The census of the plan's grids from their components (OBJCODE, OBJNAME, MAJOR, MINOR, BGID).

    ``source`` names where they came from.
    """
    position = {b: i for i, b in enumerate(plan.bgids)}
    objcode = frame["OBJCODE"].fillna("").astype(str).to_numpy(dtype=object)
    major = frame["MAJOR"].fillna("").astype(str).str.zfill(2)
    minor = frame["MINOR"].fillna("").astype(str).str.zfill(2)
    klass = (major + minor).where(major.str.fullmatch(r"\d{2}") & minor.str.fullmatch(r"\d{2}"),
                                  "")
    # A code carries its class too (digits 7-10), for censuses without MAJOR/MINOR.
    from_code = frame["OBJCODE"].fillna("").astype(str).str.slice(6, 10)
    klass = klass.where(klass != "", from_code.where(from_code.str.fullmatch(r"\d{4}"), ""))
    geoms = np.asarray(frame.geometry.array, dtype=object)
    points = shapely.point_on_surface(geoms) if len(geoms) else geoms
    return Census(
        objcode=objcode,
        objname=frame["OBJNAME"].fillna("").astype(str).to_numpy(dtype=object),
        klass=klass.to_numpy(dtype=object),
        grid=frame["BGID"].astype(str).map(position).to_numpy(np.int64),
        x=shapely.get_x(points) if len(geoms) else np.empty(0),
        y=shapely.get_y(points) if len(geoms) else np.empty(0),
        crs=frame.crs or plan.grids.crs,
        source=source,
    )


def components_of_grids(components: gpd.GeoDataFrame | pa.Table, crs: Any,
                        bgids: list[str], columns: list[str]) -> gpd.GeoDataFrame:
    """The components (in memory) lying in ``bgids``, as :func:`read_components` reads them.

    Parameters
    ----------
    components : geopandas.GeoDataFrame or pyarrow.Table
        The component layer; an Arrow table (the census import's ``component_table()``) has
        WKB in ``geometry`` and is in ``crs``.
    crs : pyproj.CRS or str
        The CRS of an Arrow table's geometry (the unit grids').
    bgids : list of str
        The grids.
    columns : list of str
        The attribute columns to keep; those the layer lacks are added empty.

    Returns
    -------
    geopandas.GeoDataFrame
        In the layer's row order.
    """
    if isinstance(components, pa.Table):
        import pyarrow.compute as pc

        if "BGID" not in components.column_names:
            raise GridkitError("components: no BGID column; import the census first")
        chosen = components.filter(pc.is_in(components.column("BGID").cast(pa.string()),
                                            pa.array(bgids, pa.string())))
        present = [c for c in columns if c in chosen.column_names]
        frame = chosen.select(present).to_pandas()
        geometry = (shapely.from_wkb(chosen.column("geometry").to_numpy(zero_copy_only=False))
                    if "geometry" in chosen.column_names else [None] * len(frame))
        frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)
    else:
        if "BGID" not in components:
            raise GridkitError("components: no BGID column; import the census first")
        inside = components["BGID"].astype(str).isin(set(bgids))
        present = [c for c in columns if c in components]
        frame = gpd.GeoDataFrame(components.loc[inside, present].reset_index(drop=True),
                                 geometry=components.geometry[inside].to_numpy(),
                                 crs=components.crs)
    for column in columns:
        if column not in frame:
            frame[column] = None
    return frame
