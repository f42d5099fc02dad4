"""Writing the PLAN folder without ever leaving a half-written one.

Everything is written into a temporary folder beside PLAN, which then takes PLAN's place; an
existing PLAN is only replaced when it is a plan folder gridkit wrote (it has plan.json), so a
wrong -o cannot wipe out unrelated files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd

from gridkit.acceptance.checklist import write_csv, write_xlsx
from gridkit.acceptance.plan import CHECKLIST_LAYER, PLAN_FILE, PLAN_LAYER, STRATUM_LAYER, Plan
from gridkit.errors import GridkitError
from gridkit.io import replace_folder, write_geopackage

PLAN_JSON = "plan.json"
CHECKLIST_CSV = "checklist.csv"
CHECKLIST_XLSX = "checklist.xlsx"


def check_target(plan_dir: Path) -> None:
    """Refuse a PLAN that is a file, or a folder with other content than an earlier plan."""
    if plan_dir.suffix.lower() in (".gpkg", ".csv", ".xlsx", ".json"):
        raise GridkitError(f"-o {plan_dir}: PLAN is a folder (it gets plan.gpkg, checklist.csv, "
                           "checklist.xlsx and plan.json); give a folder name, e.g. -o "
                           "spotcheck")
    if plan_dir.exists() and not plan_dir.is_dir():
        raise GridkitError(f"-o {plan_dir}: a file of that name exists; PLAN is a folder")
    if plan_dir.is_dir() and any(plan_dir.iterdir()) and not (plan_dir / PLAN_JSON).exists():
        raise GridkitError(f"-o {plan_dir}: the folder exists and holds other files, not a "
                           "gridkit plan; choose a new or empty folder")


@contextmanager
def plan_folder(plan_dir: Path, plan: Plan, checklist: gpd.GeoDataFrame,
                metadata: dict) -> Iterator[dict[str, str]]:
    """Write the plan's files into a staging folder, run the caller's block (which writes
    OUT.gpkg), then put the folder in place: either both are updated or neither."""
    check_target(plan_dir)
    parent = plan_dir.parent if str(plan_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plan_dir.name}.", dir=parent))
    except OSError as exc:
        raise GridkitError(f"-o {plan_dir}: cannot create the folder ({exc.strerror})") \
            from None
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
        raise GridkitError(f"-o {plan_dir}: cannot write the plan ({exc.strerror or exc})") \
            from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
