"""One self-contained HTML report of a gridkit GeoPackage: map, figures and QA, offline.

:func:`report_geopackage` with :class:`ReportOptions` is the library entry point; the
``gridkit report`` command (:mod:`gridkit.report.cli`) only calls it. ``build_report(gpkg,
html, lang="zh", png_dir=None)``, its earlier form, stays for scripts written against it.
See README.md here.
"""

from typing import TYPE_CHECKING

from gridkit.report.api import ReportOptions, ReportResult, report_geopackage, report_html

if TYPE_CHECKING:
    from gridkit.report.build import build_report, compute_figures

__all__ = ["ReportOptions", "ReportResult", "build_report", "compute_figures",
           "report_geopackage", "report_html"]
_BUILD = ("build_report", "compute_figures")


def __getattr__(name: str):
    # Lazy: the report's matplotlib and jinja2 would otherwise load with every gridkit
    # command, since the CLI imports gridkit.report.cli to list the report command.
    if name in _BUILD:
        from gridkit.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
