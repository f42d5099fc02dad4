"""The field checklist (核查清单): the census components of the sampled grids, one row each.

Each row has an empty VERDICT to fill. Filled in and with one row added per component found
in the field but missing from the census, it is the verdict sheet ``gridkit census accuracy
--check`` reads back.

CSV is written as UTF-8 with a BOM, which Excel needs to show Chinese; the XLSX keeps codes as
text (leading zeros), offers the verdicts in a drop-down and explains itself on a second sheet.

The PLAN folder (plan.gpkg, the checklist as CSV and XLSX, plan.json) is never left half
written: everything is written into a temporary folder beside PLAN, which then takes PLAN's
place; an existing PLAN is only replaced when it is a plan folder gridkit wrote (it has
plan.json), so a wrong -o cannot wipe out unrelated files.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from gridkit.acceptance.plan import CHECKLIST_LAYER, PLAN_FILE, PLAN_LAYER, STRATUM_LAYER, Plan
from gridkit.acceptance.verdicts import EXPLAIN, LABELS_ZH, VERDICTS
from gridkit.errors import FileError, GridkitError, InputError, mention
from gridkit.io import replace_folder, write_geopackage

SHEET = "checklist"
COLUMNS = ("NO", "BGID", "STREET", "COMMUNITY", "OBJCODE", "OBJNAME", "MAJOR", "MINOR",
           "OBJSTATE", "DEPTNAME1", "DEPTNAME2", "DEPTNAME3", "LON", "LAT", "VERDICT", "NOTE")
TEXT_COLUMNS = {"BGID", "STREET", "COMMUNITY", "OBJCODE", "MAJOR", "MINOR"}
CENSUS_COLUMNS = ["OBJCODE", "OBJNAME", "MAJOR", "MINOR", "OBJSTATE", "DEPTNAME1", "DEPTNAME2",
                  "DEPTNAME3", "BGID"]

PLAN_JSON = "plan.json"
CHECKLIST_CSV = "checklist.csv"
CHECKLIST_XLSX = "checklist.xlsx"


def spare_rows(listed: int) -> int:
    """Rows below the list prepared for missing components (text codes, the drop-down)."""
    return min(1000, max(100, listed // 20))


def checklist_frame(components: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """One row per census component of the sampled grids, in grid then class order."""
    frame = components.copy()
    place = plan.grids.set_index("BGID")[["STREET", "COMMUNITY"]]
    frame["BGID"] = frame["BGID"].astype(str)
    frame = frame.join(place, on="BGID")
    points = frame.geometry.representative_point() if len(frame) else frame.geometry
    lon, lat = (np.empty(0), np.empty(0))
    if len(frame):
        lon, lat = pyproj.Transformer.from_crs(frame.crs, 4326, always_xy=True).transform(
            points.x.to_numpy(), points.y.to_numpy())
    frame["LON"] = np.round(np.asarray(lon, dtype=float), 7)
    frame["LAT"] = np.round(np.asarray(lat, dtype=float), 7)
    frame["VERDICT"] = ""
    frame["NOTE"] = ""
    frame = frame.sort_values(["BGID", "MAJOR", "MINOR", "OBJCODE"], kind="stable",
                              na_position="last").reset_index(drop=True)
    frame["NO"] = np.arange(1, len(frame) + 1)
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    return gpd.GeoDataFrame(frame[list(COLUMNS)], geometry=frame.geometry.to_numpy(),
                            crs=components.crs)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the checklist as UTF-8 CSV with a BOM (what Excel needs to show Chinese)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in frame[list(COLUMNS)].itertuples(index=False):
            writer.writerow([_text(v) for v in row])


def write_xlsx(frame: pd.DataFrame, plan: Plan, design: dict, path: Path) -> None:
    """The checklist workbook, streamed (write-only mode keeps big checklists fast)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    try:
        _fill_xlsx(book, frame, plan, design)
        book.save(path)
    except BaseException:
        # A write-only sheet streams through a generator: left open, an interrupt's exit
        # would print its "Exception ignored" traceback at shutdown.
        for sheet in book.worksheets:
            with contextlib.suppress(Exception):
                sheet.close()
        raise


