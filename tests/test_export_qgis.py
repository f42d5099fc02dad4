"""QGIS itself opens the exported GeoPackage styled, with the Chinese aliases.

Runs only where a QGIS with Python bindings is installed for the system Python (Debian:
apt-get install python3-qgis qgis-providers); skipped elsewhere, CI included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from test_export_support import district

from gridkit.export import ExportOptions, export

PYTHON = shutil.which("python3", path="/usr/bin")
SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for uri in sys.argv[2:]:
    layer = QgsVectorLayer(sys.argv[1] + "|" + uri, "x", "ogr")
    message, loaded = layer.loadDefaultStyle()
    renderer = layer.renderer()
    out[uri] = {"valid": layer.isValid(), "loaded": loaded,
                "renderer": renderer.type() if renderer else None,
                "attr": renderer.classAttribute() if renderer and
                        renderer.type() == "categorizedSymbol" else None,
                "aliases": {f.name(): f.alias() for f in layer.fields() if f.alias()}}
print(json.dumps(out, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS's own teardown can crash a headless interpreter; the answer is out
"""


def qgis_available() -> bool:
    if PYTHON is None:
        return False
    probe = subprocess.run([PYTHON, "-c", "import qgis.core"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not qgis_available(), reason="no QGIS Python bindings on this machine")
def test_qgis_opens_every_layer_styled(tmp_path):
    dest = tmp_path / "handoff.gpkg"
    export(district(tmp_path), ExportOptions("gpkg", dest, record=False))
    uris = ["layername=community", "layername=unit_grid", "layername=responsibility_grid",
            "layername=component|geometrytype=Point", "layername=event",
            "layername=qa_issue", "layername=gridkit_run"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([PYTHON, "-c", SCRIPT, str(dest), *uris], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    layers = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(v["valid"] and v["loaded"] for v in layers.values()), layers
    assert layers["layername=unit_grid"]["renderer"] == "singleSymbol"
    assert layers["layername=responsibility_grid"]["attr"] == "DENSITY"
    assert layers["layername=component|geometrytype=Point"]["attr"] == "MAJOR"
    assert layers["layername=event"]["attr"] == "MAJOR"
    assert layers["layername=qa_issue"]["attr"] == "SEVERITY"
    assert layers["layername=unit_grid"]["aliases"]["BGID"] == "单元网格编码"
    assert layers["layername=gridkit_run"]["aliases"]["PARAMETERS"] == "参数"
