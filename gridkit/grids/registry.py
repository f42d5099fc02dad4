"""The BGID registry.

Every unit grid code a file has ever used, so that a retired code is never given again (GB/T 30428.1
codes are what years of component and event records point to).

Layer ``bgid_registry`` (no geometry): BGID, COMMUNITY, STATUS (``active``/``retired``),
FIRST_RUN (the ``gridkit_run`` row that first wrote it; 0 when it predates the registry) and
RETIRED_RUN (empty while active).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from gridkit.codes.admin import make_bgid
from gridkit.errors import GridkitError, InputError, mention
from gridkit.export.history import next_run
from gridkit.io import layers_of

REGISTRY_LAYER = "bgid_registry"
ACTIVE, RETIRED = "active", "retired"
COLUMNS = ["BGID", "COMMUNITY", "STATUS", "FIRST_RUN", "RETIRED_RUN"]


def run_number(path: Path) -> int:
    """The ``gridkit_run`` row number the command being made will get (1 for a new file)."""
    return next_run(path) if Path(path).exists() else 1


def new_registry(codes, run: int) -> pd.DataFrame:
    """A registry of ``codes``, all active since ``run``."""
    codes = sorted(set(codes))
    return pd.DataFrame({
        "BGID": pd.Series(codes, dtype=object),
        "COMMUNITY": pd.Series([c[:12] for c in codes], dtype=object),
        "STATUS": pd.Series([ACTIVE] * len(codes), dtype=object),
        "FIRST_RUN": pd.Series([run] * len(codes), dtype="int64"),
        "RETIRED_RUN": pd.Series([pd.NA] * len(codes), dtype="Int64"),
    })[COLUMNS]


def read_registry(path: Path, current_codes) -> pd.DataFrame:
    """The registry in ``path``.

    A file without one gets one from its current unit grids (FIRST_RUN 0: they predate it).
    """
    if Path(path).exists() and REGISTRY_LAYER in layers_of(path):
        frame = pyogrio.read_dataframe(path, layer=REGISTRY_LAYER, read_geometry=False)
        missing = [c for c in COLUMNS if c not in frame]
        if missing:
            raise InputError(f"{path}: layer {REGISTRY_LAYER} has no {', '.join(missing)} "
                             "field; it was not written by gridkit")
        frame["FIRST_RUN"] = frame["FIRST_RUN"].astype("int64")
        frame["RETIRED_RUN"] = frame["RETIRED_RUN"].astype("Int64")
        frame = frame[COLUMNS]
        unknown = sorted(set(current_codes) - set(frame["BGID"]))
        return pd.concat([frame, new_registry(unknown, 0)], ignore_index=True) \
            if unknown else frame
    return new_registry(current_codes, 0)


def retire(registry: pd.DataFrame, codes, run: int) -> pd.DataFrame:
    """``codes`` marked retired in ``run`` (codes already retired keep their run)."""
    out = registry.copy()
    hit = out["BGID"].isin(set(codes)) & out["STATUS"].eq(ACTIVE)
    out.loc[hit, "STATUS"] = RETIRED
    out.loc[hit, "RETIRED_RUN"] = run
    return out


def register(registry: pd.DataFrame, codes, run: int) -> pd.DataFrame:
    """``codes`` added as active since ``run``; refuses one the registry already holds."""
    codes = list(codes)
    again = sorted(set(codes) & set(registry["BGID"]))
    if again:
        raise GridkitError(f"internal error: codes {', '.join(again[:3])} were used before; "
                           "please report it")
    if not codes:
        return registry
    out = pd.concat([registry, new_registry(codes, run)], ignore_index=True)
    return out.sort_values("BGID", kind="stable").reset_index(drop=True)


def fresh_codes(registry: pd.DataFrame, community: str, count: int) -> list[str]:
    """``count`` codes of ``community`` never used before.

    Serials above the highest ever used, then (when 999 is reached) the lowest never used.
    """
    used = {int(c[12:]) for c in registry.loc[registry["COMMUNITY"].eq(community), "BGID"]}
    top = max(used, default=0)
    serials = list(range(top + 1, 1000))[:count]
    if len(serials) < count:
        serials += [s for s in range(1, top) if s not in used][:count - len(serials)]
    if len(serials) < count:
        raise InputError(f"community {community} has used {len(used)} of its 999 grid "
                         f"serials and needs {count} more; raise {mention('target_area')}",
                         parameter="target_area")
    return [make_bgid(community, int(s)) for s in np.asarray(serials)]