def _fill_xlsx(book, frame: pd.DataFrame, plan: Plan, design: dict) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = book.create_sheet(SHEET)
    bold = Font(bold=True)
    text_at = {i for i, c in enumerate(COLUMNS) if c in TEXT_COLUMNS}

    def cell(value: object, i: int = -1, font: Font | None = None) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=value)
        if i in text_at:
            written.number_format = "@"  # codes stay text when typed over
        if font is not None:
            written.font = font
        return written

    widths = {"OBJCODE": 19, "BGID": 17, "COMMUNITY": 14, "OBJNAME": 14, "NOTE": 24}
    for i, column in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(i + 1)].width = widths.get(column, 11)
    sheet.freeze_panes = "A2"
    last = len(frame) + 1 + spare_rows(len(frame))
    verdict = get_column_letter(COLUMNS.index("VERDICT") + 1)
    choice = DataValidation(type="list", formula1='"' + ",".join(VERDICTS) + '"',
                            allow_blank=True, showErrorMessage=True, errorTitle="VERDICT",
                            error="Choose one of: " + ", ".join(VERDICTS))
    choice.add(f"{verdict}2:{verdict}{last}")
    sheet.data_validations.append(choice)
    sheet.append([cell(c, font=bold) for c in COLUMNS])
    for row in frame[list(COLUMNS)].itertuples(index=False):
        sheet.append([cell(_text(v), i) if i in text_at else (None if pd.isna(v) else v)
                      for i, v in enumerate(row)])
    for _ in range(spare_rows(len(frame))):
        sheet.append([cell(None, i) if i in text_at else None for i in range(len(COLUMNS))])

    grids = book.create_sheet("grids")
    fields = ["BGID", "STREET", "COMMUNITY", "DENSITY", "STRATUM", "COMPONENTS", "DRAW"]
    grids.append(fields)
    for row in plan.grids[fields].itertuples(index=False):
        grids.append([str(v) for v in row[:5]] + [int(row[5]), int(row[6])])

    notes = book.create_sheet("design")
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["C"].width = 60
    notes.append(["说明 / how to fill in"])
    notes.append(["Check every component of the sheet 'checklist' in the field and write its "
                  "VERDICT; add one row per component found in the field but not listed, with "
                  "VERDICT missing, BGID, OBJNAME and LON/LAT. LON/LAT are WGS-84."])
    for name in VERDICTS:
        notes.append([name, LABELS_ZH[name], EXPLAIN[name]])
    notes.append([])
    notes.append(["plan_id", plan.plan_id])
    notes.append(["seed", plan.seed])
    for key, value in design.items():
        notes.append([key, value if isinstance(value, int | float | str) else str(value)])


def check_target(plan_dir: Path) -> None:
    """Refuse a PLAN that is a file, or a folder with other content than an earlier plan."""
    if plan_dir.suffix.lower() in (".gpkg", ".csv", ".xlsx", ".json"):
        raise InputError(f"{mention(plan_dir=str(plan_dir))}: PLAN is a folder (it gets "
                         "plan.gpkg, checklist.csv, checklist.xlsx and plan.json); give a folder "
                         f"name, e.g. {mention(plan_dir='spotcheck')}", parameter="plan_dir")
    if plan_dir.exists() and not plan_dir.is_dir():
        raise InputError(f"{mention(plan_dir=str(plan_dir))}: a file of that name exists; PLAN "
                         "is a folder", parameter="plan_dir")
    if plan_dir.is_dir() and any(plan_dir.iterdir()) and not (plan_dir / PLAN_JSON).exists():
        raise InputError(f"{mention(plan_dir=str(plan_dir))}: the folder exists and holds "
                         "other files, not a gridkit plan; choose a new or empty folder",
                         parameter="plan_dir")


@contextmanager
def plan_folder(plan_dir: Path, plan: Plan, checklist: gpd.GeoDataFrame,
                metadata: dict) -> Iterator[dict[str, str]]:
    """Write the plan's files and OUT.gpkg together: either both are updated or neither.

    The plan goes into a staging folder, the caller's block writes OUT.gpkg, then the folder is
    put in place.
    """
    check_target(plan_dir)
    parent = plan_dir.parent if str(plan_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plan_dir.name}.", dir=parent))
    except OSError as exc:
        raise FileError(f"{mention(plan_dir=str(plan_dir))}: cannot create the folder "
                        f"({exc.strerror})", parameter="plan_dir", file=plan_dir) from None
    try:
        write_geopackage(staging / PLAN_FILE, {
            PLAN_LAYER: plan.grids, STRATUM_LAYER: plan.strata, CHECKLIST_LAYER: checklist})
        write_csv(checklist, staging / CHECKLIST_CSV)
        write_xlsx(checklist, plan, metadata["design"], staging / CHECKLIST_XLSX)
        (staging / PLAN_JSON).write_text(json.dumps(metadata, ensure_ascii=False, indent=2,
                                                    default=str), encoding="utf-8")
        yield {name: str(plan_dir / name)
               for name in (PLAN_FILE, CHECKLIST_CSV, CHECKLIST_XLSX, PLAN_JSON)}
        replace_folder(staging, plan_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, GridkitError):  # a FileError of a write inside: as it is
            raise
        raise FileError(f"{mention(plan_dir=str(plan_dir))}: cannot write the plan "
                        f"({exc.strerror or exc})", parameter="plan_dir", file=plan_dir) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
