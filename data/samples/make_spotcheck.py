"""Generate the sample's spot-check verdict sheet (deterministic).

    python data/samples/make_spotcheck.py

Runs the sample pipeline (gridkit.toml without its sheet) in a temporary folder, takes the
checklist of the plan the configured seed draws, and fills in VERDICT as checkers would:
about 97.4% correct, the rest wrong class, wrong position, wrong attribute or not found, plus
components found in the field that the census missed (漏查). Writes ``spotcheck.csv``
(UTF-8 with BOM, as Excel saves it). The sheet belongs to that plan: rerun this script when
the partition, the census or the grouping of the sample changes.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np

from gridkit.pipeline import load_config, run_pipeline

HERE = Path(__file__).resolve().parent
SEED = 314159
SHARES = {"correct": 0.974, "wrong_class": 0.008, "wrong_position": 0.008,
          "wrong_attribute": 0.006, "not_found": 0.004}
MISSING_SHARE = 0.012  # components in the field, not in the census


def main() -> None:
    rng = np.random.default_rng(SEED)
    text = (HERE / "gridkit.toml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("sheet")]
    # Beside the real config, so that its relative paths resolve the same way.
    config = HERE / ".make_spotcheck.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as work:
            load_config(config)
            run_pipeline(config, Path(work) / "sample.gpkg")
            with open(Path(work) / "sample_spotcheck" / "checklist.csv",
                      encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
    finally:
        config.unlink()
    verdicts = rng.choice(list(SHARES), size=len(rows), p=list(SHARES.values()))
    for row, verdict in zip(rows, verdicts, strict=True):
        row["VERDICT"] = verdict
    missing = []
    for k in rng.choice(len(rows), size=int(round(MISSING_SHARE * len(rows))), replace=False):
        near = rows[int(k)]
        missing.append({**{key: "" for key in near}, "BGID": near["BGID"],
                        "OBJNAME": near["OBJNAME"], "VERDICT": "missing",
                        "LON": f"{float(near['LON']) + rng.uniform(-2e-5, 2e-5):.7f}",
                        "LAT": f"{float(near['LAT']) + rng.uniform(-2e-5, 2e-5):.7f}",
                        "NOTE": "现场发现，普查未录入"})
    out = HERE / "spotcheck.csv"
    with open(out, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows + missing)
    correct = int((verdicts == "correct").sum())
    print(f"{out.name}: {len(rows):,} checked ({correct:,} correct, "
          f"{correct / len(rows):.2%}), {len(missing)} missing")


if __name__ == "__main__":
    main()
