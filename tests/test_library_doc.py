"""docs/library.md is a notebook that runs: partition → group → census import → check →
spot check and accuracy → report on one street of the bundled sample, as doctests, every step
in memory (the sample's files are read, the report page is the one file written).

One street (247 unit grids) keeps it to a few seconds of CPU; the district's own runs are
covered by the CLI tests on the shared sample (tests/conftest.py).
"""

from __future__ import annotations

import doctest
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_library_walkthrough_runs(tmp_path, monkeypatch):
    # The page reads data/samples relative to a clone's root and writes under tempfile's
    # folder: both pointed here so the run leaves nothing behind.
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = doctest.testfile(str(ROOT / "docs" / "library.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                              verbose=False, report=True, raise_on_error=False)
    assert result.attempted > 20
    # In memory: no GeoPackage was written, only the page.
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["street.html"]
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
    shutil.rmtree(tmp_path, ignore_errors=True)
