"""One self-contained HTML report of a gridkit GeoPackage: map, figures and QA, offline.

``build_report(gpkg, html, lang="zh", png_dir=None)`` is the library entry point; the
``gridkit report`` command (:mod:`gridkit.report.cli`) only calls it. See README.md here.
"""

from gridkit.report.build import build_report, compute_figures

__all__ = ["build_report", "compute_figures"]
