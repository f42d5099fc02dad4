"""A joint check sheet without a gridkit plan: the grids it lists judged as a cluster sample.

A district's acceptance is often a joint spot check by departments and towns who chose the
grids themselves; their sheet lists the components checked in those grids. With no
``spotcheck_plan`` in OUT.gpkg (and no ``--plan``), ``gridkit census accuracy --check SHEET``
takes the grids the sheet names (its BGID column, and the grids of the census components it
names by OBJCODE) as **a simple random sample of the district's unit grids** — one stratum,
N = every unit grid, n = the grids listed, weight N/n each — and estimates with the same ratio
estimator and intervals as for a gridkit plan. That design is assumed, not known: the output,
the ``spotcheck_result.METHOD`` field and so the report say so. Grids chosen for being bad
(or good) make the estimate biased; only a random choice makes it fair.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from gridkit.acceptance.checklist import SHEET
from gridkit.acceptance.frame import grids_of_codes, require_layers
from gridkit.acceptance.plan import PLAN_FIELDS, Plan
from gridkit.acceptance.sheet import BGID_ALIASES, SheetOptions
from gridkit.acceptance.sources import ALIASES, clean_codes, find_column, read_table, text
from gridkit.errors import GridkitError

ASSUMED_DESIGN = ("no gridkit plan in the file: the grids the sheet lists are taken as a "
                  "simple random sample of all unit grids (assumed, not known)")
METHOD = "sheet, simple random sample of grids assumed"
STRATUM = "all"


def plan_from_sheet(output: Path, sheet: Path, options: SheetOptions | None = None) -> Plan:
    """A one-stratum plan of the grids ``sheet`` lists, over every unit grid of ``output``.

    Parameters
    ----------
    output : Path
        OUT.gpkg with ``unit_grid`` and ``component``.
    sheet : Path
        The joint check sheet (CSV or XLSX) with OBJCODE and/or BGID columns.
    options : SheetOptions, optional
        Which sheet of a workbook.

    Returns
    -------
    Plan
        STRATUM ``all``, STRATUM_GRIDS = N (all unit grids), STRATUM_SAMPLE = n (grids
        listed), WEIGHT = N/n, SEED 0, PLAN_ID ``sheet-`` + a digest of the grids.

    Raises
    ------
    GridkitError
        The sheet names no grid, or a BGID that is not a unit grid of ``output``.

    Examples
    --------
    >>> plan = plan_from_sheet(Path("out/district.gpkg"), Path("joint_check.xlsx"))
    ... # doctest: +SKIP
    """
    require_layers(output, command="accuracy")
    options = options or SheetOptions()
    source = read_table(sheet, sheet=options.sheet, preferred_sheet=SHEET)
    bgid_column = find_column(source.columns, BGID_ALIASES)
    code_column = find_column(source.columns, ALIASES["OBJCODE"])
    listed = [b for b in clean_codes(text(source.table, bgid_column)) if b]
    codes = sorted({c for c in clean_codes(text(source.table, code_column)) if c})
    listed += list(grids_of_codes(output, codes).values()) if codes else []
    listed = list(dict.fromkeys(listed))  # sheet order, once each
    if not listed:
        raise GridkitError(f"{sheet}: names no unit grid (no BGID column and no OBJCODE of a "
                           "census component), and OUT.gpkg has no spot-check plan; add a BGID "
                           "column or run gridkit census sample first")
    grids = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    grids["BGID"] = grids["BGID"].astype(str)
    unknown = [b for b in listed if b not in set(grids["BGID"])]
    if unknown:
        raise GridkitError(f"{sheet}: BGID {', '.join(unknown[:8])} "
                           f"{'is' if len(unknown) == 1 else 'are'} not a unit grid of "
                           f"{output}; correct the BGID column")
    population, sample = len(grids), len(listed)
    chosen = grids.set_index("BGID").loc[listed].reset_index()
    counts = _component_counts(output, listed)
    chosen["STRATUM"] = STRATUM
    chosen["STRATUM_GRIDS"] = population
    chosen["STRATUM_SAMPLE"] = sample
    chosen["WEIGHT"] = population / sample
    chosen["COMPONENTS"] = [counts.get(b, 0) for b in listed]
    chosen["DRAW"] = np.arange(1, sample + 1)
    chosen["SEED"] = 0
    for column, default in (("COMMUNITY", None), ("STREET", None), ("DENSITY", "all")):
        if column not in chosen:
            chosen[column] = (chosen["BGID"].str[:12 if column == "COMMUNITY" else 9]
                              if default is None else default)
    chosen["DENSITY"] = chosen["DENSITY"].fillna("all").astype(str)
    chosen["PLAN_ID"] = "sheet-" + hashlib.sha256("|".join(sorted(listed)).encode()) \
        .hexdigest()[:12]
    chosen = chosen.sort_values("BGID", kind="stable").reset_index(drop=True)
    frame = gpd.GeoDataFrame(chosen[list(PLAN_FIELDS)], geometry=chosen.geometry.to_numpy(),
                             crs=grids.crs)
    return Plan(frame, gpd.pd.DataFrame(), 0, str(frame["PLAN_ID"].iloc[0]))


def _component_counts(output: Path, bgids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for start in range(0, len(bgids), 400):
        listed = ", ".join("'" + b.replace("'", "''") + "'" for b in bgids[start:start + 400])
        frame = pyogrio.read_dataframe(output, layer="component", columns=["BGID"],
                                       where=f"BGID IN ({listed})", read_geometry=False)
        for bgid, n in frame["BGID"].astype(str).value_counts().items():
            counts[bgid] = int(n)
    return counts
