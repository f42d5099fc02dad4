"""The sampling frame: every unit grid of OUT.gpkg, its stratum and its census components.

Strata are street (the 9-digit STREET code) by density class (``dense``/``sparse`` after
``gridkit group``; one class ``all`` before). Streets are where the joint checks are
organised and where results are reported; density separates busy centres, where components
crowd and errors differ, from quiet areas. Every grid belongs to the frame, including grids
without census components: an omission (漏查) can only be found by checking those too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridkit.errors import GridkitError
from gridkit.io import layers_of

NO_DENSITY = "all"


@dataclass
class Frame:
    grids: gpd.GeoDataFrame  # BGID, COMMUNITY, STREET, DENSITY, STRATUM, COMPONENTS, sorted
    strata: list[str]  # sorted stratum keys
    stratum: np.ndarray  # stratum number of each grid
    unplaced: int  # census components whose BGID is no unit grid's

    def components_by_stratum(self) -> list[np.ndarray]:
        counts = self.grids["COMPONENTS"].to_numpy()
        return [counts[self.stratum == h] for h in range(len(self.strata))]


def stratum_key(street: str, density: str) -> str:
    return f"{street}/{density}"


def require_layers(output: Path, *, command: str) -> list[str]:
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
    if grids.empty:
        raise GridkitError(f"{output}: the unit_grid layer is empty; run gridkit partition")
    if "BGID" not in grids:
        raise GridkitError(f"{output}: unit_grid has no BGID field; run gridkit partition")
    bgid = grids["BGID"].astype(str)
    if bgid.duplicated().any():
        raise GridkitError(f"{output}: unit_grid BGID {bgid[bgid.duplicated()].iloc[0]} "
                           "appears twice; run gridkit partition again")
    street = (grids["STREET"] if "STREET" in grids else bgid.str[:9]).astype(str)
    community = (grids["COMMUNITY"] if "COMMUNITY" in grids else bgid.str[:12]).astype(str)
    density = (grids["DENSITY"].fillna(NO_DENSITY).astype(str).replace("", NO_DENSITY)
               if "DENSITY" in grids else pd.Series(NO_DENSITY, index=grids.index))
    counts, unplaced = component_counts(output, set(bgid))
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
    import pyarrow.compute as pc

    column = read_columns(output, "component", ["BGID"])["BGID"]
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
